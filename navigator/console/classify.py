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

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.forms import (
    body_from_form,
    first_messages,
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
    ClassificationRejected,
    classifiable,
    classify_service,
    unclassified_services,
)
from navigator.directory.editing import current_record
from navigator.directory.records import Record

MAX_YEARS = 120  # in days this stays inside the record's limit (records.MAX_AGE_DAYS)
AGE_MESSAGE = f"Enter an age in years from 0 to {MAX_YEARS}, like 18 or 1.5"
LIST_FIELDS = ("needs", "caller_roles")
FORM_FIELDS = ("service_type", "sector", *LIST_FIELDS, "min_age_years", "max_age_years", "sex")
# `classify_service`'s parameters in days -> the form's fields in years.
FORM_NAMES = {"min_age_days": "min_age_years", "max_age_days": "max_age_years"}


def _years(**kwargs: Any) -> fields.Float:
    return fields.Float(
        validate=validate.Range(0, MAX_YEARS, error=AGE_MESSAGE),
        error_messages={"invalid": AGE_MESSAGE, "special": AGE_MESSAGE},
        **kwargs,
    )


def _code(limit: int, **kwargs: Any) -> fields.String:
    """A vocabulary code, as long as its column allows (services.service_type String(60),
    sector String(40)); which codes exist `classify_service` checks, like a directory load."""
    return fields.String(validate=validate.Length(max=limit), **kwargs)


class ClassifyForm(Schema):
    """The form as posted (empty fields left out by `body_from_form`)."""

    service_type = _code(60, required=True, error_messages={"required": "Choose a service type"})
    sector = _code(40, load_default=None)
    needs = fields.List(_code(100), load_default=list)
    caller_roles = fields.List(
        _code(100),
        required=True,
        error_messages={"required": "Choose at least one kind of caller"},
    )
    min_age_years = _years(load_default=0.0)
    max_age_years = _years(load_default=None)
    sex = fields.String(load_default="any", validate=validate.OneOf(SEXES))

    @validates_schema
    def _ages_in_order(self, data: dict[str, Any], **_: Any) -> None:
        # Said here in years: the record's own check would say it in days.
        maximum = data.get("max_age_years")
        if maximum is not None and maximum < data.get("min_age_years", 0.0):
            raise ValidationError("The oldest age must not be below the youngest", "max_age_years")


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
        "caller_roles": elig["caller_roles"],
        "min_age_years": str(years_for_min_age_days(elig["min_age_days"])),
        "max_age_years": "" if maximum is None else str(years_for_max_age_days(maximum)),
        "sex": elig["sex"],
    }


def _save(service_id: str, values: dict[str, Any], vocab: Vocabulary) -> dict[str, str]:
    """Classify from the posted form in this request's unit of work; the errors by form field
    (empty when saved)."""
    body, errors = load_or_errors(ClassifyForm(), body_from_form(values, FORM_FIELDS))
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
                max_age_days=None if maximum is None else max_age_days_from_years(maximum),
                sex=body["sex"],
                vocab=vocab,
                username=user.email,
                changed_by=user.caller.label,
            )
    except ClassificationRejected as exc:
        return {FORM_NAMES.get(k, k): v for k, v in first_messages(exc.errors).items()}
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
        raise Problem(409, "This service's type comes from its directory file; change it there.")
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
