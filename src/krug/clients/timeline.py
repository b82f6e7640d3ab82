"""The client timeline: services call `add_event` for every touchpoint; cards read `feed`."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.clients.models import Company, Contact, TimelineEvent
from krug.core import audit, changes, memo, permissions
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


def _visible_sources(user, events, field: str, card) -> Q:
    """Events whose source record the user may see: the same door as every list, asked only about the sources of
    this card's events, and of activities only which are attached to the card (`visible_on`), which the user
    sees. Asking it of every record the user sees made a card's timeline read his whole book: 355 ms a card at
    100,000 contacts with their activities (`bench api`)."""
    source_types = events.values_list("source_type", flat=True).distinct()
    q = Q(pk__in=[])
    for ct in ContentType.objects.filter(pk__in=list(source_types)):
        model = ct.model_class()
        if model is None:
            continue
        sources = events.filter(source_type=ct).values("source_id")
        if permissions.attached_by(model, field):
            visible = model.objects.visible_on(user, field, card)
        else:
            visible = model.objects.visible_to(user, permissions.VIEW).filter(pk__in=sources)
        q |= Q(source_type=ct, source_id__in=visible.values("pk"))
    return q


def feed(user, *, contact: Contact | None = None, company: Company | None = None, cursor: str | None = None,
         limit: int = 50, kinds: list[str] | None = None):
    """One page of the card's touchpoints, newest first, each visible to `user` by the usual rules; the card (the
    contact or company) is one the caller has found the user may see (`records.get_for`)."""
    events = TimelineEvent.objects.filter(hidden=False)
    field, card = ("contact", contact) if contact is not None else ("company", company)
    events = events.filter(**{field: card})
    if kinds:
        events = events.filter(kind__in=kinds)
    events = events.filter(_visible_sources(user, events, field, card)).select_related("actor", "source_type")
    return page(events, order="-at", cursor=cursor, limit=limit)


# ---- in words -------------------------------------------------------------------------------------------

#: the kinds of event told from their data rather than by the summary written with them
_TOLD_FROM_DATA = (TimelineEvent.Kind.CHANGED, TimelineEvent.Kind.STAGE, TimelineEvent.Kind.CREATED)


def _names(events: list[TimelineEvent], card) -> dict[tuple, str]:
    """The names of the events' sources that are not the card itself (a deal, a colleague of the company), one
    read per kind of source."""
    wanted: dict = {}
    for e in events:
        model = e.source_type.model_class()
        if model is not None and not _is_card(e, model, card):
            wanted.setdefault(model, set()).add(e.source_id)
    return {(model, pk): str(obj) for model, ids in wanted.items()
            for pk, obj in model._base_manager.in_bulk(list(ids)).items()}


def _is_card(event: TimelineEvent, model, card) -> bool:
    return card is not None and type(card) is model and card.pk == event.source_id


def _changed(event: TimelineEvent, model, card, name: str | None) -> str:
    fields = changes.summary(model, event.data)
    if not fields:
        return event.summary
    if model._meta.model_name == "deal" and name:
        return _("Deal «%(title)s» changed: %(fields)s") % {"title": name, "fields": fields}
    if model is Contact and not _is_card(event, model, card) and name:
        return _("Contact %(name)s changed: %(fields)s") % {"name": name, "fields": fields}
    return _("Changed: %(fields)s") % {"fields": fields}


def _moved(event: TimelineEvent, name: str | None) -> str:
    data = event.data
    if not name or "from" not in data or "to" not in data:
        return event.summary
    text = _("Deal «%(title)s»: %(old)s → %(new)s") % {"title": name, "old": data["from"], "new": data["to"]}
    return text + f" ({data['loss_reason']})" if data.get("loss_reason") else text


def _created(event: TimelineEvent, model, name: str | None) -> str:
    if model is Contact and name:
        return _("Contact created: %(name)s") % {"name": name}
    if model is Company and name:
        return _("Company created: %(name)s") % {"name": name}
    return event.summary


def _text(event: TimelineEvent, model, card, names: dict) -> str:
    name = str(card) if _is_card(event, model, card) else names.get((model, event.source_id))
    if event.kind == TimelineEvent.Kind.CHANGED and event.data:
        return _changed(event, model, card, name)
    if event.kind == TimelineEvent.Kind.STAGE:
        return _moved(event, name)
    if event.kind == TimelineEvent.Kind.CREATED:
        return _created(event, model, name)
    return event.summary


def in_words(events: list[TimelineEvent], *, card=None, values: bool = False) -> list[TimelineEvent]:
    """Give each event its `text` in the active language, and a change its `fields` (label, old and new value
    of each field; with `values` only, as they take a read of the records the values name). A change, a deal's
    move and a client's creation are told from their data, so switching the language switches them and rows
    written with an English or a field-name summary read as well; other events say their summary.
    `card`: the contact or company whose timeline this is (its own changes need no name)."""
    names = _names([e for e in events if e.kind in _TOLD_FROM_DATA], card)
    with memo.scope():  # the custom fields' labels, once for the page
        for e in events:
            e.fields = []
            model = e.source_type.model_class()
            e.text = _text(e, model, card, names) if model is not None else e.summary
        if values:
            changed = [e for e in events if e.kind == TimelineEvent.Kind.CHANGED and e.data
                       and e.source_type.model_class() is not None]
            for model in {e.source_type.model_class() for e in changed}:
                mine = [e for e in changed if e.source_type.model_class() is model]
                for e, described in zip(mine, changes.describe(model, [e.data for e in mine]), strict=True):
                    e.fields = described
    return events
