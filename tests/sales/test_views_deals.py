"""Deal screens: the board with totals, moving (refused with the reason), the list, the card, a new deal."""

import json

import pytest
from django.db import connection

from krug.sales.models import Deal
from tests import factories
from tests.plans import sqlite_plan


@pytest.fixture
def pipeline(api_as):
    return api_as("admin").post("/pipelines", {"name": "Основная", "is_default": True, "stages": [
        {"name": "Новая", "probability": 10}, {"name": "Счёт", "probability": 90, "required_fields": ["company"]},
        {"name": "Оплачено", "probability": 100, "kind": "won"},
        {"name": "Отказ", "probability": 0, "kind": "lost"}]}).body


def test_the_board_shows_each_stage_with_its_visible_deals_and_totals(client, org, pipeline):
    factories.deal(org.manager, title="Станки", amount=150000)
    factories.deal(org.outsider, title="Чужая", amount=99)
    client.force_login(org.manager)
    page = client.get("/deals/").content.decode()
    assert "Станки" in page and "Чужая" not in page and "150" in page
    for name in ("Новая", "Счёт", "Оплачено", "Отказ"):
        assert name in page


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan, which follows from the schema alone")
def test_a_board_column_reads_its_stage_in_order_from_the_index(org, pipeline):
    from krug.sales.views import COLUMN_SIZE

    column = (Deal.objects.visible_to(org.manager).filter(stage_id=pipeline["stages"][0]["id"])
              .order_by("-stage_entered_at", "-id")[:COLUMN_SIZE])
    plan = sqlite_plan(column)
    assert "deal_board_idx" in plan and "TEMP B-TREE" not in plan, plan


def test_a_move_the_stage_forbids_is_refused_with_the_reason_and_a_good_one_lands(client, org, pipeline):
    deal = factories.deal(org.manager, title="Без компании")
    client.force_login(org.manager)
    invoice, won = pipeline["stages"][1]["id"], pipeline["stages"][2]["id"]
    r = client.post(f"/deals/{deal.pk}/move/", {"stage_id": invoice}, HTTP_ACCEPT="application/json")
    body = json.loads(r.content)
    assert r.status_code == 422 and not body["ok"] and "Счёт" in body["reason"] and body["fields"] == ["company"]
    r = client.post(f"/deals/{deal.pk}/move/", {"stage_id": won, "version": deal.version},
                    HTTP_ACCEPT="application/json")
    assert json.loads(r.content)["ok"]
    assert Deal.objects.get(pk=deal.pk).stage_id == won
    lost = pipeline["stages"][3]["id"]
    r = client.post(f"/deals/{deal.pk}/move/", {"stage_id": lost})
    assert r.status_code == 422 and "lost" in r.content.decode()


def test_the_card_list_and_new_deal_work_and_a_stranger_gets_404(client, org, pipeline):
    contact = factories.contact(org.manager, surname="Орлов")
    client.force_login(org.manager)
    r = client.post("/deals/new/", {"title": "", "amount": "-1", "pipeline": pipeline["id"]})
    assert r.status_code == 200 and "e-title" in r.content.decode()
    r = client.post(f"/deals/new/?contact={contact.pk}", {"title": "Линия", "amount": "1 000",
                                                          "contact": contact.pk, "pipeline": pipeline["id"]})
    deal = Deal.objects.get()
    assert r["Location"] == f"/deals/{deal.pk}/" and deal.contact_id == contact.pk and deal.amount == 1000
    page = client.get(f"/deals/{deal.pk}/").content.decode()
    assert "Линия" in page and "Новая" in page
    client.post(f"/deals/{deal.pk}/items/", {"name": "Доставка", "price": "500", "quantity": "2"})
    assert Deal.objects.get().amount == 1000  # the line replaces the hand-typed amount: 2 × 500
    assert "Линия" in client.get("/deals/list/", {"status": "open"}).content.decode()
    client.force_login(org.outsider)
    assert client.get(f"/deals/{deal.pk}/").status_code == 404
