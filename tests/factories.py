"""Test data made through the services, as any real write is."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def company(by, **fields):
    from krug.clients.services import create_company

    return create_company(by, {"name": "ООО Тест", "allow_duplicate": True, **fields})


def contact(by, **fields):
    from krug.clients.services import create_contact

    return create_contact(by, {"surname": "Тестов", "first_name": "Тест", "allow_duplicate": True, **fields})


def lead(by, **fields):
    from krug.clients.services import create_lead

    return create_lead(by, {"title": "Заявка", "owner_id": by.pk, **fields})


def deal(by, **fields):
    from krug.sales.services import create_deal

    return create_deal(by, {"title": "Сделка", "amount": 1000, **fields})


def task(by, **fields):
    from krug.activities.services import create_task

    return create_task(by, {"title": "Позвонить", "due_at": timezone.now() + dt.timedelta(days=1), **fields})


def call(by, **fields):
    from krug.activities.services import create_call

    return create_call(by, {"direction": "out", "result": "answered", "started_at": timezone.now(),
                            "duration_seconds": 60, **fields})


def meeting(by, **fields):
    from krug.activities.services import create_meeting

    start = timezone.now() + dt.timedelta(days=2)
    return create_meeting(by, {"title": "Встреча", "starts_at": start, "ends_at": start + dt.timedelta(hours=1),
                               **fields})


def note(by, **fields):
    from krug.activities.services import create_note

    return create_note(by, {"text": "Заметка", **fields})


OWNED = {"companies": company, "contacts": contact, "leads": lead, "deals": deal, "tasks": task,
         "calls": call, "meetings": meeting, "notes": note}
