"""The head's dashboard: every figure through the permission door, each linking to its records."""

import datetime as dt

from django.utils import timezone

from tests import factories


def test_a_head_sees_his_teams_deals_overdue_tasks_and_leads_and_not_another_teams(client, org):
    factories.deal(org.manager, title="A", amount=1000)
    factories.deal(org.colleague, title="B", amount=2000)
    factories.deal(org.outsider, title="C", amount=999999)
    factories.task(org.manager, title="Позвонить", due_at=timezone.now() - dt.timedelta(days=1))
    factories.lead(org.manager, source="form")
    client.force_login(org.head)
    page = client.get("/dashboard/").content.decode()
    assert "3 000" in page.replace("\xa0", " ") or "3,000" in page or "3 000" in page
    assert "999" not in page
    assert f"/tasks/?owner={org.manager.pk}&overdue=1" in page
    assert "/clients/leads/?status=&source=form" in page
    assert "/deals/list/?stage=" in page


def test_a_manager_sees_only_his_own_figures(client, org):
    factories.deal(org.colleague, title="Чужая", amount=777777)
    client.force_login(org.manager)
    assert "777" not in client.get("/dashboard/").content.decode()
