"""navigator: care-navigation single point of access for Bedfordshire, Luton and Milton Keynes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from navigator.cli import register_commands
from navigator.console import configure_templates, init_console
from navigator.core.errors import register_error_handlers
from navigator.core.extensions import db
from navigator.core.settings import instance_dir, resolve_secret_key, settings_from_env
from navigator.rules.reference import RULESET
from navigator.sms.reference import FOLLOW_UP_PLAN
from navigator.web.edge import install_edge
from navigator.web.openapi import openapi
from navigator.web.proxy import install_proxy_fix
from navigator.web.security_headers import register_security_headers


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_dir()))
    app.config.update(settings_from_env())
    if config:
        app.config.update(config)
    # Raises SettingsError: on a database server every node must share one SECRET_KEY.
    app.config["SECRET_KEY"] = resolve_secret_key(app.config)
    _configure_logging(app)
    install_proxy_fix(app)  # the client's address behind TRUSTED_PROXIES proxies (throttling)
    RULESET.install(app)  # raises RuleSetError: the service refuses to start with invalid rules
    FOLLOW_UP_PLAN.install(app)  # raises FollowUpsError likewise
    install_edge(app)  # body size, content type, JSON depth and text, path ints: before blueprints
    _register_extensions(app)
    _declare_provider_links()
    _register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)  # nosniff, no-referrer, a default CSP on every response
    register_commands(app)
    return app


def _configure_logging(app: Flask) -> None:
    # Logs carry methods, paths, ids and outcomes only: never request bodies (patient data).
    level = app.config.get("LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _register_extensions(app: Flask) -> None:
    configure_templates(app)  # before anything creates app.jinja_env
    db.init_app(app)
    openapi.init_app(app)
    openapi.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "navigator API key"}
    )


def _declare_provider_links() -> None:
    # How a provider comes to need a patient is declared where the records are (a referral, a
    # DTOC episode) and read by patients, which sits below them and cannot import them. The app
    # imports the declarations itself, rather than trusting some view to: a link left
    # undeclared fails closed, hiding the patient from the provider who must act (hazard H27).
    from navigator.referrals import need_to_know as referrals
    from navigator.transitions import need_to_know as transitions

    del referrals, transitions  # imported for the links that importing them declares


def _register_blueprints(app: Flask) -> None:
    from navigator.directory.oruk_views import blp as oruk_blp
    from navigator.directory.views import blp as services_blp
    from navigator.fhir.app import init_fhir
    from navigator.metrics.views import blp as metrics_blp
    from navigator.navigation.views import blp as navigations_blp
    from navigator.patients.views import blp as patients_blp
    from navigator.referrals.views import blp as referrals_blp
    from navigator.sms.views import blp as worklist_blp
    from navigator.sms.webhooks import blp as sms_webhooks_blp
    from navigator.transitions.views import blp as transitions_blp
    from navigator.web.docs import blp as docs_blp
    from navigator.web.health import blp as health_blp

    for blueprint in (
        health_blp,
        services_blp,
        navigations_blp,
        patients_blp,
        referrals_blp,
        transitions_blp,
        metrics_blp,
        worklist_blp,
    ):
        openapi.register_blueprint(blueprint)
    app.register_blueprint(docs_blp)
    app.register_blueprint(oruk_blp)
    init_fhir(app)  # BaRS and the FHIR directory search, under /fhir/
    init_console(app)
    app.register_blueprint(sms_webhooks_blp)  # authenticated by Twilio's signature
