"""The care navigators' web console, in the NHS.UK design system and served by navigator.

Pages live in one module per area (calls, referrals, directory, DTOC, dashboard); each view
parses the form at the edge with the same marshmallow schemas as the API and calls the same
services, so the console and the API cannot disagree about what is valid.
"""

from __future__ import annotations

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader

from navigator.core.extensions import csrf, login_manager
from navigator.core.text import without_unsafe


def configure_templates(app: Flask) -> None:
    """Before anything touches `app.jinja_env`: add the NHS.UK frontend component templates
    and escape every `{{ }}` in every template.

    Autoescape is on whatever the template's extension: Flask's default escapes only
    `.html`/`.xml`, and the console's templates end in `.jinja`, so text from API clients,
    providers and SMS senders would otherwise reach the navigator's browser as live HTML
    (hazard H26). Markup a page builds itself (`{% set x %}…{% endset %}` blocks, macro
    output) is `Markup` already, with its own `{{ }}` escaped, so the NHS.UK macros' `html`
    params still work; nothing that came from outside is ever marked safe.

    Every `{{ }}` is also `finalize`d through `core.text.without_unsafe`: escaping leaves bidi
    overrides and control characters alone, and a BaRS message, an SMS or a feed could use them
    to make a safeguarding flag or a name read backwards (review of issue 16).

    ChainableUndefined is what the NHS.UK macros expect (they read optional nested params).
    """
    app.jinja_options = {
        **app.jinja_options,
        "autoescape": True,
        "finalize": without_unsafe,
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
        calls,
        classify,
        dashboard,
        directory,
        dtoc,
        formatting,
        forms,
        referrals,
        sign_in,
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
    # `when`, `label`, `place`, `person`, ages …: how every page writes values for people.
    formatting.register(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)
