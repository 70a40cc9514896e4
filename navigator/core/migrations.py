"""Run the Alembic migrations in `migrations/` against the app's database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from navigator.core.settings import PROJECT_ROOT

# Tables in the same database that navigator's migrations do not own (APScheduler's job store).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


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
