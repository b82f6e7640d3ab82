"""The dashboard: deals by stage, won this month vs last, overdue tasks per manager, new leads per source,
deals closing this month; every figure links down to its records."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

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


urlpatterns = [path("", dashboard, name="dashboard")]
