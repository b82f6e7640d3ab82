"""Cleanup candidates with their reasons, and the data-health figures with their daily trend."""

import datetime as dt

from django.utils import timezone

from krug.cli import main
from krug.clients.models import Contact, ContactEmail
from krug.quality.models import HealthSnapshot
from tests import factories


def base(org):
    company = factories.company(org.manager, name="Вектор")
    good = factories.contact(org.manager, surname="Орлов", first_name="Олег", company_id=company.pk,
                             phones=["+79120000001"], emails=["o.orlov@vektor.ru"], position="Юрист", city="Тула")
    role = factories.contact(org.manager, surname="Отдел", first_name="Продаж", company_id=company.pk,
                             emails=["sales@vektor.ru"])
    free = factories.contact(org.manager, surname="Белова", first_name="Анна", company_id=company.pk,
                             emails=["anna.belova@gmail.com"])
    fake = factories.contact(org.manager, surname="Тест", first_name="Тест", phones=["+7 999 000-00-00"])
    empty = factories.contact(org.manager, surname="Пустой", first_name="Без связи")
    stale = factories.contact(org.manager, surname="Старый", first_name="Клиент", phones=["+79120000002"])
    Contact.objects.filter(pk=stale.pk).update(last_contact_at=timezone.now() - dt.timedelta(days=365))
    bounced = factories.contact(org.manager, surname="Вернулся", first_name="Адрес", emails=["x@firm.ru"])
    ContactEmail.objects.filter(contact=bounced).update(bounced=True)
    return {"good": good, "role": role, "free": free, "fake": fake, "empty": empty, "stale": stale,
            "bounced": bounced}


def test_each_cleanup_rule_lists_its_contacts_with_every_reason(api_as, org):
    people = base(org)
    api = api_as("manager")

    def ids(reason):
        r = api.get("/quality/cleanup", reason=reason)
        assert r.status_code == 200, r.body
        return {item["id"] for item in r.body["items"]}

    assert ids("role_email") == {people["role"].pk}
    assert ids("free_email") == {people["free"].pk}
    assert ids("fake") == {people["fake"].pk}
    assert ids("incomplete") == {people["empty"].pk}
    assert ids("bounced") == {people["bounced"].pk}
    assert ids("stale") == {people["stale"].pk}
    assert people["good"].pk not in ids("no_company") and people["empty"].pk in ids("no_company")
    item = next(i for i in api.get("/quality/cleanup", reason="fake").body["items"])
    assert set(item["reasons"]) >= {"fake", "no_company"}
    assert api_as("outsider").get("/quality/cleanup", reason="fake").body["items"] == []
    assert api.get("/quality/cleanup", reason="ugly").status_code == 422
    assert len(api.get("/quality/cleanup/rules").body) == 8


def test_health_shows_clean_share_and_completeness_for_what_the_user_answers_for(api_as, org):
    base(org)
    factories.contact(org.outsider, surname="Чужой", phones=["+79120000009"])
    mine = api_as("manager").get("/quality/health").body
    assert (mine["scope"], mine["total"]) == ("own", 7)
    assert mine["completeness"]["phone"] == 3 and mine["completeness"]["company"] == 3
    assert mine["clean"] == 5 and abs(mine["clean_share"] - 5 / 7) < 0.001  # all but the fake and the empty one
    everyone = api_as("admin").get("/quality/health").body
    assert (everyone["scope"], everyone["total"]) == ("all", 8)


def test_the_daily_snapshot_makes_a_trend(api_as, org, capsys):
    base(org)
    assert main(["quality", "snapshot"]) == 0
    assert HealthSnapshot.objects.filter(owner__isnull=True).get().total == 7
    HealthSnapshot.objects.create(date=timezone.localdate() - dt.timedelta(days=1), total=5, clean=2)
    history = api_as("admin").get("/quality/health/history").body
    assert [(p["total"], p["clean"]) for p in history] == [(5, 2), (7, 5)]
    assert api_as("admin").get("/quality/health").body["date"] == str(timezone.localdate())
    manager = api_as("manager").get("/quality/health/history").body
    assert [p["total"] for p in manager] == [7]


def test_an_invalid_phone_is_rejected_by_default_and_kept_raw_and_flagged_when_the_setting_says_so(api_as, org, client):
    api = api_as("manager")
    r = api.post("/contacts", {"surname": "Неверов", "first_name": "Иван", "phones": ["12-34"]})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "phones.0"
    assert api_as("admin").put("/quality/settings", {"match_rules": {}, "invalid_phones": "maybe"}).status_code == 422
    r = api_as("admin").put("/quality/settings", {"match_rules": {}, "invalid_phones": "keep"})
    assert r.status_code == 200 and r.body["invalid_phones"] == "keep"
    r = api.post("/contacts", {"surname": "Неверов", "first_name": "Иван", "phones": ["12-34 (спросить Ивана)",
                                                                                   "+7 912 345-67-89"]})
    assert r.status_code == 201
    assert [(p["raw"], p["number"], p["valid"]) for p in r.body["phones"]] == [
        ("12-34 (спросить Ивана)", "1234", False), ("+7 912 345-67-89", "+79123456789", True)]
    flagged = api.get("/quality/cleanup", reason="invalid_phone").body["items"]
    assert [c["id"] for c in flagged] == [r.body["id"]]
    # text with no digits at all is still refused: there is nothing to keep
    bad = api.post("/contacts", {"surname": "Пустой", "phones": ["позвонить позже"]})
    assert bad.status_code == 422 and bad.body["errors"][0]["field"] == "phones.0"
    client.force_login(org.manager)
    card = client.get(f"/clients/contacts/{r.body['id']}/").content.decode()
    assert "12-34 (спросить Ивана)" in card and "chip-warn" in card
