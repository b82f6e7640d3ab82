from krug.clients.models import Company, Contact, Lead


def test_lead_from_a_form_keeps_its_source_and_utm_and_waits_in_the_pool(api_as):
    r = api_as("head").post("/leads", {"first_name": "ольга", "phone": "+7 912 111-22-33", "source": "form",
                                      "utm_source": "yandex", "utm_campaign": "spring"})
    assert r.status_code == 201, r.body
    assert r.body["owner_id"] is None
    assert r.body["title"] == "Request from Ольга"
    assert (r.body["utm_source"], r.body["phone"]) == ("yandex", "+79121112233")


def test_manager_takes_a_pool_lead_then_converts_it_into_contact_company_and_deal(api_as, org):
    lead = api_as("head").post("/leads", {"title": "Нужны 10 станков", "surname": "Кузнецов",
                                          "first_name": "Павел", "company_name": "Станкомаш",
                                          "inn": "7707083893", "phone": "89121112233", "amount": "150000"}).body
    api = api_as("manager")
    assert api.post(f"/leads/{lead['id']}/convert", {}).status_code == 403
    assert api.post(f"/leads/{lead['id']}/take").body["owner_id"] == org.manager.pk
    r = api.post(f"/leads/{lead['id']}/convert", {})
    assert r.status_code == 200, r.body
    assert r.body["contact_created"] and r.body["company_created"]
    contact = Contact.objects.get(pk=r.body["contact_id"])
    assert contact.company_id == r.body["company_id"] and contact.owner_id == org.manager.pk
    assert Company.objects.get(pk=r.body["company_id"]).inn == "7707083893"
    deal = api.get(f"/deals/{r.body['deal_id']}").body
    assert deal["contact_id"] == contact.pk and float(deal["amount"]) == 150000
    assert Lead.objects.get(pk=lead["id"]).status == "converted"
    kinds = {e["kind"] for e in api.get(f"/contacts/{contact.pk}/timeline").body["items"]}
    assert {"created", "deal", "lead_converted"} <= kinds
    again = api.post(f"/leads/{lead['id']}/convert", {})
    assert again.status_code == 409


def test_conversion_reuses_the_contact_with_the_same_phone_instead_of_duplicating(api_as):
    api = api_as("manager")
    existing = api.post("/contacts", {"surname": "Кузнецов", "phones": ["+79121112233"]}).body
    lead = api.post("/leads", {"first_name": "Павел", "phone": "8 912 111 22 33"}).body
    r = api.post(f"/leads/{lead['id']}/convert", {"create_deal": False}).body
    assert r["contact_id"] == existing["id"] and not r["contact_created"] and r["deal_id"] is None
    assert Contact.objects.count() == 1


def test_failed_conversion_writes_nothing(api_as):
    api = api_as("manager")
    lead = api.post("/leads", {"first_name": "Павел", "company_name": "Альфа"}).body
    r = api.post(f"/leads/{lead['id']}/convert", {"pipeline_id": 999999})
    assert r.status_code == 422, r.body
    assert not Contact.objects.exists() and not Company.objects.exists()
    assert Lead.objects.get(pk=lead["id"]).status == "new"


def test_lead_with_bad_values_is_refused(api_as):
    api = api_as("manager")
    r = api.post("/leads", {"first_name": "А", "email": "a@", "amount": "-5", "source": "pigeon"})
    assert r.status_code == 422
    assert {e["field"] for e in r.body["errors"]} == {"email", "amount", "source"}
    assert api.post("/leads", {}).body["errors"][0]["field"] == "title"
