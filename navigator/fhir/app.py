"""Mount navigator's FHIR interfaces on the app: OperationOutcome errors and the id echo for
every path under `/fhir/`, and the blueprints."""

from __future__ import annotations

from flask import Flask

from navigator.fhir.outcome import install_fhir_errors


def init_fhir(app: Flask) -> None:
    install_fhir_errors(app)
