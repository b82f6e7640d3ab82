"""Calls: logged with a clean phone, on the client's timeline, counted as the last contact."""

import datetime as dt

import pytest
from django.utils import timezone

from krug.activities.models import Call
from krug.clients.models import Contact, TimelineEvent
from tests import factories


def test_a_call_is_logged_with_its_phone_in_e164(api_as, org):
    contact = factories.contact(org.manager)
    r = api_as("manager").post("/calls", {"direction": "out", "result": "answered", "contact_id": contact.pk,
                                          "phone": "8 (912) 345-67-89", "duration_seconds": 95,
                                          "recording_url": "https://pbx.example.com/rec/1.mp3"})
    assert r.status_code == 201, r.body
    assert r.body["phone"] == "+79123456789"
    assert r.body["owner_id"] == org.manager.pk
    event = TimelineEvent.objects.get(kind="call", source_id=r.body["id"])
    assert event.summary.startswith("Outgoing call") and event.data["duration_seconds"] == 95


def test_a_missed_incoming_call_lands_on_the_contact_timeline(api_as, org):
    contact = factories.contact(org.manager)
    api = api_as("manager")
    r = api.post("/calls", {"direction": "in", "result": "missed", "contact_id": contact.pk,
                            "phone": "+7 912 345-67-89"})
    assert r.status_code == 201, r.body
    feed = api.get(f"/contacts/{contact.pk}/timeline", kind="call").body["items"]
    assert len(feed) == 1
    assert feed[0]["summary"].startswith("Missed incoming call")
    assert feed[0]["source_id"] == r.body["id"]


def test_an_answered_call_becomes_the_last_contact_but_an_unanswered_outgoing_one_does_not(org):
    contact = factories.contact(org.manager)
    factories.call(org.manager, contact_id=contact.pk, result="no_answer")
    assert Contact.objects.get(pk=contact.pk).last_contact_at is None
    started = timezone.now() - dt.timedelta(hours=3)
    factories.call(org.manager, contact_id=contact.pk, started_at=started)
    assert Contact.objects.get(pk=contact.pk).last_contact_at == started


def test_negative_duration_is_refused_naming_the_field(api_as):
    r = api_as("manager").post("/calls", {"direction": "out", "duration_seconds": -5})
    assert r.status_code == 422
    assert r.body["errors"][0]["field"] == "duration_seconds"
    assert not Call.objects.exists()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://pbx.example.com/1.mp3", "/rec/1.mp3",
                                 "https://"])
def test_a_recording_must_be_an_http_address(api_as, url):
    r = api_as("manager").post("/calls", {"direction": "in", "recording_url": url})
    assert r.status_code == 422
    assert r.body["errors"][0]["field"] == "recording_url"


def test_a_bad_phone_or_direction_is_refused_naming_the_field(api_as):
    api = api_as("manager")
    assert api.post("/calls", {"direction": "in", "phone": "12345"}).body["errors"][0]["field"] == "phone"
    assert api.post("/calls", {"direction": "sideways"}).body["errors"][0]["field"] == "direction"


def test_calls_filter_by_direction_result_and_start_time(api_as, org):
    now = timezone.now()
    missed = factories.call(org.manager, direction="in", result="missed",
                            started_at=now - dt.timedelta(days=1))
    old = factories.call(org.manager, started_at=now - dt.timedelta(days=10))
    api = api_as("manager")
    assert [c["id"] for c in api.get("/calls", direction="in").body["items"]] == [missed.pk]
    assert [c["id"] for c in api.get("/calls", result="missed").body["items"]] == [missed.pk]
    since = (now - dt.timedelta(days=2)).isoformat()
    assert [c["id"] for c in api.get("/calls", started_from=since).body["items"]] == [missed.pk]
    assert [c["id"] for c in api.get("/calls", started_to=since).body["items"]] == [old.pk]
    assert [c["id"] for c in api.get("/calls", order="-started_at").body["items"]] == [missed.pk, old.pk]
