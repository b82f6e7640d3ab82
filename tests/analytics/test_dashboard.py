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


def test_overdue_tasks_are_counted_for_the_managers_he_answers_for_and_the_pool(org):
    from krug.activities.models import Task
    from krug.analytics.services import overdue_by_manager

    now = timezone.now()
    past = now - dt.timedelta(days=1)
    mine = factories.contact(org.manager, surname="Свой")
    for by in (org.manager, org.manager, org.colleague, org.outsider):
        factories.task(by, due_at=past)
    factories.task(org.head, due_at=past, contact_id=mine.pk, owner_id=org.colleague.pk)  # on his client
    factories.task(org.manager, due_at=now + dt.timedelta(days=1))  # not yet due
    factories.task(org.admin, due_at=past, owner_id=None)  # the unowned pool

    def counts(user):
        return {row["owner_id"]: row["count"] for row in overdue_by_manager(user, now)}

    assert counts(org.manager) == {org.manager.pk: 2, None: 1}  # though he sees the colleague's task on his client
    assert Task.objects.visible_to(org.manager).filter(owner=org.colleague).count() == 1
    assert counts(org.head) == {org.manager.pk: 2, org.colleague.pk: 2, None: 1}
    assert counts(org.admin) == {org.manager.pk: 2, org.colleague.pk: 2, org.outsider.pk: 1, None: 1}
    assert overdue_by_manager(org.head, now)[0]["count"] == 2


def test_the_overdue_count_reads_the_agenda_index_not_every_task_through_the_door(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from krug.analytics.services import overdue_by_manager

    if connection.vendor != "sqlite":
        return
    factories.task(org.manager, due_at=timezone.now() - dt.timedelta(days=1))
    with CaptureQueriesContext(connection) as captured:
        overdue_by_manager(org.head, timezone.now())
    counting = [q["sql"] for q in captured.captured_queries if "COUNT" in q["sql"]]
    assert len(counting) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + counting[0])
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "task_agenda_idx" in plan, plan
