"""What an export file holds for each entity: its columns (every field a user enters, custom fields included),
the database fields they are read from, and what a chunk of rows needs from other tables.

A column's getter returns the value as it is (an int, a Decimal, a date, an aware datetime, a bool, text or
None), so the XLSX writer can make a number, date or datetime cell of it and the CSV writer a text Excel reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krug.transfer.mapping import KRUG_IDS

Column = tuple[Any, Callable[[dict], Any]]

OWNER = ("owner__first_name", "owner__last_name", "owner__username")
SINGULAR = {"contacts": "contact", "companies": "company", "leads": "lead", "deals": "deal"}


def _field(name: str) -> Callable[[dict], Any]:
    return lambda r: r[name]


def _choice(choices, name: str) -> Callable[[dict], str]:
    labels = dict(choices)
    return lambda r: str(labels.get(r[name], r[name] or ""))


def _owner(row: dict) -> str:
    name = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip()
    return name or row["owner__username"] or ""  # a lead in the common pool has no owner: an empty cell


def _company(row: dict) -> str:
    """A row's company as its card names it, with its legal form (`ООО «Вектор Плюс»`): an import of the file finds
    the company by that name as by its name alone."""
    from krug.clients.models import Company

    return Company.title(row["company__name"], row["company__legal_form"]) if row["company__name"] else ""


def _joined(name: str) -> Callable[[dict], str]:
    return lambda r: ", ".join(r[name])


def _custom_value(field) -> Callable[[dict], Any]:
    """A custom field's stored JSON value as a typed cell value: numbers stay numbers, dates become dates."""
    import datetime as dt

    from krug.core.models import CustomField

    key, kind = field.key, field.type

    def get(row: dict) -> Any:
        value = (row["custom"] or {}).get(key)
        if value is None or value == "":
            return None
        if kind == CustomField.Type.DATE:
            try:
                return dt.date.fromisoformat(str(value))
            except ValueError:
                return str(value)
        if kind == CustomField.Type.NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if kind == CustomField.Type.BOOLEAN and isinstance(value, bool):
            return value
        return str(value)

    return get


def custom_columns(entity: str) -> list[Column]:
    """One column per custom field of the entity, headed by its label, in the administrator's order."""
    from krug.core import custom_fields

    return [(field.label, _custom_value(field)) for field in custom_fields.definitions(SINGULAR[entity]).values()]


def _contacts() -> list[Column]:
    from krug.clients.models import Contact

    return [
        (KRUG_IDS["contacts"].label, _field("id")),
        (gettext_lazy("Surname"), _field("surname")),
        (gettext_lazy("First name"), _field("first_name")),
        (gettext_lazy("Patronymic"), _field("patronymic")),
        (gettext_lazy("Position"), _field("position")),
        (gettext_lazy("Company"), _company),
        (gettext_lazy("Company INN"), _field("company__inn")),
        (gettext_lazy("Company KPP"), _field("company__kpp")),
        (gettext_lazy("Phones"), _joined("phones")),
        (gettext_lazy("E-mails"), _joined("emails")),
        (gettext_lazy("City"), _field("city")),
        (gettext_lazy("Source"), _field("source")),
        (gettext_lazy("Client type"), _choice(Contact.ClientType.choices, "client_type")),
        (gettext_lazy("Tags"), _joined("tags")),
        (gettext_lazy("Birthday"), _field("birthday")),
        (gettext_lazy("Opted out of mailings"), _field("opt_out")),
        (gettext_lazy("Personal data consent"), _field("consent_at")),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), _field("created_at")),
    ]


def _companies() -> list[Column]:
    from krug.clients.models import Company

    return [
        (KRUG_IDS["companies"].label, _field("id")),
        (gettext_lazy("Name"), _field("name")),
        (gettext_lazy("Legal form"), _choice(Company.LegalForm.choices, "legal_form")),
        (gettext_lazy("INN"), _field("inn")),
        (gettext_lazy("KPP"), _field("kpp")),
        (gettext_lazy("OGRN"), _field("ogrn")),
        (gettext_lazy("Industry"), _field("industry")),
        (gettext_lazy("Size"), _field("size")),
        (gettext_lazy("Region"), _field("region")),
        (gettext_lazy("City"), _field("city")),
        (gettext_lazy("Address"), _field("address")),
        (gettext_lazy("Website"), _field("website")),
        (gettext_lazy("Phone"), _field("phone")),
        (gettext_lazy("E-mail"), _field("email")),
        (gettext_lazy("Founded"), _field("founded")),
        (gettext_lazy("Description"), _field("description")),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), _field("created_at")),
    ]


def _leads() -> list[Column]:
    from krug.clients.models import Lead

    return [
        (KRUG_IDS["leads"].label, _field("id")),
        (gettext_lazy("Request"), _field("title")),
        (gettext_lazy("Status"), _choice(Lead.Status.choices, "status")),
        (gettext_lazy("Source"), _choice(Lead.Source.choices, "source")),
        (gettext_lazy("Surname"), _field("surname")),
        (gettext_lazy("First name"), _field("first_name")),
        (gettext_lazy("Patronymic"), _field("patronymic")),
        (gettext_lazy("Position"), _field("position")),
        (gettext_lazy("Company"), _field("company_name")),
        (gettext_lazy("INN"), _field("inn")),
        (gettext_lazy("Phone"), _field("phone")),
        (gettext_lazy("E-mail"), _field("email")),
        (gettext_lazy("City"), _field("city")),
        (gettext_lazy("Message"), _field("message")),
        (gettext_lazy("Expected amount"), _field("amount")),
        *[(name, _field(name)) for name in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                                            "referrer")],
        (gettext_lazy("Rejection reason"), _field("rejection_reason")),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), _field("created_at")),
    ]


