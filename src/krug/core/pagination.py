"""Keyset (cursor) pagination: no OFFSET, no COUNT, stable under inserts."""

from __future__ import annotations

import base64
import json

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from krug.core.errors import ValidationFailed


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.single("cursor", _("malformed cursor")) from exc
    if not isinstance(values, list) or len(values) != 2 or type(values[1]) is not int:
        raise ValidationFailed.single("cursor", _("malformed cursor"))
    return values


def decode_cursor_as(cursor: str, field) -> tuple:
    """A cursor's (value, id), its value read as the model field `field` reads it (a date from its ISO text);
    a value the field cannot read, or none, is a malformed cursor."""
    value, last_id = decode_cursor(cursor)
    try:
        value = field.to_python(value)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad cursor
        raise ValidationFailed.single("cursor", _("malformed cursor")) from exc
    if value is None:
        raise ValidationFailed.single("cursor", _("malformed cursor"))
    return value, last_id


def page(qs: QuerySet, *, order: str = "-id", cursor: str | None = None, limit: int = 50):
    """One page of `qs` ordered by `order` (a non-null field, ties broken by id) and the next cursor."""
    desc = order.startswith("-")
    name = order.lstrip("-")
    direction = "-" if desc else ""
    ordering = [f"{direction}{name}", f"{direction}id"] if name != "id" else [f"{direction}id"]
    qs = qs.order_by(*ordering)
    if cursor:
        cmp = "lt" if desc else "gt"
        if name == "id":
            qs = qs.filter(**{f"id__{cmp}": decode_cursor(cursor)[1]})
        else:
            value, last_id = decode_cursor_as(cursor, qs.model._meta.get_field(name))
            qs = qs.filter(Q(**{f"{name}__{cmp}": value}) | Q(**{name: value, f"id__{cmp}": last_id}))
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        if isinstance(last, dict):  # a page read with .values()
            next_cursor = encode_cursor([last[name] if name != "id" else None, last["id"]])
        else:
            next_cursor = encode_cursor([getattr(last, name) if name != "id" else None, last.pk])
    return rows, next_cursor
