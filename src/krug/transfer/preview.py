"""What the import's preview shows of a row: each field it fills, as the record the row made or changed holds it
(read back inside the preview's rolled-back transaction), in the reader's language, beside the file's cells and
the row's problems with that field. Nothing here cleans or writes a value: the import did (`importer.import_one`);
of a row that fails, what `rows.to_data` read of it is shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Max, Model
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from krug.transfer import importer, mapping
from krug.transfer.rows import to_data

_NAME_PARTS = ("surname", "first_name", "patronymic")
_LINKS = ("owner", "company", "contact", "stage", "pipeline")  # what a record's values name in other tables
#: an error's field as the services name it -> the field of the mapping it is about
_ERROR_FIELDS = {"phones": "phone", "emails": "email", "company_id": "company", "owner_id": "owner",
                 "notes": "note", "contact_id": "contact_email"}


def _group(name: str) -> str:
    """The preview's field a mapped field is shown in: a contact's phones (and e-mails) are one list, whichever
    columns (and kinds) they came from."""
    for listed in ("phone", "email"):
        if name == listed or name.startswith(f"{listed}_"):
            return listed
    return name


class Reader:
    """Shows the preview's rows of one job, field by field, in the order of the file's columns."""

    def __init__(self, ctx: importer.Context) -> None:
        from krug.clients.models import Company
        from krug.transfer.services import custom_fields_of

        self.ctx, self.job = ctx, ctx.job
        self.model = importer.entity_model(self.job.entity)
        self.custom = custom_fields_of(self.job.entity)
        known = mapping.targets(self.job.entity, self.custom)
        self.groups: dict[str, dict] = {}
        for position, name in enumerate(self.job.mapping):
            if name in known:
                group = self.groups.setdefault(_group(name), {"names": [], "positions": []})
                group["names"].append(name)
                group["positions"].append(position)
        for name, group in self.groups.items():
            several = len(set(group["names"])) > 1
            group["label"] = {"phone": _("Phones"), "email": _("E-mails")}[name] if several \
                else str(known[group["names"][0]].label)
        self.companies_before = Company.objects.aggregate(last=Max("pk"))["last"] or 0

    def fields(self, cells: list[str], errors: list[dict], record_id: int | None) -> tuple[list[dict], list[dict]]:
        """(each field the row fills: label, value, the file's cells, a note, its errors; the errors that are
        about no column of the file)."""
        record = self._record(record_id)
        data = None if record is not None else to_data(self.job.entity, self.job.mapping, cells, self.ctx.owners,
                                                       self.ctx.values)[0]
        beside: dict[str, list[str]] = {}
        elsewhere = []
        for error in errors:
            group = self._error_group(error.get("field") or "")
            if group:
                beside.setdefault(group, []).append(error["message"])
            else:
                elsewhere.append(error)
        shown = []
        for name, group in self.groups.items():
            raw = ", ".join(" ".join(cells[p].split()) for p in group["positions"] if p < len(cells) and cells[p])
            value, note = self._of_record(name, record, raw) if record is not None else self._of_data(name, data, raw)
            if name in beside:
                value, note = "", ""  # not written: the row fails on it
            if raw or value or name in beside:
                shown.append({"field": name, "label": group["label"], "value": value, "raw": raw, "note": note,
                              "changed": bool(raw) and raw.split() != value.split(), "errors": beside.get(name, [])})
        return shown, elsewhere

    def _record(self, record_id: int | None):
        if record_id is None:
            return None
        names = {f.name for f in self.model._meta.get_fields()}
        records = self.model.objects.select_related(*[n for n in _LINKS if n in names])
        if self.job.entity == "contacts":
            records = records.prefetch_related("phones", "emails", "tags")
        return records.filter(pk=record_id).first()

    def _error_group(self, field: str) -> str:
        """The preview's field an error is about, when a column of the file fills it ('' else): `phones.0` is
        about the phones, `first_name` about the full name when the file gives it in one column."""
        head, _dot, rest = field.partition(".")
        name = f"cf.{rest.split('.')[0]}" if head == "custom" else _ERROR_FIELDS.get(head, head)
        name = _group(name)
        if name in _NAME_PARTS and name not in self.groups:
            name = "full_name"
        return name if name in self.groups else ""

    def _of_record(self, name: str, record, raw: str) -> tuple[str, str]:
        """(what the record holds of a field, a note on it: a company new or found, a phone kept as typed)."""
        if name in ("external_id", "note"):  # kept apart from the record, as given
            return raw, ""
        if name == "krug_id":
            return str(record.pk), ""
        if name == "full_name":
            return " ".join(getattr(record, part) for part in _NAME_PARTS if getattr(record, part)), ""
        if name == "name" and self.job.entity == "companies":  # with its legal form, as its card names it
            return str(record), ""
        if name == "phone" and self.job.entity != "contacts":
            return _pretty_phone(record.phone), ""
        if name == "phone":
            return ", ".join(_phone(p) for p in record.phones.all()), ""
        if name == "email" and self.job.entity == "contacts":
            return ", ".join(f"{e.email} ({e.get_kind_display()})" for e in record.emails.all()), ""
        if name == "tags":
            return ", ".join(t.name for t in record.tags.all()), ""
        if name in ("company", "company_inn"):
            company = record.company
            if company is None:
                return "", ""
            found = _("new company") if company.pk > self.companies_before else _("a company already in the base")
            return (str(company) if name == "company" else company.inn), found
        if name in ("contact_email", "contact_phone", "contact_name"):
            return (str(record.contact) if record.contact_id else ""), ""
        if name.startswith("cf."):
            return self._custom(name[3:], (record.custom or {}).get(name[3:])), ""
        return self._shown(name, getattr(record, name, None)), ""

    def _of_data(self, name: str, data: dict, raw: str) -> tuple[str, str]:
        """What the row's cells were read as (`rows.to_data`), for a row that writes nothing."""
        if name == "full_name":
            return " ".join(data[part] for part in _NAME_PARTS if data.get(part)), ""
        if name == "owner":
            return self._shown(name, _user(data.get("owner_id"))), ""
        if name.startswith("cf."):
            return self._custom(name[3:], (data.get("custom") or {}).get(name[3:])), ""
        if name in ("phone", "email") and self.job.entity == "contacts":
            listed = data.get(f"{name}s", [])
            return ", ".join(item if isinstance(item, str) else item.get("number") or item.get("email") or ""
                             for item in listed), ""
        if name in ("note", "krug_id"):
            return raw, ""
        if name == "amount" and data.get(name):  # as read (`rows.parse_amount`): digits and a point
            return _plain(Decimal(data[name])), ""
        return self._shown(name, data.get(name)), ""

    def _shown(self, name: str, value: Any) -> str:
        """A value as the interface shows it: a choice by its label, a person by his name, a date the reader's
        way, an amount with its thousands apart."""
        if value is None or value == "" or value == []:
            return ""
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:  # a value the record keeps elsewhere
            field = None
        if field is not None and field.choices:
            return str(dict(field.flatchoices).get(value, value))
        return _plain(value)

    def _custom(self, key: str, value: Any) -> str:
        from krug.core.models import CustomField

        definition = self.custom.get(key)
        if value is None or value == "" or definition is None:
            return "" if value is None else str(value)
        if definition.type == CustomField.Type.DATE:
            try:
                return formats.date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
            except ValueError:
                return str(value)
        return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(moment, "SHORT_DATE_FORMAT" if moment.time() == dt.time() else
                                   "SHORT_DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal | int | float):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    if isinstance(value, Model):
        full_name = getattr(value, "get_full_name", None)
        return (full_name() or value.username) if full_name else str(value)
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value)
    return str(value)


def _pretty_phone(number: str) -> str:
    """`+79165551234` → `+7 916 555-12-34`, as the cards show a phone."""
    from krug.web.templatetags.krug import phone

    return phone(number)


def _phone(phone) -> str:
    """A contact's phone as his card shows it, with its extension and kind; one kept as typed says so."""
    if not phone.valid:
        return f"{phone.raw} ({_('not a valid number')})"
    text = _pretty_phone(phone.number) + (f" {_('ext.')} {phone.extension}" if phone.extension else "")
    return f"{text} ({phone.get_kind_display()})"


def _user(pk: int | None):
    from krug.accounts.models import User

    return User.objects.filter(pk=pk).first() if pk else None
