"""A BaRS message's body read as a FHIR R4B Bundle with fhir.resources (issue 16), and the
refusals every step of reading a BaRS message raises.

`parse_bundle` turns the body into a `Bundle` (400 `structure` / `value`); the standard's
invariants are checked on that Bundle by `bars_message.read_message`, and its content mapped to
navigator's shapes by `bars_content`.

Every refusal is a `Problem` whose `errors` name FHIR paths (`Bundle.entry[3].resource.status`,
`ServiceRequest.status`) and rules, never a value from the message: diagnostics carry no
patient data.
"""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from navigator.core.errors import Problem
from navigator.web.edge import json_text_errors

# The resource types navigator reads from a referral, each validated in full.
READ_TYPES = frozenset(
    {"MessageHeader", "ServiceRequest", "Patient", "Encounter", "CarePlan", "Flag", "Organization"}
)


def invariant(path: str, rule: str) -> Problem:
    """400 `invariant`: a content rule of the standard failed at `path`."""
    return Problem(400, f"{path}: {rule}", code="invariant", errors={path: [rule]})


def unsupported(path: str, why: str) -> Problem:
    """422 `not-supported` (REC_UNPROCESSABLE_ENTITY): valid BaRS that navigator does not do."""
    return Problem(422, f"{path}: {why}", code="not-supported", errors={path: [why]})


def bad_value(path: str, why: str, code: str = "value") -> Problem:
    return Problem(400, f"{path}: {why}", code=code, errors={path: [why]})


# --- Parsing --------------------------------------------------------------------------------


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _fhir_path(loc: tuple[Any, ...]) -> str:
    """pydantic's error location as a FHIR path: ('entry', 3, 'resource', 'status') →
    `Bundle.entry[3].resource.status`. Names and indexes only, never the input."""
    path = "Bundle"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "").isalnum() and len(part) <= 60:
            path += f".{part}"
        else:
            path += ".?"
    return path


def parse_bundle(body: bytes, *, max_depth: int = 32) -> tuple[Bundle, dict[str, Any]]:
    """(the Bundle as fhir.resources reads it, the JSON as sent). Raises Problem 400: not
    UTF-8, not JSON, nested deeper than `max_depth`, a string with NUL or a lone surrogate
    (PostgreSQL cannot store NUL; `json_text_errors` names the paths), not a Bundle, or not
    valid FHIR R4B (each failing path named, `structure`)."""
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise bad_value("body", "The body is not valid UTF-8.", "structure") from None
    except RecursionError:
        raise bad_value("body", "The body is nested too deep.", "structure") from None
    except ValueError:
        raise bad_value("body", "The body is not valid JSON.", "structure") from None
    errors = json_text_errors(value, max_depth=max_depth)
    if errors is None:
        raise bad_value("body", f"The body nests more than {max_depth} deep.", "structure")
    if errors:
        raise Problem(
            400,
            "Text that cannot be stored (NUL or a lone surrogate) in: " + ", ".join(errors),
            code="value",
            errors={f"Bundle.{path}": texts for path, texts in errors.items()},
        )
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        raise bad_value("Bundle", "The body must be a FHIR Bundle resource.", "structure")
    entries = value.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        entries = None  # left to fhir.resources, which names what is wrong
    try:
        if entries is None:
            return Bundle.model_validate(value), value
        # The envelope, then each resource: those navigator reads are validated in full with
        # their R4B model; the others (medications, allergies, questionnaires …) are kept as
        # received and only checked to be a known R4B resource type. Validating every
        # resource of REFREQ01 costs ~25 ms, half the 50 ms budget (bench/README.md).
        envelope = {
            **value,
            "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries],
        }
        bundle = Bundle.model_validate(envelope)
        for position, entry in enumerate(entries):
            if "resource" in entry:
                assert bundle.entry is not None
                bundle.entry[position].resource = _resource(entry["resource"], position)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise _structure_problem(exc) from None
    except (TypeError, KeyError, AttributeError, RecursionError):
        raise bad_value("Bundle", "The Bundle is not valid FHIR R4.", "structure") from None
    return bundle, value


def _resource(data: Any, position: int) -> Any:
    """One entry's resource: validated with its R4B model when navigator reads that type,
    else None (kept only in the JSON as received) once its type is known."""
    path = f"Bundle.entry[{position}].resource"
    kind = data.get("resourceType") if isinstance(data, dict) else None
    if not isinstance(kind, str):
        raise bad_value(path, "Each resource needs its resourceType.", "structure")
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError, ImportError):
        raise bad_value(path, "Not an R4 resource type.", "structure") from None
    if kind not in READ_TYPES:
        return None
    try:
        return model.model_validate(data)
    except ValueError as exc:
        raise _structure_problem(exc, prefix=("entry", position, "resource")) from None


def _structure_problem(exc: ValueError, prefix: tuple[Any, ...] = ()) -> Problem:
    fields: dict[str, list[str]] = {}
    listed = getattr(exc, "errors", None)
    for error in listed() if callable(listed) else []:
        path = _fhir_path(prefix + tuple(error.get("loc", ())))
        # pydantic's error *type* (missing, string_type, extra_forbidden …), not its message,
        # which can quote the input.
        fields.setdefault(path, []).append(f"Not valid FHIR R4 ({error.get('type', 'invalid')})")
        if len(fields) >= 20:
            break
    return Problem(
        400,
        "The Bundle is not valid FHIR R4: " + ", ".join(fields or ["Bundle"]),
        code="structure",
        errors=fields or {"Bundle": ["Not valid FHIR R4"]},
    )
