"""Deals: created in the right pipeline and stage, moved only through stages that accept them, with their
stage history, line items, totals on the board and the client's timeline."""

from decimal import Decimal

import pytest

from krug.clients.models import TimelineEvent
from krug.sales.models import Deal, StageHistory
from tests import factories


@pytest.fixture
def pipeline(api_as):
    return api_as("admin").post("/pipelines", {"name": "Основная", "is_default": True, "stages": [
        {"name": "Новая", "probability": 10},
        {"name": "КП", "probability": 50},
        {"name": "Счёт", "probability": 90, "required_fields": ["amount", "company"]},
        {"name": "Оплачено", "probability": 100, "kind": "won"},
        {"name": "Отказ", "probability": 0, "kind": "lost"}]}).body


def stage(pipeline, name):
    return next(s["id"] for s in pipeline["stages"] if s["name"] == name)


def test_a_deal_starts_in_the_default_pipelines_first_stage_and_lands_on_the_timeline(api_as, org, pipeline):
    company = factories.company(org.manager, name="Вектор")
    contact = factories.contact(org.manager, company_id=company.pk)
    r = api_as("manager").post("/deals", {"title": "Поставка станков", "amount": "1250000",
                                          "contact_id": contact.pk, "expected_close": "2026-12-20"})
    assert r.status_code == 201, r.body
    deal = r.body
    assert (deal["pipeline_id"], deal["stage_name"], deal["stage_kind"]) == (pipeline["id"], "Новая", "open")
    assert Decimal(deal["amount"]) == Decimal("1250000") and deal["currency"] == "RUB"
    assert Decimal(deal["weighted_amount"]) == Decimal("125000")
    assert deal["company_id"] == company.pk, "the contact brings his company"
    assert deal["owner_id"] == org.manager.pk
    event = TimelineEvent.objects.get(kind="deal", source_id=deal["id"])
    assert (event.contact_id, event.company_id, event.deal_id) == (contact.pk, company.pk, deal["id"])


def test_a_fresh_installation_gets_a_standard_pipeline_with_the_first_deal(api_as):
    r = api_as("manager").post("/deals", {"title": "Первая сделка"})
    assert r.status_code == 201, r.body
    pipelines = api_as("manager").get("/pipelines").body["items"]
    assert len(pipelines) == 1 and pipelines[0]["is_default"]
    assert r.body["stage_id"] == pipelines[0]["stages"][0]["id"]


def test_bad_deal_input_is_refused_naming_each_field_and_writes_nothing(api_as, org, pipeline):
    other = api_as("admin").post("/pipelines", {"name": "Другая"}).body
    stranger = factories.contact(org.outsider)
    r = api_as("manager").post("/deals", {"title": " ", "amount": "-5", "currency": "рубли",
                                          "contact_id": stranger.pk, "custom": {"nope": 1}})
    assert r.status_code == 422
    assert {e["field"] for e in r.body["errors"]} == {"title", "amount", "currency", "contact_id", "custom.nope"}
    r = api_as("manager").post("/deals", {"title": "Сделка", "pipeline_id": pipeline["id"],
                                          "stage_id": other["stages"][0]["id"]})
    assert r.status_code == 422 and r.body["errors"] == [  # where the stage is, and where it was asked for
        {"field": "stage_id", "message": "stage «New» is in pipeline «Другая», not in «Основная»"}]
    r = api_as("manager").post("/deals", {"title": "Сделка", "pipeline_id": 99999})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "pipeline_id"
    assert not Deal.objects.exists()


def test_a_stage_of_another_pipeline_is_refused_naming_where_it_is_and_where_it_was_asked(api_as, org):
    from django.utils import translation

    from krug.core.errors import ValidationFailed
    from krug.sales import services

    admin = api_as("admin")
    retail = admin.post("/pipelines", {"name": "Розница", "stages": [{"name": "Новая"}, {"name": "Оплачено",
                                                                                          "kind": "won"}]}).body
    wholesale = admin.post("/pipelines", {"name": "Опт", "stages": [{"name": "Переговоры"}]}).body
    talks = wholesale["stages"][0]["id"]
    r = api_as("manager").post("/deals", {"title": "Сделка", "pipeline_id": retail["id"], "stage_id": talks})
    assert r.status_code == 422 and r.body["errors"] == [
        {"field": "stage_id", "message": "stage «Переговоры» is in pipeline «Опт», not in «Розница»"}]
    with translation.override("ru"), pytest.raises(ValidationFailed) as refused:
        services.create_deal(org.manager, {"title": "Сделка", "pipeline_id": retail["id"], "stage_id": talks})
    assert refused.value.errors == {"stage_id": ["этап «Переговоры» есть в воронке «Опт», а не в «Розница»"]}
    assert not Deal.objects.exists()


