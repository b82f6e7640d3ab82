"""Merging duplicates: one card survives with the chosen values, everything related moves to it, the
others go to the bin, and the whole merge can be undone."""

from krug.activities.models import Task
from krug.clients.models import Contact, ContactPhone, TimelineEvent
from krug.sales.models import Deal
from tests import factories


def two_ivanovs(org):
    company = factories.company(org.manager, name="Вектор")
    a = factories.contact(org.manager, surname="Иванов", first_name="Иван", phones=["+79120000001"],
                          emails=["ivan@vektor.ru"], tags=["опт"], city="")
    b = factories.contact(org.manager, surname="Ivanov", first_name="Ivan", phones=["+79120000001", "+74951234567"],
                          company_id=company.pk, city="Москва", tags=["тендер"], opt_out=True)
    deal = factories.deal(org.manager, contact_id=b.pk)
    task = factories.task(org.manager, contact_id=b.pk)
    return a, b, company, deal, task


def test_merging_keeps_the_chosen_values_and_moves_everything_to_the_survivor(api_as, org):
    a, b, company, deal, task = two_ivanovs(org)
    api = api_as("manager")
    r = api.post("/contacts/merge", {"survivor_id": a.pk, "merged_ids": [b.pk], "fields": {"city": b.pk}})
    assert r.status_code == 200, r.body
    survivor = api.get(f"/contacts/{a.pk}").body
    assert survivor["surname"] == "Иванов", "the survivor's own value by default"
    assert survivor["city"] == "Москва", "the chosen record's value"
    assert survivor["company_id"] == company.pk, "an empty field takes the other record's value"
    assert survivor["opt_out"] is True, "an opt-out is never lost in a merge"
    assert sorted(p["number"] for p in survivor["phones"]) == ["+74951234567", "+79120000001"]
    assert sorted(survivor["tags"]) == ["опт", "тендер"]
    assert Deal.objects.get(pk=deal.pk).contact_id == a.pk and Task.objects.get(pk=task.pk).contact_id == a.pk
    assert api.get(f"/contacts/{b.pk}").status_code == 404
    kinds = [e["kind"] for e in api.get(f"/contacts/{a.pk}/timeline", limit=200).body["items"]]
    assert "merge" in kinds and "deal" in kinds and "task" in kinds
    history = api.get(f"/contacts/{a.pk}/history").body["items"]
    assert history[0]["action"] == "merge" and history[0]["changes"]["merged"] == [None, [b.pk]]


def test_a_merge_can_be_undone_completely(api_as, org):
    a, b, company, deal, task = two_ivanovs(org)
    api = api_as("manager")
    merge_id = api.post("/contacts/merge", {"survivor_id": a.pk, "merged_ids": [b.pk]}).body["id"]
    assert api.post(f"/quality/merges/{merge_id}/undo").status_code == 204
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.city, a.company_id, a.opt_out, b.deleted_at) == ("", None, False, None)
    assert sorted(ContactPhone.objects.filter(contact=b).values_list("number", flat=True)) == [
        "+74951234567", "+79120000001"]
    assert list(ContactPhone.objects.filter(contact=a).values_list("number", flat=True)) == ["+79120000001"]
    assert sorted(t.name for t in a.tags.all()) == ["опт"]
    assert Deal.objects.get(pk=deal.pk).contact_id == b.pk and Task.objects.get(pk=task.pk).contact_id == b.pk
    assert not TimelineEvent.objects.filter(kind="merge", hidden=False).exists()
    assert api.post(f"/quality/merges/{merge_id}/undo").status_code == 409


def test_companies_merge_with_their_people(api_as, org):
    first = factories.company(org.manager, name="ООО Альфа", inn="7707083893")
    second = factories.company(org.manager, name="Альфа", city="Тверь")
    person = factories.contact(org.manager, company_id=second.pk)
    r = api_as("manager").post("/companies/merge", {"survivor_id": first.pk, "merged_ids": [second.pk]})
    assert r.status_code == 200, r.body
    assert Contact.objects.get(pk=person.pk).company_id == first.pk
    first.refresh_from_db()
    assert (first.inn, first.city) == ("7707083893", "Тверь")


def test_a_merge_the_user_may_not_make_or_that_makes_no_sense_changes_nothing(api_as, org):
    mine = factories.contact(org.manager, surname="Свой")
    foreign = factories.contact(org.outsider, surname="Чужой")
    api = api_as("manager")
    assert api.post("/contacts/merge", {"survivor_id": mine.pk, "merged_ids": [foreign.pk]}).status_code == 404
    r = api.post("/contacts/merge", {"survivor_id": mine.pk, "merged_ids": [mine.pk]})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "merged_ids"
    other = factories.contact(org.manager, surname="Другой")
    r = api.post("/contacts/merge", {"survivor_id": mine.pk, "merged_ids": [other.pk], "fields": {"version": other.pk}})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "fields.version"
    absent = mine.pk + other.pk + 1  # a record outside the merge (a fixed id may be one on PostgreSQL)
    r = api.post("/contacts/merge", {"survivor_id": mine.pk, "merged_ids": [other.pk], "fields": {"city": absent}})
    assert r.status_code == 422
    assert Contact.objects.alive().count() == 3
