"""Bulk actions on list selections, saved views and the shared list filters, through the API and the pages."""

from krug.accounts.models import SavedView
from krug.clients.models import Contact, Lead
from krug.core import custom_fields
from krug.core.models import AuditEntry
from tests import factories


def test_a_head_assigns_a_selection_to_a_manager_in_one_transaction_with_an_audit_entry_each(api_as, org):
    rows = [factories.contact(org.colleague, surname=f"Орлов{i}") for i in range(3)]
    r = api_as("head").post("/contacts/bulk", {"ids": [c.pk for c in rows], "action": "assign",
                                               "value": org.manager.pk})
    assert r.status_code == 200 and r.body == {"changed": 3, "unchanged": 0}
    assert set(Contact.objects.values_list("owner", flat=True)) == {org.manager.pk}
    assert AuditEntry.objects.filter(object_id__in=[c.pk for c in rows], action="update").count() == 3


def test_a_bulk_action_is_all_or_nothing_and_names_the_record_that_refused(api_as, org):
    mine = factories.contact(org.manager, surname="Свой")
    lead_ok = factories.lead(org.manager, title="Заявка 1")
    converted = factories.lead(org.manager, title="Заявка 2")
    Lead.objects.filter(pk=converted.pk).update(status=Lead.Status.CONVERTED)
    r = api_as("manager").post("/leads/bulk", {"ids": [lead_ok.pk, converted.pk], "action": "set_status",
                                               "value": "rejected"})
    assert r.status_code == 409 and "Заявка 2" in r.body["detail"]
    assert Lead.objects.get(pk=lead_ok.pk).status == Lead.Status.NEW
    # a manager may not hand his clients to someone else
    r = api_as("manager").post("/contacts/bulk", {"ids": [mine.pk], "action": "assign", "value": org.colleague.pk})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "owner_id"
    assert Contact.objects.get(pk=mine.pk).owner == org.manager


def test_a_bulk_action_on_records_the_user_may_not_see_answers_404_and_changes_nothing(api_as, org):
    mine = factories.contact(org.manager, surname="Свой")
    foreign = factories.contact(org.outsider, surname="Чужой")
    r = api_as("manager").post("/contacts/bulk", {"ids": [mine.pk, foreign.pk], "action": "add_tag",
                                                  "value": "VIP"})
    assert r.status_code == 404
    assert not Contact.objects.get(pk=mine.pk).tags.exists()


def test_tags_are_added_and_removed_in_bulk_whatever_their_case(api_as, org):
    a = factories.contact(org.manager, surname="Первый", tags=["vip"])
    b = factories.contact(org.manager, surname="Второй")
    api = api_as("manager")
    r = api.post("/contacts/bulk", {"ids": [a.pk, b.pk], "action": "add_tag", "value": "VIP"})
    assert r.body == {"changed": 1, "unchanged": 1}
    assert [t.key for t in b.tags.all()] == ["vip"]
    r = api.post("/contacts/bulk", {"ids": [a.pk, b.pk], "action": "remove_tag", "value": "Vip"})
    assert r.body == {"changed": 2, "unchanged": 0}
    assert not a.tags.exists() and not b.tags.exists()
    bad = api.post("/contacts/bulk", {"ids": [a.pk], "action": "add_tag", "value": "  "})
    assert bad.status_code == 422 and bad.body["errors"][0]["field"] == "tag"
    bad = api.post("/contacts/bulk", {"ids": [a.pk], "action": "explode", "value": 1})
    assert bad.status_code == 422 and bad.body["errors"][0]["field"] == "action"
    bad = api.post("/contacts/bulk", {"ids": [], "action": "add_tag", "value": "x"})
    assert bad.status_code == 422 and bad.body["errors"][0]["field"] == "ids"