def test_moving_through_stages_records_entered_and_left_times_and_the_timeline(api_as, org, pipeline):
    api = api_as("manager")
    company = factories.company(org.manager)
    deal = api.post("/deals", {"title": "Линия розлива", "amount": 500000, "company_id": company.pk}).body
    r = api.post(f"/deals/{deal['id']}/move", {"stage_id": stage(pipeline, "КП"), "version": deal["version"]})
    assert r.status_code == 200, r.body
    assert r.body["stage_name"] == "КП" and r.body["version"] == deal["version"] + 1
    api.post(f"/deals/{deal['id']}/move", {"stage_id": stage(pipeline, "Счёт")})
    history = api.get(f"/deals/{deal['id']}/stage-history").body
    assert [h["stage"] for h in history] == ["Новая", "КП", "Счёт"]
    assert all(h["left_at"] is not None for h in history[:2]) and history[2]["left_at"] is None
    assert history[1]["entered_at"] == history[0]["left_at"]
    assert history[1]["moved_by_id"] == org.manager.pk
    moves = TimelineEvent.objects.filter(kind="stage", source_id=deal["id"]).order_by("id")
    assert [m.data["to"] for m in moves] == ["КП", "Счёт"]
    assert moves[0].company_id == company.pk


def test_a_stage_refuses_a_deal_that_lacks_what_it_requires(api_as, pipeline):
    api = api_as("manager")
    deal = api.post("/deals", {"title": "Без компании"}).body
    r = api.post(f"/deals/{deal['id']}/move", {"stage_id": stage(pipeline, "Счёт")})
    assert r.status_code == 422 and r.body["code"] == "stage_requirements"
    assert {e["field"] for e in r.body["errors"]} == {"amount", "company"}
    assert "Счёт" in r.body["errors"][0]["message"]
    assert Deal.objects.get(pk=deal["id"]).stage_id == deal["stage_id"]
    assert StageHistory.objects.filter(deal_id=deal["id"]).count() == 1


def test_lost_needs_a_reason_won_and_lost_close_the_deal_and_reopening_clears_them(api_as, pipeline):
    api = api_as("manager")
    deal = api.post("/deals", {"title": "Сделка", "amount": 1000}).body
    r = api.post(f"/deals/{deal['id']}/move", {"stage_id": stage(pipeline, "Отказ")})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "loss_reason"
    lost = api.post(f"/deals/{deal['id']}/move", {"stage_id": stage(pipeline, "Отказ"), "loss_reason": "Дорого"}).body
    assert (lost["stage_kind"], lost["loss_reason"]) == ("lost", "Дорого") and lost["closed_at"]
    assert api.get("/deals", status="lost").body["items"][0]["id"] == deal["id"]
    reopened = api.post(f"/deals/{deal['id']}/move", {"stage_id": stage(pipeline, "КП")}).body
    assert (reopened["closed_at"], reopened["loss_reason"]) == (None, "")
    won = api.post(f"/deals/{deal['id']}/move", {"stage_id": stage(pipeline, "Оплачено")}).body
    assert won["stage_kind"] == "won" and won["closed_at"]


def test_a_deal_can_move_to_a_stage_of_another_pipeline(api_as, pipeline):
    other = api_as("admin").post("/pipelines", {"name": "Сервис"}).body
    api = api_as("manager")
    deal = api.post("/deals", {"title": "Сделка"}).body
    moved = api.post(f"/deals/{deal['id']}/move", {"stage_id": other["stages"][1]["id"]}).body
    assert (moved["pipeline_id"], moved["stage_id"]) == (other["id"], other["stages"][1]["id"])


def test_a_stale_version_gets_409_and_changes_nothing(api_as, pipeline):
    api = api_as("manager")
    deal = api.post("/deals", {"title": "Сделка"}).body
    assert api.patch(f"/deals/{deal['id']}", {"title": "Новое", "version": deal["version"]}).status_code == 200
    r = api.post(f"/deals/{deal['id']}/move", {"stage_id": stage(pipeline, "КП"), "version": deal["version"]})
    assert r.status_code == 409 and r.body["current_version"] == deal["version"] + 1
    r = api.patch(f"/deals/{deal['id']}", {"title": "Другое", "version": deal["version"]})
    assert r.status_code == 409
    current = Deal.objects.get(pk=deal["id"])
    assert (current.title, current.stage_id) == ("Новое", deal["stage_id"])


def test_patch_does_not_change_the_stage_behind_the_history(api_as, pipeline):
    api = api_as("manager")
    deal = api.post("/deals", {"title": "Сделка"}).body
    r = api.patch(f"/deals/{deal['id']}", {"stage_id": stage(pipeline, "КП")})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "stage_id", r.body


