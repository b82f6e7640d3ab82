"""Full scans run in the background with progress; their pairs are listed, dismissed or merged."""

from django.test import override_settings

from krug.cli import main
from krug.clients.models import Contact
from krug.quality import tasks
from krug.quality.models import DuplicatePair, QualitySettings, ScanRun
from tests import factories

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def plant(org):
    company = factories.company(org.manager, name="Вектор")
    a = factories.contact(org.manager, surname="Смирнова", first_name="Анна", company_id=company.pk)
    b = factories.contact(org.manager, surname="Smirnova", first_name="Anna", company_id=company.pk)
    factories.contact(org.manager, surname="Петров", first_name="Пётр", company_id=company.pk)
    return a, b


def test_a_head_starts_a_scan_and_sees_its_progress_and_the_pairs(api_as, org, django_capture_on_commit_callbacks):
    a, b = plant(org)
    head = api_as("head")
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        r = head.post("/quality/scans", {})
    assert r.status_code == 202, r.body
    scan = head.get(f"/quality/scans/{r.body['id']}").body
    assert (scan["status"], scan["percent"], scan["records"], scan["found"]) == ("done", 100, 3, 1)
    pairs = api_as("manager").get("/quality/duplicates").body
    assert [(p["a_id"], p["b_id"], p["reasons"]) for p in pairs] == [(a.pk, b.pk, ["name", "company"])]
    assert api_as("outsider").get("/quality/duplicates").body == []
    assert api_as("manager").post("/quality/scans", {}).status_code == 403


def test_a_dismissed_pair_stays_dismissed_and_a_merged_one_leaves_the_list(api_as, org):
    a, b = plant(org)
    tasks.run_scan(ScanRun.objects.create().pk)
    pair = DuplicatePair.objects.get()
    api = api_as("manager")
    assert api.post(f"/quality/duplicates/{pair.pk}/dismiss").status_code == 204
    tasks.run_scan(ScanRun.objects.create().pk)
    assert DuplicatePair.objects.get().status == "dismissed" and api.get("/quality/duplicates").body == []
    DuplicatePair.objects.update(status="open")
    api.post("/contacts/merge", {"survivor_id": a.pk, "merged_ids": [b.pk]})
    assert DuplicatePair.objects.get().status == "merged"


def test_pairs_above_the_admins_certainty_merge_automatically(org):
    a, b = plant(org)
    QualitySettings.objects.create(auto_merge_above=95)
    run = tasks.run_scan(ScanRun.objects.create().pk)
    assert run.merged == 1
    assert Contact.objects.alive().filter(pk__in=[a.pk, b.pk]).count() == 1


def test_settings_are_the_admins_and_refuse_unknown_rules(api_as):
    admin = api_as("admin")
    r = admin.put("/quality/settings", {"match_rules": {"threshold": 90, "use_phone": False}, "auto_merge_above": None})
    assert r.status_code == 200 and r.body["match_rules"]["threshold"] == 90
    bad = admin.put("/quality/settings", {"match_rules": {"treshold": 90, "max_block": "x"}})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.body["errors"]} == {"match_rules.treshold", "match_rules.max_block"}
    assert api_as("head").put("/quality/settings", {"match_rules": {}}).status_code == 403


def test_krug_quality_scan_prints_what_it_found(org, capsys):
    plant(org)
    assert main(["quality", "scan"]) == 0
    assert "Scanned 3 contacts" in capsys.readouterr().out


def test_a_pair_is_listed_only_when_both_are_visible_and_asked_by_exists(api_as, org):
    """Each pair asks EXISTS of its own two records, not `IN (every record he sees)`, which PostgreSQL compares
    row by row once a manager's book outgrows work_mem (see permissions.AttachedPolicy)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a, b = plant(org)
    stranger = factories.contact(org.outsider, surname="Смирнова", first_name="Анна")
    DuplicatePair.objects.create(entity="contact", a_id=a.pk, b_id=b.pk, score=0.9, reasons=["name"])
    DuplicatePair.objects.create(entity="contact", a_id=a.pk, b_id=stranger.pk, score=0.95, reasons=["name"])
    with CaptureQueriesContext(connection) as captured:
        pairs = api_as("manager").get("/quality/duplicates").body
    assert [(p["a_id"], p["b_id"]) for p in pairs] == [(a.pk, b.pk)]
    listing = [q["sql"] for q in captured.captured_queries if "quality_duplicatepair" in q["sql"]]
    assert listing and all("EXISTS" in sql and '"clients_contact"."id" IN (SELECT' not in sql for sql in listing)
    assert [p["b_id"] for p in api_as("admin").get("/quality/duplicates").body] == [stranger.pk, b.pk]
