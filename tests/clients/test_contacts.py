import pytest

from krug.clients.models import Contact, ContactPhone
from krug.core.models import CustomField


def make_contact(api, **fields):
    body = {"surname": "Иванов", "first_name": "Иван", "phones": ["8 (912) 345-67-89"], **fields}
    r = api.post("/contacts", body)
    assert r.status_code == 201, r.body
    return r.body


def test_contact_phones_are_stored_e164_keeping_what_was_typed(api_as):
    c = make_contact(api_as("manager"), phones=["8 (912) 345-67-89", {"number": "+7 495 123-45-67 доб. 12",
                                                                     "kind": "work"}])
    assert [p["number"] for p in c["phones"]] == ["+79123456789", "+74951234567"]
    assert c["phones"][0]["raw"] == "8 (912) 345-67-89"
    assert c["phones"][1]["extension"] == "12"


def test_names_get_proper_case_and_emails_a_lower_case_domain(api_as):
    c = make_contact(api_as("manager"), surname="иванова-петрова", first_name="  мария ", patronymic="ИВАНОВНА",
                     emails=["Maria@Example.COM"])
    assert (c["surname"], c["first_name"], c["patronymic"]) == ("Иванова-Петрова", "Мария", "Ивановна")
    assert c["emails"][0]["email"] == "Maria@example.com"


@pytest.mark.parametrize("field,value", [("phones", ["12345"]), ("emails", ["ivan@"]),
                                         ("client_type", "alien"), ("company_id", 999999)])
def test_bad_contact_values_are_refused_naming_the_field(api_as, field, value):
    r = api_as("manager").post("/contacts", {"surname": "Иванов", field: value})
    assert r.status_code == 422, r.body
    assert r.body["errors"][0]["field"].split(".")[0] == field
    assert not Contact.objects.exists()
    assert not ContactPhone.objects.exists()


def test_a_bad_client_type_names_each_value_with_its_label(client, org):
    """An import's failed row said «one of new, returning, vip, key, partner, supplier»: codes only."""
    r = client.post("/api/v1/contacts", {"surname": "Иванов", "client_type": "Клиенты"},
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {org.tokens['manager']}",
                    HTTP_ACCEPT_LANGUAGE="ru")
    assert r.status_code == 422
    message = r.json()["errors"][0]["message"]
    assert "new (новый)" in message and "key (ключевой клиент)" in message and "vip," in message


def test_a_contact_needs_a_name(api_as):
    r = api_as("manager").post("/contacts", {"phones": ["+79123456789"]})
    assert r.status_code == 422
    assert r.body["errors"][0]["field"] == "first_name"


def test_stale_version_gets_409_and_changes_nothing(api_as):
    api = api_as("manager")
    c = make_contact(api)
    first = api.patch(f"/contacts/{c['id']}", {"version": c["version"], "position": "Директор"})
    assert first.status_code == 200 and first.body["version"] == c["version"] + 1
    stale = api.patch(f"/contacts/{c['id']}", {"version": c["version"], "position": "Бухгалтер",
                                               "phones": ["+79990001122"]})
    assert stale.status_code == 409
    assert stale.body["current_version"] == c["version"] + 1
    now = api.get(f"/contacts/{c['id']}").body
    assert now["position"] == "Директор"
    assert [p["number"] for p in now["phones"]] == ["+79123456789"]


def test_update_is_in_the_history_with_old_and_new_values(api_as):
    api = api_as("manager")
    c = make_contact(api)
    api.patch(f"/contacts/{c['id']}", {"city": "Казань", "tags": ["VIP", "опт"]})
    history = api.get(f"/contacts/{c['id']}/history").body["items"]
    assert history[0]["action"] == "update"
    changes = {k: v for entry in history for k, v in entry["changes"].items()}
    assert changes["city"] == ["", "Казань"]
    assert changes["tags"] == [[], ["VIP", "опт"]]
    assert history[-1]["action"] == "create"
    assert history[0]["user"] == "Иван Продавцов"