def test_line_items_make_the_amount_and_are_audited(api_as, pipeline):
    admin = api_as("admin")
    lathe = admin.post("/products", {"name": "Станок токарный", "price": "485000", "unit": "шт"}).body
    api = api_as("manager")
    deal = api.post("/deals", {"title": "Станки", "items": [
        {"product_id": lathe["id"], "quantity": 2, "discount_percent": 10},
        {"name": "Доставка", "price": "12000"}]}).body
    assert Decimal(deal["amount"]) == Decimal("885000.00")  # 2 × 485000 − 10% + 12000
    assert [i["name"] for i in deal["items"]] == ["Станок токарный", "Доставка"]
    assert deal["items"][0]["unit"] == "шт"
    r = api.patch(f"/deals/{deal['id']}", {"amount": "1"})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "amount"
    r = api.put(f"/deals/{deal['id']}/items", [{"product_id": lathe["id"], "quantity": 1}])
    assert r.status_code == 200 and Decimal(r.body["amount"]) == Decimal("485000")
    changes = [e["changes"] for e in api.get(f"/deals/{deal['id']}/history").body["items"]]
    assert any("items" in c for c in changes)
    r = api.put(f"/deals/{deal['id']}/items", [{"name": "", "quantity": 0}])
    assert r.status_code == 422
    assert {e["field"] for e in r.body["errors"]} == {"items.0.name", "items.0.price", "items.0.quantity"}


def test_a_manager_sees_only_his_deals_and_his_head_sees_the_team(api_as, org, pipeline):
    mine = factories.deal(org.manager, title="Моя")
    colleague = factories.deal(org.colleague, title="Коллеги")
    stranger = factories.deal(org.outsider, title="Чужая")
    assert {d["id"] for d in api_as("manager").get("/deals").body["items"]} == {mine.pk}
    assert {d["id"] for d in api_as("head").get("/deals").body["items"]} == {mine.pk, colleague.pk}
    assert api_as("manager").post(f"/deals/{stranger.pk}/move", {"stage_id": stage(pipeline, "КП")}).status_code == 404
    assert api_as("manager").get(f"/deals/{stranger.pk}/stage-history").status_code == 404


def test_deal_lists_filter_by_stage_text_amount_and_dates(api_as, org, pipeline):
    company = factories.company(org.manager, name="Ёлка-Трейд")
    a = factories.deal(org.manager, title="Поставка ЁЛОК", amount=100, company_id=company.pk,
                       expected_close="2026-12-01")
    b = factories.deal(org.manager, title="Сервис", amount=5000, stage_id=stage(pipeline, "КП"))
    api = api_as("manager")

    def ids(**params):
        r = api.get("/deals", **params)
        assert r.status_code == 200, r.body
        return {d["id"] for d in r.body["items"]}

    assert ids(q="елок") == {a.pk}
    assert ids(q="ёлка-трейд") == {a.pk}
    assert ids(stage=stage(pipeline, "КП")) == {b.pk}
    assert ids(amount_min=1000) == {b.pk}
    assert ids(expected_close_to="2026-12-31") == {a.pk}
    assert ids(status="open") == {a.pk, b.pk}
    assert api.get("/deals", status="maybe").status_code == 422
    assert [d["id"] for d in api.get("/deals", order="-amount").body["items"]] == [b.pk, a.pk]


def test_the_board_totals_each_stage_over_the_deals_the_user_may_see(api_as, org, pipeline):
    factories.deal(org.manager, amount=1000)
    factories.deal(org.manager, amount=3000, stage_id=stage(pipeline, "КП"))
    factories.deal(org.outsider, amount=99999)
    board = api_as("manager").get(f"/pipelines/{pipeline['id']}/board").body
    columns = {c["name"]: (c["count"], Decimal(c["amount"]), Decimal(c["weighted_amount"])) for c in board}
    assert columns["Новая"] == (1, Decimal(1000), Decimal(100))
    assert columns["КП"] == (1, Decimal(3000), Decimal(1500))
    assert columns["Оплачено"] == (0, Decimal(0), Decimal(0))
    assert [c["name"] for c in board] == ["Новая", "КП", "Счёт", "Оплачено", "Отказ"]


def test_a_binned_deal_leaves_the_timeline_and_comes_back_with_restore(api_as, org, pipeline):
    contact = factories.contact(org.manager)
    deal = factories.deal(org.manager, contact_id=contact.pk)
    kinds = lambda: [e["kind"] for e in api_as("manager").get(f"/contacts/{contact.pk}/timeline").body["items"]]  # noqa: E731
    assert "deal" in kinds()
    assert api_as("head").delete(f"/deals/{deal.pk}").status_code == 204
    assert "deal" not in kinds()
    assert api_as("head").post(f"/recycle-bin/deals/{deal.pk}/restore").status_code == 204
    assert "deal" in kinds()


def test_deal_search_finds_a_company_s_deals_by_its_name_written_with_its_legal_form(api_as, org):
    company = factories.company(org.manager, name="ООО «Ёлка-Трейд»")  # kept as ООО + «Ёлка-Трейд»
    deal = factories.deal(org.manager, title="Поставка", company_id=company.pk)
    api = api_as("manager")
    for text in ("ООО «Ёлка-Трейд»", 'ооо "елка-трейд"', "Ёлка-Трейд"):
        assert [d["id"] for d in api.get("/deals", q=text).body["items"]] == [deal.pk], text
