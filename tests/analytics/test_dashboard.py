"""The head's dashboard: every figure through the permission door, each linking to its records."""

import datetime as dt
import re

from django.utils import timezone

from tests import factories


def _text(response) -> str:
    """The page without its random tokens (the CSRF token once held `999`, failing the test one run in ten)."""
    return re.sub(r"[A-Za-z0-9_-]{32,}", "", response.content.decode())


def test_a_head_sees_his_teams_deals_overdue_tasks_and_leads_and_not_another_teams(client, org):
    factories.deal(org.manager, title="A", amount=1000)
    factories.deal(org.colleague, title="B", amount=2000)
    factories.deal(org.outsider, title="C", amount=999999)
    factories.task(org.manager, title="Позвонить", due_at=timezone.now() - dt.timedelta(days=1))
    factories.lead(org.manager, source="form")
    client.force_login(org.head)
    page = _text(client.get("/dashboard/"))
    assert "3 000" in page.replace("\xa0", " ") or "3,000" in page or "3 000" in page
    assert "999" not in page
    assert f"/tasks/?owner={org.manager.pk}&overdue=1" in page
    assert "/clients/leads/?status=&source=form" in page
    assert "/deals/list/?stage=" in page


def test_a_manager_sees_only_his_own_figures(client, org):
    factories.deal(org.colleague, title="Чужая", amount=777777)
    client.force_login(org.manager)
    assert "777" not in _text(client.get("/dashboard/"))


def test_the_data_health_page_shows_each_user_his_scope_with_links_down_to_the_contacts(client, org):
    from krug.quality import health

    factories.contact(org.manager, surname="Полнов", first_name="Пётр", phones=["+79165550142"], emails=["p@polnov.ru"])
    factories.contact(org.manager, surname="Пустов", first_name="Павел")
    factories.contact(org.colleague, surname="Коллегов", first_name="Карл")
    factories.contact(org.outsider, surname="Казанцев", first_name="Кирилл", phones=["+79175550143"])
    client.force_login(org.manager)
    page = client.get("/dashboard/data-health/").content.decode()
    assert "50%" in page and "1 / 2" in page  # his two contacts, one clean
    assert "?cleanup=incomplete" in page and "Коллегов" not in page
    listed = client.get("/clients/contacts/", {"cleanup": "incomplete"}).content.decode()
    assert "Пустов" in listed and "Полнов" not in listed
    bad = client.get("/clients/contacts/", {"cleanup": "nonsense"}).content.decode()
    assert "cleanup" in bad and "Пустов" not in bad
    client.force_login(org.head)
    page = client.get("/dashboard/data-health/").content.decode()
    assert f"?owner={org.manager.pk}" in page and f"?owner={org.colleague.pk}" in page
    assert f"?owner={org.outsider.pk}" not in page
    health.take_snapshot()
    client.force_login(org.admin)
    page = client.get("/dashboard/data-health/").content.decode()
    assert f"?owner={org.outsider.pk}" in page and "4" in page
