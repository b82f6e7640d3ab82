"""A record's changes in people's words: a field by its label (`owner` → «ответственный», `custom` and `cf.<key>` →
the label the administrator gave) and a value as a person reads it (a choice by its label, a user or a company by
name, a date as a date, nothing as «—»).

The audit trail and the timeline store field keys and raw values; the timeline, the history tab and the API turn
them into words when they are shown, in the language of the one who looks, so switching the language switches
the words and rows written long ago read as well as new ones."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krug.core import custom_fields, memo

EMPTY = "—"
DATE = "j E Y"
DATETIME = "j E Y, H:i"
CUSTOM = "custom"

#: keys whose model gives no label of its own: what a record holds apart from its row, foreign keys declared
#: without a verbose name, and the merge's own entries
LABELS = {
    "owner": gettext_lazy("owner"),
    "company": gettext_lazy("company"),
    "contact": gettext_lazy("contact"),
    "pipeline": gettext_lazy("pipeline"),
    "stage": gettext_lazy("stage"),
    "deal_id": gettext_lazy("deal"),
    "phones": gettext_lazy("phones"),
    "emails": gettext_lazy("e-mails"),
    "tags": gettext_lazy("tags"),
    "items": gettext_lazy("products"),
    "merged": gettext_lazy("merged cards"),
    "merged_into": gettext_lazy("merged into"),
}
#: entries that name records of the audited model itself (a merge's)
SAME_MODEL = ("merged", "merged_into")
#: entries kept for the machine only: the merge an undo needs
HIDDEN = ("merge_id",)


@dataclass(frozen=True)
class Change:
    """One field's change: its key as stored, its label, and the old and the new value in words."""

    field: str
    label: str
    old: str
    new: str


def _field(model, name: str) -> models.Field | None:
    """The model's own field of that name (`company_id` is `company`); not a relation from another model
    (a deal's `items`, a contact's `phones`: lists the audit names as the record's own)."""
    for candidate in (name, name.removesuffix("_id")):
        try:
            field = model._meta.get_field(candidate)
        except FieldDoesNotExist:
            continue
        return field if isinstance(field, models.Field) else None
    return None


@lru_cache(maxsize=512)
def _model_label(model, name: str, language: str | None) -> str:
    """A model field's label, remembered per language (`language` is the cache's key: an import names the fields
    of every changed record, and a translation costs some 8 µs)."""
    field = _field(model, name)
    if field is not None and isinstance(field.verbose_name, Promise):  # a label the model gives itself
        return str(field.verbose_name)
    if name in LABELS or name.removesuffix("_id") in LABELS:
        return str(LABELS.get(name) or LABELS[name.removesuffix("_id")])
    return str(field.verbose_name) if field is not None else name.replace("_", " ")


def _custom_key(name: str) -> str | None:
    """`cf.budget` and `custom.budget` → `budget`; None for any other key."""
    prefix, dot, key = name.partition(".")
    return key if dot and prefix in ("cf", CUSTOM) else None


def _definitions(model) -> dict:
    entity = model._meta.model_name
    return custom_fields.definitions(entity) if entity in custom_fields.ENTITIES else {}


def label(model, name: str, definitions: dict | None = None) -> str:
    """The label of `model`'s field `name` in the active language (lower case, as the models name them);
    `definitions`: the model's custom fields, when the caller has read them already."""
    key = _custom_key(name)
    if key is not None:
        definition = (definitions if definitions is not None else _definitions(model)).get(key)
        return definition.label if definition is not None else key
    return _model_label(model, name, translation.get_language())


def _custom_changes(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """A `custom` entry ({key: value} before and after) as one entry per custom field that changed."""
    old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
    keys = [*old, *(k for k in new if k not in old)]
    return [(f"{CUSTOM}.{k}", old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def _entries(diff: dict) -> list[tuple[str, Any, Any]]:
    """(key, old, new) of a stored diff, custom fields one by one, the machine's own entries left out."""
    entries = []
    for name, change in diff.items():
        old, new = change if isinstance(change, (list, tuple)) and len(change) == 2 else (None, change)
        if name in HIDDEN:
            continue
        if name == CUSTOM:
            entries += _custom_changes(old, new)
        else:
            entries.append((name, old, new))
    return entries


def summary(model, diff: dict) -> str:
    """The labels of the fields a diff changed, in the order of their keys: «ответственный, должность»."""
    entries = sorted(_entries(diff), key=lambda entry: entry[0])
    # one read of the custom fields' labels, however many of them changed (none when none did)
    definitions = _definitions(model) if any(_custom_key(name) for name, _old, _new in entries) else {}
    return ", ".join(label(model, name, definitions) for name, _old, _new in entries)


# ---- values ----------------------------------------------------------------------------------------------

def _related(model, name: str):
    """The model whose ids the entry holds, or None."""
    if name in SAME_MODEL:
        return model
    field = _field(model, name)
    return field.related_model if field is not None and field.is_relation and field.many_to_one else None


def _ids(value) -> list:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int)]


class _Names:
    """The names of the records a set of diffs refers to (owners, companies, stages…), read once per model."""

    def __init__(self, model, diffs: list[dict]):
        wanted: dict[Any, set] = defaultdict(set)
        for diff in diffs:
            for name, old, new in _entries(diff):
                related = _related(model, name)
                if related is not None:
                    wanted[related].update(_ids(old), _ids(new))
        self.found = {(related, pk): str(obj) for related, ids in wanted.items()
                      for pk, obj in related._base_manager.in_bulk(list(ids)).items()}

    def get(self, related, pk) -> str:
        return self.found.get((related, pk), f"#{pk}")


def _date(value, with_time: bool) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value) if with_time else dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    if with_time and timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return formats.date_format(parsed, DATETIME if with_time else DATE)


def _number(value) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return formats.number_format(number, use_l10n=True, force_grouping=True)


def _custom_words(model, key: str, value) -> str:
    definition = _definitions(model).get(key)
    kind = definition.type if definition is not None else None
    if kind == "date":
        return _date(value, with_time=False)
    if kind == "boolean" or isinstance(value, bool):
        return _("yes") if value else _("no")
    if kind == "number":
        return _number(value)
    return str(value)


def _field_words(model, name: str, value, names: _Names) -> str:
    related = _related(model, name)
    if related is not None:
        return ", ".join(names.get(related, pk) if isinstance(pk, int) else str(pk)
                         for pk in (value if isinstance(value, list) else [value]))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or EMPTY
    field = _field(model, name)
    if field is not None and field.choices:
        return capfirst(str(dict(field.flatchoices).get(value, value)))  # as the card shows a choice
    if isinstance(field, models.DateTimeField):
        return _date(value, with_time=True)
    if isinstance(field, models.DateField):
        return _date(value, with_time=False)
    if isinstance(field, models.BooleanField) or isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(field, models.DecimalField):
        return _number(value)
    return str(value)


def words(model, name: str, value, names: _Names | None = None) -> str:
    """`value` of `model`'s field `name` as a person reads it; «—» for nothing."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    key = _custom_key(name)
    if key is not None:
        return _custom_words(model, key, value)
    return _field_words(model, name, value, names or _Names(model, [{name: [None, value]}]))


def describe(model, diffs: list[dict]) -> list[list[Change]]:
    """Each stored diff ({field: [old, new]}) of `model`'s records as its changes in words, the records the
    values name (owners, companies, stages) read once for all of them."""
    with memo.scope():
        names = _Names(model, diffs)
        return [[Change(name, label(model, name), words(model, name, old, names), words(model, name, new, names))
                 for name, old, new in _entries(diff)] for diff in diffs]
