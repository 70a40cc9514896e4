"""The console blueprint, its guards (CSRF, idle timeout) and its HTML error pages."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from navigator.auth.sessions import IDLE
from navigator.console.access import PERMISSIONS, can
from navigator.console.formatting import when
from navigator.core.errors import Problem, set_html_error_page
from navigator.core.extensions import csrf

bp = Blueprint(
    "console",
    __name__,
    static_folder="../static/console",
    static_url_path="/console/assets",
)

NAVIGATION = (
    ("console.new_call", "New call", "take_calls"),
    ("console.calls", "Calls", "take_calls"),
    ("console.referrals", "Referrals", "update_referrals"),
    ("console.worklist", "Worklist", "take_calls"),
    ("console.directory", "Directory", "view_directory"),
    ("console.dtoc_board", "DTOC board", "manage_dtoc"),
    ("console.dashboard", "Dashboard", "view_dashboard"),
    ("console.users", "Users", "manage_users"),
)


@bp.before_request
def guard() -> ResponseReturnValue | None:
    if request.endpoint == "console.static":
        return None
    g.csp_nonce = secrets.token_urlsafe(16)
    if request.method == "POST":
        csrf.protect()
    # Asking loads the user from the server-side session (access.load_user): an ended, idle or
    # unknown session leaves the request signed out, and the cookie's session is cleared.
    if not current_user.is_authenticated and "console_session_refused" in g:
        logout_user()
        session.clear()
        if g.console_session_refused == IDLE:
            idle = current_app.config["CONSOLE_IDLE_MINUTES"]
            flash(f"You were signed out after {idle} minutes without activity.", "info")
        if request.endpoint != "console.login":
            return redirect(url_for("console.login", next=request.full_path))
    return None


@bp.after_request
def no_store(response: Any) -> Any:
    # Pages may show patient data: never keep them in a shared or back-button cache.
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        # Should injected markup ever get through escaping, it still cannot re-point links or
        # forms (`<base>`), post a form elsewhere, load a plugin or frame the page (hazard H26).
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            f"script-src 'self' 'nonce-{g.get('csp_nonce', '')}'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
    return response


@bp.app_context_processor
def console_globals() -> dict[str, Any]:
    def menu() -> list[dict[str, Any]]:
        if not current_user.is_authenticated:
            return []
        return [
            {"href": url_for(endpoint), "text": text, "current": request.endpoint == endpoint}
            for endpoint, text, action in NAVIGATION
            if can(action)
        ]

    return {
        "can": can,
        "menu": menu,
        "permissions": PERMISSIONS,
        "cspNonce": g.get("csp_nonce"),
        "local_time": local_time,
        "assetPath": "/console/assets/nhsuk",
    }


def local_time(value: str | datetime | None) -> str:
    """An instant (ISO text or datetime) as people in England read it, NHS style on the London
    clock: "Tuesday 1 December, 9am" (`formatting.when`; "" for None)."""
    return when(value)


def error_page(status: int, title: str, detail: str) -> ResponseReturnValue:
    return render_template("console/error.jinja", title=title, detail=detail), status


@bp.errorhandler(CSRFError)
def csrf_failed(exc: CSRFError) -> ResponseReturnValue:
    return error_page(
        400,
        "The form has expired",
        "Go back, reload the page and send the form again. Nothing was saved.",
    )


@bp.errorhandler(Problem)
def problem(exc: Problem) -> ResponseReturnValue:
    return error_page(exc.status, exc.title, exc.detail or "")


TITLES = {403: "You cannot do this", 404: "Page not found"}


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue:
    return error_page(exc.code or 500, TITLES.get(exc.code or 0, exc.name), exc.description or "")


def browser_error_page(status: int, title: str, detail: str) -> ResponseReturnValue:
    """The error page for a browser path that reached no console view (no route matched, an
    id out of range, an error before the view): HTML like the console's own, never JSON."""
    return error_page(status, TITLES.get(status, title), detail)


@bp.record_once
def _install_browser_error_page(state: BlueprintSetupState) -> None:
    set_html_error_page(state.app, browser_error_page)
