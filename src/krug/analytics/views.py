"""The dashboard: deals by stage, won this month vs last, overdue tasks per manager, new leads per source,
deals closing this month; every figure links down to its records."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krug.analytics import services
from krug.sales.models import Pipeline


@login_required
def dashboard(request):
    today = timezone.localdate()
    first, last = services.month_bounds(today)
    previous_first, previous_last = services.month_bounds(first - dt.timedelta(days=1))
    pipelines = Pipeline.objects.alive().order_by("-is_default", "position")
    chosen = request.GET.get("pipeline", "")
    pipeline = pipelines.filter(pk=chosen).first() if chosen.isdigit() else pipelines.first()
    won_now = services.won(request.user, first, last)
    won_before = services.won(request.user, previous_first, previous_last)
    context = {
        "section": "dashboard", "pipeline": pipeline, "pipelines": pipelines,
        "stages": services.deals_by_stage(request.user, pipeline) if pipeline else [],
        "won_now": won_now, "won_before": won_before,
        "won_change": services.change(won_now["amount"], won_before["amount"]),
        "overdue": services.overdue_by_manager(request.user, timezone.now()),
        "leads": services.leads_by_source(request.user, first), "first": first, "last": last,
        "closing": services.closing(request.user, first, last),
    }
    return render(request, "analytics/dashboard.html", context)


FIELD_LABELS = {"phone": _("Phone"), "email": _("E-mail"), "company": _("Company"), "position": _("Position"),
                "city": _("City"), "owner": _("Owner")}


def _trend_points(points: list[dict], width: int = 600, height: int = 80) -> str:
    """SVG polyline points of the clean share over the days (0 % at the bottom, 100 % at the top)."""
    if len(points) < 2:
        return ""
    step = width / (len(points) - 1)
    coords = []
    for i, p in enumerate(points):
        share = p["clean"] / p["total"] if p["total"] else 0
        coords.append(f"{i * step:.1f},{height - share * height:.1f}")
    return " ".join(coords)


@login_required
def data_health(request):
    """Data health for the user's scope: clean share, completeness, cleanup reasons, per manager, trend."""
    from krug.accounts.models import User
    from krug.quality import cleanup, health

    result = health.report(request.user)
    total = result["total"]
    names = {u.pk: u for u in User.objects.filter(pk__in=list(result["per_owner"]))}
    managers = sorted(((names[o], f) for o, f in result["per_owner"].items() if o in names),
                      key=lambda row: row[1]["clean_share"])
    points = health.history(request.user, 90)
    context = {
        "section": "dashboard", "health": total, "scope": result["scope"], "date": result["date"],
        "fields": [(FIELD_LABELS[f], round(total["completeness_share"][f] * 100)) for f in health.FIELDS],
        "rules": [(r, total["flagged"].get(r.key, 0)) for r in cleanup.RULES],
        "managers": managers if result["scope"] != "own" else [], "trend": _trend_points(points),
        "trend_from": points[0]["date"] if points else None, "trend_days": len(points),
    }
    return render(request, "analytics/health.html", context)


urlpatterns = [path("", dashboard, name="dashboard"), path("data-health/", data_health, name="health")]
