"""Meetings and notes: checked times and texts, on the timeline, counted as contacts."""

import datetime as dt

from django.utils import timezone

from krug.activities.models import Meeting, Note
from krug.clients.models import Contact, TimelineEvent
from tests import factories


def test_a_meeting_is_planned_for_an_hour_by_default_and_lands_on_the_timeline(api_as, org):
    contact = factories.contact(org.manager)
    starts = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    r = api_as("manager").post("/meetings", {"title": "Презентация", "starts_at": starts.isoformat(),
                                             "contact_id": contact.pk, "location": "Офис клиента"})
    assert r.status_code == 201, r.body
    assert dt.datetime.fromisoformat(r.body["ends_at"]) == starts + dt.timedelta(hours=1)
    assert r.body["state"] == "planned"
    assert TimelineEvent.objects.filter(kind="meeting", source_id=r.body["id"], contact=contact).exists()
    assert Contact.objects.get(pk=contact.pk).last_contact_at is None, "planned is not a contact yet"


def test_a_meeting_ending_before_it_starts_is_refused_naming_ends_at(api_as, org):
    starts = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    api = api_as("manager")
    r = api.post("/meetings", {"title": "Встреча", "starts_at": starts.isoformat(),
                               "ends_at": (starts - dt.timedelta(minutes=30)).isoformat()})
    assert r.status_code == 422
    assert r.body["errors"][0]["field"] == "ends_at"
    meeting = factories.meeting(org.manager)
    r = api.patch(f"/meetings/{meeting.pk}", {"ends_at": meeting.starts_at.isoformat()})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "ends_at"
    assert Meeting.objects.count() == 1


def test_a_held_meeting_becomes_the_last_contact(api_as, org):
    contact = factories.contact(org.manager)
    starts = timezone.now() - dt.timedelta(hours=2)
    meeting = factories.meeting(org.manager, contact_id=contact.pk, starts_at=starts,
                                ends_at=starts + dt.timedelta(hours=1))
    r = api_as("manager").patch(f"/meetings/{meeting.pk}", {"state": "held", "outcome": "Договорились о КП"})
    assert r.status_code == 200, r.body
    assert Contact.objects.get(pk=contact.pk).last_contact_at == starts


def test_meetings_filter_by_start_range_for_the_calendar(api_as, org):
    now = timezone.now()
    soon = factories.meeting(org.manager, starts_at=now + dt.timedelta(days=1),
                             ends_at=now + dt.timedelta(days=1, hours=1))
    factories.meeting(org.manager, starts_at=now + dt.timedelta(days=20),
                      ends_at=now + dt.timedelta(days=20, hours=1))
    week = api_as("manager").get("/meetings", starts_from=now.isoformat(),
                                 starts_to=(now + dt.timedelta(days=7)).isoformat()).body["items"]
    assert [m["id"] for m in week] == [soon.pk]


def test_a_note_lands_on_the_timeline_and_counts_as_a_contact(api_as, org):
    contact = factories.contact(org.manager)
    r = api_as("manager").post("/notes", {"text": "Клиент просил перезвонить после праздников",
                                          "contact_id": contact.pk})
    assert r.status_code == 201, r.body
    event = TimelineEvent.objects.get(kind="note", source_id=r.body["id"])
    assert "перезвонить" in event.summary
    assert Contact.objects.get(pk=contact.pk).last_contact_at is not None


def test_a_note_needs_text_of_at_most_20000_characters(api_as):
    api = api_as("manager")
    for text in ("   ", "я" * 20001):
        r = api.post("/notes", {"text": text})
        assert r.status_code == 422 and r.body["errors"][0]["field"] == "text"
    assert not Note.objects.exists()
    assert api.post("/notes", {"text": "я" * 20000}).status_code == 201
