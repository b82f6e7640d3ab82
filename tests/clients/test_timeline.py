"""The client card's timeline: every touchpoint in one feed, newest first, paginated by cursor."""

import datetime as dt

from django.utils import timezone

from tests import factories


def test_every_kind_of_touchpoint_lands_on_the_contacts_and_the_companys_timeline(api_as, org):
    api = api_as("manager")
    company = factories.company(org.manager, name="Меридиан")
    contact = factories.contact(org.manager, company_id=company.pk)
    deal = api.post("/deals", {"title": "Поставка", "amount": 1000, "contact_id": contact.pk}).body
    stages = api.get(f"/pipelines/{deal['pipeline_id']}").body["stages"]
    api.post(f"/deals/{deal['id']}/move", {"stage_id": stages[1]["id"]})
    task = api.post("/tasks", {"title": "Перезвонить", "contact_id": contact.pk,
                               "due_at": (timezone.now() + dt.timedelta(days=1)).isoformat()}).body
    api.post(f"/tasks/{task['id']}/complete", {})
    api.post("/calls", {"contact_id": contact.pk, "direction": "in", "result": "missed",
                        "started_at": timezone.now().isoformat()})
    start = timezone.now() + dt.timedelta(days=3)
    api.post("/meetings", {"title": "Презентация", "contact_id": contact.pk, "starts_at": start.isoformat(),
                           "ends_at": (start + dt.timedelta(hours=1)).isoformat()})
    api.post("/notes", {"text": "Просят скидку", "contact_id": contact.pk})
    api.patch(f"/contacts/{contact.pk}", {"position": "Директор"})

    kinds = [e["kind"] for e in api.get(f"/contacts/{contact.pk}/timeline", limit=200).body["items"]]
    expected = {"created", "deal", "stage", "task", "task_done", "call", "meeting", "note", "changed"}
    assert expected <= set(kinds), kinds
    assert kinds[0] == "changed", "newest first"
    company_kinds = {e["kind"] for e in api.get(f"/companies/{company.pk}/timeline", limit=200).body["items"]}
    assert expected - {"changed"} <= company_kinds, "the company card shows its people's touchpoints"
    missed = api.get(f"/contacts/{contact.pk}/timeline", kind="call").body["items"]
    assert len(missed) == 1 and missed[0]["data"].get("result") == "missed", missed


def test_the_timeline_pages_by_cursor_without_gaps_or_repeats(api_as, org):
    contact = factories.contact(org.manager)
    for i in range(7):
        factories.note(org.manager, contact_id=contact.pk, text=f"Заметка {i}")
    api = api_as("manager")
    seen, cursor = [], None
    while True:
        body = api.get(f"/contacts/{contact.pk}/timeline", limit=3, **({"cursor": cursor} if cursor else {})).body
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 8  # 7 notes and the contact's creation
