"""The `api` benchmark times the product on a base it reads as its own: every kind of activity, with the
timeline events and the last contact its service would write, and the manager's agenda beside the other
scenarios."""

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from krug.accounts import services as accounts
from krug.accounts.models import User
from krug.activities import services
from krug.activities.models import Call, Meeting, Note, Task
from krug.clients.models import Contact, TimelineEvent

EVENT_KIND = {Task: "task", Call: "call", Meeting: "meeting", Note: "note"}


def _events_of(model) -> dict[int, list[TimelineEvent]]:
    out: dict[int, list[TimelineEvent]] = {}
    for e in TimelineEvent.objects.filter(source_type=ContentType.objects.get_for_model(model)).order_by("id"):
        out.setdefault(e.source_id, []).append(e)
    return out


def _assert_activities_as_the_services_write_them() -> None:
    for model, kind in EVENT_KIND.items():
        activities = list(model.objects.select_related("contact"))
        assert activities, f"no {kind} loaded"
        events = _events_of(model)
        assert set(events) == {a.pk for a in activities}
        for a in activities:
            assert a.owner_id == a.contact.owner_id == a.created_by_id and a.company_id == a.contact.company_id
            first = events[a.pk][0]
            assert (first.kind, first.contact_id, first.company_id, first.deal_id, first.actor_id) == (
                kind, a.contact_id, a.company_id, a.deal_id, a.owner_id)
            assert first.at <= timezone.now()
    tasks = Task.objects.all()
    task_events = _events_of(Task)
    for task in tasks:  # a postponed task's entry keeps the due time it was created with, as the service's does
        if task.state != Task.State.POSTPONED:
            assert task_events[task.pk][0].summary == services._task_summary(task)
        assert [e.kind for e in task_events[task.pk]] == ["task"] + (["task_done"] if task.state == "done" else [])
    for model, summary in ((Call, services._call_summary), (Meeting, services._meeting_summary),
                           (Note, services._note_summary)):
        events = _events_of(model)
        assert all(events[a.pk][0].summary == summary(a) for a in model.objects.all())
    assert {c.phone[:2] for c in Call.objects.all()} == {"+7"}
    now = timezone.now()
    assert tasks.filter(Task.overdue_q(now)).exists() and tasks.filter(state="open", due_at__gt=now).exists()
    assert tasks.filter(state="done").exists() and tasks.filter(deal__isnull=False).exists()


def _assert_last_contact_follows_the_touchpoints() -> None:
    """As `_touch_contact` keeps it: a call that reached the client, a held meeting, a note."""
    touched: dict[int, list] = {}
    for call in Call.objects.all():
        if call.direction == Call.Direction.IN or call.result == Call.Result.ANSWERED:
            touched.setdefault(call.contact_id, []).append(call.started_at)
    for meeting in Meeting.objects.filter(state=Meeting.State.HELD):
        touched.setdefault(meeting.contact_id, []).append(meeting.starts_at)
    for note in Note.objects.all():
        touched.setdefault(note.contact_id, []).append(note.created_at)
    last = dict(Contact.objects.values_list("id", "last_contact_at"))
    assert last == {pk: max(touched[pk]) if pk in touched else None for pk in last}
    assert any(last.values())


def test_the_api_benchmark_loads_activities_the_product_reads_and_times_the_agenda(org, client):
    from bench import api

    result = api.measure(60, 3, repeat=2)

    assert Contact.objects.count() == 60
    loaded = result["activities"]
    assert sum(loaded[k] for k in ("task", "call", "meeting", "note")) == sum(
        m.objects.count() for m in EVENT_KIND) > 60  # about three a contact
    assert loaded["timeline events"] == TimelineEvent.objects.exclude(kind="created").count()
    contact_type = ContentType.objects.get_for_model(Contact)
    assert set(TimelineEvent.objects.filter(source_type=contact_type).values_list("kind", flat=True)) == {"created"}
    _assert_activities_as_the_services_write_them()
    _assert_last_contact_follows_the_touchpoints()

    scenarios = {r["scenario"]: r for r in result["rows"]}
    assert "task list (my open tasks by due date)" in scenarios and len(scenarios) == 12
    unpaired = [name for name in scenarios if name.startswith("screen: ") or name == "task list (everything he sees)"]
    assert len(unpaired) == 6 and all(scenarios[name]["sql_p50"] is None for name in unpaired)
    assert all(r["p50"] > 0 and (r["sql_p50"] or name in unpaired) for name, r in scenarios.items())
    assert "tasks" in api.table(result).splitlines()[0] and "screen: calendar week | " in api.table(result)

    manager = User.objects.get(username="bench-0")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {accounts.issue_token(manager)}"}
    contact = Contact.objects.filter(owner=manager, calls__isnull=False, notes__isnull=False).first()
    response = client.get(f"/api/v1/contacts/{contact.pk}/timeline", **headers)
    assert response.status_code == 200
    kinds = [item["kind"] for item in response.json()["items"]]
    assert {"created", "call", "note"} <= set(kinds)
    response = client.get("/api/v1/tasks", {"owner": manager.pk, "state": ["open", "postponed"]}, **headers)
    assert response.status_code == 200
    pending = {t.pk: t.is_overdue for t in Task.objects.filter(owner=manager, state__in=Task.PENDING)}
    assert pending and {t["id"]: t["is_overdue"] for t in response.json()["items"]} == pending
