"""Helpers for the `navigator` command tests: run a command in the app, expecting success."""

from __future__ import annotations

from flask import Flask


def run(app: Flask, *args: str, input: str | None = None) -> str:
    """The output of `navigator <args>` run in `app`; fails the test, showing it, unless exit 0."""
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output
