"""Job titles: whatever people type, the base knows one standard title, from a dictionary admins edit."""

import pytest

from krug.quality import titles
from tests import factories


@pytest.mark.parametrize("typed", ["CEO", "ceo", "Генеральный директор", "генеральный  директор",
                                   "Главный исполнительный директор", "Founder & CEO", "founder and ceo",
                                   "CEOn", "Ген. директор", "Генеральный дирктор"])
def test_every_way_of_writing_ceo_is_one_title(db, typed):
    assert titles.standard_title(typed) == "Генеральный директор"


@pytest.mark.parametrize("typed", ["CTO", "Садовник", "Менеджер", ""])
def test_a_title_is_only_mapped_when_close_enough(db, typed):
    assert titles.standard_title(typed) != "Генеральный директор"


def test_a_contact_keeps_what_was_typed_and_gets_the_standard_title(api_as, org):
    r = api_as("manager").post("/contacts", {"surname": "Орлов", "position": "Founder & CEO"})
    assert r.status_code == 201, r.body
    assert (r.body["position"], r.body["job_title"]) == ("Founder & CEO", "Генеральный директор")
    factories.contact(org.manager, surname="Ким", position="Главбух")
    rows = api_as("manager").get("/contacts", job_title="Главный бухгалтер").body["items"]
    assert [c["surname"] for c in rows] == ["Ким"]


def test_an_admin_teaches_the_dictionary_a_new_spelling(api_as):
    admin = api_as("admin")
    assert admin.get("/quality/titles/standard", position="Big Boss").body["title"] == ""
    r = admin.post("/quality/titles", {"variant": "Big Boss", "title": "Генеральный директор"})
    assert r.status_code == 201, r.body
    assert admin.get("/quality/titles/standard", position="big boss").body["title"] == "Генеральный директор"
    clash = admin.post("/quality/titles", {"variant": "BIG  boss", "title": "Юрист"})
    assert clash.status_code == 422 and clash.body["errors"][0]["field"] == "variant"
    assert api_as("manager").post("/quality/titles", {"variant": "Шеф", "title": "Юрист"}).status_code == 403
