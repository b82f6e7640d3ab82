"""Tasks and calendar screens: groups by urgency, one-click done/postpone/reassign, the week of meetings
rescheduled by drag with a confirmation for far moves."""

import datetime as dt
import json

from django.utils import timezone

from krug.activities.models import Meeting, Task
from tests import factories


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
