"""Click parameter types and limits shared by the commands.

The lengths of the columns the commands' text arguments are written to: longer text is
refused here, with a message, rather than failing in the database (PostgreSQL raises
StringDataRightTruncation; SQLite would keep it). Issue 12 §5.
"""

from __future__ import annotations

import click

API_CLIENT_NAME_MAX = 200  # ApiClient.name
EMAIL_MAX = 254  # User.email (RFC 5321's longest usable address)
CHANGED_BY_MAX = 200  # ServiceChange.changed_by


def at_most(limit: int) -> click.types.FuncParamType:
    """A click type for text of 1 to `limit` characters (a clear error, non-zero exit)."""

    def check(value: str) -> str:
        if not value.strip():
            raise click.BadParameter("must not be empty")
        if len(value) > limit:
            raise click.BadParameter(f"at most {limit} characters (this has {len(value)})")
        return value

    check.__name__ = f"text of at most {limit} characters"
    return click.types.FuncParamType(check)
