"""Tasks and calendar screens: groups by urgency, one-click done/postpone/reassign, the week of meetings
rescheduled by drag with a confirmation for far moves."""

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.utils import timezone

from krug.activities.models import Call, Meeting, Task
from tests import factories
from tests.plans import sqlite_plan


def test_my_tasks_are_grouped_and_done_or_postponed_in_one_click(client, org):
    overdue = factories.task(org.manager, title="Просрочено", due_at=timezone.now() - dt.timedelta(days=2))
    factories.task(org.manager, title="Потом", due_at=timezone.now() + dt.timedelta(days=5))
    factories.task(org.colleague, title="Коллеги", due_at=timezone.now() + dt.timedelta(days=5))
    client.force_login(org.manager)
    page = client.get("/tasks/").content.decode()
    assert "Просрочено" in page and "Потом" in page and "Коллеги" not in page
    assert page.index("Просрочено") < page.index("Потом")
    client.post(f"/tasks/{overdue.pk}/postpone/", {"days": "3", "version": overdue.version})
    overdue.refresh_from_db()
    assert overdue.due_at > timezone.now() + dt.timedelta(days=2)
    client.post(f"/tasks/{overdue.pk}/done/", {"version": overdue.version})
    assert Task.objects.get(pk=overdue.pk).state == "done"
    assert "Просрочено" in client.get("/tasks/", {"state": "done"}).content.decode()


def test_a_head_sees_and_reassigns_his_teams_tasks_and_a_manager_cannot(client, org):
    task = factories.task(org.manager, title="Позвонить", due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(org.head)
    assert "Позвонить" in client.get("/tasks/", {"owner": org.manager.pk, "overdue": "1"}).content.decode()
    client.post(f"/tasks/{task.pk}/reassign/", {"owner": org.colleague.pk})
    assert Task.objects.get(pk=task.pk).owner_id == org.colleague.pk
    client.force_login(org.outsider)
    assert client.post(f"/tasks/{task.pk}/done/").status_code == 404


def test_a_bad_new_task_says_why_and_writes_nothing(client, org):
    client.force_login(org.manager)
    r = client.post("/tasks/new/", {"title": " "})
    assert r.status_code == 302 and "error=" in r["Location"]
    assert not Task.objects.exists()


def test_the_week_shows_meetings_and_calls_and_a_far_move_needs_confirmation(client, org):
    start = timezone.localtime().replace(hour=11, minute=0, second=0, microsecond=0)
    meeting = factories.meeting(org.manager, title="Презентация", starts_at=start,
                                ends_at=start + dt.timedelta(hours=1))
    factories.call(org.manager, result="missed", direction="in", started_at=start, duration_seconds=0)
    client.force_login(org.manager)
    page = client.get("/calendar/", {"week": start.date().isoformat()}).content.decode()
    assert "Презентация" in page and "cal-missed" in page
    far = (start + dt.timedelta(days=30)).date().isoformat()
    r = client.post(f"/calendar/meetings/{meeting.pk}/move/", {"day": far})
    assert r.status_code == 409 and "30" in json.loads(r.content)["confirm"]
    assert Meeting.objects.get(pk=meeting.pk).starts_at == meeting.starts_at
    r = client.post(f"/calendar/meetings/{meeting.pk}/move/", {"day": far, "confirm": "1"})
    moved = Meeting.objects.get(pk=meeting.pk)
    assert json.loads(r.content)["ok"] and timezone.localtime(moved.starts_at).date().isoformat() == far
    assert moved.ends_at - moved.starts_at == dt.timedelta(hours=1)
    near = (start + dt.timedelta(days=31)).date().isoformat()
    assert json.loads(client.post(f"/calendar/meetings/{meeting.pk}/move/", {"day": near}).content)["ok"]


def _titles(html: str) -> list[str]:
    return re.findall(r'<span class="task-title">([^<]*)</span>', html)


def test_a_long_group_shows_a_page_its_true_count_and_the_rest_on_show_more(client, org):
    now = timezone.now()
    for n in range(63):  # both pending states, due dates with ties, all overdue
        task = factories.task(org.manager, title=f"Долг {n:02d}", due_at=now - dt.timedelta(hours=100 - n // 2))
        if n % 3 == 0:
            Task.objects.filter(pk=task.pk).update(state=Task.State.POSTPONED)
    factories.task(org.manager, title="Завтра", due_at=now + dt.timedelta(days=2))
    client.force_login(org.manager)
    html = client.get("/tasks/").content.decode()
    first = _titles(html)
    assert first[:50] == [f"Долг {n:02d}" for n in range(50)] and "Завтра" in first
    assert '<span class="muted">63</span>' in html and "group=overdue" in html
    more = re.search(r'hx-get="\?([^"]+)"', html).group(1).replace("&amp;", "&")
    rest = client.get(f"/tasks/?{more}")
    assert rest.status_code == 200 and "<section" not in rest.content.decode()
    assert _titles(rest.content.decode()) == [f"Долг {n:02d}" for n in range(50, 63)]
    assert "hx-get" not in rest.content.decode()


def test_a_cursor_or_group_that_is_not_ours_is_a_bad_request(client, org):
    client.force_login(org.manager)
    assert client.get("/tasks/", {"group": "overdue", "cursor": "!!!"}).status_code == 400
    assert client.get("/tasks/", {"group": "no_date", "cursor": "bm90IGEgY3Vyc29y"}).status_code == 400
    assert client.get("/tasks/", {"group": "everything"}).status_code == 400
    assert client.get("/clients/contacts/", {"cursor": "!!!"}).status_code == 400


def test_a_busy_day_shows_forty_calls_and_counts_the_rest(client, org):
    from krug.activities.views import DAY_EVENTS

    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    for n in range(DAY_EVENTS + 3):
        factories.call(org.manager, started_at=noon + dt.timedelta(minutes=n))
    client.force_login(org.manager)
    html = client.get("/calendar/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert html.count('class="cal-event cal-call') == DAY_EVENTS
    assert "и ещё 3 звонка" in html
    english = client.get("/calendar/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "and 3 more calls" in english


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan, which follows from the schema alone")
def test_a_days_calls_and_the_done_tasks_are_read_in_order_from_their_indexes(org):
    from krug.activities.views import DAY_EVENTS, GROUP_PAGE

    begin = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    calls = (Call.objects.visible_to(org.manager).filter(owner=org.manager, started_at__gte=begin,
                                                         started_at__lt=begin + dt.timedelta(days=1))
             .order_by("started_at", "id")[:DAY_EVENTS + 1])
    plan = sqlite_plan(calls)
    assert "call_calendar_idx" in plan and "TEMP B-TREE" not in plan, plan
    done = (Task.objects.visible_to(org.manager).filter(owner=org.manager, state=Task.State.DONE)
            .order_by("-done_at", "-id")[:GROUP_PAGE + 1])
    plan = sqlite_plan(done)
    assert "task_done_idx" in plan and "TEMP B-TREE" not in plan, plan
