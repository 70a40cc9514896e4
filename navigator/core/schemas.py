"""The one strict marshmallow base and the one "validation error → field messages" helper.

Every schema that reads outside input (API bodies and queries, console forms, rule sets, the
follow-up plan, directory records, import files) refuses fields it does not know: a misspelt
field is an error naming it, never silently dropped data.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError

from navigator.core.errors import flatten_errors


class StrictSchema(Schema):
    """A schema that raises on unknown fields (`unknown = RAISE`)."""

    class Meta:
        unknown = RAISE


def field_messages(exc: ValidationError) -> dict[str, list[str]]:
    """marshmallow's messages as `{"field.sub": ["message", ...]}`; a schema-level error (a
    plain list) is filed under `"_"`."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
    return flatten_errors(messages)


def message_lines(exc: ValidationError) -> list[str]:
    """The same messages as lines `"field.sub: message message"`, for files and the CLI."""
    return [f"{name}: {' '.join(texts)}" for name, texts in field_messages(exc).items()]
