"""A field for a column Krug has none for (Bitrix24's «Тип компании», «Обращение», amoCRM's «Теги» of a
company): made from the mapping page or the API in one step, a custom field suggested by the column's header and
values, and the column mapped to it."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from krug.core import custom_fields
from krug.core.errors import ValidationFailed
from krug.transfer import mapping, reading, services, values
from krug.transfer.models import ImportJob

SUGGEST_ROWS = 1000  # rows read to suggest a new field for a column
LIST_AT_MOST = 12  # different values of a column suggested as a list's choices
LIST_VALUE_LENGTH = 40  # a longer value is text, not a choice
CHOICES_SHOWN = 50  # values offered as a list's choices when the user makes one of a column with more


def suggest_field(job: ImportJob, column: int) -> dict:
    """The custom field a column Krug has no field for would make (label, type, choices), from its header and its
    values in the first rows: a list of them when there are a few short ones, repeated (Bitrix24's «Тип
    компании»: «Клиент», «Поставщик»); a date, a number or yes/no when every value is one as the field would
    store it (`custom_fields.accepts`); else text. `choices` are the values, the commonest first, whatever the
    type, for a user who makes a list of them anyway."""
    from collections import Counter

    _header, sample = reading.header_and_sample(Path(job.path), services.table_format(job), limit=SUGGEST_ROWS)
    cells = [" ".join(row[column].split()) for row in sample if column < len(row) and row[column].strip()]
    counts = Counter(values.norm(cell) for cell in cells)
    spelled: dict[str, str] = {}
    for cell in cells:
        spelled.setdefault(values.norm(cell), cell)
    found = [spelled[key] for key, _count in counts.most_common(CHOICES_SHOWN)]
    return {"label": job.header[column].strip(), "type": _suggested_type(found, len(counts), len(cells)),
            "choices": found}


def _suggested_type(found: list[str], different: int, given: int) -> str:
    from krug.core.models import CustomField
    from krug.transfer.rows import parse_day

    def every(type_: str) -> bool:
        return all(custom_fields.accepts(type_, value) for value in found)

    if not found:
        return CustomField.Type.TEXT
    if every(CustomField.Type.BOOLEAN) and not every(CustomField.Type.NUMBER):  # да/нет, not 0/1
        return CustomField.Type.BOOLEAN
    for type_ in (CustomField.Type.DATE, CustomField.Type.NUMBER):
        if every(type_):
            return type_
    if all(_reads(parse_day, value) for value in found):  # a date with its time: a date field would refuse it
        return CustomField.Type.TEXT
    if different <= LIST_AT_MOST and different < given and all(len(v) <= LIST_VALUE_LENGTH for v in found):
        return CustomField.Type.CHOICE
    return CustomField.Type.TEXT


def _reads(parse, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def who_adds_fields() -> str:
    """Why a user may not add a field for a column, and whom to ask."""
    names = [user.get_full_name() or user.username for user in custom_fields.definers()[:3]]
    if not names:
        return _("Only an administrator adds fields, and Krug has no active administrator.")
    return _("Only an administrator adds fields: ask %(who)s.") % {"who": ", ".join(names)}


def new_field(by, job: ImportJob, column, *, label: str | None = None, type_: str | None = None,
              choices: list[str] | None = None):
    """Add a custom field for a column Krug has no field for and map the column to it, in one transaction. What
    is not given is suggested (`suggest_field`): the header as the label, the type and a list's choices from the
    values. Refused (naming `column`, `label`, `type` or `choices`) for a column the file does not have, a label
    a field of the entity has, and what `custom_fields.define_field` refuses; to a user who may not add fields
    (403, saying whom to ask); once the import has started (409)."""
    from krug.core.errors import Forbidden
    from krug.core.models import CustomField

    services.unstarted(job)
    if not custom_fields.may_define(by):
        raise Forbidden(who_adds_fields())
    if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < len(job.header):
        raise ValidationFailed.single("column", _("must be the number of one of the file's columns, from 0 to "
                                                  "%(last)d") % {"last": len(job.header) - 1})
    if label is None or type_ is None or (type_ == CustomField.Type.CHOICE and choices is None):
        suggested = suggest_field(job, column)
        label = suggested["label"] if label is None else label
        type_ = suggested["type"] if type_ is None else type_
        if choices is None and type_ == CustomField.Type.CHOICE:
            choices = suggested["choices"]
    _label_is_free(job, label)
    with transaction.atomic():
        services.unstarted(ImportJob.objects.select_for_update().get(pk=job.pk))
        try:
            field = custom_fields.define_field(by, {"entity": services.FIELD_ENTITIES[job.entity], "label": label,
                                                    "type": type_, "choices": choices or []})
        except ValidationFailed as exc:  # the key is made of the label: the user knows the label
            raise ValidationFailed(exc.message, errors={("label" if name == "key" else name): messages
                                                        for name, messages in exc.errors.items()}) from exc
        chosen = [*job.mapping, *[mapping.SKIP] * (len(job.header) - len(job.mapping))]
        chosen[column] = f"cf.{field.key}"
        job.mapping = chosen
        job.values = services.still_mapped(job, job.values or {})
        job.save(update_fields=["mapping", "values"])
    return field


def _label_is_free(job: ImportJob, label) -> None:
    """A new field's label must not be one of the entity's fields' (a second «Телефон» in the list of fields)."""
    if not isinstance(label, str):
        return  # `define_field` says what a label must be
    known = mapping.targets(job.entity, services.custom_fields_of(job.entity))
    wanted = custom_fields.same_label(label)
    taken = next((target for target in known.values() if custom_fields.same_label(target.label) == wanted), None)
    if taken is not None:
        raise ValidationFailed.single("label", _("%(entity)s already have the field «%(label)s»: choose it for "
                                                 "the column, or give the new field another label")
                                      % {"entity": capfirst(services.entity_label(job.entity)),
                                         "label": taken.label})
