"""`services.soonest_due`: a manager's pending tasks by due date, asked one state at a time and merged, are the
ones and the order one query over both states gives; and each state's query reads the agenda index in order."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from krug.activities.models import Task
from krug.activities.services import soonest_due
from tests import factories
from tests.plans import sqlite_plan


@pytest.fixture
def agenda(org):
    now = timezone.now().replace(microsecond=0)
    for n in range(24):
        due = None if n % 7 == 6 else now + dt.timedelta(hours=(n * 5) % 11 - 4)  # ties, past and future
        task = factories.task(org.admin, owner_id=org.manager.pk, due_at=due, title=f"Задача {n}")
        state = (Task.State.OPEN, Task.State.POSTPONED, Task.State.DONE)[n % 3]
        Task.objects.filter(pk=task.pk).update(state=state)
    factories.task(org.admin, owner_id=org.colleague.pk, due_at=now, title="Чужая")
    return Task.objects.visible_to(org.manager).filter(owner=org.manager, state__in=Task.PENDING)


@pytest.mark.parametrize("limit", [None, 1, 4, 100])
def test_the_same_tasks_in_the_same_order_as_one_query(agenda, limit):
    expected = list(agenda.filter(due_at__isnull=False).order_by("due_at", "id")[:limit])
    assert soonest_due(agenda, limit) == expected


def test_the_agenda_interleaves_both_states_with_ties(agenda):
    dated = list(agenda.filter(due_at__isnull=False).order_by("due_at", "id"))
    assert {t.state for t in dated[:4]} == set(Task.PENDING)
    assert len({t.due_at for t in dated}) < len(dated) and agenda.filter(due_at__isnull=True).exists()


def test_dates_before_now_only(agenda):
    now = timezone.now()
    overdue = soonest_due(agenda.filter(due_at__lt=now))
    assert overdue == list(agenda.filter(due_at__lt=now).order_by("due_at", "id"))
    assert overdue and all(t.due_at < now for t in overdue)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL's is in docs/performance.md")
def test_each_state_is_read_in_due_order_from_the_index(agenda):
    one_state = agenda.filter(state=Task.State.OPEN, due_at__isnull=False).order_by("due_at", "id")[:10]
    plan = sqlite_plan(one_state)
    assert "task_agenda_idx" in plan and "TEMP B-TREE" not in plan, plan
