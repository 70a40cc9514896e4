"""Mount navigator's FHIR interfaces on the app: OperationOutcome errors and the id echo for
every path under `/fhir/`, and the blueprints."""

from __future__ import annotations

from flask import Flask

from navigator.fhir.directory_views import blp as directory_blueprint
from navigator.fhir.messaging_views import blp as messaging_blueprint
from navigator.fhir.outcome import install_fhir_errors


def init_fhir(app: Flask) -> None:
    install_fhir_errors(app)
    app.register_blueprint(directory_blueprint)
    app.register_blueprint(messaging_blueprint)
