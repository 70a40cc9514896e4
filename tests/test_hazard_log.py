"""The hazard log (docs/safety/hazard-log.md, DCB0129) names the tests that prove each control.
A renamed or deleted test would leave a control that only looks verified: every test the log
cites must exist, by file and by name."""

from __future__ import annotations

import ast
import re

from tests.conftest import PROJECT_ROOT

LOG = PROJECT_ROOT / "docs" / "safety" / "hazard-log.md"
# `tests/a/b.py`, `tests/a/b.py::test_x` or, after one of those, `::test_y` (same file).
CITATION = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def _cited() -> list[tuple[str, str | None]]:
    cited: list[tuple[str, str | None]] = []
    current: str | None = None
    for match in CITATION.finditer(LOG.read_text()):
        path, name = match.groups()
        if path is None and name is None:
            continue
        current = path or current
        assert current is not None, f"::{name} cited before any test file"
        cited.append((current, name))
    return cited


def _defined(path: str) -> set[str]:
    tree = ast.parse((PROJECT_ROOT / path).read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def test_every_test_the_hazard_log_cites_exists() -> None:
    cited = _cited()
    assert len(cited) > 50  # the parse really finds the citations
    missing = [
        f"{path}::{name}" if name else path
        for path, name in cited
        if not (PROJECT_ROOT / path).exists() or (name and name not in _defined(path))
    ]
    assert not missing, missing
