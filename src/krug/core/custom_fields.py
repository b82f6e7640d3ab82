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
#: the entities custom fields can be defined for
ENTITIES = ("company", "contact", "lead", "deal")
RANGE_SUFFIXES = {"gte", "lte", "gt", "lt"}


def definitions(entity: str) -> dict[str, CustomField]:
    from krug.core import memo

    return memo.remembered(("custom_fields", entity),
                           lambda: {f.key: f for f in CustomField.objects.filter(entity=entity)})


def _choice_key(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


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
    if field.type == CustomField.Type.DATE:  # ISO, or 31.12.2026 as Russian users (and Krug's CSV) write it
        text = str(value).strip()
        for parse in (dt.date.fromisoformat, lambda t: dt.datetime.strptime(t, "%d.%m.%Y").date()):
            try:
                return parse(text).isoformat()
            except ValueError:
                continue
        raise ValueError(_("must be a date as YYYY-MM-DD"))
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
        if value in field.choices:
            return value
        key = _choice_key(value)  # «клиент», « Клиент » are the choice «Клиент», kept as the list spells it
        chosen = next((choice for choice in field.choices if _choice_key(choice) == key), None)
        if chosen is None:
            raise ValueError(_("unknown choice %(value)r; allowed: %(allowed)s") % {
                "value": value, "allowed": ", ".join(map(str, field.choices))})
        return chosen
    raise ValueError(_("unsupported field type"))


def accepts(type_: str, value: Any) -> bool:
    """Whether a field of this type would store the value: an import suggests a new field's type by it."""
    try:
        _coerce(CustomField(type=type_), value)
    except ValueError:
        return False
    return True


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
    wanted = [(k, params.get(k)) for k in params
              if k.startswith(FILTER_PREFIX) and params.get(k) not in (None, "")]
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


def may_define(by) -> bool:
    """Whether the user may add custom fields: an administrator (`define_field` refuses anyone else)."""
    from krug.core.permissions import Role, role_of

    return role_of(by) == Role.ADMIN


def definers():
    """The users who may add custom fields, for one who may not to know whom to ask."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from krug.core.permissions import Role

    return (get_user_model().objects.filter(is_active=True).filter(Q(role=Role.ADMIN) | Q(is_superuser=True))
            .order_by("last_name", "first_name", "username"))


def same_label(label: str) -> str:
    """A field's label as two labels are compared: `Тип  компании` is `тип компании`."""
    return " ".join(str(label).split()).casefold()


def define_field(by, data: dict[str, Any]) -> CustomField:
    """An administrator adds a custom field to an entity; the key is made from the label when empty. Two fields
    of an entity may not share a label: a list of fields (the import's mapping) could not tell them apart."""
    from anyascii import anyascii
    from django.db import transaction
    from django.utils.text import slugify

    from krug.core.errors import Forbidden

    if not may_define(by):
        raise Forbidden(_("Only administrators define custom fields"))
    errors = FieldErrors()
    entity, type_ = data.get("entity", ""), data.get("type", "")
    choices = [c.strip() for c in data.get("choices") or [] if c and c.strip()]
    if entity not in ENTITIES:
        errors.add("entity", _("must be one of %(v)s") % {"v": ", ".join(ENTITIES)})
    if type_ not in CustomField.Type.values:
        errors.add("type", _("must be one of %(v)s") % {"v": ", ".join(CustomField.Type.values)})
    label = (data.get("label") or "").strip()
    if not label:
        errors.add("label", _("required"))
    elif same_label(label) in {same_label(held) for held in CustomField.objects.filter(entity=entity)
                               .values_list("label", flat=True)}:
        errors.add("label", _("a field with this label exists"))
    key = slugify(anyascii(data.get("key") or label)).replace("-", "_")[:64]
    if not key:
        errors.add("key", _("required"))
    elif CustomField.objects.filter(entity=entity, key=key).exists():
        errors.add("key", _("a field with this key exists"))
    check_choices(errors, type_, choices)
    errors.raise_if_any()
    with transaction.atomic():
        return CustomField.objects.create(entity=entity, key=key, label=label, type=type_, choices=choices,
                                          required=bool(data.get("required")), position=data.get("position") or 0)


def check_choices(errors: FieldErrors, type_: str, choices: list[str]) -> None:
    if type_ == CustomField.Type.CHOICE and not choices:
        errors.add("choices", _("a choice field needs at least one choice"))
    if len(set(choices)) != len(choices):
        errors.add("choices", _("choices repeat"))
