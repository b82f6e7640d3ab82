"""Pipelines and their stages are reference data: everyone reads them, administrators shape them."""

from krug.sales.models import Deal, Pipeline, Stage
from tests import factories


def stages_of(pipeline_body):
    return [(s["name"], s["probability"], s["kind"]) for s in pipeline_body["stages"]]


def test_admin_creates_a_pipeline_with_ordered_stages_and_everyone_reads_it(api_as):
    r = api_as("admin").post("/pipelines", {"name": "Тендеры", "stages": [
        {"name": "Заявка подана", "probability": 20},
        {"name": "Допуск", "probability": 50, "required_fields": ["company"]},
        {"name": "Победа", "probability": 100, "kind": "won"},
        {"name": "Проигрыш", "probability": 0, "kind": "lost"}]})
    assert r.status_code == 201, r.body
    assert stages_of(r.body) == [("Заявка подана", 20, "open"), ("Допуск", 50, "open"), ("Победа", 100, "won"),
                                 ("Проигрыш", 0, "lost")]
    assert r.body["is_default"], "the first pipeline of an installation is the default one"
    listed = api_as("manager").get("/pipelines").body["items"]
    assert [p["name"] for p in listed] == ["Тендеры"]
    listed_stages = api_as("manager").get("/stages", pipeline=r.body["id"], order="position").body["items"]
    assert listed_stages[1]["required_fields"] == ["company"]


def test_a_pipeline_without_stages_gets_the_standard_ones(api_as):
    r = api_as("admin").post("/pipelines", {"name": "Повторные продажи"})
    assert [s["kind"] for s in r.body["stages"]] == ["open", "open", "open", "open", "won", "lost"]


def test_only_an_admin_changes_pipelines_stages_and_products(api_as):
    pipeline = api_as("admin").post("/pipelines", {"name": "Основная"}).body
    for who in ("head", "manager"):
        api = api_as(who)
        assert api.post("/pipelines", {"name": "Моя"}).status_code == 403
        assert api.patch(f"/pipelines/{pipeline['id']}", {"name": "Моя"}).status_code == 403
        assert api.post("/stages", {"pipeline_id": pipeline["id"], "name": "Ещё"}).status_code == 403
        assert api.post("/products", {"name": "Станок"}).status_code == 403
    assert Pipeline.objects.count() == 1


def test_bad_stage_definitions_are_refused_with_the_field_named(api_as):
    r = api_as("admin").post("/pipelines", {"name": "", "stages": [
        {"name": "Закрыто", "kind": "won", "probability": 140, "required_fields": ["colour"]}]})
    assert r.status_code == 422
    fields = {e["field"] for e in r.body["errors"]}
    assert fields == {"name", "stages.0.probability", "stages.0.required_fields", "stages"}
    assert not Pipeline.objects.exists()


def test_admin_inserts_and_reorders_stages(api_as):
    api = api_as("admin")
    pipeline = api.post("/pipelines", {"name": "Основная", "stages": [
        {"name": "A"}, {"name": "B"}, {"name": "Won", "kind": "won"}]}).body
    inserted = api.post("/stages", {"pipeline_id": pipeline["id"], "name": "A2", "position": 2}).body
    names = [s["name"] for s in api.get(f"/pipelines/{pipeline['id']}").body["stages"]]
    assert names == ["A", "A2", "B", "Won"]
    ids = [s["id"] for s in api.get(f"/pipelines/{pipeline['id']}").body["stages"]]
    r = api.put(f"/pipelines/{pipeline['id']}/stage-order", {"stage_ids": list(reversed(ids))})
    assert [s["name"] for s in r.body["stages"]] == ["Won", "B", "A2", "A"]
    r = api.put(f"/pipelines/{pipeline['id']}/stage-order", {"stage_ids": ids[:2]})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "stage_ids"
    moved = api.patch(f"/stages/{inserted['id']}", {"position": 1})
    assert moved.status_code == 200
    assert api.get(f"/pipelines/{pipeline['id']}").body["stages"][0]["name"] == "A2"


def test_a_stage_with_deals_or_the_last_open_stage_cannot_be_deleted(api_as, org):
    api = api_as("admin")
    pipeline = api.post("/pipelines", {"name": "Основная", "stages": [
        {"name": "A"}, {"name": "B"}, {"name": "Won", "kind": "won"}]}).body
    first, second, won = (s["id"] for s in pipeline["stages"])
    factories.deal(org.manager)
    r = api.delete(f"/stages/{first}")
    assert r.status_code == 409 and "1" in r.body["detail"]
    assert api.delete(f"/stages/{second}").status_code == 204
    assert api.patch(f"/stages/{first}", {"kind": "won"}).status_code == 422
    Deal.objects.update(deleted_at="2026-01-01T00:00:00Z")
    assert api.delete(f"/stages/{first}").status_code == 409, "the last stage in progress stays"
    assert api.delete(f"/stages/{won}").status_code == 204
    assert Stage.objects.alive().filter(pipeline_id=pipeline["id"]).count() == 1


def test_the_default_pipeline_moves_but_never_disappears(api_as):
    api = api_as("admin")
    first = api.post("/pipelines", {"name": "Первая"}).body
    second = api.post("/pipelines", {"name": "Вторая", "is_default": True}).body
    assert not api.get(f"/pipelines/{first['id']}").body["is_default"]
    assert api.delete(f"/pipelines/{second['id']}").status_code == 409
    r = api.patch(f"/pipelines/{second['id']}", {"is_default": False})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "is_default"
    assert api.delete(f"/pipelines/{first['id']}").status_code == 204
