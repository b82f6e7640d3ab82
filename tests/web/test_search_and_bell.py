"""The top bar: instant global search through the permission door, and the bell of due and overdue tasks."""

import datetime as dt

from django.utils import timezone

from tests import factories


def test_instant_search_finds_a_contact_by_part_of_the_phone_and_hides_others(client, org):
    mine = factories.contact(org.manager, surname="Орлов", phones=["+7 912 345-67-89"])
    factories.contact(org.outsider, surname="Орлова", phones=["+7 912 345-67-00"])
    client.force_login(org.manager)
    page = client.get("/search/", {"q": "345-67"}, HTTP_HX_REQUEST="true").content.decode()
    assert f"/clients/contacts/{mine.pk}/" in page and "Орлова" not in page
    assert "<html" not in page
    assert "Орлов" in client.get("/search/", {"q": "орлов"}).content.decode()


def test_the_bell_counts_overdue_and_today(client, org):
    factories.task(org.manager, title="Просрочка", due_at=timezone.now() - dt.timedelta(hours=3))
    client.force_login(org.manager)
    page = client.get("/notifications/").content.decode()
    assert "Просрочка" in page and 'class="badge">1<' in page
