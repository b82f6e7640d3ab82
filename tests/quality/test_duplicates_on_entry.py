"""Entering a client who is already in the base answers 409 with the candidates and why they match,
unless the caller confirms; nothing is written until then."""

import pytest

from krug.clients.models import Company, Contact
from tests import factories


def test_a_contact_with_a_known_phone_in_another_format_is_refused_with_the_candidate(api_as, org):
    existing = factories.contact(org.manager, surname="Кузнецов", first_name="Павел", phones=["+7 912 345-67-89"])
    r = api_as("manager").post("/contacts", {"surname": "Кузнецов", "first_name": "П.", "phones": ["89123456789"]})
    assert r.status_code == 409 and r.body["code"] == "duplicate"
    best = r.body["candidates"][0]
    assert (best["id"], best["reasons"], best["visible"]) == (existing.pk, ["phone"], True)
    assert Contact.objects.count() == 1
    again = api_as("manager").post("/contacts", {"surname": "Кузнецов", "phones": ["89123456789"],
                                                 "allow_duplicate": True})
    assert again.status_code == 201


def test_the_same_email_in_other_case_is_a_duplicate(api_as, org):
    factories.contact(org.manager, surname="Смирнова", first_name="Анна", emails=["Anna.Smirnova@Mail.ru"])
    r = api_as("manager").post("/contacts", {"surname": "Смирнова", "emails": ["anna.smirnova@mail.ru"]})
    assert r.status_code == 409 and r.body["candidates"][0]["reasons"] == ["email"]


@pytest.mark.parametrize("surname,first_name", [("Smirnova", "Anna"), ("Анна", "Смирнова"), ("Смирнова", "Ана"),
                                                ("Смирнова", "Анна")])
def test_the_same_name_at_the_same_company_is_a_duplicate_across_scripts_typos_and_order(
        api_as, org, surname, first_name):
    company = factories.company(org.manager, name="Вектор")
    factories.contact(org.manager, surname="Смирнова", first_name="Анна", company_id=company.pk)
    r = api_as("manager").post("/contacts", {"surname": surname, "first_name": first_name,
                                             "company_id": company.pk})
    assert r.status_code == 409, r.body
    assert r.body["candidates"][0]["reasons"] == ["name", "company"]


def test_namesakes_at_different_companies_are_not_duplicates(api_as, org):
    factories.contact(org.manager, surname="Иванов", first_name="Иван",
                      company_id=factories.company(org.manager, name="Альфа").pk)
    other = factories.company(org.manager, name="Омега")
    r = api_as("manager").post("/contacts", {"surname": "Иванов", "first_name": "Иван", "company_id": other.pk})
    assert r.status_code == 201, r.body


def test_a_duplicate_owned_by_someone_else_is_named_but_marked_not_visible(api_as, org):
    factories.contact(org.outsider, surname="Орлов", phones=["+79120000077"])
    r = api_as("manager").post("/contacts", {"surname": "Орлов", "phones": ["+79120000077"]})
    assert r.status_code == 409
    assert r.body["candidates"][0]["visible"] is False and r.body["candidates"][0]["owner"]


def test_colleagues_sharing_a_switchboard_are_not_duplicates(api_as, org):
    factories.contact(org.manager, surname="Осипова", first_name="Алина", phones=["+74951234500"])
    r = api_as("manager").post("/contacts", {"surname": "Романов", "first_name": "Глеб", "phones": ["+74951234500"]})
    assert r.status_code == 201, r.body


def test_changing_a_phone_to_anothers_number_is_refused_too(api_as, org):
    factories.contact(org.manager, surname="Петров", first_name="Иван", phones=["+79120000001"])
    second = factories.contact(org.manager, surname="Петров", first_name="Иван", phones=["+79120000002"])
    r = api_as("manager").patch(f"/contacts/{second.pk}", {"phones": ["+7 912 000-00-01"]})
    assert r.status_code == 409
    assert [p.number for p in Contact.objects.get(pk=second.pk).phones.all()] == ["+79120000002"]
    assert api_as("manager").patch(f"/contacts/{second.pk}", {"city": "Тула"}).status_code == 200


def test_a_company_with_a_known_inn_or_the_same_name_in_the_same_city_is_a_duplicate(api_as, org):
    factories.company(org.manager, name="ООО «Вектор»", inn="7707083893", city="Москва")
    api = api_as("manager")
    by_inn = api.post("/companies", {"name": "Совсем другое", "inn": "7707083893"})
    assert by_inn.status_code == 409 and by_inn.body["candidates"][0]["reasons"] == ["inn"]
    by_name = api.post("/companies", {"name": "Vektor LLC", "city": "Москва"})
    assert by_name.status_code == 409 and by_name.body["candidates"][0]["reasons"] == ["name"]
    elsewhere = api.post("/companies", {"name": "Вектор", "city": "Казань"})
    assert elsewhere.status_code == 201
    assert Company.objects.count() == 2


def test_a_company_is_found_by_its_name_among_many_that_share_the_first_letters(org):
    """A prefix key everyone shares is left out, not the whole-name key: with a cap on all candidates together,
    the double was missed once some fifty companies began with the same five letters."""
    from krug.quality import duplicates

    # a name whose own keys sort after the shared one: read in key order, the cap was filled before they came
    words = ("Восток", "Запад", "Север", "Юг", "Центр", "Урал", "Дон", "Кама", "Обь", "Лена", "Ока", "Нева")
    name = next(n for n in (f"Стройресурс {w}" for w in words)
                if min(map(duplicates.key_hash, duplicates.company_keys(n, "") - {"p:stroi"}))
                > duplicates.key_hash("p:stroi"))
    for i in range(120):
        factories.company(org.admin, name=f"Стройресурс {i}", city="Москва", allow_duplicate=True)
    target = factories.company(org.admin, name=name, city="Москва", allow_duplicate=True)
    found = duplicates.check_company(org.admin, {"name": f"ООО «{name}»", "city": "Москва"})
    assert [c.id for c in found] == [target.pk] and found[0].reasons == ["name"]
