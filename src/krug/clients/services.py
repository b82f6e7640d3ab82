"""Operations on companies, contacts and leads. Every write in Krug goes through a service like these:
validate and normalise, check permission, write, audit, put the touchpoint on the timeline."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from krug.clients import timeline
from krug.clients.models import Company, Contact, ContactEmail, ContactPhone, Tag, TimelineEvent
from krug.core import custom_fields, records
from krug.core.errors import FieldErrors
from krug.quality import normalize

# field -> maximum length of plain text fields; everything is tidied of stray spaces
COMPANY_TEXT = {"name": 300, "industry": 120, "size": 32, "region": 120, "city": 120, "description": 5000}
CONTACT_TEXT = {"position": 200, "city": 120, "source": 64}
CONTACT_NAMES = ("surname", "first_name", "patronymic")


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
        out[name] = text
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


def resolve_owner(by, data: dict, errors: FieldErrors, *, default_self: bool, out: dict) -> None:
    """`owner_id` in data -> out['owner'], refusing owners the user may not assign."""
    from krug.accounts.models import User

    if "owner_id" not in data:
        if default_self:
            out["owner"] = by
        return
    owner_id = data["owner_id"]
    owner = None
    if owner_id is not None:
        owner = User.objects.filter(pk=owner_id, is_active=True).select_related("team").first()
        if owner is None:
            errors.add("owner_id", _("no such active user"))
            return
    from krug.core import permissions

    if not permissions.can_assign(by, owner):
        errors.add("owner_id", _("you may not assign records to this user"))
        return
    out["owner"] = owner


def _record_change(obj, changes: dict, by, *, contact=None, company=None) -> None:
    if changes:
        names = ", ".join(sorted(changes))
        timeline.add_event(TimelineEvent.Kind.CHANGED, obj, by=by, contact=contact, company=company,
                           summary=_("Changed: %(fields)s") % {"fields": names}, data=changes)


# ---- companies ------------------------------------------------------------------------------------------

def _clean_company(by, data: dict, *, current: Company | None) -> dict:
    errors = FieldErrors()
    out = clean_text_fields(data, COMPANY_TEXT, errors)
    if "name" in out and not out["name"]:
        errors.add("name", _("required"))
    elif current is None and "name" not in data:
        errors.add("name", _("required"))
    if "legal_form" in data:
        if data["legal_form"] not in ("", None, *Company.LegalForm.values):
            errors.add("legal_form", _("must be one of %(v)s") % {"v": ", ".join(Company.LegalForm.values)})
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
    return normalize.search_key(company.name, company.inn, company.city)


@transaction.atomic
def create_company(by, data: dict[str, Any]) -> Company:
    """A new company, validated (INN/KPP/OGRN checksums, e-mail, phone, custom fields) and audited."""
    fields = _clean_company(by, data, current=None)
    fields["search_key"] = normalize.search_key(fields["name"], fields.get("inn"), fields.get("city"))
    company = records.create(Company, fields, by)
    timeline.add_event(TimelineEvent.Kind.CREATED, company, by=by, company=company,
                       summary=_("Company created: %(name)s") % {"name": company})
    return company


@transaction.atomic
def update_company(by, company: Company, data: dict[str, Any], version: int | None = None) -> Company:
    """Change a company's fields; a stale `version` raises VersionConflict and writes nothing."""
    fields = _clean_company(by, data, current=company)
    candidate = {**{f: getattr(company, f) for f in ("name", "inn", "city")}, **fields}
    fields["search_key"] = normalize.search_key(candidate["name"], candidate["inn"], candidate["city"])
    changes = records.update(company, fields, by, expected_version=version)
    changes.pop("search_key", None)
    _record_change(company, changes, by, company=company)
    return company
