"""`navigator rules check` and `navigator rules test`: routing rule sets, for reviewers.

They are added to `main` itself, not `app.cli`, and do not need the app (which refuses to
start with invalid rules): they read the same settings and report every problem instead.
"""

from __future__ import annotations

from pathlib import Path

import click

from navigator.core.settings import settings_from_env
from navigator.core.vocabulary import load_vocabulary
from navigator.rules.cases import cases_path, run_cases
from navigator.rules.loading import RuleSetError, load_ruleset
from navigator.rules.ruleset import RuleSet


def _rules_path(path: Path | None) -> Path:
    return path or Path(settings_from_env()["NAVIGATOR_RULES"])


def _load_or_exit(path: Path | None) -> RuleSet:
    """The rule set, or every problem printed and exit status 1."""
    vocab = load_vocabulary(settings_from_env()["NAVIGATOR_DIRECTORY_DATA"])
    try:
        return load_ruleset(_rules_path(path), vocab)
    except RuleSetError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise SystemExit(1) from exc


@click.group("rules")
def rules_group() -> None:
    """Routing rule sets."""


_file = click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rule-set file (default: NAVIGATOR_RULES, else the shipped BLMK rules).",
)


@rules_group.command("check")
@_file
def check(path: Path | None) -> None:
    """Validate a rule set; print every problem with file, rule id and field."""
    ruleset = _load_or_exit(path)
    click.echo(
        f"{ruleset.source}: rule set {ruleset.name} {ruleset.version}: "
        f"{len(ruleset.rules)} rules, valid"
    )


@rules_group.command("test")
@_file
def test(path: Path | None) -> None:
    """Run the rule set's test cases (<name>.tests.yaml beside it)."""
    ruleset = _load_or_exit(path)
    results = run_cases(ruleset, cases_path(_rules_path(path)))
    failed = [r for r in results if not r.passed]
    for result in failed:
        click.echo(f"FAIL {result.name}: {result.detail}")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise SystemExit(1)
