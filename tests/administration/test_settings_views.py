"""The administrator's settings: users and teams, pipelines and stages, custom fields, the recycle bin and
data quality; nobody else gets in."""

from krug.accounts.models import User
from krug.clients.models import Contact
from krug.core.models import CustomField
from krug.quality.models import DuplicatePair
from krug.sales.models import Stage
from tests import factories


def test_only_an_admin_opens_the_settings(client, org):
    client.force_login(org.head)
    assert client.get("/settings/users/").status_code == 403
    client.force_login(org.admin)
    for page in ("users", "pipelines", "fields", "bin", "quality"):
        assert client.get(f"/settings/{page}/").status_code == 200, page


def test_admin_adds_a_user_and_a_bad_one_is_explained(client, org):
    client.force_login(org.admin)
    client.post("/settings/users/add/", {"username": "novikov", "role": "manager", "team": org.team.pk,
                                         "password": "Krug-2026-pass"})
    assert User.objects.get(username="novikov").team_id == org.team.pk
    r = client.post("/settings/users/add/", {"username": "novikov", "role": "manager"})
    assert "error=" in r["Location"]
    client.post(f"/settings/users/{User.objects.get(username='novikov').pk}/", {"active": "0"})
    assert not User.objects.get(username="novikov").is_active


def test_admin_reorders_and_edits_stages_and_a_stage_with_deals_stays(client, org, api_as):
    pipeline = api_as("admin").post("/pipelines", {"name": "Основная", "stages": [
        {"name": "A"}, {"name": "B"}, {"name": "Won", "kind": "won"}]}).body
    a, b = pipeline["stages"][0]["id"], pipeline["stages"][1]["id"]
    client.force_login(org.admin)
    client.post(f"/settings/stages/{a}/move/down/")
    assert list(Stage.objects.alive().order_by("position").values_list("name", flat=True)) == ["B", "A", "Won"]
    client.post(f"/settings/stages/{b}/", {"name": "Счёт", "probability": "90", "kind": "open",
                                           "required_fields": ["company", "amount"]})
    assert Stage.objects.get(pk=b).required_fields == ["company", "amount"]
    r = client.post(f"/settings/stages/{b}/", {"name": "Счёт", "probability": "150", "kind": "open"})
    assert "error=" in r["Location"]
    factories.deal(org.manager, stage_id=b, company_id=factories.company(org.manager).pk)
    assert "error=" in client.post(f"/settings/stages/{b}/delete/")["Location"]


def test_admin_defines_a_custom_field(client, org):
    client.force_login(org.admin)
    client.post("/settings/fields/add/", {"entity": "contact", "label": "Марка авто", "type": "choice",
                                          "choices": "Lada, Kia"})
    field = CustomField.objects.get()
    assert (field.key, field.choices) == ("marka_avto", ["Lada", "Kia"])
    r = client.post("/settings/fields/add/", {"entity": "contact", "label": "Пусто", "type": "choice"})
    assert "error=" in r["Location"]


def test_admin_restores_from_the_bin_and_merges_a_duplicate_pair(client, org):
    contact = factories.contact(org.manager, surname="Удалённый")
    client.force_login(org.admin)
    Contact.objects.filter(pk=contact.pk).update(deleted_at="2026-01-01T00:00:00Z")
    assert "Удалённый" in client.get("/settings/bin/", {"entity": "contacts"}).content.decode()
    client.post(f"/settings/bin/contacts/{contact.pk}/restore/")
    assert Contact.objects.get(pk=contact.pk).deleted_at is None
    a = factories.contact(org.manager, surname="Смирнова", first_name="Анна")
    b = factories.contact(org.manager, surname="Smirnova", first_name="Anna")
    pair = DuplicatePair.objects.create(a_id=a.pk, b_id=b.pk, score=95, reasons=["name"])
    assert "Smirnova" in client.get("/settings/quality/").content.decode()
    client.post(f"/settings/quality/pairs/{pair.pk}/", {"survivor": a.pk})
    assert Contact.objects.get(pk=b.pk).deleted_at is not None
