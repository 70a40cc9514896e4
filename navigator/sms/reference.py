"""The follow-up plan in force for the running app (validated when the app starts)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from navigator.core.reference import VOCABULARY, Reference
from navigator.sms.plan import FollowUpPlan, load_follow_ups


def _load(app: Flask) -> FollowUpPlan:
    with app.app_context():
        vocab = VOCABULARY.get()
    return load_follow_ups(Path(app.config["NAVIGATOR_FOLLOW_UPS"]), vocab)


# FollowUpsError from an invalid file stops `create_app`.
FOLLOW_UP_PLAN: Reference[FollowUpPlan] = Reference("follow_up_plan", _load)