def test_the_bulk_bar_on_the_page_changes_the_type_and_reports_back(client, org):
    rows = [factories.contact(org.manager, surname=f"Клиент{i}") for i in range(2)]
    client.force_login(org.manager)
    page = client.get("/clients/contacts/").content.decode()
    assert 'form="bulk"' in page and 'data-bulk' in page
    r = client.post("/clients/contacts/bulk/", {"ids": [c.pk for c in rows], "action": "set_type",
                                                "client_type": "partner", "next": "/clients/contacts/?city=x"},
                    follow=True)
    assert r.redirect_chain[-1][0] == "/clients/contacts/?city=x"
    assert set(Contact.objects.values_list("client_type", flat=True)) == {"partner"}
    assert "2" in r.content.decode()
    r = client.post("/clients/contacts/bulk/", {"ids": [rows[0].pk], "action": "set_type", "client_type": "nope",
                                                "next": "https://evil.example/"}, follow=True)
    assert r.redirect_chain[-1][0] == "/clients/contacts/"
    assert "client_type" in r.content.decode() or "partner" in r.content.decode()


def test_saved_views_keep_the_filters_per_user_and_reject_bad_ones(client, api_as, org):
    client.force_login(org.manager)
    r = client.post("/views/contacts/save/", {"name": "Москва без звонков",
                                              "query": "city=Москва&no_contact_days=30&cursor=abc"})
    view = SavedView.objects.get()
    assert view.user == org.manager and view.query == "city=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0&no_contact_days=30"
    assert r.status_code == 302 and f"view={view.pk}" in r["Location"]
    page = client.get("/clients/contacts/").content.decode()
    assert "Москва без звонков" in page
    # someone else's list does not show it, and cannot delete it
    assert "Москва без звонков" not in api_as("colleague").get("/views", entity="contacts").content.decode()
    assert api_as("colleague").delete(f"/views/{view.pk}").status_code == 404
    # a bad filter is refused with the parameter named
    r = api_as("manager").post("/views", {"entity": "contacts", "name": "Плохой", "query": "no_contact_days=abc"})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "no_contact_days"
    r = api_as("manager").post("/views", {"entity": "planets", "name": "x", "query": ""})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "entity"
    # saving under the same name replaces the view
    api_as("manager").post("/views", {"entity": "contacts", "name": "Москва без звонков", "query": "city=Казань"})
    assert SavedView.objects.get().query == "city=%D0%9A%D0%B0%D0%B7%D0%B0%D0%BD%D1%8C"
    assert api_as("manager").delete(f"/views/{view.pk}").status_code == 204
    assert not SavedView.objects.exists()


def test_lists_filter_by_custom_fields_in_the_page_and_the_api_alike(client, api_as, org):
    custom_fields.define_field(org.admin, {"entity": "contact", "key": "budget", "label": "Бюджет", "type": "number"})
    custom_fields.define_field(org.admin, {"entity": "contact", "key": "kanal", "label": "Канал", "type": "choice",
                                           "choices": ["Выставка", "Сайт"]})
    rich = factories.contact(org.manager, surname="Богатов", custom={"budget": 500000, "kanal": "Выставка"})
    factories.contact(org.manager, surname="Скромнов", custom={"budget": 1000, "kanal": "Сайт"})
    client.force_login(org.manager)
    page = client.get("/clients/contacts/").content.decode()
    assert 'name="cf.budget.gte"' in page and "Выставка" in page
    page = client.get("/clients/contacts/", {"cf.budget.gte": "100000", "cf.kanal": ""}).content.decode()
    assert "Богатов" in page and "Скромнов" not in page
    page = client.get("/clients/contacts/", {"cf.budget.gte": "много"}).content.decode()
    assert "cf.budget.gte" in page and "Богатов" not in page
    r = api_as("manager").get("/contacts", **{"cf.kanal": "Выставка"})
    assert [c["id"] for c in r.body["items"]] == [rich.pk]


def test_the_contact_list_search_finds_by_phone_digits_in_the_api_too(api_as, org):
    c = factories.contact(org.manager, surname="Орлов", phones=["8 (912) 345-67-89"])
    assert [x["id"] for x in api_as("manager").get("/contacts", q="345-67-89").body["items"]] == [c.pk]
