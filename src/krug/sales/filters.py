"""The filters of the deal lists, shared by the API, the deal list page and exports (see clients/filters.py)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from krug.clients.filters import common, date_param, many, number, one, text_key
from krug.core import custom_fields
from krug.core.errors import ValidationFailed


def _amount(params: Mapping[str, Any], name: str) -> Decimal | None:
    value = one(params, name)
    if not value:
        return None
    try:
        return Decimal(value.replace(",", ".").replace(" ", ""))
    except InvalidOperation as exc:
        raise ValidationFailed.single(name, _("must be a number")) from exc


def deals(qs: QuerySet, params: Mapping[str, Any], *, with_common: bool = True) -> QuerySet:
    """q (title or company), pipeline, stage (repeatable), status (open/won/lost), contact, company,
    amount_min/max, expected_close_from/to, closed_from/to, plus the common filters and cf.<key>."""
    from krug.sales.models import Stage

    text = one(params, "q")
    if text:
        qs = qs.filter(search_key__contains=text_key(text))  # «ООО Вектор» finds the deals of «Вектор»
    for name in ("pipeline", "contact", "company"):
        value = number(params, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    stages = many(params, "stage")
    if stages:
        if not all(s.isdigit() for s in stages):
            raise ValidationFailed.single("stage", _("must be a whole number"))
        qs = qs.filter(stage__in=[int(s) for s in stages])
    status = one(params, "status")
    if status:
        if status not in Stage.Kind.values:
            raise ValidationFailed.single("status", _("must be one of %(v)s") % {"v": ", ".join(Stage.Kind.values)})
        qs = qs.filter(stage__kind=status)
    for name, lookup in (("amount_min", "amount__gte"), ("amount_max", "amount__lte")):
        value = _amount(params, name)
        if value is not None:
            qs = qs.filter(**{lookup: value})
    for name, lookup in (("expected_close_from", "expected_close__gte"), ("expected_close_to", "expected_close__lte"),
                         ("closed_from", "closed_at__date__gte"), ("closed_to", "closed_at__date__lte")):
        value = date_param(params, name)
        if value is not None:
            qs = qs.filter(**{lookup: value})
    if with_common:
        qs = common(qs, params)
    return custom_fields.apply_filters(qs, "deal", params)
