"""`/api/v1/docs`: a readable API reference rendered from the live OpenAPI document.

Rendered on the server from `api.spec`, the same document served at
`/api/v1/openapi.json`, so the page cannot drift from the schemas; no CDN, no scripts.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from navigator.web.access import public
from navigator.web.openapi import openapi
from navigator.web.security_headers import docs_csp

blp = Blueprint("api_docs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return spec.get("components", {}).get("schemas", {}).get(name, {}) | {"title": name}
    return node


@blp.route("/api/v1/docs")
@public("the API reference, drawn from the public OpenAPI document: no data")
def docs() -> ResponseReturnValue:
    spec = openapi.spec.to_dict()
    operations = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "secured": bool(op.get("security")),
                    "parameters": op.get("parameters", []),
                    "body": _resolve(spec, body.get("schema")) if body else None,
                    "responses": sorted(op.get("responses", {}).items()),
                }
            )
    nonce = secrets.token_urlsafe(16)  # lets the page's own <style> in, and nothing else
    page = render_template("api/docs.html", spec=spec, operations=operations, nonce=nonce)
    return page, {"Content-Security-Policy": docs_csp(nonce)}
