"""The rule set in force for the running app (validated when the app starts)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from navigator.core.reference import VOCABULARY, Reference
from navigator.rules.loading import load_ruleset
from navigator.rules.ruleset import RuleSet


def _load(app: Flask) -> RuleSet:
    with app.app_context():
        vocab = VOCABULARY.get()
    return load_ruleset(Path(app.config["NAVIGATOR_RULES"]), vocab)


# RuleSetError from an invalid rule set stops `create_app`: the service refuses to start.
RULESET: Reference[RuleSet] = Reference("ruleset", _load)
