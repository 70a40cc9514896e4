"""`navigate` bound to the running app's directory, rules, vocabulary and follow-ups file, so
the API and the console route a call in exactly the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from navigator.db import utcnow
from navigator.directory.context import directory_index, stale_hours, vocabulary
from navigator.navigation.service import navigate
from navigator.rules.context import current_ruleset
from navigator.sms.config import current_follow_ups


def navigate_call(session: Session, body: Mapping[str, Any], *, created_by: str) -> dict[str, Any]:
    """Route and record one call in the caller's transaction (follow-up texts included)."""
    return navigate(
        session,
        body,
        created_by=created_by,
        index=directory_index(),
        ruleset=current_ruleset(),
        vocab=vocabulary(),
        now=utcnow(),
        stale_hours=stale_hours(),
        follow_ups=current_follow_ups(),
    )
