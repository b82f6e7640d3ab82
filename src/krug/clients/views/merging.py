"""Merging duplicates in the browser: the records side by side, the surviving card and, field by field,
which value wins; then the survivor's card with an undo. The work is `krug.quality.merge`'s."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from krug.clients.models import Company, Contact
from krug.core import permissions, records
from krug.core.errors import DomainError, NotFound
from krug.quality import merge
from krug.quality.models import DuplicatePair, Merge

MODELS = {"contact": Contact, "company": Company}
FIELDS = {"contact": merge.CONTACT_FIELDS, "company": merge.COMPANY_FIELDS}
MAX_RECORDS = 5


def _shown(obj, field: str) -> str:
    value = getattr(obj, field)
    if value in (None, ""):
        return ""
    model_field = obj._meta.get_field(field)
    if model_field.choices:
        return str(getattr(obj, f"get_{field}_display")())
    if field == "owner":
        return value.get_full_name() or value.username
    return str(value)


def _records(request, kind: str, ids: list[int]) -> list:
    model = MODELS.get(kind)
    if model is None:
        raise Http404
    try:
        return [records.get_for(request.user, model, pk, permissions.CHANGE) for pk in ids]
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _ids(values) -> list[int]:
    ids = []
    for value in values:
        if str(value).isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids[:MAX_RECORDS]


def _extras(kind: str, obj) -> dict:
    """What every record brings along whatever wins: phones, e-mails, tags, deals, activities."""
    if kind == "contact":
        return {"phones": [p.number for p in obj.phones.all()], "emails": [e.email for e in obj.emails.all()],
                "tags": [t.name for t in obj.tags.all()], "deals": obj.deals.count()}
    return {"phones": [], "emails": [], "tags": [], "deals": obj.deals.count(), "people": obj.contacts.count()}


@login_required
def compare(request, kind):
    ids = _ids(request.GET.getlist("ids"))
    if len(ids) < 2:
        raise Http404
    objs = _records(request, kind, ids)
    rows = []
    for field in FIELDS[kind]:
        values = [_shown(o, field) for o in objs]
        if not any(values):
            continue
        # the default winner is what the service would keep: the survivor's value, else the first non-empty
        default = next((o.pk for o, v in zip(objs, values, strict=True) if v), objs[0].pk)
        if values[0]:
            default = objs[0].pk
        rows.append({"name": field, "label": objs[0]._meta.get_field(field).verbose_name,
                     "cells": list(zip(objs, values, strict=True)), "default": default,
                     "differ": len({v for v in values if v}) > 1})
    return render(request, "clients/merge.html", {
        "section": "clients", "kind": kind, "objs": objs, "rows": rows,
        "extras": [(o, _extras(kind, o)) for o in objs]})


@login_required
@require_POST
def do_merge(request, kind):
    ids = _ids(request.POST.getlist("ids"))
    again = f"{reverse('clients:merge', args=[kind])}?{urlencode([('ids', i) for i in ids])}"
    survivor = int(request.POST["survivor"]) if request.POST.get("survivor", "").isdigit() else None
    if survivor not in ids or len(ids) < 2:
        messages.error(request, _("Choose the card that stays."))
        return redirect(again)
    model = MODELS.get(kind)
    if model is None:
        raise Http404
    chosen = {}
    for field in FIELDS[kind]:
        value = request.POST.get(f"f_{field}", "")
        if value.isdigit() and int(value) in ids:
            chosen[field] = int(value)
    try:
        with transaction.atomic():
            done = merge.merge(request.user, model, survivor, [i for i in ids if i != survivor], chosen)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(again)
    request.session["last_merge"] = done.pk
    messages.success(request, _("Merged: %(n)d cards are now one.") % {"n": len(ids)})
    return redirect(f"clients:{kind}", survivor)


@login_required
@require_POST
def undo(request, pk):
    try:
        record = Merge.objects.get(pk=pk)
    except Merge.DoesNotExist as exc:
        raise Http404 from exc
    try:
        with transaction.atomic():
            merge.undo(request.user, record)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        request.session.pop("last_merge", None)
        messages.success(request, _("The merge is undone: the cards are separate again."))
    return redirect(f"clients:{record.entity}", record.survivor_id)


def open_pairs(kind: str, obj) -> list[tuple[DuplicatePair, int]]:
    """The card's open duplicate pairs from the last scans: (pair, the other record's id)."""
    from django.db.models import Q

    pairs = DuplicatePair.objects.filter(Q(a_id=obj.pk) | Q(b_id=obj.pk), entity=kind,
                                         status=DuplicatePair.Status.OPEN).order_by("-score")[:5]
    return [(p, p.b_id if p.a_id == obj.pk else p.a_id) for p in pairs]


urlpatterns = [
    path("merge/<str:kind>/", compare, name="merge"),
    path("merge/<str:kind>/do/", do_merge, name="merge_do"),
    path("merge/undo/<int:pk>/", undo, name="merge_undo"),
]
