"""Validation and filtering of administrator-defined custom fields (values live in `record.custom`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from krug.core.errors import FieldErrors, ValidationFailed
from krug.core.models import CustomField

FILTER_PREFIX = "cf."
RANGE_SUFFIXES = {"gte", "lte", "gt", "lt"}


def definitions(entity: str) -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.filter(entity=entity)}


def _coerce(field: CustomField, value: Any) -> Any:
    """The stored JSON form of `value` for `field`, or ValueError with the reason."""
    if value is None or value == "":
        return None
    if field.type == CustomField.Type.TEXT:
        text = str(value).strip()
        if len(text) > 1000:
            raise ValueError(_("at most 1000 characters"))
        return text
    if field.type == CustomField.Type.NUMBER:
        if isinstance(value, bool):
            raise ValueError(_("must be a number"))
        try:
            number = Decimal(str(value).replace(",", ".").replace(" ", ""))
        except InvalidOperation as exc:
            raise ValueError(_("must be a number")) from exc
        if not number.is_finite():
            raise ValueError(_("must be a number"))
        return int(number) if number == number.to_integral_value() else float(number)
    if field.type == CustomField.Type.DATE:
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValueError(_("must be a date as YYYY-MM-DD")) from exc
    if field.type == CustomField.Type.BOOLEAN:
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in {"true", "1", "yes", "да"}:
            return True
        if lowered in {"false", "0", "no", "нет"}:
            return False
        raise ValueError(_("must be true or false"))
    if field.type == CustomField.Type.CHOICE:
        if value not in field.choices:
            raise ValueError(_("unknown choice %(value)r; allowed: %(allowed)s") % {
                "value": value, "allowed": ", ".join(map(str, field.choices))})
        return value
    raise ValueError(_("unsupported field type"))


def clean(entity: str, values: dict[str, Any] | None, current: dict[str, Any] | None = None,
          errors: FieldErrors | None = None) -> dict[str, Any]:
    """Merge `values` into `current`, validating each against its definition. Problems are named
    `custom.<key>`: added to `errors` when given, else raised at once."""
    defs = definitions(entity)
    result = dict(current or {})
    own_errors = errors is None
    errors = errors if errors is not None else FieldErrors()
    for key, value in (values or {}).items():
        field = defs.get(key)
        if field is None:
            errors.add(f"custom.{key}", _("no such custom field"))
            continue
        try:
            coerced = _coerce(field, value)
        except ValueError as exc:
            errors.add(f"custom.{key}", str(exc))
            continue
        if coerced is None:
            result.pop(key, None)
        else:
            result[key] = coerced
    for key, field in defs.items():
        if field.required and result.get(key) is None and not errors.errors.get(f"custom.{key}"):
            errors.add(f"custom.{key}", _("this field is required"))
    if own_errors:
        errors.raise_if_any()
    return result


def clean_into(entity: str, data: dict, current_record, errors: FieldErrors, out: dict) -> None:
    """For services: validate data['custom'] (or, on create, check required fields) into out['custom']."""
    if "custom" in data or current_record is None:
        current = current_record.custom if current_record is not None else None
        out["custom"] = clean(entity, data.get("custom") or {}, current, errors)


def apply_filters(qs: QuerySet, entity: str, params) -> QuerySet:
    """Filter by query parameters `cf.<key>=value` and `cf.<key>.gte|lte|gt|lt=value`."""
    wanted = [(k, params.get(k)) for k in params if k.startswith(FILTER_PREFIX)]
    if not wanted:
        return qs
    defs = definitions(entity)
    for raw_key, raw_value in wanted:
        key, _sep, op = raw_key[len(FILTER_PREFIX):].partition(".")
        field = defs.get(key)
        if field is None:
            raise ValidationFailed.single(raw_key, _("no such custom field"))
        if op and (op not in RANGE_SUFFIXES or field.type not in (CustomField.Type.NUMBER,
                                                                  CustomField.Type.DATE)):
            raise ValidationFailed.single(raw_key, _("range filters work on number and date fields only"))
        try:
            value = _coerce(field, raw_value)
        except ValueError as exc:
            raise ValidationFailed.single(raw_key, str(exc)) from exc
        lookup = f"custom__{key}" + (f"__{op}" if op else "")
        qs = qs.filter(**{lookup: value})
    return qs
