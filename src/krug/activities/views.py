"""Tasks and the calendar: my tasks by urgency with done/postpone/reassign in one click, and a week of
calls and meetings for me or my team, rescheduled by dragging (with a warning for far moves)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_POST

from krug.activities import services
from krug.activities.models import Call, Meeting, Task
from krug.core import permissions, records
from krug.core.errors import DomainError, NotFound
from krug.core.permissions import Role, role_of
from krug.web import ui


def _get(request, model, pk, action=permissions.VIEW):
    try:
        return records.get_for(request.user, model, pk, action)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _whose(request, qs):
    """Filter by ?owner= / ?team= (a head or admin looking at colleagues); by default the user's own."""
    owner, team = request.GET.get("owner", ""), request.GET.get("team", "")
    if team.isdigit() and role_of(request.user) in (Role.HEAD, Role.ADMIN):
        return qs.filter(owner__team=team)
    if owner == "all" and role_of(request.user) in (Role.HEAD, Role.ADMIN):
        return qs
    if owner.isdigit():
        return qs.filter(owner=owner)
    return qs.filter(owner=request.user)


@login_required
def tasks(request):
    now = timezone.localtime()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end_of_day = start_of_day + dt.timedelta(days=1)
    mine = _whose(request, Task.objects.visible_to(request.user)).select_related("contact", "company", "deal",
                                                                                 "owner")
    if request.GET.get("state") == "done":
        groups = [("done", list(mine.filter(state=Task.State.DONE).order_by("-done_at")[:100]))]
    else:
        pending = mine.filter(state__in=Task.PENDING)
        groups = [("overdue", services.soonest_due(pending.filter(due_at__lt=now), 200))]
        if request.GET.get("overdue") != "1":
            groups += [("today", services.soonest_due(pending.filter(due_at__gte=now, due_at__lt=end_of_day))),
                       ("upcoming", services.soonest_due(pending.filter(due_at__gte=end_of_day), 200)),
                       ("no_date", list(pending.filter(due_at__isnull=True).order_by("-id")[:100]))]
    context = {"section": "tasks", "groups": groups, "filters": request.GET, "now": now,
               "owners": ui.assignable_users(request.user), "tomorrow": start_of_day + dt.timedelta(days=1, hours=10),
               "error": request.GET.get("error", "")}
    return render(request, "activities/tasks.html", context)


def _back(request, error: str = ""):
    target = request.POST.get("next") or "/tasks/"
    if error:
        from urllib.parse import urlencode
        target += ("&" if "?" in target else "?") + urlencode({"error": error})
    return redirect(target)


@login_required
@require_POST
def task_action(request, pk, action):
    task = _get(request, Task, pk, permissions.CHANGE)
    version = int(request.POST["version"]) if request.POST.get("version", "").isdigit() else None
    try:
        with transaction.atomic():
            if action == "done":
                services.complete_task(request.user, task, version)
            elif action == "postpone":
                days = int(request.POST.get("days") or 1)
                base = max(task.due_at or timezone.now(), timezone.now())
                services.postpone_task(request.user, task, base + dt.timedelta(days=days), version)
            elif action == "reassign":
                services.update_task(request.user, task, {"owner_id": int(request.POST.get("owner") or 0)},
                                     version)
            else:
                raise Http404(action)
    except DomainError as exc:
        return _back(request, exc.message)
    return _back(request)


@login_required
@require_POST
def task_new(request):
    post = request.POST
    due = parse_datetime(post.get("due_at") or "")
    if due is not None and timezone.is_naive(due):
        due = timezone.make_aware(due)
    try:
        with transaction.atomic():
            services.create_task(request.user, {"title": post.get("title", ""), "due_at": due,
                                                "priority": post.get("priority", "normal")})
    except DomainError as exc:
        return _back(request, exc.message)
    return _back(request)


@login_required
def calendar(request):
    today = timezone.localdate()
    start = parse_date(request.GET.get("week") or "") or today
    start -= dt.timedelta(days=start.weekday())
    days = [start + dt.timedelta(days=i) for i in range(7)]
    begin = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    end = begin + dt.timedelta(days=7)
    meetings = _whose(request, Meeting.objects.visible_to(request.user)).filter(starts_at__gte=begin, starts_at__lt=end)
    calls = _whose(request, Call.objects.visible_to(request.user)).filter(started_at__gte=begin, started_at__lt=end)
    by_day = {d: [] for d in days}
    for m in meetings.select_related("contact", "company", "owner"):
        by_day[timezone.localtime(m.starts_at).date()].append(("meeting", timezone.localtime(m.starts_at), m))
    for c in calls.select_related("contact", "company", "owner"):
        by_day[timezone.localtime(c.started_at).date()].append(("call", timezone.localtime(c.started_at), c))
    columns = [{"day": d, "today": d == today, "events": sorted(by_day[d], key=lambda e: e[1])} for d in days]
    context = {"section": "calendar", "columns": columns, "start": start, "filters": request.GET,
               "previous": (start - dt.timedelta(days=7)).isoformat(),
               "next": (start + dt.timedelta(days=7)).isoformat(),
               "owners": ui.assignable_users(request.user), "team": getattr(request.user, "team_id", None)}
    return render(request, "activities/calendar.html", context)


@login_required
@require_POST
def meeting_move(request, pk):
    """Reschedule a meeting to another day (same time) or to a given start; far moves ask to confirm."""
    meeting = _get(request, Meeting, pk, permissions.CHANGE)
    post = request.POST
    starts = parse_datetime(post.get("starts_at") or "")
    if starts is None and parse_date(post.get("day") or ""):
        local = timezone.localtime(meeting.starts_at)
        starts = dt.datetime.combine(parse_date(post["day"]), local.time())
    if starts is None:
        return JsonResponse({"ok": False, "reason": "starts_at: required"}, status=422)
    if timezone.is_naive(starts):
        starts = timezone.make_aware(starts)
    version = int(post["version"]) if post.get("version", "").isdigit() else None
    try:
        with transaction.atomic():
            services.reschedule_meeting(request.user, meeting, starts, confirm=post.get("confirm") == "1",
                                        version=version)
    except services.FarMoveNeedsConfirmation as exc:
        return JsonResponse({"ok": False, "confirm": exc.message}, status=409)
    except DomainError as exc:
        return JsonResponse({"ok": False, "reason": exc.message}, status=422)
    meeting.refresh_from_db()
    return JsonResponse({"ok": True, "version": meeting.version})


urlpatterns = [
    path("tasks/", tasks, name="tasks"),
    path("tasks/new/", task_new, name="task_new"),
    path("tasks/<int:pk>/<str:action>/", task_action, name="task_action"),
    path("calendar/", calendar, name="calendar"),
    path("calendar/meetings/<int:pk>/move/", meeting_move, name="meeting_move"),
]
