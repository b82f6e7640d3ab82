"""The contact API answers from rows (`.values()` and three queries for phones, e-mails and tags), not from
records: what it answers must be what the records hold."""

import datetime as dt

from krug.clients.models import Company, Contact
from krug.core.models import CustomField


def test_a_listed_contact_is_what_its_record_holds_and_what_reading_it_answers(api_as, org):
    CustomField.objects.create(entity="contact", key="brand", label="Марка", type="text")
    api = api_as("manager")
    company = api.post("/companies", {"name": "Вектор", "legal_form": "ООО"}).body
    made = api.post("/contacts", {
        "surname": "Петрова", "first_name": "Анна", "patronymic": "Сергеевна", "position": "главный бухгалтер",
        "company_id": company["id"], "birthday": "1985-03-07", "city": "Тула", "source": "сайт",
        "phones": ["+7 912 345-67-89", {"number": "+7 495 123-45-67 доб. 12", "kind": "work"}],
        "emails": ["anna@vector.ru", {"email": "a.petrova@mail.ru", "kind": "personal"}],
        "tags": ["опт", "VIP", "бухгалтерия"], "custom": {"brand": "Kia"}}).body
    api.post("/contacts", {"surname": "Без", "phones": []})  # no company, phone, e-mail or tag

    listed = {c["id"]: c for c in api.get("/contacts").body["items"]}
    assert listed[made["id"]] == made == api.get(f"/contacts/{made['id']}").body
    record = Contact.objects.get(pk=made["id"])
    assert made["full_name"] == record.full_name == "Петрова Анна Сергеевна"
    assert made["company_name"] == str(Company.objects.get(pk=company["id"])) == "ООО «Вектор»"
    assert [p["number"] for p in made["phones"]] == [p.number for p in record.phones.all()]
    assert [(p["extension"], p["kind"], p["valid"]) for p in made["phones"]] == [("", "mobile", True),
                                                                                 ("12", "work", True)]
    assert [e["email"] for e in made["emails"]] == ["anna@vector.ru", "a.petrova@mail.ru"]
    assert made["tags"] == [t.name for t in record.tags.all()] == sorted(made["tags"])
    assert made["birthday"] == "1985-03-07" and made["custom"] == {"brand": "Kia"}
    assert made["job_title"] == record.job_title and made["version"] == record.version
    bare = next(c for c in listed.values() if c["surname"] == "Без")
    assert (bare["company_name"], bare["phones"], bare["emails"], bare["tags"]) == (None, [], [], [])


def test_pages_by_a_field_with_cursors_from_rows(api_as, org):
    api = api_as("manager")
    for surname in ("Яковлев", "Абрамов", "Петров", "Абрамов", "Жуков"):
        api.post("/contacts", {"surname": surname, "phones": [], "allow_duplicate": True})
    seen, cursor = [], None
    while True:
        body = api.get("/contacts", order="surname", limit=2, **({"cursor": cursor} if cursor else {})).body
        seen += [(c["surname"], c["id"]) for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == 5
    recent = api.get("/contacts", order="-updated_at", limit=2).body
    after = api.get("/contacts", order="-updated_at", limit=10, cursor=recent["next_cursor"]).body["items"]
    assert len(recent["items"]) + len(after) == 5
    assert dt.datetime.fromisoformat(after[0]["updated_at"]) <= dt.datetime.fromisoformat(
        recent["items"][-1]["updated_at"])
