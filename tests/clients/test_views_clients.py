"""The client screens: lists, creating with the duplicate warning, the card with in-place editing, quick
actions on the timeline, history, and the leads inbox, all through the permission door."""

from krug.activities.models import Call, Task
from krug.clients.models import Contact, Lead
from tests import factories


def test_the_contact_list_shows_what_the_manager_may_see_and_filters_by_phone_digits(client, org):
    mine = factories.contact(org.manager, surname="Орлов", phones=["+7 912 345-67-89"])
    factories.contact(org.outsider, surname="Чужой")
    client.force_login(org.manager)
    page = client.get("/clients/contacts/").content.decode()
    assert "Орлов" in page and "Чужой" not in page
    assert "Орлов" in client.get("/clients/contacts/", {"q": "345-67"}).content.decode()
    assert "Орлов" not in client.get("/clients/contacts/", {"q": "Петров"}).content.decode()
    assert client.get(f"/clients/contacts/{mine.pk}/").status_code == 200


def test_creating_a_contact_with_bad_values_shows_errors_beside_fields_and_writes_nothing(client, org):
    client.force_login(org.manager)
    r = client.post("/clients/contacts/new/", {"surname": "Иванов", "phones": "12", "emails": "a@",
                                               "owner": org.manager.pk})
    page = r.content.decode()
    assert r.status_code == 200 and 'id="e-phones"' in page and 'id="e-emails"' in page
    assert not Contact.objects.exists()


def test_a_duplicate_is_shown_before_saving_and_can_be_saved_anyway(client, org):
    existing = factories.contact(org.manager, surname="Орлов", first_name="Олег", phones=["+79123456789"])
    client.force_login(org.manager)
    data = {"surname": "Орлов", "first_name": "Олег", "phones": "8 912 345 67 89", "owner": org.manager.pk}
    page = client.post("/clients/contacts/new/", data).content.decode()
    assert f"/clients/contacts/{existing.pk}/" in page and "allow_duplicate" in page
    r = client.post("/clients/contacts/new/", {**data, "allow_duplicate": "1"})
    assert r.status_code == 302 and Contact.objects.count() == 2


def test_editing_in_place_saves_through_the_service_or_shows_the_error(client, org):
    contact = factories.contact(org.manager, surname="Орлов")
    client.force_login(org.manager)
    assert 'name="surname"' in client.get(f"/clients/contact/{contact.pk}/edit/").content.decode()
    r = client.post(f"/clients/contact/{contact.pk}/edit/", {"surname": "Орлов", "city": "тула", "emails": "bad@",
                                                             "version": contact.version})
    assert r.status_code == 200 and "e-emails" in r.content.decode()
    r = client.post(f"/clients/contact/{contact.pk}/edit/", {"surname": "Орлов", "city": "тула",
                                                             "version": contact.version})
    assert r["HX-Redirect"] == f"/clients/contacts/{contact.pk}/"
    contact.refresh_from_db()
    assert contact.city == "Тула"
    stale = client.post(f"/clients/contact/{contact.pk}/edit/", {"city": "Омск", "version": 1})
    assert "Someone changed this card" in stale.content.decode()


def test_quick_actions_put_a_missed_call_and_a_task_on_the_timeline(client, org):
    contact = factories.contact(org.manager)
    client.force_login(org.manager)
    client.post(f"/clients/contact/{contact.pk}/do/call/", {"direction": "in", "result": "missed"})
    client.post(f"/clients/contact/{contact.pk}/do/task/", {"title": "Перезвонить", "due_at": "2030-01-01T10:00"})
    bad = client.post(f"/clients/contact/{contact.pk}/do/task/", {"title": ""})
    assert bad.status_code == 422
    assert Call.objects.get().result == "missed" and Task.objects.get().title == "Перезвонить"
    page = client.get(f"/clients/contacts/{contact.pk}/").content.decode()
    assert "event-missed" in page and "Перезвонить" in page
    task = Task.objects.get()
    client.post(f"/clients/contact/{contact.pk}/tasks/{task.pk}/done/")
    task.refresh_from_db()
    assert task.state == "done"
    assert "Created" in client.get(f"/clients/contact/{contact.pk}/history/").content.decode()


def test_another_manager_cannot_open_the_card(client, org):
    contact = factories.contact(org.manager)
    client.force_login(org.outsider)
    assert client.get(f"/clients/contacts/{contact.pk}/").status_code == 404
    assert client.post(f"/clients/contact/{contact.pk}/do/note/", {"text": "x"}).status_code == 404


def test_the_company_card_lists_its_people(client, org):
    company = factories.company(org.manager, name="Вектор")
    factories.contact(org.manager, surname="Орлов", company_id=company.pk)
    client.force_login(org.manager)
    page = client.get(f"/clients/companies/{company.pk}/").content.decode()
    assert "Орлов" in page
    assert "Вектор" in client.get("/clients/companies/").content.decode()


def test_a_lead_is_taken_from_the_pool_and_converted_into_a_client(client, org):
    lead = factories.lead(org.head, owner_id=None, surname="Кузнецов", phone="+79121112233", title="Станки")
    client.force_login(org.manager)
    assert "Станки" in client.get("/clients/leads/").content.decode()
    client.post(f"/clients/leads/{lead.pk}/take/")
    r = client.post(f"/clients/leads/{lead.pk}/convert/", {"create_deal": "1"})
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and r["Location"] == f"/clients/contacts/{lead.contact_id}/"


def test_list_columns_sort_both_ways_by_their_header_and_keep_the_filters(client, org):
    for surname in ("Борисов", "Абрамов", "Воронин"):
        factories.contact(org.manager, surname=surname, city="Тула")
    client.force_login(org.manager)
    page = client.get("/clients/contacts/", {"city": "Тула"}).content.decode()
    assert "order=surname" in page and "city=%D0%A2%D1%83%D0%BB%D0%B0" in page
    page = client.get("/clients/contacts/", {"city": "Тула", "order": "surname"}).content.decode()
    assert page.index("Абрамов") < page.index("Борисов") < page.index("Воронин")
    assert 'aria-sort="ascending"' in page and "order=-surname" in page
    page = client.get("/clients/contacts/", {"city": "Тула", "order": "-surname"}).content.decode()
    assert page.index("Воронин") < page.index("Борисов") < page.index("Абрамов")
    # an order nobody offers falls back to the newest first rather than failing
    assert client.get("/clients/contacts/", {"order": "password"}).status_code == 200
