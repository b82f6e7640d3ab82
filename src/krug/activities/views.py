"""Tasks and the calendar: my tasks by urgency with done/postpone/reassign in one click, and a week of
calls and meetings for me or my team, rescheduled by dragging (with a warning for far moves)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from krug.activities import services
from krug.activities.models import Call, Meeting, Task
from krug.core import permissions, records
from krug.core.errors import DomainError, NotFound
from krug.core.pagination import decode_cursor_as, encode_cursor, page
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


GROUP_PAGE = 50
GROUP_COUNT_CAP = 1000  # "1,000+" says enough about a group, and counting further costs every visit


def _dated_group(pending, cursor: str | None) -> tuple[list[Task], str | None]:
    """A page of a dated group, the soonest first, and the cursor of the next page."""
    after = decode_cursor_as(cursor, Task._meta.get_field("due_at")) if cursor else None
    rows = services.soonest_due(pending, GROUP_PAGE + 1, after)
    if len(rows) <= GROUP_PAGE:
        return rows, None
    last = rows[GROUP_PAGE - 1]
    return rows[:GROUP_PAGE], encode_cursor([last.due_at.isoformat(), last.pk])


def _task_groups(request, mine, now, end_of_day) -> list[dict]:
    """The tasks page's groups: each a page of its tasks, how many it holds (counted up to a cap) and the
    cursor of its next page. With ?group=, only that group, from ?cursor= (the "show more" of one group)."""
    pending = mine.filter(state__in=Task.PENDING)
    if request.GET.get("state") == "done":
        wanted = {"done": mine.filter(state=Task.State.DONE)}
    else:
        wanted = {"overdue": pending.filter(due_at__lt=now)}
        if request.GET.get("overdue") != "1":
            wanted |= {"today": pending.filter(due_at__gte=now, due_at__lt=end_of_day),
                       "upcoming": pending.filter(due_at__gte=end_of_day),
                       "no_date": pending.filter(due_at__isnull=True)}
    only = request.GET.get("group")
    if only:
        if only not in wanted:
            raise BadRequest(_("unknown group"))
        wanted = {only: wanted[only]}
    groups = []
    for key, qs in wanted.items():
        cursor = request.GET.get("cursor") if only else None
        if key in ("done", "no_date"):
            rows, next_cursor = page(qs, order="-done_at" if key == "done" else "-id", cursor=cursor,
                                     limit=GROUP_PAGE)
        else:
            rows, next_cursor = _dated_group(qs, cursor)
        count, capped = (None, False) if only else ui.capped_count(qs, GROUP_COUNT_CAP)
        groups.append({"key": key, "items": rows, "count": count, "capped": capped,
                       "more": ui.querystring(request, group=key, cursor=next_cursor) if next_cursor else ""})
    return groups


@login_required
def tasks(request):
    now = timezone.localtime()
    end_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    mine = _whose(request, Task.objects.visible_to(request.user)).select_related("contact", "company", "deal",
                                                                                 "owner")
    with ui.cursor_errors_are_bad_requests():
        groups = _task_groups(request, mine, now, end_of_day)
    context = {"section": "tasks", "groups": groups, "filters": request.GET, "now": now,
               "owners": ui.assignable_users(request.user), "tomorrow": end_of_day + dt.timedelta(hours=10),
               "error": request.GET.get("error", "")}
    if request.GET.get("group"):
        return render(request, "activities/_task_rows.html", {**context, "group": groups[0]})
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


DAY_EVENTS = 40  # of each kind a day shows; the rest are counted


def _of_day(qs, field: str, day: dt.date) -> tuple[list, int]:
    """The first DAY_EVENTS of `qs` on `day` by `field`, and how many more there are. A team's week can hold
    thousands of calls: showing them all took seconds and showed nothing."""
    begin = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    of_day = qs.filter(**{f"{field}__gte": begin, f"{field}__lt": begin + dt.timedelta(days=1)})
    rows = list(of_day.select_related("contact", "company", "owner").order_by(field, "id")[:DAY_EVENTS + 1])
    if len(rows) <= DAY_EVENTS:
        return rows, 0
    return rows[:DAY_EVENTS], of_day.count() - DAY_EVENTS


@login_required
def calendar(request):
    today = timezone.localdate()
    start = parse_date(request.GET.get("week") or "") or today
    start -= dt.timedelta(days=start.weekday())
    days = [start + dt.timedelta(days=i) for i in range(7)]
    meetings = _whose(request, Meeting.objects.visible_to(request.user))
    calls = _whose(request, Call.objects.visible_to(request.user))
    columns = []
    for day in days:
        shown_meetings, more_meetings = _of_day(meetings, "starts_at", day)
        shown_calls, more_calls = _of_day(calls, "started_at", day)
        events = [("meeting", timezone.localtime(m.starts_at), m) for m in shown_meetings]
        events += [("call", timezone.localtime(c.started_at), c) for c in shown_calls]
        columns.append({"day": day, "today": day == today, "events": sorted(events, key=lambda e: e[1]),
                        "more_meetings": more_meetings, "more_calls": more_calls})
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
