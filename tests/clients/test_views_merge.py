"""Merging in the browser: side by side, field by field, then undo, through the merge service."""

from krug.clients.models import Contact
from krug.quality.models import DuplicatePair, Merge
from tests import factories


def _pair(org):
    a = factories.contact(org.manager, surname="Орлов", first_name="Олег", position="Директор",
                          phones=["+79123456789"], city="Москва")
    b = factories.contact(org.manager, surname="Орлов", first_name="Олег", position="Генеральный директор",
                          phones=["+79990001122"], emails=["oleg@orlov.ru"], city="Москва")
    return a, b


def test_the_comparison_shows_differing_fields_with_a_choice_and_merges_the_chosen_values(client, org):
    a, b = _pair(org)
    client.force_login(org.head)
    page = client.get("/clients/merge/contact/", {"ids": [a.pk, b.pk]}).content.decode()
    assert 'name="f_position"' in page and 'name="f_surname"' not in page  # equal values need no choice
    assert "oleg@orlov.ru" in page and "+79990001122" in page
    r = client.post("/clients/merge/contact/do/", {"ids": [a.pk, b.pk], "survivor": a.pk, "f_position": b.pk})
    assert r.status_code == 302 and r["Location"] == f"/clients/contacts/{a.pk}/"
    a.refresh_from_db()
    assert a.position == "Генеральный директор"
    assert sorted(p.number for p in a.phones.all()) == ["+79123456789", "+79990001122"]
    assert not Contact.objects.alive().filter(pk=b.pk).exists()
    card = client.get(r["Location"]).content.decode()
    assert "Undo the merge" in card or "Отменить объединение" in card
    merge = Merge.objects.get()
    r = client.post(f"/clients/merge/undo/{merge.pk}/")
    assert r.status_code == 302
    assert Contact.objects.alive().filter(pk=b.pk).exists()
    a.refresh_from_db()
    assert a.position == "Директор" and [p.number for p in a.phones.all()] == ["+79123456789"]


def test_the_card_offers_the_open_duplicate_pairs_of_a_scan(client, org):
    a, b = _pair(org)
    DuplicatePair.objects.create(entity="contact", a_id=a.pk, b_id=b.pk, score=97, reasons=["phone", "name"])
    client.force_login(org.manager)
    page = client.get(f"/clients/contacts/{a.pk}/").content.decode()
    assert f"ids={a.pk}&amp;ids={b.pk}" in page
    # someone who cannot see the other record is not told about it
    client.force_login(org.outsider)
    assert client.get(f"/clients/contacts/{a.pk}/").status_code == 404


def test_merging_records_the_user_may_not_change_is_404_and_a_missing_survivor_is_refused(client, org):
    a, b = _pair(org)
    foreign = factories.contact(org.outsider, surname="Чужой")
    client.force_login(org.manager)
    assert client.get("/clients/merge/contact/", {"ids": [a.pk, foreign.pk]}).status_code == 404
    r = client.post("/clients/merge/contact/do/", {"ids": [a.pk, b.pk], "survivor": foreign.pk}, follow=True)
    assert Contact.objects.alive().filter(pk__in=[a.pk, b.pk]).count() == 2 and not Merge.objects.exists()
    r = client.post("/clients/merge/contact/do/", {"ids": [a.pk, foreign.pk], "survivor": a.pk}, follow=True)
    assert Contact.objects.alive().filter(pk=foreign.pk).exists() and not Merge.objects.exists()
    assert r.status_code == 404
