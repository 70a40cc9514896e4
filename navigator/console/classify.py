"""The "To classify" queue (`/to-classify`) and the classify form
(`/directory/<id>/classify`), for supervisors and admins (issue 15 §2).

Services kept from another directory with no navigator service type wait in the queue,
showing the feed's own terms; the form sets the type, sector, needs, caller roles and
eligibility through `navigator.directory.classify.classify_service`, validated like a directory
load and recorded in the change history. The same form corrects a mapping's classification,
from the service's page.

The queue is `/to-classify`, not `/directory/to-classify`: a service's page is
`/directory/<id>`, and "to-classify" is a valid service id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.forms import (
    body_from_form,
    form_values,
    load_or_errors,
    plain_options,
    vocabulary_options,
)
from navigator.core.clock import (
    max_age_days_from_years,
    min_age_days_from_years,
    years_for_max_age_days,
    years_for_min_age_days,
)
from navigator.core.db import transaction
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import SEXES, UNCLASSIFIED, Vocabulary
from navigator.directory.classify import (
    FROM_ITS_SOURCE,
    ClassificationRejected,
    classifiable,
    classify_service,
    unclassified_services,
    unknown_codes,
)
from navigator.directory.editing import current_record
from navigator.directory.oruk_fields import MAX_AGE_YEARS
from navigator.directory.records import MAX_AGE_DAYS, Record

# One age limit everywhere: the form takes every age a feed's import keeps (0 to
# `oruk_fields.MAX_AGE_YEARS` years) and every age the record may hold (up to
# `records.MAX_AGE_DAYS` days), so whatever is stored is prefilled and saves unchanged.
MESSAGES = {
    "min_age_years": f"Enter the youngest age in years, from 0 to {MAX_AGE_YEARS}",
    "max_age_years": (
        f"Enter the oldest age in years, from 0 to {MAX_AGE_YEARS}, "
        "or leave it empty for no upper limit"
    ),
    "ages_in_order": "The oldest age must not be below the youngest",
    "sex": "Choose which sex the service sees: any, female or male",
}
LIST_FIELDS = ("needs", "caller_roles")
FORM_FIELDS = ("service_type", "sector", *LIST_FIELDS, "min_age_years", "max_age_years", "sex")
# `classify_service`'s parameters in days -> the form's fields in years.
FORM_NAMES = {"min_age_days": "min_age_years", "max_age_days": "max_age_years"}


def age_fits(years: float, to_days: Callable[[float], int]) -> bool:
    """True for an age in years the form accepts: 0 to `MAX_AGE_YEARS`, or any larger age
    whose days (`to_days`, from `navigator.core.clock`) the record still holds."""
    if years < 0:
        return False
    # Days are never fewer than years, so a huge number is refused before it is multiplied.
    return years <= MAX_AGE_YEARS or (years <= MAX_AGE_DAYS and to_days(years) <= MAX_AGE_DAYS)


def max_age_days(years: float) -> int:
    """The form's oldest age in years as the record's last day admitted (inclusive), never
    beyond `records.MAX_AGE_DAYS` (a whole 130: to the day before the 131st birthday)."""
    return min(max_age_days_from_years(years), MAX_AGE_DAYS)


def _years(name: str, to_days: Callable[[float], int], **kwargs: Any) -> fields.Float:
    message = MESSAGES[name]

    def fits(years: float) -> None:
        if not age_fits(years, to_days):
            raise ValidationError(message)

    # "special" is NaN or infinity, "invalid" anything that is not a number.
    return fields.Float(
        validate=fits, error_messages={"invalid": message, "special": message}, **kwargs
    )


def _code(limit: int, message: str, **kwargs: Any) -> fields.String:
    """A vocabulary code, as long as its column allows (services.service_type String(60),
    sector String(40)); which codes exist `classify_service` checks, like a directory load.
    Every refusal says `message`."""
    return fields.String(
        validate=validate.Length(max=limit, error=message),
        error_messages={"invalid": message, "required": message},
        **kwargs,
    )


class ClassifyForm(Schema):
    """The form as posted (empty fields left out by `body_from_form`). Every message names
    its field (NHS digital service manual, "Error message")."""

    service_type = _code(60, "Choose a service type", required=True)
    sector = _code(40, "Choose a sector from the list", load_default=None)
    needs = fields.List(
        _code(100, "Choose the needs it meets from the list"),
        load_default=list,
        error_messages={"invalid": "Choose the needs it meets from the list"},
    )
    caller_roles = fields.List(
        _code(100, "Choose at least one kind of caller"),
        required=True,
        error_messages={
            "required": "Choose at least one kind of caller",
            "invalid": "Choose at least one kind of caller",
        },
    )
    min_age_years = _years("min_age_years", min_age_days_from_years, load_default=0.0)
    max_age_years = _years("max_age_years", max_age_days_from_years, load_default=None)
    sex = fields.String(
        load_default="any",
        validate=validate.OneOf(SEXES, error=MESSAGES["sex"]),
        error_messages={"invalid": MESSAGES["sex"]},
    )

    @validates_schema
    def _ages_in_order(self, data: dict[str, Any], **_: Any) -> None:
        # Said here in years: the record's own check would say it in days.
        maximum = data.get("max_age_years")
        if maximum is not None and maximum < data.get("min_age_years", 0.0):
            raise ValidationError(MESSAGES["ages_in_order"], "max_age_years")


def usual_sector(vocab: Vocabulary, service_type: str) -> str | None:
    """The sector a service of this type usually belongs to (service_types.yaml `sector`)."""
    term = vocab.terms["service_types"].get(service_type)
    sector = term.extra.get("sector") if term else None
    return str(sector) if sector else None


def _record_values(record: Record) -> dict[str, Any]:
    """The form filled from the record: blank type and sector while unclassified."""
    elig = record["eligibility"]
    unclassified = record["service_type"] == UNCLASSIFIED
    maximum = elig["max_age_days"]
    return {
        "service_type": "" if unclassified else record["service_type"],
        "sector": "" if unclassified else record["sector"],
        "needs": record["needs"],
        "caller_roles": [] if unclassified else elig["caller_roles"],  # none pre-ticked
        "min_age_years": str(years_for_min_age_days(elig["min_age_days"])),
        "max_age_years": "" if maximum is None else str(years_for_max_age_days(maximum)),
        "sex": elig["sex"],
    }


def in_form_order(errors: dict[str, list[str]]) -> dict[str, str]:
    """One message per field, in the order the fields are on the page (the error summary
    follows the page), each message once."""
    order = {name: i for i, name in enumerate(FORM_FIELDS)}
    return {
        name: " ".join(dict.fromkeys(errors[name]))
        for name in sorted(errors, key=lambda name: order.get(name, len(order)))
    }


def form_errors(
    values: dict[str, Any], vocab: Vocabulary
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The posted form read (`ClassifyForm`), or None and every error found, by form field:
    the form's own and the unknown vocabulary codes together, so one round shows them all."""
    body, errors = load_or_errors(ClassifyForm(), body_from_form(values, FORM_FIELDS))
    if body is not None:
        return body, {}
    found: dict[str, list[str]] = {}
    for key, message in errors.items():
        # A list item's error ("needs.0") belongs to its field: the summary links to that.
        found.setdefault(key.split(".")[0], []).append(message)
    unknown = unknown_codes(
        vocab,
        service_type=_text(values.get("service_type")),
        sector=_text(values.get("sector")),
        needs=_texts(values.get("needs")),
        caller_roles=_texts(values.get("caller_roles")),
    )
    for name, messages in unknown.items():
        found.setdefault(name, messages)  # the form's own message for a field comes first
    return None, in_form_order(found)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: Any) -> list[str]:
    return (
        [item for item in value if isinstance(item, str) and item]
        if isinstance(value, list)
        else []
    )


