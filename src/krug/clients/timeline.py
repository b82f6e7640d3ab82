"""The client timeline: services call `add_event` for every touchpoint; cards read `feed`."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from krug.clients.models import Company, Contact, TimelineEvent
from krug.core import audit, permissions
from krug.core.pagination import page


def add_event(kind: str, source, *, summary: str, by=None, contact: Contact | int | None = None,
              company: Company | int | None = None, deal_id: int | None = None, at: dt.datetime | None = None,
              data: dict | None = None) -> TimelineEvent | None:
    """Record a touchpoint of `source` on the contact's and the company's cards.

    A contact's company is filled in when not given, so the company card shows its people's history too.
    """
    contact_id = getattr(contact, "pk", contact)
    company_id = getattr(company, "pk", company)
    if company_id is None and contact_id is not None:
        company_id = Contact.objects.filter(pk=contact_id).values_list("company_id", flat=True).first()
    if contact_id is None and company_id is None:
        return None
    return TimelineEvent.objects.create(
        kind=kind, source_type=ContentType.objects.get_for_model(type(source)), source_id=source.pk,
        contact_id=contact_id, company_id=company_id, deal_id=deal_id, actor=by if getattr(by, "pk", None) else None,
        summary=summary[:500], data=audit.plain(data or {}), at=at or timezone.now(),
    )


def set_hidden(source, hidden: bool) -> None:
    """Hide (bin) or show again (restore) the events a record produced."""
    TimelineEvent.objects.filter(
        source_type=ContentType.objects.get_for_model(type(source)), source_id=source.pk
    ).update(hidden=hidden)


def move_events(kind_of_field: str, from_id: int, to_id: int) -> None:
    """Re-point events from one contact/company to another (used by merge)."""
    TimelineEvent.objects.filter(**{f"{kind_of_field}_id": from_id}).update(**{f"{kind_of_field}_id": to_id})


def _visible_sources(user, events) -> Q:
    """Events whose source record the user may see: the same door as every list."""
    source_types = events.values_list("source_type", flat=True).distinct()
    q = Q(pk__in=[])
    for ct in ContentType.objects.filter(pk__in=list(source_types)):
        model = ct.model_class()
        if model is None:
            continue
        visible = model.objects.visible_to(user, permissions.VIEW).values("pk")
        q |= Q(source_type=ct, source_id__in=visible)
    return q


def feed(user, *, contact: Contact | None = None, company: Company | None = None, cursor: str | None = None,
         limit: int = 50, kinds: list[str] | None = None):
    """One page of the card's touchpoints, newest first, each visible to `user` by the usual rules."""
    events = TimelineEvent.objects.filter(hidden=False)
    events = events.filter(contact=contact) if contact is not None else events.filter(company=company)
    if kinds:
        events = events.filter(kind__in=kinds)
    events = events.filter(_visible_sources(user, events)).select_related("actor", "source_type")
    return page(events, order="-at", cursor=cursor, limit=limit)
