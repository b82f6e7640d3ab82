"""The leads inbox: new requests with their source, taken from the pool, converted in one step."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from krug.clients import filters, services
from krug.clients.models import Lead
from krug.core import permissions, records
from krug.core.errors import DomainError, NotFound, ValidationFailed
from krug.web import ui


@login_required
def inbox(request):
    params = request.GET.copy()
    params.setdefault("status", "open")
    qs = Lead.objects.visible_to(request.user).select_related("owner")
    filter_error = ""
    try:
        qs = filters.leads(qs, params)
    except ValidationFailed as exc:
        filter_error, qs = exc.message, qs.none()
    rows, cursor = ui.keyset(request, qs, "-id")
    rows = [(lead, _existing(request.user, lead)) for lead in rows]
    owners = ui.assignable_users(request.user) if request.user.role != "manager" else []
    context = {"section": "clients", "tab": "leads", "rows": rows, "filters": request.GET,
               "status": params["status"], "export_query": params.urlencode(), "sources": Lead.Source.choices,
               "statuses": Lead.Status.choices,
               "more": ui.querystring(request, cursor=cursor) if cursor else "", "owners": owners,
               "bulk_actions": True, "error": request.GET.get("error", "") or filter_error,
               **ui.saved_views_context(request, "leads"), "custom_filters": ui.custom_filters(request, "lead")}
    return render(request, "clients/leads.html", context)


def _existing(user, lead: Lead):
    """The client already in the base with the lead's phone or e-mail, offered instead of a new one."""
    if lead.status == Lead.Status.CONVERTED:
        return None
    return services.find_existing_contact(user, phone=lead.phone, email=lead.email)


def _lead(request, pk, action=permissions.VIEW) -> Lead:
    try:
        return records.get_for(request.user, Lead, pk, action)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_POST
def take(request, pk):
    with transaction.atomic():
        try:
            services.take_lead(request.user, _lead(request, pk))
        except DomainError as exc:
            from urllib.parse import urlencode
            return redirect(f"/clients/leads/?{urlencode({'error': exc.message})}")
    return redirect("clients:leads")


@login_required
@require_POST
def convert(request, pk):
    lead = _lead(request, pk, permissions.CHANGE)
    data = {"create_deal": request.POST.get("create_deal") == "1", "allow_duplicate": True}
    if request.POST.get("contact_id", "").isdigit():
        data["contact_id"] = int(request.POST["contact_id"])
    try:
        with transaction.atomic():
            result = services.convert_lead(request.user, lead, data)
    except DomainError as exc:
        from urllib.parse import urlencode
        return redirect(f"/clients/leads/?{urlencode({'error': exc.message})}")
    return redirect("clients:contact", result["contact_id"])


urlpatterns = [
    path("leads/", inbox, name="leads"),
    path("leads/<int:pk>/take/", take, name="lead_take"),
    path("leads/<int:pk>/convert/", convert, name="lead_convert"),
]
