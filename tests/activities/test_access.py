"""Who sees and changes activities: whoever sees the client sees its touchpoints; only the owner, his
head and admins change them; only heads and admins delete."""

from krug.clients.models import TimelineEvent
from tests import factories


def test_a_manager_sees_a_colleagues_call_on_his_contact_but_cannot_edit_it(api_as, org):
    contact = factories.contact(org.manager)
    call = factories.call(org.head, contact_id=contact.pk, owner_id=org.colleague.pk)
    manager = api_as("manager")
    assert call.pk in [c["id"] for c in manager.get("/calls").body["items"]]
    assert manager.get(f"/calls/{call.pk}").status_code == 200
    assert manager.patch(f"/calls/{call.pk}", {"summary": "Моё"}).status_code == 403
    assert api_as("colleague").patch(f"/calls/{call.pk}", {"summary": "Обсудили"}).status_code == 200
    assert api_as("outsider").get(f"/calls/{call.pk}").status_code == 404
    assert call.pk not in [c["id"] for c in api_as("outsider").get("/calls").body["items"]]


def test_a_manager_cannot_delete_even_his_own_activity(api_as, org):
    note = factories.note(org.manager)
    assert api_as("manager").delete(f"/notes/{note.pk}").status_code == 403
    assert api_as("manager").get(f"/notes/{note.pk}").status_code == 200


def test_a_head_deletes_an_activity_and_it_leaves_the_timeline(api_as, org):
    contact = factories.contact(org.manager)
    call = factories.call(org.manager, contact_id=contact.pk, direction="in", result="missed")
    note = factories.note(org.manager, contact_id=contact.pk)
    manager = api_as("manager")
    assert len(manager.get(f"/contacts/{contact.pk}/timeline", kind=["call", "note"]).body["items"]) == 2
    assert api_as("head").delete(f"/calls/{call.pk}").status_code == 204
    feed = manager.get(f"/contacts/{contact.pk}/timeline", kind=["call", "note"]).body["items"]
    assert [e["source_id"] for e in feed] == [note.pk]
    assert TimelineEvent.objects.get(kind="call", source_id=call.pk).hidden
    assert manager.get(f"/calls/{call.pk}").status_code == 404


def test_moving_an_activity_to_another_contact_moves_its_timeline_entry(api_as, org):
    first, second = factories.contact(org.manager), factories.contact(org.manager, surname="Второй")
    note = factories.note(org.manager, contact_id=first.pk)
    r = api_as("manager").patch(f"/notes/{note.pk}", {"contact_id": second.pk})
    assert r.status_code == 200, r.body
    assert TimelineEvent.objects.get(kind="note", source_id=note.pk).contact_id == second.pk
