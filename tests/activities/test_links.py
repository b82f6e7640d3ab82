"""What an activity is attached to: a deal brings its client along."""

from tests import factories


def test_an_activity_on_a_deal_is_attached_to_the_deals_contact_and_company(api_as, org):
    company = factories.company(org.manager)
    contact = factories.contact(org.manager, company_id=company.pk)
    deal = factories.deal(org.manager, contact_id=contact.pk, company_id=company.pk)
    r = api_as("manager").post("/notes", {"text": "Согласовали скидку", "deal_id": deal.pk})
    assert r.status_code == 201, r.body
    attached = (r.body["deal_id"], r.body["contact_id"], r.body["company_id"])
    assert attached == (deal.pk, contact.pk, company.pk)
    assert r.body["deal_title"] == str(deal)
    assert api_as("manager").get("/notes", deal=deal.pk).body["items"][0]["id"] == r.body["id"]


def test_a_deal_the_user_cannot_see_is_no_such_deal(api_as, org):
    deal = factories.deal(org.outsider)
    r = api_as("manager").post("/tasks", {"title": "Позвонить", "deal_id": deal.pk})
    assert r.status_code == 422
    assert r.body["errors"][0] == {"field": "deal_id", "message": "no such deal"}
