"""Client cards (contact, company): fields edited in place, the timeline with quick actions, deals, open
tasks and the history of changes; creating clients with the duplicate warning."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from krug.clients import services, timeline
from krug.clients.models import Company, Contact
from krug.core import audit, changes, permissions, records
from krug.core.errors import DomainError, NotFound
from krug.quality.duplicates import DuplicateFound
from krug.web import ui

CONTACT_FIELDS = ("surname", "first_name", "patronymic", "position", "city", "source", "client_type", "birthday")
COMPANY_FIELDS = ("name", "legal_form", "inn", "kpp", "ogrn", "industry", "city", "region", "address", "website",
                  "phone", "email", "founded")


def _get(request, model, pk, action=permissions.VIEW):
    try:
        return records.get_for(request.user, model, pk, action)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _model(kind: str):
    if kind not in ("contact", "company"):
        raise Http404(kind)
    return Contact if kind == "contact" else Company


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


def _contact_data(post) -> dict:
    data = {name: post.get(name, "") for name in CONTACT_FIELDS if name in post}
    if "birthday" in data:
        data["birthday"] = parse_date(data["birthday"]) if data["birthday"] else None
    for name in ("phones", "emails", "tags"):
        if name in post:
            data[name] = _lines(post[name])
    if "company" in post:
        chosen = post["company"].isdigit() and post.get("company_name", "").strip()
        data["company_id"] = int(post["company"]) if chosen else None
    if post.get("owner", "").isdigit():
        data["owner_id"] = int(post["owner"])
    if post.get("allow_duplicate"):
        data["allow_duplicate"] = True
    return data


def _company_data(post) -> dict:
    data = {name: post.get(name, "") for name in COMPANY_FIELDS if name in post}
    if "founded" in data:
        data["founded"] = parse_date(data["founded"]) if data["founded"] else None
    if post.get("owner", "").isdigit():
        data["owner_id"] = int(post["owner"])
    if post.get("allow_duplicate"):
        data["allow_duplicate"] = True
    return data


def _contact_values(contact: Contact | None, post=None) -> dict:
    if post is not None:
        return {**post.dict(), "company_name": post.get("company_name", "")}
    if contact is None:
        return {}
    values = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    values.update(phones="\n".join((p.number if p.valid else p.raw) + (f" доб. {p.extension}" if p.extension else "")
                                   for p in contact.phones.all()),
                  emails="\n".join(e.email for e in contact.emails.all()),
                  tags=", ".join(t.name for t in contact.tags.all()), company=contact.company_id or "",
                  company_name=str(contact.company) if contact.company_id else "", owner=contact.owner_id or "",
                  birthday=contact.birthday.isoformat() if contact.birthday else "")
    return values


def _form_context(request, kind: str, values: dict, errors: dict, duplicates=None) -> dict:
    return {"section": "clients", "values": values, "errors": errors, "duplicates": duplicates or [],
            "owners": ui.assignable_users(request.user), "client_types": Contact.ClientType.choices,
            "legal_forms": [("", "—"), *Company.LegalForm.choices], "kind": kind}


# ---- creating -------------------------------------------------------------------------------------------

@login_required
def contact_new(request):
    values = {"owner": request.user.pk, "client_type": "new"}
    if request.GET.get("company", "").isdigit():
        company = Company.objects.visible_to(request.user).filter(pk=request.GET["company"]).first()
        if company:
            values.update(company=company.pk, company_name=str(company), city=company.city)
    errors, duplicates = {}, []
    if request.method == "POST":
        values = _contact_values(None, request.POST)
        try:
            with transaction.atomic():
                contact = services.create_contact(request.user, _contact_data(request.POST))
            return redirect("clients:contact", contact.pk)
        except DuplicateFound as exc:
            duplicates = exc.extra["candidates"]
        except DomainError as exc:
            errors = ui.field_errors(exc)
    return render(request, "clients/contact_new.html", _form_context(request, "contact", values, errors, duplicates))


@login_required
def company_new(request):
    values, errors, duplicates = {"owner": request.user.pk}, {}, []
    if request.method == "POST":
        values = request.POST.dict()
        try:
            with transaction.atomic():
                company = services.create_company(request.user, _company_data(request.POST))
            return redirect("clients:company", company.pk)
        except DuplicateFound as exc:
            duplicates = exc.extra["candidates"]
        except DomainError as exc:
            errors = ui.field_errors(exc)
    return render(request, "clients/company_new.html", _form_context(request, "company", values, errors, duplicates))


@login_required
def company_suggest(request):
    """Companies the user may see whose name starts like the query (for the company picker): `ООО Век` finds
    `ООО «Вектор»`, whose name is kept without its legal form."""
    from krug.clients import filters

    text = filters.text_key(request.GET.get("company_name", ""))
    found = []
    if len(text) >= 2:
        found = Company.objects.visible_to(request.user).filter(
            filters.key_starts("search_key", text)).order_by("name")[:8]
    return render(request, "clients/_company_suggest.html", {"companies": found})


# ---- cards ----------------------------------------------------------------------------------------------

def _incomplete(contact: Contact) -> list[str]:
    missing = []
    if not contact.phones.exists():
        missing.append(_("phone"))
    if not contact.emails.exists():
        missing.append(_("e-mail"))
    if contact.owner_id is None:
        missing.append(_("owner"))
    return missing


def _card_context(request, obj, *, contact=None, company=None) -> dict:
    from krug.activities.models import Task
    from krug.sales.models import Deal

    deals = Deal.objects.visible_to(request.user).select_related("stage").order_by("-id")
    field, card = ("contact", contact) if contact is not None else ("company", company)
    deals = deals.filter(**{field: card})
    tasks = Task.objects.visible_on(request.user, field, card).filter(state__in=Task.PENDING).order_by("due_at")
    events, cursor = timeline.feed(request.user, contact=contact, company=company, limit=30)
    timeline.in_words(events, card=obj)
    can_change = permissions.can(request.user, permissions.CHANGE, obj)
    return {"section": "clients", "obj": obj, "deals": deals[:20], "tasks": tasks[:20], "events": events,
            "cursor": cursor, "can_change": can_change, "now": timezone.now(),
            "duplicates": _duplicates(request, obj) if can_change else [],
            "last_merge": _last_merge(request, obj)}


def _duplicates(request, obj) -> list:
    """Open duplicate pairs of this card whose other record the user may also change: (pair, other)."""
    from krug.clients.views.merging import open_pairs

    kind = obj._meta.model_name
    pairs = open_pairs(kind, obj)
    others = type(obj).objects.visible_to(request.user).in_bulk([other for _pair, other in pairs])
    return [(pair, others[other]) for pair, other in pairs
            if other in others and permissions.can(request.user, permissions.CHANGE, others[other])]


def _last_merge(request, obj):
    from krug.quality.models import Merge

    pk = request.session.get("last_merge")
    if not pk:
        return None
    return Merge.objects.filter(pk=pk, entity=obj._meta.model_name, survivor_id=obj.pk,
                                undone_at__isnull=True).first()


@login_required
def contact_card(request, pk):
    contact = _get(request, Contact, pk)
    context = _card_context(request, contact, contact=contact)
    context.update(kind="contact", missing=_incomplete(contact), values=_contact_values(contact), errors={},
                   owners=ui.assignable_users(request.user), client_types=Contact.ClientType.choices)
    return render(request, "clients/card.html", context)


@login_required
def company_card(request, pk):
    company = _get(request, Company, pk)
    context = _card_context(request, company, company=company)
    people = Contact.objects.visible_to(request.user).filter(company=company).prefetch_related("phones")
    context.update(kind="company", people=people.order_by("surname")[:50], missing=[], errors={},
                   values={**{n: getattr(company, n) or "" for n in COMPANY_FIELDS}, "owner": company.owner_id or "",
                           "founded": company.founded.isoformat() if company.founded else ""},
                   owners=ui.assignable_users(request.user), legal_forms=[("", "—"), *Company.LegalForm.choices])
    return render(request, "clients/card.html", context)


@login_required
def card_edit(request, kind, pk):
    """The card's details as a form (GET) or saved (POST): errors come back beside their fields."""
    model = _model(kind)
    obj = _get(request, model, pk, permissions.CHANGE)
    errors = {}
    if request.method == "POST":
        data = _contact_data(request.POST) if kind == "contact" else _company_data(request.POST)
        version = int(request.POST["version"]) if request.POST.get("version", "").isdigit() else None
        try:
            with transaction.atomic():
                if kind == "contact":
                    services.update_contact(request.user, obj, data, version)
                else:
                    services.update_company(request.user, obj, data, version)
            response = HttpResponse()
            response["HX-Redirect"] = reverse(f"clients:{kind}", args=[pk])
            return response
        except DomainError as exc:
            errors = ui.field_errors(exc)
            if exc.code == "version_conflict":
                errors["form"] = [_("Someone changed this card while you were editing. Reload it to see "
                                       "their changes.")]
            if isinstance(exc, DuplicateFound):
                errors["form"] = [exc.message]
        values = request.POST.dict()
    else:
        values = _contact_values(obj) if kind == "contact" else {
            **{n: getattr(obj, n) or "" for n in COMPANY_FIELDS}, "owner": obj.owner_id or "",
            "founded": obj.founded.isoformat() if obj.founded else ""}
    return render(request, "clients/_details_form.html", {
        "obj": obj, "kind": kind, "values": values, "errors": errors, "owners": ui.assignable_users(request.user),
        "client_types": Contact.ClientType.choices, "legal_forms": [("", "—"), *Company.LegalForm.choices]})


