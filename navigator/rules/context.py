"""The rule set in force for the running app (validated when the app starts)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from navigator.directory.vocabulary import load_vocabulary
from navigator.rules.loading import load_ruleset
from navigator.rules.model import RuleSet

EXTENSION_KEY = "navigator.ruleset"


def install_ruleset(app: Flask) -> RuleSet:
    """Load and validate the configured rule set; an invalid one stops the app starting."""
    vocab = load_vocabulary(app.config["NAVIGATOR_DIRECTORY_DATA"])
    ruleset = load_ruleset(Path(app.config["NAVIGATOR_RULES"]), vocab)
    app.extensions[EXTENSION_KEY] = ruleset
    return ruleset


def current_ruleset() -> RuleSet:
    ruleset: RuleSet = current_app.extensions[EXTENSION_KEY]
    return ruleset