def _save(service_id: str, values: dict[str, Any], vocab: Vocabulary) -> dict[str, str]:
    """Classify from the posted form in this request's unit of work; the errors by form field
    (empty when saved)."""
    body, errors = form_errors(values, vocab)
    if body is None:
        return errors
    maximum = body["max_age_years"]
    user = me()
    try:
        with transaction(current_session()):
            classify_service(
                current_session(),
                service_id,
                service_type=body["service_type"],
                sector=body["sector"] or usual_sector(vocab, body["service_type"]) or "",
                needs=body["needs"],
                caller_roles=body["caller_roles"],
                min_age_days=min_age_days_from_years(body["min_age_years"]),
                max_age_days=None if maximum is None else max_age_days(maximum),
                sex=body["sex"],
                vocab=vocab,
                username=user.email,
                changed_by=user.caller.label,
            )
    except ClassificationRejected as exc:
        # The record speaks of ages in days; the person typed years, so say it in years.
        named = {
            FORM_NAMES.get(key, key): [MESSAGES[FORM_NAMES[key]]] if key in FORM_NAMES else texts
            for key, texts in exc.errors.items()
        }
        return in_form_order(named)
    return {}


@bp.route("/to-classify")
@requires("classify_services")
def to_classify() -> ResponseReturnValue:
    """Every unclassified service, longest waiting first."""
    items = unclassified_services(current_session())
    return render_template("console/to_classify.jinja", title="To classify", items=items, errors={})


@bp.route("/directory/<service_id>/classify", methods=["GET", "POST"])
@requires("classify_services")
def service_classify(service_id: str) -> ResponseReturnValue:
    record = current_record(current_session(), service_id)  # 404 for an unknown id
    if not classifiable(record):
        raise Problem(409, FROM_ITS_SOURCE)
    vocab = VOCABULARY.get()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = form_values(*LIST_FIELDS)
        errors = _save(service_id, values, vocab)
        if not errors:
            label = vocab.label("service_types", values["service_type"])
            flash(f"{record['name']} classified as {label}.", "info")
            # From the queue, back to the queue; a correction, back to the service's page.
            if record["service_type"] == UNCLASSIFIED:
                return redirect(url_for("console.to_classify"))
            return redirect(url_for("console.service", service_id=service_id))
    else:
        values = _record_values(record)
    types = [
        option for option in vocabulary_options(vocab, "service_types") if option[0] != UNCLASSIFIED
    ]
    return render_template(
        "console/classify.jinja",
        title=f"Classify {record['name']}",
        service=record,
        values=values,
        errors=errors,
        service_types=types,
        sectors=vocabulary_options(vocab, "sectors"),
        needs=vocabulary_options(vocab, "needs"),
        caller_roles=vocabulary_options(vocab, "caller_roles"),
        sexes=plain_options(SEXES),
        vocab=vocab,
    ), (422 if errors else 200)
