"""Operations on companies, contacts and leads. Every write in Krug goes through a service like these:
validate and normalise, check permission, write, audit, put the touchpoint on the timeline."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.clients import timeline
from krug.clients.models import Company, Contact, ContactEmail, ContactPhone, Lead, Tag, TimelineEvent
from krug.core import audit, custom_fields, memo, records
from krug.core import changes as field_changes
from krug.core.errors import FieldErrors
from krug.core.models import AuditEntry
from krug.quality import duplicates, normalize, titles

# field -> maximum length of plain text fields; everything is tidied of stray spaces
COMPANY_TEXT = {"name": 300, "industry": 120, "size": 32, "region": 120, "city": 120, "address": 500,
                "description": 5000}
CONTACT_TEXT = {"position": 200, "city": 120, "source": 64}
CONTACT_NAMES = ("surname", "first_name", "patronymic")
PLACE_FIELDS = ("city", "region")  # proper-cased like names, so filters match whatever case was typed


def clean_text_fields(data: dict[str, Any], limits: dict[str, int], errors: FieldErrors) -> dict[str, Any]:
    """Tidy the plain text fields present in `data` and check their length."""
    out = {}
    for name, limit in limits.items():
        if name not in data:
            continue
        value = data[name]
        text = normalize.tidy(value) if name != "description" else (value or "").strip()
        if len(text) > limit:
            errors.add(name, _("at most %(n)d characters") % {"n": limit})
        out[name] = normalize.person_name(text) if name in PLACE_FIELDS else text
    return out


def clean_with(data: dict, name: str, normaliser, errors: FieldErrors, out: dict) -> None:
    """Run `normaliser` on data[name] if present and not empty; record its error against the field."""
    if name not in data:
        return
    raw = data[name]
    if raw in (None, ""):
        out[name] = "" if raw == "" or name not in ("founded", "birthday") else None
        return
    try:
        out[name] = normaliser(raw)
    except ValueError as exc:
        errors.add(name, str(exc))


def one_of(choices) -> str:
    """The values a choice field takes, each with its label where that says more: `new (новый), vip (VIP)`; the
    API takes the value, a person reads the label (an import's failed row said "one of new, returning, vip")."""
    return ", ".join(value if str(label).casefold() == value else f"{value} ({label})"
                     for value, label in choices.choices)


def resolve_owner(by, data: dict, errors: FieldErrors, *, default_self: bool, out: dict) -> None:
    """`owner_id` in data -> out['owner'], refusing owners the user may not assign."""
    if "owner_id" not in data:
        if default_self:
            out["owner"] = by
        return
    from krug.accounts.models import User

    owner_id = data["owner_id"]
    owner = None
    if owner_id is not None:
        owner = memo.remembered(("active_user", owner_id), lambda: User.objects.filter(
            pk=owner_id, is_active=True).select_related("team").first())
        if owner is None:
            errors.add("owner_id", _("no such active user"))
            return
    from krug.core import permissions

    if not permissions.can_assign(by, owner):
        errors.add("owner_id", _("you may not assign records to this user"))
        return
    out["owner"] = owner


def _record_change(obj, changes: dict, by, *, contact=None, company=None) -> None:
    if changes:  # the fields by their labels; the timeline tells them in the reader's language (`in_words`)
        names = field_changes.summary(type(obj), changes)
        timeline.add_event(TimelineEvent.Kind.CHANGED, obj, by=by, contact=contact, company=company,
                           summary=_("Changed: %(fields)s") % {"fields": names}, data=changes)


# ---- companies ------------------------------------------------------------------------------------------

def with_legal_form(data: dict) -> dict:
    """`data` with the company's legal form taken out of its name (`ООО «Вектор Плюс»` → legal form ООО, name
    `Вектор Плюс`) when the name starts with one Krug knows and no legal form is given: the name is then searched
    and compared alone, and shown with its form (`Company.__str__`)."""
    name = data.get("name")
    if not name or not isinstance(name, str) or data.get("legal_form"):
        return data
    form, rest = normalize.split_legal_form(name)
    return {**data, "legal_form": form, "name": rest} if form else data


def _clean_company(by, data: dict, *, current: Company | None) -> dict:
    data = with_legal_form(data)
    errors = FieldErrors()
    out = clean_text_fields(data, COMPANY_TEXT, errors)
    if "name" in out and not out["name"]:
        errors.add("name", _("required"))
    elif current is None and "name" not in data:
        errors.add("name", _("required"))
    if "legal_form" in data:
        if data["legal_form"] not in ("", None, *Company.LegalForm.values):
            errors.add("legal_form", _("must be one of %(v)s") % {"v": one_of(Company.LegalForm)})
        out["legal_form"] = data["legal_form"] or ""
    clean_with(data, "inn", normalize.inn, errors, out)
    clean_with(data, "kpp", normalize.kpp, errors, out)
    clean_with(data, "ogrn", normalize.ogrn, errors, out)
    clean_with(data, "website", normalize.website, errors, out)
    clean_with(data, "email", normalize.email, errors, out)
    clean_with(data, "phone", lambda raw: normalize.phone(raw)[0], errors, out)
    if "founded" in data:
        out["founded"] = data["founded"]
    custom_fields.clean_into("company", data, current, errors, out)
    resolve_owner(by, data, errors, default_self=current is None, out=out)
    errors.raise_if_any()
    return out


def _company_key(company: Company) -> str:
    return company_search_key(company.name, company.inn, company.city, company.address)


def company_search_key(name: str | None, inn: str | None, city: str | None, address: str | None) -> str:
    """What substring search reads for a company: its name (without its legal form), INN, city and address."""
    return normalize.search_key(name, inn, city, address)


@transaction.atomic
def create_company(by, data: dict[str, Any], *, created_at: dt.datetime | None = None) -> Company:
    """A new company, validated (INN/KPP/OGRN checksums, e-mail, phone, custom fields) and audited.
    `created_at`: when it came to the business, if before now (an import's «Дата создания»)."""
    fields = _clean_company(by, data, current=None)
    if not data.get("allow_duplicate"):
        duplicates.refuse_if_duplicates(duplicates.check_company(by, fields), _("company"))
    fields["search_key"] = company_search_key(fields["name"], fields.get("inn"), fields.get("city"),
                                              fields.get("address"))
    if created_at is not None:
        fields["created_at"] = created_at
    company = records.create(Company, fields, by)
    duplicates.index_companies([company])
    timeline.add_event(TimelineEvent.Kind.CREATED, company, by=by, company=company, at=created_at,
                       summary=_("Company created: %(name)s") % {"name": company})
    return company


@transaction.atomic
def update_company(by, company: Company, data: dict[str, Any], version: int | None = None) -> Company:
    """Change a company's fields; a stale `version` raises VersionConflict and writes nothing."""
    fields = _clean_company(by, data, current=company)
    candidate = {**{f: getattr(company, f) for f in ("name", "inn", "city", "address")}, **fields}
    if not data.get("allow_duplicate") and {"name", "inn"} & set(fields):
        duplicates.refuse_if_duplicates(duplicates.check_company(by, candidate, exclude=company.pk), _("company"))
    fields["search_key"] = company_search_key(candidate["name"], candidate["inn"], candidate["city"],
                                              candidate["address"])
    changes = records.update(company, fields, by, expected_version=version)
    changes.pop("search_key", None)
    if {"name", "inn"} & set(changes):
        duplicates.index_companies([company])
    if "name" in changes:
        refresh_people_keys([company])
    _record_change(company, changes, by, company=company)
    return company


# ---- contacts -------------------------------------------------------------------------------------------

@cache
def _choices(choices) -> frozenset[str]:
    return frozenset(choices.values)


def _clean_entries(items, errors: FieldErrors, *, field: str, key: str, kinds, default_kind: str,
                   parse, identity) -> list[dict]:
    """Phones or e-mails from strings or {key, kind} dicts: each parsed by `parse` (raw -> dict of stored
    values, ValueError with the reason), errors named `field.index` (or by the entry's `column`, the import's
    column it came from), repeats (same `identity` of the parsed entry) dropped: the first one's kind stays."""
    out, seen = [], set()
    for index, item in enumerate(items or []):
        raw = item if isinstance(item, str) else (item.get(key) or "")
        kind = default_kind if isinstance(item, str) else (item.get("kind") or default_kind)
        if kind not in _choices(kinds):
            errors.add(f"{field}.{index}.kind", _("must be one of %(v)s") % {"v": one_of(kinds)})
            continue
        try:
            entry = parse(raw)
        except ValueError as exc:
            errors.add(f"{field}.{index}" if isinstance(item, str) else item.get("column") or f"{field}.{index}",
                       str(exc))
            continue
        same = identity(entry)
        if same not in seen:
            seen.add(same)
            entry["kind"] = kind
            out.append(entry)
    return out


def _parse_phone(raw: str, *, keep_invalid: bool = False) -> dict:
    """The stored form of a typed phone. An invalid one is a ValueError, unless the data-quality setting
    keeps it: then it is stored as typed, flagged `valid=False`, with its digits for search."""
    try:
        number, extension = normalize.phone(raw)
    except ValueError:
        digits = normalize.phone_digits(raw)[:20]
        if not keep_invalid or not digits:
            raise
        return {"number": digits, "extension": "", "raw": normalize.tidy(raw, 64), "valid": False}
    return {"number": number, "extension": extension, "raw": normalize.tidy(raw, 64), "valid": True}


def _clean_phones(items, errors: FieldErrors) -> list[dict]:
    """[{'number','extension','raw','valid','kind'}], numbers in E.164 keeping what was typed."""
    from krug.quality.models import QualitySettings

    keep = QualitySettings.current().invalid_phones == QualitySettings.InvalidPhones.KEEP if items else False
    return _clean_entries(items, errors, field="phones", key="number", kinds=ContactPhone.Kind,
                          default_kind="mobile", parse=lambda raw: _parse_phone(raw, keep_invalid=keep),
                          identity=_phone_identity)


def _phone_identity(entry: dict) -> tuple[str, str]:
    return entry["number"], entry["extension"].casefold()


def _clean_emails(items, errors: FieldErrors) -> list[dict]:
    return _clean_entries(items, errors, field="emails", key="email", kinds=ContactEmail.Kind, default_kind="work",
                          parse=lambda raw: {"email": normalize.email(raw)}, identity=_email_identity)


def _email_identity(entry: dict) -> str:
    return entry["email"].casefold()


def _clean_tags(items, errors: FieldErrors) -> list[str]:
    names = []
    for index, item in enumerate(items or []):
        name = normalize.tidy(item, 64)
        if not name:
            errors.add(f"tags.{index}", _("empty tag"))
        elif name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    return names


def _visible_company(by, company_id, errors: FieldErrors, field: str = "company_id") -> Company | None:
    if company_id is None:
        return None
    company = memo.remembered(("visible_company", by.pk, company_id),
                              lambda: Company.objects.visible_to(by).filter(pk=company_id).first())
    if company is None:
        errors.add(field, _("no such company"))
    return company


def _clean_contact(by, data: dict, *, current: Contact | None) -> tuple[dict, dict]:
    """(row fields, related lists) for a contact write."""
    errors = FieldErrors()
    out = clean_text_fields(data, CONTACT_TEXT, errors)
    for name in CONTACT_NAMES:
        if name in data:
            out[name] = normalize.person_name(data[name])
    if "position" in out:
        out["job_title"] = titles.standard_title(out["position"])
    if "client_type" in data:
        if data["client_type"] not in _choices(Contact.ClientType):
            errors.add("client_type", _("must be one of %(v)s") % {"v": one_of(Contact.ClientType)})
        out["client_type"] = data["client_type"]
    for name in ("birthday", "consent_at"):
        if name in data:
            out[name] = data[name]
    if "opt_out" in data:
        out["opt_out"] = bool(data["opt_out"])
    if "company_id" in data:
        out["company"] = _visible_company(by, data["company_id"], errors)
    related = {}
    if "phones" in data:
        related["phones"] = _clean_phones(data["phones"], errors)
    if "emails" in data:
        related["emails"] = _clean_emails(data["emails"], errors)
    if "tags" in data:
        related["tags"] = _clean_tags(data["tags"], errors)
    custom_fields.clean_into("contact", data, current, errors, out)
    resolve_owner(by, data, errors, default_self=current is None, out=out)
    names = {n: out.get(n, getattr(current, n, "") if current else "") for n in CONTACT_NAMES}
    if not any(names.values()):
        errors.add("first_name", _("a contact needs a surname or a first name"))
    errors.raise_if_any()
    return out, related


def listed_change(before: list[tuple[str, str]], after: list[tuple[str, str]]) -> list | None:
    """The audit entry of a contact's phones or e-mails, given as (value, kind) in order: [old values, new values],
    or, when only a kind changed, each value with its kind (`+74951234567 (work)`), so that the entry does not read
    as two equal lists; None when nothing changed."""
    if before == after:
        return None
    if [value for value, _kind in before] != [value for value, _kind in after]:
        return [[value for value, _kind in before], [value for value, _kind in after]]
    return [[f"{value} ({kind})" for value, kind in before], [f"{value} ({kind})" for value, kind in after]]


def _write_related(contact: Contact, related: dict) -> dict:
    """Replace phones/e-mails/tags; returns audit changes for what differed."""
    changes = {}
    if "phones" in related:
        before = [(p.number, p.kind) for p in contact.phones.all()]
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(ContactPhone(contact=contact, position=i, **p)
                                         for i, p in enumerate(related["phones"]))
        change = listed_change(before, [(p["number"], p["kind"]) for p in related["phones"]])
        if change:
            changes["phones"] = change
    if "emails" in related:
        before = [(e.email, e.kind) for e in contact.emails.all()]
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(ContactEmail(contact=contact, position=i, email_key=e["email"].casefold(), **e)
                                         for i, e in enumerate(related["emails"]))
        change = listed_change(before, [(e["email"], e["kind"]) for e in related["emails"]])
        if change:
            changes["emails"] = change
    if "tags" in related:
        before = sorted(t.name for t in contact.tags.all())
        tags = [_tag(name) for name in related["tags"]]
        contact.tags.set(tags)
        after = sorted(t.name for t in tags)
        if before != after:
            changes["tags"] = [before, after]
    return changes


def _tag(name: str) -> Tag:
    tag, _created = Tag.objects.get_or_create(key=normalize.search_key(name), defaults={"name": name})
    return tag


def _contact_key(contact: Contact) -> str:
    company = contact.company.name if contact.company_id else ""
    return contact_search_key(contact.surname, contact.first_name, contact.patronymic, company)


def contact_search_key(surname: str | None, first_name: str | None, patronymic: str | None, company: str | None) -> str:
    """What substring search reads for a contact: his name and his company's. E-mails are searched by their
    beginning on their own b-tree (`filters.email_start`): in this key, their trigrams were a third of the
    trigram index's and cost an import of a million contacts some 27 s of the database's time."""
    return normalize.search_key(surname, first_name, patronymic, company)


def refresh_people_keys(companies: list[Company]) -> None:
    """Renamed companies are found under their new names through their contacts and deals too: the contacts'
    search and name keys and the deals' search keys, rewritten in a few statements for all of them."""
    from krug.core import bulk
    from krug.sales.models import Deal
    from krug.sales.services import deal_search_key

    names = {company.pk: company.name for company in companies}
    if not names:
        return
    people = list(Contact._default_manager.filter(company_id__in_array=sorted(names)).values_list(
        "pk", "surname", "first_name", "patronymic", "city", "company_id"))
    bulk.update(Contact, ["search_key"], [[contact_search_key(surname, first, patronymic, names[company]), pk]
                                          for pk, surname, first, patronymic, _city, company in people])
    duplicates.replace_keys(duplicates.CONTACT, {pk: duplicates.contact_keys(surname, first, names[company], city)
                                                 for pk, surname, first, _patronymic, city, company in people})
    deals = Deal._default_manager.filter(company_id__in_array=sorted(names)).values_list("pk", "title", "company_id")
    bulk.update(Deal, ["search_key"], [[deal_search_key(title, names[company]), pk] for pk, title, company in deals])


def _contact_probe(fields: dict, related: dict, current: Contact | None = None) -> dict:
    """What the duplicate check compares: the contact as it would be after the write."""
    def value(name):
        return fields[name] if name in fields else getattr(current, name, None) if current else None

    company = value("company")
    phones = [p["number"] for p in related["phones"]] if "phones" in related else \
        [p.number for p in current.phones.all()] if current else []
    emails = [e["email"] for e in related["emails"]] if "emails" in related else \
        [e.email for e in current.emails.all()] if current else []
    return {"surname": value("surname"), "first_name": value("first_name"), "patronymic": value("patronymic"),
            "city": value("city"), "company_id": company.pk if company else None,
            "company_name": company.name if company else "", "phones": phones, "emails": emails}


def _refresh_search_key(contact: Contact) -> None:
    Contact.objects.filter(pk=contact.pk).update(search_key=_contact_key(contact))


@transaction.atomic
def create_contact(by, data: dict[str, Any], *, created_at: dt.datetime | None = None) -> Contact:
    """A new contact with its phones (E.164), e-mails, tags and custom fields, audited and on the timeline.
    `created_at`: when he came to the business, if before now (an import's «Дата создания»)."""
    fields, related = _clean_contact(by, data, current=None)
    if not data.get("allow_duplicate"):
        duplicates.refuse_if_duplicates(duplicates.check_contact(by, _contact_probe(fields, related)), _("contact"))
    if created_at is not None:
        fields["created_at"] = created_at
    contact = records.create(Contact, fields, by)
    duplicates.index_contact(contact)
    changes = _write_related(contact, related)
    if changes:
        audit.record(AuditEntry.Action.UPDATE, contact, by, changes)
    _refresh_search_key(contact)
    timeline.add_event(TimelineEvent.Kind.CREATED, contact, by=by, contact=contact, at=created_at,
                       summary=_("Contact created: %(name)s") % {"name": contact})
    return contact


@transaction.atomic
def update_contact(by, contact: Contact, data: dict[str, Any], version: int | None = None) -> Contact:
    """Change a contact; lists (phones, e-mails, tags) are replaced when sent. Stale version -> 409."""
    fields, related = _clean_contact(by, data, current=contact)
    identifying = {"surname", "first_name", "company", "city", "phones", "emails"} & (set(fields) | set(related))
    if identifying and not data.get("allow_duplicate"):
        probe = _contact_probe(fields, related, current=contact)
        duplicates.refuse_if_duplicates(duplicates.check_contact(by, probe, exclude=contact.pk), _("contact"))
    changes = records.update(contact, fields, by, expected_version=version)
    if {"surname", "first_name", "company", "city"} & set(changes):
        duplicates.index_contact(contact)
    related_changes = _write_related(contact, related)
    if related_changes:
        if not changes:
            records.touch(contact, by)
        audit.record(AuditEntry.Action.UPDATE, contact, by, related_changes)
    if {*CONTACT_NAMES, "company"} & set(changes):  # what the search key is made of (contact_search_key)
        _refresh_search_key(contact)
    _record_change(contact, {**changes, **related_changes}, by, contact=contact)
    return contact


# ---- leads ----------------------------------------------------------------------------------------------

LEAD_TEXT = {"title": 300, "position": 200, "company_name": 300, "city": 120, "message": 10000,
             "utm_source": 200, "utm_medium": 200, "utm_campaign": 200, "utm_term": 200, "utm_content": 200,
             "referrer": 500, "rejection_reason": 300}


def _clean_lead(by, data: dict, *, current: Lead | None) -> dict:
    errors = FieldErrors()
    out = clean_text_fields(data, LEAD_TEXT, errors)
    for name in CONTACT_NAMES:
        if name in data:
            out[name] = normalize.person_name(data[name])
    for name, choices in (("status", Lead.Status), ("source", Lead.Source)):
        if name in data:
            if data[name] not in choices.values:
                errors.add(name, _("must be one of %(v)s") % {"v": one_of(choices)})
            out[name] = data[name]
    if out.get("status") == Lead.Status.CONVERTED and (current is None or current.status != Lead.Status.CONVERTED):
        errors.add("status", _("use the convert action to convert a lead"))
    clean_with(data, "inn", normalize.inn, errors, out)
    clean_with(data, "email", normalize.email, errors, out)
    clean_with(data, "phone", lambda raw: normalize.phone(raw)[0], errors, out)
    if "amount" in data:  # a number, or its text as a file gives it ("150 000", "36000,50")
        from krug.sales.services import clean_money

        clean_money(data, "amount", errors, out, allow_none=True)
    custom_fields.clean_into("lead", data, current, errors, out)
    resolve_owner(by, data, errors, default_self=False, out=out)
    if current is None and "owner" not in out:
        # a manager's own request is his; a request entered by a head or an integration waits in the pool
        from krug.core.permissions import Role, role_of
        out["owner"] = by if role_of(by) == Role.MANAGER else None
    merged = {n: out.get(n, getattr(current, n, "") if current else "") for n in
              ("title", "surname", "first_name", "company_name", "phone", "email")}
    if not merged["title"]:
        who = " ".join(p for p in (merged["surname"], merged["first_name"]) if p) or merged["company_name"]
        if not who and not merged["phone"] and not merged["email"]:
            errors.add("title", _("a lead needs a title, a name, a company, a phone or an e-mail"))
        else:
            out["title"] = _("Request from %(who)s") % {"who": who or merged["phone"] or merged["email"]}
    errors.raise_if_any()
    return out


def _lead_key(lead: Lead) -> str:
    return normalize.search_key(lead.title, lead.surname, lead.first_name, lead.company_name, lead.email, lead.inn)


@transaction.atomic
def create_lead(by, data: dict[str, Any], *, created_at: dt.datetime | None = None) -> Lead:
    """A new request from any channel with its source and UTM tags; unassigned ones wait in the pool.
    `created_at`: when it came, if before now (an import's «Дата создания»)."""
    fields = _clean_lead(by, data, current=None)
    if created_at is not None:
        fields["created_at"] = created_at
    lead = records.create(Lead, fields, by)
    Lead.objects.filter(pk=lead.pk).update(search_key=_lead_key(lead))
    return lead


@transaction.atomic
def update_lead(by, lead: Lead, data: dict[str, Any], version: int | None = None) -> Lead:
    fields = lead_update_fields(by, lead, data)
    records.update(lead, fields, by, expected_version=version)
    Lead.objects.filter(pk=lead.pk).update(search_key=_lead_key(lead))
    return lead


def lead_update_fields(by, lead: Lead, data: dict[str, Any]) -> dict:
    """A change of a lead, cleaned; refused for a converted lead (but for its owner and custom fields)."""
    if lead.status == Lead.Status.CONVERTED and set(data) - {"owner_id", "custom"}:
        from krug.core.errors import Conflict
        raise Conflict(_("A converted lead can no longer be edited"))
    return _clean_lead(by, data, current=lead)


def find_existing_contact(by, *, phone: str = "", email: str = "") -> Contact | None:
    """A contact the user can see with this phone (E.164) or e-mail, to convert into instead of duplicating."""
    visible = Contact.objects.visible_to(by)
    if phone:
        found = visible.filter(phones__number=phone).first()
        if found:
            return found
    if email:
        return visible.filter(emails__email_key=email.casefold()).first()
    return None


def find_existing_company(by, *, inn: str = "", name: str = "") -> Company | None:
    """The company the user sees with this INN, else with this name (but for its legal form, quotes and spelling,
    `ИП Иванов И. И.` and `Индивидуальный предприниматель Иванов И. И.` alike)."""
    name = normalize.split_legal_form(name)[1]
    visible = Company.objects.visible_to(by)
    if inn:
        found = visible.filter(inn=inn).first()
        if found:
            return found
    core = duplicates.company_skeleton(name)
    if core:  # the same name but for its legal form, quotes and spelling (`duplicates.company_identity`)
        holders = duplicates.keyed_records(duplicates.COMPANY, [duplicates.company_name_key(name)])
        for candidate in visible.filter(pk__in=holders).order_by("pk"):
            if duplicates.company_skeleton(candidate.name) == core:
                return candidate
    return None


@transaction.atomic
def take_lead(by, lead: Lead) -> Lead:
    """A manager takes an unassigned lead from the common pool."""
    from krug.core.errors import Conflict

    if lead.owner_id is not None:
        raise Conflict(_("This lead is already assigned"))
    taken = Lead.objects.filter(pk=lead.pk, owner__isnull=True).update(owner=by)
    if not taken:
        raise Conflict(_("Someone else took this lead a moment ago"))
    lead.refresh_from_db()
    audit.record(AuditEntry.Action.UPDATE, lead, by, {"owner": [None, by.pk]})
    records.touch(lead, by)
    return lead


@transaction.atomic
def convert_lead(by, lead: Lead, data: dict[str, Any]) -> dict[str, Any]:
    """Turn a qualified lead into contact + company + deal in one step, reusing the client that already
    exists with the lead's phone, e-mail or INN instead of creating a duplicate. All or nothing."""
    from krug.core.errors import Conflict
    from krug.sales import services as sales

    if lead.status == Lead.Status.CONVERTED:
        raise Conflict(_("This lead was already converted"), extra={"contact_id": lead.contact_id,
                                                                    "deal_id": lead.deal_id})
    errors = FieldErrors()
    company, company_created = None, False
    if data.get("company_id") is not None:
        company = _visible_company(by, data["company_id"], errors)
    elif data.get("create_company", True) and (lead.company_name or lead.inn):
        company = find_existing_company(by, inn=lead.inn, name=lead.company_name)
    contact, contact_created = None, False
    if data.get("contact_id") is not None:
        contact = Contact.objects.visible_to(by).filter(pk=data["contact_id"]).first()
        if contact is None:
            errors.add("contact_id", _("no such contact"))
    else:
        contact = find_existing_contact(by, phone=lead.phone, email=lead.email)
    errors.raise_if_any()
    owner_id = lead.owner_id or by.pk
    if company is None and data.get("create_company", True) and (lead.company_name or lead.inn):
        company = create_company(by, {"name": lead.company_name or lead.inn, "inn": lead.inn, "city": lead.city,
                                      "owner_id": owner_id, "allow_duplicate": data.get("allow_duplicate")})
        company_created = True
    if contact is None:
        contact = create_contact(by, {
            "surname": lead.surname, "first_name": lead.first_name or ("" if lead.surname else lead.title),
            "patronymic": lead.patronymic, "position": lead.position, "city": lead.city,
            "phones": [lead.phone] if lead.phone else [], "emails": [lead.email] if lead.email else [],
            "source": lead.source, "company_id": company.pk if company else None, "owner_id": owner_id,
            "allow_duplicate": data.get("allow_duplicate"),
        })
        contact_created = True
    elif company is not None and contact.company_id is None:
        update_contact(by, contact, {"company_id": company.pk})
    deal = None
    if data.get("create_deal", True):
        deal = sales.create_deal(by, {
            "title": data.get("deal_title") or lead.title, "amount": data.get("amount") or lead.amount or 0,
            "pipeline_id": data.get("pipeline_id"), "contact_id": contact.pk,
            "company_id": company.pk if company else None, "owner_id": owner_id, "source": lead.source,
        })
    records.update(lead, {"status": Lead.Status.CONVERTED, "contact": contact, "company": company,
                          "deal_id": deal.pk if deal else None, "converted_at": timezone.now()}, by)
    timeline.add_event(TimelineEvent.Kind.LEAD_CONVERTED, lead, by=by, contact=contact, company=company,
                       deal_id=deal.pk if deal else None,
                       summary=_("Request converted: %(title)s") % {"title": lead.title},
                       data={"source": lead.source, "utm_source": lead.utm_source, "utm_campaign": lead.utm_campaign})
    return {"lead_id": lead.pk, "contact_id": contact.pk, "company_id": company.pk if company else None,
            "deal_id": deal.pk if deal else None, "contact_created": contact_created,
            "company_created": company_created}


# ---- what a write would change (imports skip rows that change nothing) -----------------------------------

def _differs(current, name: str, value) -> bool:
    if name == "custom":
        return any(current.custom.get(k) != v for k, v in (value or {}).items())
    return getattr(current, name) != value


def contact_changes(by, contact: Contact, data: dict[str, Any]) -> dict[str, Any]:
    """The part of `data` that would change `contact` (validated like a real update, so a bad value raises
    ValidationFailed); {} when the contact already is so. Phones, e-mails and tags compare as sets."""
    fields, related = _clean_contact(by, data, current=contact)
    names = {"company": "company_id", "owner": "owner_id"}
    changed = {names.get(k, k): data[names.get(k, k)] for k, v in fields.items()
               if names.get(k, k) in data and _differs(contact, k, v)}
    if "phones" in related and {(p["number"], p["extension"], p["kind"]) for p in related["phones"]} != {
            (p.number, p.extension, p.kind) for p in contact.phones.all()}:
        changed["phones"] = data["phones"]
    if "emails" in related and {(e["email"].casefold(), e["kind"]) for e in related["emails"]} != {
            (e.email_key, e.kind) for e in contact.emails.all()}:
        changed["emails"] = data["emails"]
    if "tags" in related and {normalize.search_key(t) for t in related["tags"]} != {t.key for t in contact.tags.all()}:
        changed["tags"] = data["tags"]
    return changed


def company_changes(by, company: Company, data: dict[str, Any]) -> dict[str, Any]:
    """The part of `data` that would change `company`; {} when it already is so. A name with a legal form in it
    is compared as it is written: the form as the legal form (`with_legal_form`)."""
    data = with_legal_form(data)
    fields = _clean_company(by, data, current=company)
    names = {"owner": "owner_id"}
    return {names.get(k, k): data[names.get(k, k)] for k, v in fields.items()
            if names.get(k, k) in data and _differs(company, k, v)}
