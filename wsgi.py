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

from sqlalchemy.exc import SQLAlchemyError

from navigator import create_app
from navigator.core.extensions import db
from navigator.directory.reference import directory_index

app = create_app()

with app.app_context():
    try:
        directory_index()
    except SQLAlchemyError:  # e.g. not migrated yet: the index is then built on first use
        logging.getLogger(__name__).warning("directory index not prebuilt; building on demand")
    finally:
        db.session.remove()
        db.engine.dispose()  # never share database connections across the fork
