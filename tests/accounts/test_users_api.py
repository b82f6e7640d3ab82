from krug.accounts.models import User


def test_admin_adds_a_manager_to_a_team_and_the_manager_can_make_his_own_token(api_as, org):
    admin = api_as("admin")
    r = admin.post("/users", {"username": "novikov", "role": "manager", "team_id": org.team.pk,
                              "password": "a-long-pass-2026", "first_name": "Никита", "last_name": "Новиков"})
    assert r.status_code == 201, r.body
    assert r.body["full_name"] == "Никита Новиков"
    token = admin.post(f"/users/{r.body['id']}/tokens").body["token"]
    assert token.startswith("krug_")


def test_only_admins_manage_users_and_bad_values_name_the_field(api_as, org):
    assert api_as("head").post("/users", {"username": "x"}).status_code == 403
    r = api_as("admin").post("/users", {"username": "manager", "role": "boss", "password": "123"})
    assert r.status_code == 422
    assert {e["field"] for e in r.body["errors"]} == {"username", "role", "password"}


def test_deactivated_user_loses_api_access_at_once(api_as, org):
    assert api_as("manager").get("/users/me").status_code == 200
    assert api_as("admin").patch(f"/users/{org.manager.pk}", {"is_active": False}).status_code == 200
    assert api_as("manager").get("/users/me").status_code == 401
    assert not User.objects.get(pk=org.manager.pk).is_active


def test_admin_creates_a_team_led_by_a_head(api_as, org):
    r = api_as("admin").post("/teams", {"name": "Продажи Урал", "head_id": org.other_head.pk})
    assert r.status_code == 201 and r.body["head_id"] == org.other_head.pk
    assert api_as("admin").post("/teams", {"name": "продажи урал"}).status_code == 422


def test_custom_fields_are_defined_by_admins_only(api_as):
    r = api_as("admin").post("/custom-fields", {"entity": "contact", "label": "Марка телефона", "type": "choice",
                                                "choices": ["Apple", "Samsung"]})
    assert r.status_code == 201 and r.body["key"] == "marka_telefona"
    assert api_as("manager").post("/custom-fields", {"entity": "contact", "label": "X", "type": "text"}
                                  ).status_code == 403
    bad = api_as("admin").post("/custom-fields", {"entity": "planet", "label": "X", "type": "colour"})
    assert {e["field"] for e in bad.body["errors"]} == {"entity", "type"}
    c = api_as("manager").post("/contacts", {"surname": "Орлов", "custom": {"marka_telefona": "Apple"}})
    assert c.status_code == 201 and c.body["custom"] == {"marka_telefona": "Apple"}
