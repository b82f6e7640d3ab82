"""A company written with its legal form in the name (`ООО «Вектор Плюс»`, as Bitrix24 and amoCRM export it) is
kept as the name and the form, shown together as Russians write them, and found by every spelling; a company
has an address, entered, shown, searched, merged and audited like its other fields."""

import pytest

from krug.clients import services
from krug.clients.models import Company, Lead
from krug.core.models import AuditEntry
from krug.quality.duplicates import DuplicateFound
from tests import factories


def test_a_company_named_with_its_legal_form_is_kept_as_the_name_and_the_form(org):
    company = services.create_company(org.manager, {"name": "ООО «Вектор Плюс»"})
    assert (company.name, company.legal_form, str(company)) == ("Вектор Плюс", "ООО", "ООО «Вектор Плюс»")
    sole = services.create_company(org.manager, {"name": "индивидуальный предприниматель Сергеев Андрей"})
    assert (sole.name, sole.legal_form, str(sole)) == ("Сергеев Андрей", "ИП", "ИП Сергеев Андрей")
    closed = services.create_company(org.manager, {"name": "ЗАО «Дельта»"})
    assert (closed.name, closed.legal_form) == ("ЗАО «Дельта»", "")


def test_a_form_written_after_the_name_is_the_same_company(org):
    """amoCRM's lists write it after the name: `Бюро Профи ООО` is ООО «Бюро Профи», found by either spelling."""
    company = services.create_company(org.manager, {"name": "Бюро Профи ООО"})
    assert (company.name, company.legal_form, str(company)) == ("Бюро Профи", "ООО", "ООО «Бюро Профи»")
    assert services.find_existing_company(org.manager, name="ООО «Бюро Профи»") == company
    assert services.find_existing_company(org.manager, name="Бюро Профи (ООО)") == company
    with pytest.raises(DuplicateFound):
        services.create_company(org.manager, {"name": "ООО \"Бюро Профи\""})


def test_a_legal_form_given_leaves_the_name_as_written(org):
    company = services.create_company(org.manager, {"name": "ООО «Вектор»", "legal_form": "foreign"})
    assert (company.name, company.legal_form) == ("ООО «Вектор»", "foreign")


def test_renaming_with_a_form_in_the_name_changes_the_form_and_says_so(org):
    company = services.create_company(org.manager, {"name": "Вектор"})
    services.update_company(org.manager, company, {"name": "АО “Вектор”", "legal_form": ""})
    company.refresh_from_db()
    assert (company.name, company.legal_form) == ("Вектор", "АО")
    changes = AuditEntry.objects.filter(object_id=company.pk, action="update").get().changes
    assert changes == {"legal_form": ["", "АО"]}
    assert services.company_changes(org.manager, company, {"name": "АО «Вектор»"}) == {}


def test_the_api_splits_the_form_and_shows_the_pair(api_as):
    r = api_as("manager").post("/companies", {"name": 'ООО "Вектор Плюс"'})
    assert r.status_code == 201, r.body
    assert (r.body["name"], r.body["legal_form"], r.body["display_name"]) == ("Вектор Плюс", "ООО",
                                                                               "ООО «Вектор Плюс»")


def test_the_form_on_the_card_splits_it_and_the_card_shows_the_pair(client, org):
    client.force_login(org.manager)
    r = client.post("/clients/companies/new/", {"name": "ИП Сергеев Андрей Викторович", "legal_form": "",
                                               "owner": org.manager.pk})
    company = Company.objects.get()
    assert r["Location"] == f"/clients/companies/{company.pk}/"
    assert (company.name, company.legal_form) == ("Сергеев Андрей Викторович", "ИП")
    page = client.get(r["Location"]).content.decode()
    assert "<h1>ИП Сергеев Андрей Викторович</h1>" in page


@pytest.mark.parametrize("query", ["ООО «Вектор Плюс»", 'ООО "Вектор Плюс"', "Вектор Плюс", "ооо вектор"])
def test_every_spelling_finds_the_company_and_its_people(api_as, org, query):
    company = factories.company(org.manager, name="ООО «Вектор Плюс»")
    factories.contact(org.manager, surname="Смирнов", company_id=company.pk)
    api = api_as("manager")
    assert [c["id"] for c in api.get("/companies", q=query).body["items"]] == [company.pk]
    hits = {(h["entity"], h["title"]) for h in api.get("/search", q=query).body}
    assert ("companies", "ООО «Вектор Плюс»") in hits
    assert ("contacts", "Смирнов Тест") in hits


