"""The product catalogue: administrators keep it, everyone picks from it for deal lines."""

from decimal import Decimal


def test_admin_keeps_the_catalogue_and_managers_search_it(api_as):
    admin = api_as("admin")
    r = admin.post("/products", {"name": "Фрезерный центр", "sku": "FC-500", "price": "1250000", "vat_rate": 20})
    assert r.status_code == 201, r.body
    assert (r.body["currency"], Decimal(r.body["vat_rate"])) == ("RUB", Decimal(20))
    admin.post("/products", {"name": "Доставка", "price": "12000", "is_active": False})
    manager = api_as("manager")
    assert [p["name"] for p in manager.get("/products", q="фрез").body["items"]] == ["Фрезерный центр"]
    assert [p["name"] for p in manager.get("/products", q="fc-5").body["items"]] == ["Фрезерный центр"]
    assert [p["name"] for p in manager.get("/products", active=True).body["items"]] == ["Фрезерный центр"]
    patched = admin.patch(f"/products/{r.body['id']}", {"price": "1300000", "version": r.body["version"]})
    assert Decimal(patched.body["price"]) == Decimal(1300000)


def test_bad_product_values_are_refused_by_field(api_as):
    r = api_as("admin").post("/products", {"name": "", "price": "-1", "vat_rate": 120, "currency": "EURO"})
    assert r.status_code == 422
    assert {e["field"] for e in r.body["errors"]} == {"name", "price", "vat_rate", "currency"}
