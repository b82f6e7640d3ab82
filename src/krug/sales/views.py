"""Deal screens: the Kanban board per pipeline (drag to move, refused with the reason when a stage's
requirements are not met), the list with filters, the deal card and the new-deal form."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from krug.core import permissions, records
from krug.core.errors import DomainError, NotFound
from krug.sales import filters, services
from krug.sales.models import Deal, Pipeline, Product, Stage
from krug.web import ui

COLUMN_SIZE = 30


def _deal(request, pk, action=permissions.VIEW) -> Deal:
    try:
        return records.get_for(request.user, Deal, pk, action)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _pipeline(request) -> Pipeline | None:
    pipelines = Pipeline.objects.alive().order_by("-is_default", "position", "id")
    chosen = request.GET.get("pipeline")
    if chosen and chosen.isdigit():
        return pipelines.filter(pk=chosen).first() or pipelines.first()
    return pipelines.first()


def _visible_deals(request):
    deals = Deal.objects.visible_to(request.user)
    if request.GET.get("owner", "").isdigit():
        deals = deals.filter(owner=request.GET["owner"])
    return deals


def columns(request, pipeline: Pipeline) -> list[dict]:
    """Each stage with its totals (one aggregate query) and its first cards."""
    deals = _visible_deals(request).filter(pipeline=pipeline)
    totals = {r["stage"]: r for r in deals.values("stage").annotate(n=Count("id"), total=Sum("amount")).order_by()}
    out = []
    for stage in Stage.objects.alive().filter(pipeline=pipeline).order_by("position", "id"):
        row = totals.get(stage.pk, {"n": 0, "total": Decimal(0)})
        amount = row["total"] or Decimal(0)
        cards = list(deals.filter(stage=stage).select_related("contact", "company", "owner")
                     .order_by("-stage_entered_at", "-id")[:COLUMN_SIZE])
        out.append({"stage": stage, "count": row["n"], "amount": amount, "cards": cards,
                    "weighted": (amount * stage.probability / 100).quantize(Decimal(1))})
    return out


@login_required
def board(request):
    pipeline = _pipeline(request)
    if pipeline is None:
        pipeline = services.default_pipeline(request.user)
    context = {"section": "deals", "pipeline": pipeline, "pipelines": Pipeline.objects.alive().order_by("position"),
               "columns": columns(request, pipeline), "owners": ui.assignable_users(request.user),
               "filters": request.GET}
    return render(request, "sales/board.html", context)


@login_required
@require_POST
def move(request, pk):
    """Move a deal to a stage (from the board or the card): JSON for the board, a redirect for forms."""
    deal = _deal(request, pk, permissions.CHANGE)
    stage_id = request.POST.get("stage_id", "")
    version = int(request.POST["version"]) if request.POST.get("version", "").isdigit() else None
    try:
        with transaction.atomic():
            services.move_deal(request.user, deal, int(stage_id) if stage_id.isdigit() else 0,
                               loss_reason=request.POST.get("loss_reason", ""), version=version)
    except DomainError as exc:
        reason = exc.message
        if len(exc.errors) > 1:
            reason += " (" + ", ".join(exc.errors) + ")"
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"ok": False, "reason": reason, "fields": list(exc.errors)}, status=422)
        return render(request, "sales/deal.html", _card_context(request, deal, move_error=reason), status=422)
    deal.refresh_from_db()
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": True, "version": deal.version, "stage_id": deal.stage_id})
    return redirect("sales:deal", pk)


@login_required
def deal_list(request):
    qs = _visible_deals(request).select_related("stage", "contact", "company", "owner")
    get = request.GET
    filter_error = ""
    try:
        qs = filters.deals(qs, get)
    except DomainError as exc:
        filter_error, qs = exc.message, qs.none()
    order = get.get("order") if get.get("order") in ("-id", "-amount", "amount", "expected_close") else "-id"
    rows, cursor = ui.keyset(request, qs, order)
    context = {"section": "deals", "rows": rows, "more": ui.querystring(request, cursor=cursor) if cursor else "",
               "filter_error": filter_error,
               "filters": get, "pipelines": Pipeline.objects.alive(), "owners": ui.assignable_users(request.user),
               "stages": Stage.objects.alive().select_related("pipeline").order_by("pipeline", "position")}
    return render(request, "sales/list.html", context)


def _card_context(request, deal: Deal, **extra) -> dict:
    from krug.activities.models import Call, Note, Task

    # the deal is one the user sees (`_deal`), so its activities are his to see (`visible_on`)
    activities = [*Task.objects.visible_on(request.user, "deal", deal).order_by("-id")[:20],
                  *Call.objects.visible_on(request.user, "deal", deal).order_by("-id")[:20],
                  *Note.objects.visible_on(request.user, "deal", deal).order_by("-id")[:20]]
    activities.sort(key=lambda a: a.created_at, reverse=True)
    return {"section": "deals", "deal": deal, "history": services.stage_history(deal), "activities": activities,
            "stages": Stage.objects.alive().filter(pipeline=deal.pipeline).order_by("position"),
            "items": list(deal.items.all()), "products": Product.objects.alive().filter(is_active=True)[:200],
            "can_change": permissions.can(request.user, permissions.CHANGE, deal), "errors": {}, **extra}


@login_required
def deal_card(request, pk):
    deal = _deal(request, pk)
    return render(request, "sales/deal.html", _card_context(request, deal))


def _money(text: str):
    try:
        return Decimal((text or "0").replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except InvalidOperation:
        return text  # the service names the field and the problem


@login_required
@require_POST
def deal_edit(request, pk):
    deal = _deal(request, pk, permissions.CHANGE)
    post = request.POST
    data = {"title": post.get("title", ""), "expected_close": parse_date(post.get("expected_close") or "") or None,
            "description": post.get("description", "")}
    if not deal.items.exists():
        data["amount"] = _money(post.get("amount"))
    if post.get("owner", "").isdigit():
        data["owner_id"] = int(post["owner"])
    version = int(post["version"]) if post.get("version", "").isdigit() else None
    try:
        with transaction.atomic():
            services.update_deal(request.user, deal, data, version)
    except DomainError as exc:
        return render(request, "sales/deal.html", _card_context(request, deal, errors=ui.field_errors(exc),
                                                                 values=post), status=422)
    return redirect("sales:deal", pk)


@login_required
@require_POST
def deal_item_add(request, pk):
    deal = _deal(request, pk, permissions.CHANGE)
    post = request.POST
    items = [{"product_id": i.product_id, "name": i.name, "quantity": i.quantity, "price": i.price,
              "discount_percent": i.discount_percent, "unit": i.unit} for i in deal.items.all()]
    new = {"quantity": _money(post.get("quantity") or "1"), "discount_percent": _money(post.get("discount") or "0")}
    if post.get("product", "").isdigit():
        new["product_id"] = int(post["product"])
    if post.get("name"):
        new["name"] = post["name"]
    if post.get("price"):
        new["price"] = _money(post["price"])
    try:
        with transaction.atomic():
            services.update_deal(request.user, deal, {"items": [*items, new]})
    except DomainError as exc:
        return render(request, "sales/deal.html", _card_context(request, deal, errors=ui.field_errors(exc)),
                      status=422)
    return redirect("sales:deal", pk)


@login_required
def deal_new(request):
    from krug.clients.models import Company, Contact

    values = {"pipeline": "", "title": ""}
    contact = company = None
    if request.GET.get("contact", "").isdigit():
        contact = Contact.objects.visible_to(request.user).filter(pk=request.GET["contact"]).first()
    if request.GET.get("company", "").isdigit():
        company = Company.objects.visible_to(request.user).filter(pk=request.GET["company"]).first()
    errors = {}
    if request.method == "POST":
        post = request.POST
        values = post.dict()
        data = {"title": post.get("title", ""), "amount": _money(post.get("amount") or "0"),
                "expected_close": parse_date(post.get("expected_close") or "") or None}
        for name in ("pipeline", "contact", "company"):
            if post.get(name, "").isdigit():
                data[f"{name}_id"] = int(post[name])
        try:
            with transaction.atomic():
                deal = services.create_deal(request.user, data)
            return redirect("sales:deal", deal.pk)
        except DomainError as exc:
            errors = ui.field_errors(exc)
    return render(request, "sales/deal_new.html", {
        "section": "deals", "values": values, "errors": errors, "contact": contact, "company": company,
        "pipelines": Pipeline.objects.alive().order_by("-is_default", "position")})
