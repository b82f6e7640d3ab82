"""Tasks: created for oneself or a colleague, derived overdue, completed and postponed in a click."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from krug.activities.models import Task
from krug.clients.models import TimelineEvent
from tests import factories


def iso(moment):
    return moment.isoformat()


def test_manager_creates_a_task_on_his_contact_and_it_lands_on_the_timeline(api_as, org):
    company = factories.company(org.manager)
    contact = factories.contact(org.manager, company_id=company.pk)
    due = timezone.now() + dt.timedelta(days=1)
    r = api_as("manager").post("/tasks", {"title": "Отправить КП", "contact_id": contact.pk,
                                          "due_at": iso(due), "priority": "high"})
    assert r.status_code == 201, r.body
    task = r.body
    assert task["owner_id"] == org.manager.pk
    assert task["company_id"] == company.pk, "the contact brings its company"
    assert task["contact_name"] == str(contact)
    assert (task["state"], task["priority"], task["is_overdue"]) == ("open", "high", False)
    event = TimelineEvent.objects.get(kind="task", source_id=task["id"])
    assert event.contact_id == contact.pk and "Отправить КП" in event.summary


def test_a_task_needs_a_title_and_known_choices(api_as):
    api = api_as("manager")
    r = api.post("/tasks", {"title": "  "})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "title"
    r = api.post("/tasks", {"title": "Позвонить", "priority": "urgent"})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "priority"
    assert not Task.objects.exists()


def test_a_contact_the_user_cannot_see_is_no_such_contact(api_as, org):
    strangers = factories.contact(org.outsider)
    r = api_as("manager").post("/tasks", {"title": "Позвонить", "contact_id": strangers.pk})
    assert r.status_code == 422
    assert r.body["errors"][0] == {"field": "contact_id", "message": "no such contact"}


def test_a_task_past_its_due_time_is_overdue_and_found_by_the_filter(api_as, org):
    now = timezone.now()
    late = factories.task(org.manager, title="Просрочена", due_at=now - dt.timedelta(hours=2))
    postponed_late = factories.task(org.manager, title="Отложена", due_at=now - dt.timedelta(hours=1),
                                    state="postponed")
    done_late = factories.task(org.manager, title="Сделана", due_at=now - dt.timedelta(days=1), state="done")
    future = factories.task(org.manager, title="Завтра", due_at=now + dt.timedelta(days=1))
    undated = factories.task(org.manager, title="Когда-нибудь", due_at=None)
    api = api_as("manager")
    overdue = api.get("/tasks", overdue="true").body["items"]
    assert {t["id"] for t in overdue} == {late.pk, postponed_late.pk}
    assert all(t["is_overdue"] for t in overdue)
    rest = api.get("/tasks", overdue="false").body["items"]
    assert {t["id"] for t in rest} == {done_late.pk, future.pk, undated.pk}
    assert not any(t["is_overdue"] for t in rest)
    assert late.is_overdue and not done_late.is_overdue and not undated.is_overdue


def test_tasks_filter_by_state_priority_due_range_and_contact(api_as, org):
    now = timezone.now()
    contact = factories.contact(org.manager)
    on_contact = factories.task(org.manager, contact_id=contact.pk, priority="high",
                                due_at=now + dt.timedelta(days=3))
    factories.task(org.manager, due_at=now + dt.timedelta(days=10))
    api = api_as("manager")
    assert [t["id"] for t in api.get("/tasks", contact=contact.pk).body["items"]] == [on_contact.pk]
    assert [t["id"] for t in api.get("/tasks", priority="high").body["items"]] == [on_contact.pk]
    in_week = api.get("/tasks", due_from=iso(now), due_to=iso(now + dt.timedelta(days=7))).body["items"]
    assert [t["id"] for t in in_week] == [on_contact.pk]
    assert len(api.get("/tasks", state="open").body["items"]) == 2
    assert api.get("/tasks", state="done").body["items"] == []


def test_completing_a_task_marks_it_done_and_says_so_on_the_timeline(api_as, org):
    contact = factories.contact(org.manager)
    task = factories.task(org.manager, contact_id=contact.pk, due_at=timezone.now() - dt.timedelta(hours=1))
    api = api_as("manager")
    r = api.post(f"/tasks/{task.pk}/complete", {"version": task.version})
    assert r.status_code == 200, r.body
    assert r.body["state"] == "done" and r.body["done_at"] and not r.body["is_overdue"]
    assert TimelineEvent.objects.filter(kind="task_done", source_id=task.pk, contact=contact).count() == 1
    again = api.post(f"/tasks/{task.pk}/complete")
    assert again.status_code == 200
    assert again.body["version"] == r.body["version"], "completing twice is a no-op"
    assert TimelineEvent.objects.filter(kind="task_done", source_id=task.pk).count() == 1


def test_postponing_moves_the_due_time_and_the_task_is_no_longer_overdue(api_as, org):
    task = factories.task(org.manager, due_at=timezone.now() - dt.timedelta(hours=1))
    until = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    r = api_as("manager").post(f"/tasks/{task.pk}/postpone", {"until": iso(until)})
    assert r.status_code == 200, r.body
    assert r.body["state"] == "postponed" and not r.body["is_overdue"]
    assert dt.datetime.fromisoformat(r.body["due_at"]) == until


def test_postponing_into_the_past_or_a_done_task_is_refused(api_as, org):
    api = api_as("manager")
    task = factories.task(org.manager)
    r = api.post(f"/tasks/{task.pk}/postpone", {"until": iso(timezone.now() - dt.timedelta(hours=1))})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "until"
    api.post(f"/tasks/{task.pk}/complete")
    r = api.post(f"/tasks/{task.pk}/postpone", {"until": iso(timezone.now() + dt.timedelta(days=1))})
    assert r.status_code == 409


def test_stale_version_gets_409_and_changes_nothing(api_as, org):
    task = factories.task(org.manager)
    api = api_as("manager")
    first = api.patch(f"/tasks/{task.pk}", {"version": task.version, "title": "Новая"})
    assert first.status_code == 200 and first.body["version"] == task.version + 1
    stale = api.patch(f"/tasks/{task.pk}", {"version": task.version, "title": "Старая"})
    assert stale.status_code == 409 and stale.body["current_version"] == task.version + 1
    assert api.post(f"/tasks/{task.pk}/complete", {"version": task.version}).status_code == 409
    now = api.get(f"/tasks/{task.pk}").body
    assert (now["title"], now["state"]) == ("Новая", "open")


def test_manager_cannot_give_his_task_to_a_colleague_but_his_head_can(api_as, org):
    task = factories.task(org.manager)
    r = api_as("manager").patch(f"/tasks/{task.pk}", {"owner_id": org.colleague.pk})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "owner_id"
    r = api_as("head").patch(f"/tasks/{task.pk}", {"owner_id": org.colleague.pk})
    assert r.status_code == 200 and r.body["owner_id"] == org.colleague.pk
    assert api_as("colleague").get(f"/tasks/{task.pk}").status_code == 200
    assert api_as("manager").get(f"/tasks/{task.pk}").status_code == 404


def test_task_list_costs_the_same_queries_for_3_and_30_tasks(api_as, org, django_assert_num_queries):
    api = api_as("manager")
    company = factories.company(org.manager)
    contact = factories.contact(org.manager, company_id=company.pk)

    def make(n):
        for i in range(n):
            factories.task(org.manager, title=f"Задача {i}", contact_id=contact.pk)

    make(3)
    assert len(api.get("/tasks").body["items"]) == 3  # warm caches (content types) before counting
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/tasks").body["items"]) == 3
    make(27)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(api.get("/tasks").body["items"]) == 30
