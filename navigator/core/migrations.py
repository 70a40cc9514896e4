"""Run the Alembic migrations in `migrations/` against the app's database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from navigator.core.settings import PROJECT_ROOT

# APScheduler's job store, in the app's database (`navigator/sms/worker.py` names it here): a
# table APScheduler creates and owns, outside navigator's migrations.
JOBS_TABLE = "apscheduler_jobs"
# Tables in the same database that navigator's migrations do not own.
FOREIGN_TABLES = frozenset({JOBS_TABLE})


def include_object(obj: object, name: str | None, type_: str, reflected: bool, _: object) -> bool:
    """Alembic filter: leave other components' tables alone."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # '%' is ConfigParser interpolation; escape it so URLs with encoded passwords survive.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
