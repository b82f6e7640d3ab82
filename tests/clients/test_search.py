import pytest


@pytest.fixture
def base(api_as):
    api = api_as("manager")
    company = api.post("/companies", {"name": "Северсталь-Инвест", "inn": "7707083893"}).body
    api.post("/contacts", {"surname": "Иванов", "first_name": "Сергей", "phones": ["+7 912 345-67-89"],
                           "emails": ["s.ivanov@severstal.ru"], "company_id": company["id"]})
    api.post("/contacts", {"surname": "Петрова", "first_name": "Анна", "phones": ["+7 495 000-11-22"]})
    return api


@pytest.mark.parametrize("query", ["8 (912) 345-67-89", "9123456789", "+7912345", "345-67-89", "912 345"])
def test_search_finds_a_contact_by_phone_typed_in_any_format(base, query):
    hits = base.get("/search", q=query).body
    assert [h["title"] for h in hits if h["entity"] == "contacts"] == ["Иванов Сергей"]


@pytest.mark.parametrize("query,title", [("иванов", "Иванов Сергей"), ("ПЕТРОВА", "Петрова Анна"),
                                         ("s.ivanov@severstal.ru", "Иванов Сергей")])
def test_search_finds_by_cyrillic_name_in_any_case_and_by_email(base, query, title):
    hits = base.get("/search", q=query).body
    assert title in [h["title"] for h in hits]


@pytest.mark.parametrize("query", ["s.ivanov", "S.Ivanov@Sev", "s.ivanov@severstal.ru"])
def test_search_and_the_contact_list_find_a_contact_by_the_beginning_of_his_email(base, query):
    assert "Иванов Сергей" in [h["title"] for h in base.get("/search", q=query).body]
    assert [c["surname"] for c in base.get("/contacts", q=query).body["items"]] == ["Иванов"]


def test_an_email_is_searched_by_its_beginning_and_no_longer_inside_the_name_key(base):
    from krug.clients.models import Contact

    assert base.get("/search", q="severstal.ru").body == []  # the middle of an e-mail is not searched
    assert "@" not in Contact.objects.get(surname="Иванов").search_key


def test_the_migration_takes_the_emails_out_of_stored_search_keys(base):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from krug.clients.models import Contact

    Contact.objects.filter(surname="Иванов").update(search_key="иванов сергей s.ivanov@severstal.ru x")
    migration = importlib.import_module("krug.clients.migrations.0008_contact_search_key_without_emails")
    migration.rekey(apps, SimpleNamespace(connection=connection))
    assert Contact.objects.get(surname="Иванов").search_key == "иванов сергей северсталь-инвест"
    assert Contact.objects.get(surname="Петрова").search_key == "петрова анна"


def test_search_finds_company_by_inn_and_contact_by_company_name(base):
    hits = base.get("/search", q="7707083893").body
    assert hits[0]["entity"] == "companies"
    by_company = base.get("/search", q="северсталь").body
    assert {h["entity"] for h in by_company} == {"companies", "contacts"}


def test_search_never_shows_what_the_user_may_not_open(base, api_as):
    assert api_as("outsider").get("/search", q="иванов").body == []
    assert api_as("head").get("/search", q="иванов").body


def test_search_needs_a_query(base):
    assert base.get("/search").status_code == 422


def test_renaming_a_company_finds_its_people_and_deals_under_the_new_name(api_as, org):
    from tests import factories

    company = factories.company(org.manager, name="Старое имя")
    contact = factories.contact(org.manager, company_id=company.pk, surname="Шмидт")
    deal = factories.deal(org.manager, title="Поставка", company_id=company.pk)
    api = api_as("manager")
    assert api.patch(f"/companies/{company.pk}", {"name": "Новое имя"}).status_code == 200
    assert [c["id"] for c in api.get("/contacts", q="новое имя").body["items"]] == [contact.pk]
    assert [d["id"] for d in api.get("/deals", q="новое имя").body["items"]] == [deal.pk]


def test_a_renamed_companys_people_are_checked_for_duplicates_under_its_new_name(api_as, org):
    from krug.quality import duplicates
    from krug.quality.models import ContactKey
    from tests import factories

    company = factories.company(org.manager, name="Старое имя")
    people = [factories.contact(org.manager, company_id=company.pk, surname=name, first_name="Ольга", city="Омск")
              for name in ("Шмидт", "Ким")]
    other = factories.contact(org.manager, surname="Шмидт", first_name="Ольга")
    assert api_as("manager").patch(f"/companies/{company.pk}", {"name": "Новое имя"}).status_code == 200
    for contact in people:
        held = set(ContactKey.objects.filter(record_id=contact.pk).values_list("hash", flat=True))
        keys = duplicates.contact_keys(contact.surname, "Ольга", "Новое имя", "Омск")
        assert held == set(duplicates.key_hashes(sorted(keys)))
    assert set(ContactKey.objects.filter(record_id=other.pk).values_list("hash", flat=True)) == set()


def test_substring_search_has_trigram_indexes_on_postgresql(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps plain indexes: the embedded edition's bases are small")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        names = {row[0] for row in cursor.fetchall()}
    assert {"contact_search_trgm", "contactphone_number_trgm", "company_search_trgm", "deal_search_trgm"} <= names


def test_a_contact_is_found_under_his_new_name_and_company_after_an_edit(base):
    contact = base.get("/contacts", q="петрова").body["items"][0]
    company = base.post("/companies", {"name": "Новатэк-Юг"}).body
    assert base.patch(f"/contacts/{contact['id']}", {"surname": "Смирнова"}).status_code == 200
    assert [c["id"] for c in base.get("/contacts", q="смирнова").body["items"]] == [contact["id"]]
    assert base.patch(f"/contacts/{contact['id']}", {"company_id": company["id"]}).status_code == 200
    assert contact["id"] in [c["id"] for c in base.get("/contacts", q="новатэк").body["items"]]
