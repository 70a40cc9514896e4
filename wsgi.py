"""WSGI entry point: `gunicorn --preload wsgi:app`.

The directory index is built here, once, in the gunicorn master: with --preload the workers
fork it already built and share its memory copy-on-write (it is frozen out of the garbage
collector, so the pages stay shared) instead of each spending seconds building its own.

So no worker serves a request with a cold index: not the first ones, and not one the master
forks later to replace a worker that died or reached `max_requests`. That one inherits the
master's index as it was at start and catches up from the change log on its first request
(`directory.index.get_index`: a few changes inline, more by a background rebuild while the
inherited index answers). The master never refreshes: it serves no requests.
"""

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from navigator import create_app
from navigator.core.extensions import db
from navigator.core.outage import is_database_outage
from navigator.directory.reference import directory_index

# How long the master waits for an unreachable database before it gives up and starts
# anyway: a node started during a PostgreSQL restart must not fork workers with no index,
# each of which would then build it inline on its first request (minutes at national scale,
# past gunicorn's worker timeout, so the worker is killed and the next one starts over).
PREBUILD_WAIT_SECONDS = 120

app = create_app()
log = logging.getLogger(__name__)
deadline = time.monotonic() + PREBUILD_WAIT_SECONDS
with app.app_context():
    while True:
        try:
            directory_index()
            break
        except SQLAlchemyError as exc:
            db.session.remove()
            if is_database_outage(exc) and time.monotonic() < deadline:
                log.warning("database unavailable: directory index not built yet; retrying")
                time.sleep(2)
                continue
            # Not migrated yet, or still unreachable: the index is then built on first use.
            log.warning("directory index not prebuilt; building on demand")
            break
    db.session.remove()
    db.engine.dispose()  # never share database connections across the fork
