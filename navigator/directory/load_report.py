"""What a directory load did (`navigator directory load`'s report): counts, rejections, the
services kept with warnings and the unclassified ones, for a terminal and as JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from navigator.directory.oruk_values import printable


@dataclass
class Rejection:
    kind: str
    id: str
    source: str
    reason: str

    def __str__(self) -> str:
        return f"rejected {self.kind} {self.id} ({self.source}): {self.reason}"


COUNTS = ("created", "updated", "unchanged", "rejected")


@dataclass
class LoadReport:
    """What a load did: counts of organisations and services created / updated / unchanged /
    rejected, each rejection with its reason, the services kept with warnings (service id ->
    `"field: message"` lines: what of the feed could not be kept exactly) and the services kept
    as `unclassified` (service id -> why). Feed text in it is cut short and printable
    (`oruk_values.printable`): it is printed to a terminal."""

    organisations: Counter[str] = field(default_factory=Counter)
    services: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    unclassified: dict[str, str] = field(default_factory=dict)

    def reject(self, kind: str, ident: Any, source: str, reason: str) -> None:
        """Record a rejection; an organisation or service counts as rejected, a whole
        document (which may hold any number of either) is only listed."""
        if kind in ("organisation", "service"):
            (self.organisations if kind == "organisation" else self.services)["rejected"] += 1
        self.rejections.append(
            Rejection(
                kind, printable(str(ident or "?"), 120), printable(source, 200), printable(reason)
            )
        )

    def warn(self, service_id: str, lines: list[str]) -> None:
        self.warnings.setdefault(service_id, []).extend(
            line for line in lines if line not in self.warnings.get(service_id, [])
        )

    def lines(self) -> list[str]:
        """The report as lines for a terminal: the two count lines, the rejections, then the
        services kept with warnings and the unclassified ones, each with its reasons."""

        def counts(c: Counter[str]) -> str:
            return ", ".join(f"{k} {c[k]}" for k in COUNTS)

        out = [
            f"organisations: {counts(self.organisations)}",
            f"services: {counts(self.services)}",
            *(str(r) for r in self.rejections),
        ]
        if self.warnings:
            out.append(f"kept with warnings: {len(self.warnings)} services")
            for sid in sorted(self.warnings):
                out += [f"  {sid}: {line}" for line in self.warnings[sid]]
        if self.unclassified:
            out.append(f"unclassified (never routed to until classified): {len(self.unclassified)}")
            out += [f"  {sid}: {reason}" for sid, reason in sorted(self.unclassified.items())]
        return out

    def as_json(self) -> dict[str, Any]:
        """The same report as JSON-able data: `{"organisations": {created, updated, unchanged,
        rejected}, "services": {...}, "rejected": [{kind, id, source, reason}],
        "kept_with_warnings": {service id: ["field: message"]}, "unclassified": {service id:
        reason}}`."""
        return {
            "organisations": {k: self.organisations[k] for k in COUNTS},
            "services": {k: self.services[k] for k in COUNTS},
            "rejected": [
                {"kind": r.kind, "id": r.id, "source": r.source, "reason": r.reason}
                for r in self.rejections
            ],
            "kept_with_warnings": {
                sid: list(lines) for sid, lines in sorted(self.warnings.items())
            },
            "unclassified": dict(sorted(self.unclassified.items())),
        }

    @property
    def changed(self) -> bool:
        return bool(
            self.organisations["created"]
            + self.organisations["updated"]
            + self.services["created"]
            + self.services["updated"]
        )