def test_the_company_picker_finds_it_by_its_form_and_name(client, org):
    factories.company(org.manager, name="ООО «Вектор Плюс»")
    client.force_login(org.manager)
    page = client.get("/clients/companies/suggest/", {"company_name": "ООО Век"}).content.decode()
    assert "ООО «Вектор Плюс»" in page


def test_a_company_written_with_its_full_form_is_a_duplicate_of_the_short_one(org):
    services.create_company(org.manager, {"name": "ПАО «Ростелеком»"})
    with pytest.raises(DuplicateFound):
        services.create_company(org.manager, {"name": "Публичное акционерное общество «Ростелеком»"})


def test_a_lead_naming_the_company_with_its_full_form_converts_into_it(org):
    company = factories.company(org.manager, name="ПАО «Ростелеком»")
    lead = factories.lead(org.manager, surname="Белова", company_name="Публичное акционерное общество «Ростелеком»")
    result = services.convert_lead(org.manager, lead, {"create_deal": False})
    assert (result["company_id"], result["company_created"]) == (company.pk, False)
    assert Lead.objects.get().company_id == company.pk


def test_a_company_has_an_address_that_is_shown_searched_audited_and_limited(api_as, org):
    api = api_as("manager")
    r = api.post("/companies", {"name": "Вектор", "address": "  г. Москва,  ул. Тверская, д. 12, оф. 301 ",
                                "city": ""})
    assert r.status_code == 201, r.body
    assert (r.body["address"], r.body["city"]) == ("г. Москва, ул. Тверская, д. 12, оф. 301", "")  # no guess
    assert [c["id"] for c in api.get("/companies", q="тверская").body["items"]] == [r.body["id"]]
    changed = api.patch(f"/companies/{r.body['id']}", {"address": "г. Москва, ул. Арбат, 1", "version": 1})
    assert changed.status_code == 200, changed.body
    assert AuditEntry.objects.filter(object_id=r.body["id"], action="update").get().changes == {
        "address": ["г. Москва, ул. Тверская, д. 12, оф. 301", "г. Москва, ул. Арбат, 1"]}
    assert [c["id"] for c in api.get("/companies", q="арбат").body["items"]] == [r.body["id"]]
    too_long = api.patch(f"/companies/{r.body['id']}", {"address": "д" * 501, "version": 2})
    assert too_long.status_code == 422
    assert [e["field"] for e in too_long.body["errors"]] == ["address"]


def test_the_card_shows_and_edits_the_address(client, org):
    company = factories.company(org.manager, name="Вектор", address="г. Тула, ул. Ленина, 45")
    client.force_login(org.manager)
    assert "г. Тула, ул. Ленина, 45" in client.get(f"/clients/companies/{company.pk}/").content.decode()
    form = client.get(f"/clients/company/{company.pk}/edit/").content.decode()
    assert 'name="address"' in form
    client.post(f"/clients/company/{company.pk}/edit/", {"name": "Вектор", "address": "г. Тула, ул. Мира, 5",
                                                         "version": company.version})
    company.refresh_from_db()
    assert company.address == "г. Тула, ул. Мира, 5"


def test_a_merge_can_take_the_address_of_either_company(org):
    from krug.quality import merge

    kept = factories.company(org.admin, name="Вектор")
    other = factories.company(org.admin, name="Вектор Плюс", address="г. Москва, ул. Тверская, 12")
    merge.merge(org.admin, Company, kept.pk, [other.pk])
    kept.refresh_from_db()
    assert kept.address == "г. Москва, ул. Тверская, 12"
    third = factories.company(org.admin, name="Вектор-М", address="г. Тула")
    merge.merge(org.admin, Company, kept.pk, [third.pk], {"address": third.pk})
    kept.refresh_from_db()
    assert kept.address == "г. Тула"


def test_a_name_that_is_only_a_form_stays_the_name(org):
    assert services.create_company(org.manager, {"name": "ООО"}).name == "ООО"
