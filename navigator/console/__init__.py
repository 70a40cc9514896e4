"""The care navigators' web console, in the NHS.UK design system and served by navigator.

Pages live in one module per area (calls, referrals, directory, DTOC, dashboard); each view
parses the form at the edge with the same marshmallow schemas as the API and calls the same
services, so the console and the API cannot disagree about what is valid.
"""

from __future__ import annotations

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader

from navigator.extensions import csrf, login_manager


def configure_templates(app: Flask) -> None:
    """Before anything touches `app.jinja_env`: add the NHS.UK frontend component templates.

    ChainableUndefined is what the NHS.UK macros expect (they read optional nested params).
    """
    app.jinja_options = {
        **app.jinja_options,
        "undefined": ChainableUndefined,
        "loader": ChoiceLoader(
            [
                FileSystemLoader(str(app.root_path) + "/templates"),
                PackageLoader("nhsuk_frontend_jinja"),
            ]
        ),
    }


def init_console(app: Flask) -> None:
    from navigator.console import (  # noqa: F401  (each module adds its routes to `bp`)
        accounts,
        calls,
        dashboard,
        directory,
        dtoc,
        forms,
        referrals,
        users,
        worklist,
    )
    from navigator.console.blueprint import bp

    # Globals, not context: the form macros are imported into pages without their context.
    app.jinja_env.globals.update(
        field_id=forms.field_id,
        error_list=forms.error_list,
        items_with_blank=forms.items_with_blank,
        checked_items=forms.checked_items,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)