@login_required
def card_timeline(request, kind, pk):
    model = _model(kind)
    obj = _get(request, model, pk)
    events, cursor = timeline.feed(request.user, **{kind: obj}, cursor=request.GET.get("cursor"), limit=30)
    timeline.in_words(events, card=obj)
    return render(request, "clients/_timeline_items.html", {"events": events, "cursor": cursor, "obj": obj,
                                                            "kind": kind})


@login_required
def card_history(request, kind, pk):
    model = _model(kind)
    obj = _get(request, model, pk)
    entries = list(audit.history(obj)[:100])
    for entry, described in zip(entries, changes.describe(model, [e.changes for e in entries]), strict=True):
        entry.fields = described
    return render(request, "clients/_history.html", {"entries": entries})


def _when(text: str, default: dt.datetime | None = None) -> dt.datetime | None:
    if not text:
        return default
    value = parse_datetime(text)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@login_required
@require_POST
def quick_action(request, kind, pk, action):
    """Log a call, add a note, schedule a task or a meeting from the card; the timeline comes back."""
    from krug.activities import services as activities

    model = _model(kind)
    obj = _get(request, model, pk)
    post = request.POST
    link = {f"{kind}_id": obj.pk}
    now = timezone.now()
    try:
        with transaction.atomic():
            if action == "call":
                missed = post.get("result") == "missed"
                activities.create_call(request.user, {
                    **link, "direction": post.get("direction", "out"), "result": post.get("result", "answered"),
                    "started_at": _when(post.get("started_at"), now),
                    "duration_seconds": 0 if missed else int(post.get("minutes") or 0) * 60,
                    "summary": post.get("summary", "")})
            elif action == "note":
                activities.create_note(request.user, {**link, "text": post.get("text", "")})
            elif action == "task":
                activities.create_task(request.user, {**link, "title": post.get("title", ""),
                                                      "due_at": _when(post.get("due_at")),
                                                      "priority": post.get("priority", "normal")})
            elif action == "meeting":
                starts = _when(post.get("starts_at"))
                activities.create_meeting(request.user, {
                    **link, "title": post.get("title", ""), "starts_at": starts,
                    "ends_at": starts + dt.timedelta(minutes=int(post.get("minutes") or 60)) if starts else None,
                    "location": post.get("location", "")})
            else:
                raise Http404(action)
    except DomainError as exc:
        return render(request, "clients/_quick_error.html", {"errors": ui.field_errors(exc)}, status=422)
    response = HttpResponse()
    response["HX-Redirect"] = reverse(f"clients:{kind}", args=[pk])
    return response


@login_required
@require_POST
def complete_task(request, kind, pk, task_pk):
    from krug.activities import services as activities
    from krug.activities.models import Task

    task = _get(request, Task, task_pk, permissions.CHANGE)
    with transaction.atomic():
        activities.complete_task(request.user, task)
    response = HttpResponse()
    response["HX-Redirect"] = reverse(f"clients:{kind}", args=[pk])
    return response


urlpatterns = [
    path("contacts/new/", contact_new, name="contact_new"),
    path("contacts/<int:pk>/", contact_card, name="contact"),
    path("companies/new/", company_new, name="company_new"),
    path("companies/suggest/", company_suggest, name="company_suggest"),
    path("companies/<int:pk>/", company_card, name="company"),
    path("<str:kind>/<int:pk>/edit/", card_edit, name="card_edit"),
    path("<str:kind>/<int:pk>/timeline/", card_timeline, name="card_timeline"),
    path("<str:kind>/<int:pk>/history/", card_history, name="card_history"),
    path("<str:kind>/<int:pk>/do/<str:action>/", quick_action, name="quick_action"),
    path("<str:kind>/<int:pk>/tasks/<int:task_pk>/done/", complete_task, name="card_task_done"),
]
