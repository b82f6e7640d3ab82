from krug.clients.models import Company
from krug.core.models import AuditEntry


def test_company_is_created_with_normalised_fields_and_an_audit_entry(api_as):
    api = api_as("manager")
    r = api.post("/companies", {"name": "  Ромашка   Плюс ", "legal_form": "ООО", "inn": "7707083893",
                                "kpp": "773601001", "website": "romashka.ru", "email": "Sales.Team@Romashka.RU"})
    assert r.status_code == 201, r.body
    assert r.body["name"] == "Ромашка Плюс"
    assert r.body["website"] == "https://romashka.ru"
    assert r.body["email"] == "Sales.Team@romashka.ru"
    assert r.body["display_name"] == "ООО «Ромашка Плюс»"
    assert AuditEntry.objects.filter(object_id=r.body["id"], action="create").exists()


def test_bad_inn_is_refused_naming_the_field_and_nothing_is_written(api_as):
    r = api_as("manager").post("/companies", {"name": "Рога и копыта", "inn": "7707083890"})
    assert r.status_code == 422
    assert [e["field"] for e in r.body["errors"]] == ["inn"]
    assert "INN" in r.body["errors"][0]["message"]
    assert not Company.objects.exists()


def test_several_bad_fields_are_reported_together(api_as):
    r = api_as("manager").post("/companies", {"name": "", "kpp": "12", "ogrn": "123", "email": "not-mail"})
    assert r.status_code == 422
    assert {e["field"] for e in r.body["errors"]} == {"name", "kpp", "ogrn", "email"}


def test_missing_required_body_field_answers_422_naming_it(api_as):
    r = api_as("manager").post("/companies", {"inn": "7707083893"})
    assert r.status_code == 422
    assert r.body["errors"][0]["field"] == "name"


def test_company_list_filters_by_cyrillic_name_case_insensitively(api_as):
    api = api_as("manager")
    api.post("/companies", {"name": "Иванов и партнёры"})
    api.post("/companies", {"name": "Петров"})
    r = api.get("/companies", q="иванов")
    assert [c["name"] for c in r.body["items"]] == ["Иванов и партнёры"]


def test_company_timeline_shows_its_people_touchpoints(api_as):
    api = api_as("manager")
    company = api.post("/companies", {"name": "Вектор"}).body
    api.post("/contacts", {"surname": "Смирнов", "first_name": "Алексей", "company_id": company["id"]})
    feed = api.get(f"/companies/{company['id']}/timeline").body["items"]
    assert {item["kind"] for item in feed} == {"created"}
    assert len(feed) == 2


def test_api_errors_speak_the_callers_language_and_russian_by_default(client, org, settings):
    import json

    from krug.accounts import services

    token = services.issue_token(org.manager)
    body = json.dumps({"name": "Ромашка", "inn": "7707083890"})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    ru = client.post("/api/v1/companies", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ru",
                     **headers).json()
    assert ru["errors"][0]["field"] == "inn" and "неверный ИНН" in ru["errors"][0]["message"]
    settings.LANGUAGE_CODE = "ru"  # Krug's default, for a client that names no language
    plain = client.post("/api/v1/companies", body, content_type="application/json", **headers).json()
    assert "неверный ИНН" in plain["errors"][0]["message"]