def test_lists_filter_by_tags_and_owner_and_page_by_cursor(api_as, org):
    api = api_as("head")
    for i in range(5):
        api.post("/contacts", {"surname": f"Клиент{i}", "tags": ["опт"] if i % 2 else [],
                               "owner_id": org.manager.pk})
    api.post("/contacts", {"surname": "Свой"})
    page1 = api.get("/contacts", owner=org.manager.pk, limit=2).body
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    page2 = api.get("/contacts", owner=org.manager.pk, limit=2, cursor=page1["next_cursor"]).body
    page3 = api.get("/contacts", owner=org.manager.pk, limit=2, cursor=page2["next_cursor"]).body
    names = [c["surname"] for p in (page1, page2, page3) for c in p["items"]]
    assert names == ["Клиент4", "Клиент3", "Клиент2", "Клиент1", "Клиент0"]
    assert page3["next_cursor"] is None
    tagged = api.get("/contacts", tag="опт").body["items"]
    assert sorted(c["surname"] for c in tagged) == ["Клиент1", "Клиент3"]


def test_updated_since_returns_only_recent_changes(api_as):
    api = api_as("manager")
    old = make_contact(api, surname="Старый")
    new = make_contact(api, surname="Новый", phones=[])
    since = new["created_at"]
    api.patch(f"/contacts/{old['id']}", {"city": "Тула"})
    got = api.get("/contacts", updated_since=since, order="updated_at").body["items"]
    assert [c["surname"] for c in got] == ["Новый", "Старый"]


def test_garbage_cursor_and_order_are_refused(api_as):
    api = api_as("manager")
    assert api.get("/contacts", cursor="!!!").status_code == 422
    r = api.get("/contacts", order="password")
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "order"


def test_custom_fields_are_validated_and_filterable(api_as, org):
    CustomField.objects.create(entity="contact", key="car_age", label="Возраст авто", type="number")
    CustomField.objects.create(entity="contact", key="brand", label="Марка", type="choice",
                               choices=["Lada", "Kia"])
    api = api_as("manager")
    make_contact(api, surname="Первый", custom={"car_age": "7", "brand": "Lada"})
    make_contact(api, surname="Второй", phones=[], custom={"car_age": 2, "brand": "Kia"})
    bad = api.post("/contacts", {"surname": "Третий", "custom": {"brand": "BMW"}})
    assert bad.status_code == 422 and bad.body["errors"][0]["field"] == "custom.brand"
    unknown = api.post("/contacts", {"surname": "Третий", "custom": {"colour": "red"}})
    assert unknown.status_code == 422 and unknown.body["errors"][0]["field"] == "custom.colour"
    old_cars = api.get("/contacts", **{"cf.car_age.gte": "5"}).body["items"]
    assert [c["surname"] for c in old_cars] == ["Первый"]
    assert api.get("/contacts", **{"cf.brand": "Kia"}).body["items"][0]["surname"] == "Второй"
    assert api.get("/contacts", **{"cf.brand": "BMW"}).status_code == 422
    any_case = api.post("/contacts", {"surname": "Четвёртый", "custom": {"brand": " kia "}})
    assert any_case.status_code == 201 and any_case.body["custom"]["brand"] == "Kia"  # as the list spells it


def test_required_custom_field_is_enforced_on_create(api_as):
    CustomField.objects.create(entity="company", key="segment", label="Сегмент", type="text", required=True)
    r = api_as("manager").post("/companies", {"name": "Альфа"})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "custom.segment"


def test_contact_list_makes_the_same_number_of_queries_for_3_or_30_rows(api_as, django_assert_max_num_queries):
    api = api_as("manager")
    company = api.post("/companies", {"name": "База"}).body
    for i in range(30):
        make_contact(api, surname=f"К{i}", phones=[f"+7912000{i:04d}"], emails=[f"k{i}@mail.ru"],
                     tags=["a", "b"], company_id=company["id"], allow_duplicate=True)

    def queries_for(limit):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        with CaptureQueriesContext(connection) as ctx:
            assert len(api.get("/contacts", limit=limit).body["items"]) == limit
        return len(ctx)

    assert queries_for(3) == queries_for(30)
    with django_assert_max_num_queries(8):
        api.get("/contacts", limit=30)
