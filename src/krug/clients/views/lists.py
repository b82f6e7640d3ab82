"""Client lists: contacts and companies with filters, sorting and "load more" by keyset cursor."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from krug.clients.models import Company, Contact
from krug.quality import normalize
from krug.web import ui

CONTACT_ORDERS = {"-id": "-id", "surname": "surname", "-updated_at": "-updated_at"}
COMPANY_ORDERS = {"-id": "-id", "name": "name", "-updated_at": "-updated_at"}


def _filter_contacts(request, qs):
    get = request.GET
    if get.get("q"):
        text = get["q"]
        digits = normalize.phone_digits(text)
        q = Q(search_key__contains=normalize.search_key(text))
        if len(digits) >= 4:
            q |= Q(phones__number__contains=digits)
        qs = qs.filter(q).distinct()
    if get.get("owner"):
        qs = qs.filter(owner=get["owner"])
    if get.get("city"):
        qs = qs.filter(city=normalize.person_name(get["city"]))
    if get.get("tag"):
        qs = qs.filter(tags__key=normalize.search_key(get["tag"]))
    if get.get("client_type"):
        qs = qs.filter(client_type=get["client_type"])
    if get.get("company"):
        qs = qs.filter(company=get["company"])
    if (get.get("no_contact_days") or "").isdigit():
        since = timezone.now() - dt.timedelta(days=int(get["no_contact_days"]))
        qs = qs.filter(Q(last_contact_at__lt=since) | Q(last_contact_at__isnull=True))
    return qs


@login_required
def contacts(request):
    order = CONTACT_ORDERS.get(request.GET.get("order", "-id"), "-id")
    qs = _filter_contacts(request, Contact.objects.visible_to(request.user))
    rows, cursor = ui.keyset(request, qs.select_related("company", "owner").prefetch_related("phones", "emails"),
                             order)
    context = {"section": "clients", "tab": "contacts", "rows": rows, "cursor": cursor,
               "more": ui.querystring(request, cursor=cursor) if cursor else "",
               "owners": ui.assignable_users(request.user) if request.user.role != "manager" else [],
               "client_types": Contact.ClientType.choices, "filters": request.GET}
    template = "clients/_contact_rows.html" if request.GET.get("cursor") else "clients/contacts.html"
    return render(request, template, context)


@login_required
def companies(request):
    order = COMPANY_ORDERS.get(request.GET.get("order", "-id"), "-id")
    qs = Company.objects.visible_to(request.user)
    get = request.GET
    if get.get("q"):
        qs = qs.filter(search_key__contains=normalize.search_key(get["q"]))
    if get.get("city"):
        qs = qs.filter(city=normalize.person_name(get["city"]))
    if get.get("owner"):
        qs = qs.filter(owner=get["owner"])
    rows, cursor = ui.keyset(request, qs.select_related("owner"), order)
    context = {"section": "clients", "tab": "companies", "rows": rows, "cursor": cursor,
               "more": ui.querystring(request, cursor=cursor) if cursor else "",
               "owners": ui.assignable_users(request.user) if request.user.role != "manager" else [],
               "filters": request.GET}
    template = "clients/_company_rows.html" if request.GET.get("cursor") else "clients/companies.html"
    return render(request, template, context)


urlpatterns = [
    path("contacts/", contacts, name="contacts"),
    path("companies/", companies, name="companies"),
]
