"""The filters of the client lists, shared by the API, the web lists, saved views, bulk actions and exports.

Each takes a queryset already restricted to what the user may see and a mapping of query-string values
(a QueryDict or a plain dict of strings); a value that cannot be read raises ValidationFailed naming the
parameter, so the API answers 422 and the page shows the message beside the filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.core import custom_fields
from krug.core.errors import ValidationFailed
from krug.quality import normalize


def many(params: Mapping[str, Any], name: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        value = params.get(name)
        values = value if isinstance(value, list | tuple) else [value]
    return [str(v).strip() for v in values if v not in (None, "") and str(v).strip()]


def one(params: Mapping[str, Any], name: str) -> str:
    values = many(params, name)
    return values[-1] if values else ""


def number(params: Mapping[str, Any], name: str) -> int | None:
    value = one(params, name)
    if not value:
        return None
    if not value.isdigit():
        raise ValidationFailed.single(name, _("must be a whole number"))
    return int(value)


def date_param(params: Mapping[str, Any], name: str) -> dt.date | None:
    value = one(params, name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed.single(name, _("must be a date like 2026-01-31")) from exc


def boolean(params: Mapping[str, Any], name: str) -> bool | None:
    value = one(params, name).lower()
    if not value:
        return None
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValidationFailed.single(name, _("must be true or false"))


def _equal(qs: QuerySet, params: Mapping[str, Any], *names: str) -> QuerySet:
    """Exact filters: each parameter given filters its field of the same name."""
    for name in names:
        value = one(params, name)
        if value:
            qs = qs.filter(**{name: value})
    return qs


def _city(qs: QuerySet, params: Mapping[str, Any]) -> QuerySet:
    city = one(params, "city")
    return qs.filter(city=normalize.person_name(city)) if city else qs


def common(qs: QuerySet, params: Mapping[str, Any], *, owner_field: str = "owner") -> QuerySet:
    """owner (a user id, or 'none' for the common pool), team, updated_since, created_from/created_to."""
    owner = one(params, "owner")
    if owner == "none":
        qs = qs.filter(**{f"{owner_field}__isnull": True})
    elif owner:
        qs = qs.filter(**{owner_field: number(params, "owner")})
    team = number(params, "team")
    if team is not None:
        qs = qs.filter(**{f"{owner_field}__team": team})
    created_from, created_to = date_param(params, "created_from"), date_param(params, "created_to")
    if created_from:
        qs = qs.filter(created_at__date__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__date__lte=created_to)
    since = one(params, "updated_since")
    if since:
        try:
            moment = dt.datetime.fromisoformat(since)
        except ValueError as exc:
            raise ValidationFailed.single("updated_since", _("must be a date and time in ISO 8601")) from exc
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        qs = qs.filter(updated_at__gte=moment)
    return qs


def email_holders(text: str) -> QuerySet | None:
    """The ids of the contacts with an e-mail that begins with the text, when it is one word (`s.ivanov`,
    `s.ivanov@sev`). E-mails are searched by their beginning, on the b-tree of their casefolded form (`key_starts`:
    SQLite's LIKE would read every e-mail): as substrings in the contact's search key they doubled what its
    trigram index costs to write."""
    from krug.clients.models import ContactEmail

    start = normalize.tidy(text, 254).casefold()
    if not start or " " in start:
        return None
    return ContactEmail.objects.filter(key_starts("email_key", start)).values("contact_id")


def key_starts(field: str, start: str) -> Q:
    """The records whose `field` (a search or e-mail key) begins with `start`, as an index finds them: SQLite's
    LIKE reads no index, so there it is the range of keys from `start` up to `start` followed by the last
    character (keys compare by their code points), on the field's b-tree; PostgreSQL's pattern b-tree
    (`varchar_pattern_ops`) serves the LIKE."""
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": start, f"{field}__lt": start + "\U0010ffff"})
    return Q(**{f"{field}__startswith": start})


def text_key(text: str) -> str:
    """A searched text as the search keys hold it; a company's name written with its legal form (`ООО "Вектор
    Плюс"`) as the keys hold the name, without the form and quotes (`normalize.split_legal_form`), so every
    spelling finds the company, its people and its requests."""
    return normalize.search_key(normalize.split_legal_form(text)[1])


def _text_search(qs: QuerySet, text: str, *, phones: bool) -> QuerySet:
    query = Q(search_key__contains=text_key(text))
    digits = normalize.phone_digits(text)
    if phones and len(digits) >= 4:
        from krug.clients.models import ContactPhone

        query |= Q(pk__in=ContactPhone.objects.filter(number__contains=digits).values("contact_id"))
    holders = email_holders(text)
    if holders is not None:
        query |= Q(pk__in=holders)
    return qs.filter(query)


def contacts(qs: QuerySet, params: Mapping[str, Any], *, with_common: bool = True) -> QuerySet:
    """q (name, e-mail or phone digits), tag (repeatable, all must match), city, source, client_type, opt_out,
    job_title, company, no_contact_days, cleanup (a cleanup rule that flags the contact), plus the common
    filters and cf.<key> custom fields."""
    from krug.clients.models import Contact

    text = one(params, "q")
    if text:
        qs = _text_search(qs, text, phones=True)
    for tag in many(params, "tag"):
        qs = qs.filter(tags__key=normalize.search_key(tag))
    qs = _equal(_city(qs, params), params, "source", "job_title")
    client_type = one(params, "client_type")
    if client_type:
        if client_type not in Contact.ClientType.values:
            raise ValidationFailed.single("client_type", _("must be one of %(v)s")
                                          % {"v": ", ".join(Contact.ClientType.values)})
        qs = qs.filter(client_type=client_type)
    opt_out = boolean(params, "opt_out")
    if opt_out is not None:
        qs = qs.filter(opt_out=opt_out)
    company = number(params, "company")
    if company is not None:
        qs = qs.filter(company=company)
    reason = one(params, "cleanup")
    if reason:
        from krug.quality import cleanup

        if reason not in cleanup.RULE_KEYS:
            raise ValidationFailed.single("cleanup", _("must be one of %(v)s") % {"v": ", ".join(cleanup.RULE_KEYS)})
        qs = qs.filter(cleanup.rule_filter(reason))
    days = number(params, "no_contact_days")
    if days is not None:
        since = timezone.now() - dt.timedelta(days=days)
        qs = qs.filter(Q(last_contact_at__lt=since) | Q(last_contact_at__isnull=True))
    if with_common:
        qs = common(qs, params)
    return custom_fields.apply_filters(qs, "contact", params)


def companies(qs: QuerySet, params: Mapping[str, Any], *, with_common: bool = True) -> QuerySet:
    """q (name, INN, city or address), inn, city, industry, plus the common filters and cf.<key> custom fields."""
    text = one(params, "q")
    if text:
        qs = qs.filter(search_key__contains=text_key(text))
    qs = _equal(_city(qs, params), params, "inn", "industry")
    if with_common:
        qs = common(qs, params)
    return custom_fields.apply_filters(qs, "company", params)


def leads(qs: QuerySet, params: Mapping[str, Any], *, with_common: bool = True) -> QuerySet:
    """status (repeatable; 'open' for new, in progress and qualified), source, utm_source, utm_campaign,
    pool (only unassigned), q (request, name, company), plus the common filters and cf.<key> custom fields."""
    from krug.clients.models import Lead

    statuses = set()
    for value in many(params, "status"):
        if value == "open":
            statuses.update(OPEN_LEADS)
        elif value in Lead.Status.values:
            statuses.add(value)
        else:
            raise ValidationFailed.single("status", _("must be one of %(v)s")
                                          % {"v": ", ".join(["open", *Lead.Status.values])})
    if statuses:
        qs = qs.filter(status__in=sorted(statuses))
    source = one(params, "source")
    if source:
        if source not in Lead.Source.values:
            raise ValidationFailed.single("source", _("must be one of %(v)s") % {"v": ", ".join(Lead.Source.values)})
        qs = qs.filter(source=source)
    qs = _equal(qs, params, "utm_source", "utm_campaign")
    pool = boolean(params, "pool")
    if pool is not None:
        qs = qs.filter(owner__isnull=pool)
    text = one(params, "q")
    if text:
        qs = qs.filter(search_key__contains=text_key(text))
    if with_common:
        qs = common(qs, params)
    return custom_fields.apply_filters(qs, "lead", params)


OPEN_LEADS = ("new", "in_progress", "qualified")
FOR_ENTITY = {"contacts": contacts, "companies": companies, "leads": leads}
