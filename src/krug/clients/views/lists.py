"""Client lists: contacts and companies with filters, sorting and "load more" by keyset cursor."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from krug.clients import bulk, filters
from krug.clients.models import Company, Contact
from krug.core.errors import DomainError, ValidationFailed
from krug.quality import cleanup
from krug.web import ui

SORTABLE = {"contacts": ("surname", "city", "updated_at"), "companies": ("name", "inn", "city", "updated_at")}
CONTACT_ORDERS = {o: o for f in SORTABLE["contacts"] for o in (f, f"-{f}")} | {"-id": "-id"}
COMPANY_ORDERS = {o: o for f in SORTABLE["companies"] for o in (f, f"-{f}")} | {"-id": "-id"}


def list_page(request, entity: str, model, order: str, rows_template: str, page_template: str, *, related=(),
          prefetch=(), extra=None):
    """One list screen: the shared filters, keyset paging, saved views and the bulk bar."""
    qs = model.objects.visible_to(request.user)
    filter_error = ""
    try:
        qs = filters.FOR_ENTITY[entity](qs, request.GET)
    except ValidationFailed as exc:
        filter_error, qs = exc.message, qs.none()
    rows, cursor = ui.keyset(request, qs.select_related(*related).prefetch_related(*prefetch), order)
    if request.GET.get("cursor"):
        page_template = rows_template
    owners = ui.assignable_users(request.user) if request.user.role != "manager" else []
    context = {"section": "clients", "tab": entity, "rows": rows, "cursor": cursor,
               "more": ui.querystring(request, cursor=cursor) if cursor else "", "owners": owners,
               "bulk_actions": bool(owners) or len(bulk.ACTIONS[entity]) > 1,
               "filters": request.GET, "filter_error": filter_error, **ui.saved_views_context(request, entity),
               "custom_filters": ui.custom_filters(request, model._meta.model_name),
               "sort": ui.sort_headers(request, order, SORTABLE[entity]),
               **(extra or {})}
    return render(request, page_template, context)


@login_required
def contacts(request):
    order = CONTACT_ORDERS.get(request.GET.get("order", "-id"), "-id")
    return list_page(request, "contacts", Contact, order, "clients/_contact_rows.html", "clients/contacts.html",
                 related=("company", "owner"), prefetch=("phones", "emails", "tags"),
                 extra={"client_types": Contact.ClientType.choices,
                        "cleanup_rule": next((r for r in cleanup.RULES if r.key == request.GET.get("cleanup")),
                                             None)})


@login_required
def companies(request):
    order = COMPANY_ORDERS.get(request.GET.get("order", "-id"), "-id")
    return list_page(request, "companies", Company, order, "clients/_company_rows.html", "clients/companies.html",
                 related=("owner",))


@login_required
@require_POST
def bulk_action(request, entity):
    """The bulk bar's form: one action on the ticked rows, then back to the same list."""
    if entity not in bulk.ACTIONS:
        raise Http404
    action = request.POST.get("action", "")
    field = bulk.ACTIONS[entity].get(action, "")
    back = ui.safe_next(request, f"/clients/{entity}/")
    try:
        result = bulk.apply(request.user, entity, request.POST.getlist("ids"), action, request.POST.get(field))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, ngettext("%(n)d record changed.", "%(n)d records changed.", result.changed)
                     % {"n": result.changed}
                     + (" " + _("%(n)d already were so.") % {"n": result.unchanged} if result.unchanged else ""))
    return redirect(back)


urlpatterns = [
    path("contacts/", contacts, name="contacts"),
    path("companies/", companies, name="companies"),
    path("<str:entity>/bulk/", bulk_action, name="bulk"),
]
