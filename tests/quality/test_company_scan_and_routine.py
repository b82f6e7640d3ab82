"""The company scan (same INN, or the same name in the same city) and the routine the worker runs."""

import datetime as dt

from django.test import override_settings
from django.utils import timezone

from krug.clients.models import Company
from krug.quality import schedule, tasks
from krug.quality.company_scan import CompanyRow, find_company_duplicates
from krug.quality.models import DuplicatePair, HealthSnapshot, QualitySettings, ScanRun
from tests import factories
from tests.quality.test_scan_job import IMMEDIATE


def test_companies_pair_by_inn_or_by_name_in_one_city_but_not_across_inns_cities_or_branch_numbers():
    rows = [CompanyRow(1, "ООО «Вектор»", "7707083893", "", "Москва"),
            CompanyRow(2, "Vektor LLC", "", "", "Москва"),               # transliterated, no INN: same
            CompanyRow(3, "АО Вектор", "7707083893", "", "Казань"),       # same INN elsewhere: same
            CompanyRow(4, "ООО Вектор", "5408131553", "", "Москва"),      # another INN: different
            CompanyRow(5, "Школа №5", "", "", "Тула"),
            CompanyRow(6, "Школа №12", "", "", "Тула"),                   # numbers tell them apart
            CompanyRow(7, "ООО Вектор", "7707083893", "770701001", ""),
            CompanyRow(8, "ООО Вектор", "7707083893", "771001001", "")]   # other KPP: a branch
    found = {(p.a, p.b): p.reasons for p in find_company_duplicates(rows)}
    assert found[(1, 2)] == ["name"] and "inn" in found[(1, 3)]
    assert (1, 4) not in found and (5, 6) not in found and (7, 8) not in found
    assert (3, 4) not in found and (2, 4) in found  # the INN-less one may be either: a person decides


def test_a_company_scan_runs_through_the_queue_and_its_pairs_are_listed_by_entity(
        api_as, org, django_capture_on_commit_callbacks):
    a = factories.company(org.manager, name="ООО «Северный ветер»", city="Москва", allow_duplicate=True)
    b = factories.company(org.manager, name="Severnyi Veter LLC", city="Москва", allow_duplicate=True)
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        r = api_as("head").post("/quality/scans", {"entity": "company"})
    assert r.status_code == 202
    run = ScanRun.objects.get(pk=r.body["id"])
    assert run.entity == "company" and run.status == "done" and run.found == 1
    pairs = api_as("manager").get("/quality/duplicates", entity="company").body
    assert [(p["a_id"], p["b_id"]) for p in pairs] == [(a.pk, b.pk)]
    assert api_as("manager").get("/quality/duplicates", entity="deal").status_code == 422
    assert api_as("head").post("/quality/scans", {"entity": "deal"}).status_code == 422
    assert Company.objects.alive().count() == 2 and DuplicatePair.objects.filter(entity="company").count() == 1


def test_the_routine_takes_the_snapshot_once_a_day_and_queues_the_nightly_scans_once(db, org, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "start_scan", lambda by, entity="contact", rules=None: queued.append(entity) or
                        ScanRun.objects.create(entity=entity))
    settings = QualitySettings.current()
    settings.nightly_scan_hour = 3
    settings.save()
    today = timezone.localtime().replace(hour=2, minute=0)
    assert schedule.run_due(today) == ["snapshot"]  # before the scan hour: only the snapshot
    assert schedule.run_due(today) == [] and HealthSnapshot.objects.filter(owner__isnull=True).count() == 1
    later = today.replace(hour=4)
    assert schedule.run_due(later) == ["scan contact", "scan company"]
    assert schedule.run_due(later + dt.timedelta(minutes=5)) == []  # queued already
    assert queued == ["contact", "company"]
    settings.nightly_scan_hour = None
    settings.save()
    ScanRun.objects.all().delete()
    assert schedule.run_due(later) == []
