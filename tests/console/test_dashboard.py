"""The dashboard's CSV download is the API's (`format=csv`): the same bytes, with the
byte-order mark Excel needs to read UTF-8, and the same file name."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

Auth = dict[str, dict[str, str]]


def test_the_dashboard_csv_is_the_apis_csv(
    app: Flask, sign_in: Callable[[str], FlaskClient], auth: Auth
) -> None:
    console = sign_in("supervisor").get("/dashboard.csv?from=2026-01&to=2026-02&place=bedford")
    api = app.test_client().get(
        "/api/v1/metrics/cisp?from=2026-01&to=2026-02&place=bedford&format=csv",
        headers=auth["navigator"],
    )
    assert (console.status_code, api.status_code) == (200, 200)
    assert console.data == api.data
    assert console.data.startswith("\ufeff".encode())
    assert (
        console.headers["Content-Disposition"]
        == api.headers["Content-Disposition"]
        == ('attachment; filename="cisp-bedford-2026-01-2026-02.csv"')
    )
    assert console.mimetype == api.mimetype == "text/csv"