def _deals() -> list[Column]:
    from krug.sales.models import Stage

    def contact(r: dict) -> str:
        return " ".join(filter(None, [r["contact__surname"], r["contact__first_name"], r["contact__patronymic"]]))

    return [
        (KRUG_IDS["deals"].label, _field("id")),
        (gettext_lazy("Title"), _field("title")),
        (gettext_lazy("Amount"), _field("amount")),
        (gettext_lazy("Currency"), _field("currency")),
        (gettext_lazy("Pipeline"), _field("pipeline__name")),
        (gettext_lazy("Stage"), _field("stage__name")),
        (gettext_lazy("Status"), _choice(Stage.Kind.choices, "stage__kind")),
        (gettext_lazy("Company"), _company),
        (gettext_lazy("Company INN"), _field("company__inn")),
        (gettext_lazy("Contact"), contact),
        (gettext_lazy("Contact's phone"), _field("contact_phone")),
        (gettext_lazy("Contact's e-mail"), _field("contact_email")),
        (gettext_lazy("Expected close"), _field("expected_close")),
        (gettext_lazy("Closed on"), _field("closed_at")),
        (gettext_lazy("Source"), _field("source")),
        (gettext_lazy("Loss reason"), _field("loss_reason")),
        (gettext_lazy("Description"), _field("description")),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), _field("created_at")),
    ]


_BUILT_IN: dict[str, Callable[[], list[Column]]] = {
    "contacts": _contacts, "companies": _companies, "leads": _leads, "deals": _deals}


def columns(entity: str) -> list[Column]:
    """The file's columns: the entity's own fields, then its custom fields."""
    return [*_BUILT_IN[entity](), *custom_columns(entity)]


def plural_label(entity: str) -> str:
    """What the records are called in the active language ("контакты"): the name of the XLSX file's sheet."""
    from krug.transfer.importer import entity_model

    return str(entity_model(entity)._meta.verbose_name_plural)


#: the database fields each entity's rows are read with (values only: no ORM objects are built)
FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": ("id", "surname", "first_name", "patronymic", "position", "company__name", "company__legal_form",
                 "company__inn", "company__kpp", "city", "source", "client_type", "birthday", "opt_out", "consent_at",
                 "custom", "created_at", *OWNER),
    "companies": ("id", "name", "legal_form", "inn", "kpp", "ogrn", "industry", "size", "region", "city", "address",
                  "website", "phone", "email", "founded", "description", "custom", "created_at", *OWNER),
    "leads": ("id", "title", "status", "source", "surname", "first_name", "patronymic", "position", "company_name",
              "inn", "phone", "email", "city", "message", "amount", "utm_source", "utm_medium", "utm_campaign",
              "utm_term", "utm_content", "referrer", "rejection_reason", "custom", "created_at", *OWNER),
    "deals": ("id", "title", "amount", "currency", "pipeline__name", "stage__name", "stage__kind", "company__name",
              "company__legal_form", "company__inn", "contact_id", "contact__surname", "contact__first_name",
              "contact__patronymic", "expected_close", "closed_at", "source", "loss_reason", "description", "custom",
              "created_at", *OWNER),
}


def _phone(number: str, extension: str, raw: str, valid: bool) -> str:
    if not valid:
        return raw or number
    return f"{number} {_('ext.')} {extension}" if extension else number


def _contact_lists(rows: list[dict], by) -> None:
    """Phones, e-mails and tags of a chunk of contacts, in three queries."""
    from krug.clients.models import Contact, ContactEmail, ContactPhone

    by_id = {r["id"]: r for r in rows}
    for r in rows:
        r["phones"], r["emails"], r["tags"] = [], [], []
    ids = list(by_id)
    for cid, *phone in ContactPhone.objects.filter(contact_id__in=ids).order_by(
            "contact_id", "position", "id").values_list("contact_id", "number", "extension", "raw", "valid"):
        by_id[cid]["phones"].append(_phone(*phone))
    for cid, email in ContactEmail.objects.filter(contact_id__in=ids).order_by(
            "contact_id", "position", "id").values_list("contact_id", "email"):
        by_id[cid]["emails"].append(email)
    for cid, name in Contact.tags.through.objects.filter(contact_id__in=ids).order_by(
            "contact_id", "tag__name").values_list("contact_id", "tag__name"):
        by_id[cid]["tags"].append(name)


def _deal_contacts(rows: list[dict], by) -> None:
    """The first phone and e-mail of a chunk of deals' contacts, in two queries. Only of contacts the exporting
    user may see: the deal's card names its contact, but his phone and e-mail are the contact's to show."""
    from krug.clients.models import Contact, ContactEmail, ContactPhone

    visible = Contact.objects.visible_to(by).filter(pk__in={r["contact_id"] for r in rows if r["contact_id"]})
    phones: dict[int, str] = {}
    for cid, *phone in ContactPhone.objects.filter(contact_id__in=visible.values("pk")).order_by(
            "contact_id", "position", "id").values_list("contact_id", "number", "extension", "raw", "valid"):
        phones.setdefault(cid, _phone(*phone))
    emails: dict[int, str] = {}
    for cid, email in ContactEmail.objects.filter(contact_id__in=visible.values("pk")).order_by(
            "contact_id", "position", "id").values_list("contact_id", "email"):
        emails.setdefault(cid, email)
    for r in rows:
        r["contact_phone"], r["contact_email"] = phones.get(r["contact_id"], ""), emails.get(r["contact_id"], "")


#: what a chunk of rows reads from other tables, a fixed number of queries whatever its size
EXTRAS: dict[str, Callable[[list[dict], Any], None]] = {"contacts": _contact_lists, "deals": _deal_contacts}
