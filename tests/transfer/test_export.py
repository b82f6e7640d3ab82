"""Export: the list's filters and permissions, streamed CSV, XLSX in the background, formulas escaped, logged."""

import io

from django.test import override_settings
from python_calamine import CalamineWorkbook

from krug.core.models import AuditEntry
from krug.transfer import export
from krug.transfer.models import ExportJob
from tests import factories
from tests.quality.test_scan_job import IMMEDIATE


def _csv(client, token, job_id) -> str:
    r = client.get(f"/api/v1/exports/{job_id}/download", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200
    return b"".join(r.streaming_content).decode("utf-8-sig")


def test_a_csv_export_has_only_what_the_user_may_see_filtered_like_the_list_and_is_logged(client, api_as, org):
    factories.contact(org.manager, surname="Орлов", city="Тула", phones=["+79123456789"])
    factories.contact(org.manager, surname="Соколов", city="Казань")
    factories.contact(org.outsider, surname="Чужой", city="Тула")
    factories.contact(org.manager, surname="=HYPERLINK(\"http://evil\")", first_name="Злой", city="Тула")
    r = api_as("manager").post("/exports", {"entity": "contacts", "format": "csv", "query": "city=Тула"})
    assert r.status_code == 201
    text = _csv(client, org.tokens["manager"], r.body["id"])
    lines = text.strip().splitlines()
    assert len(lines) == 3 and "Орлов" in text and "+79123456789" in text
    assert "Чужой" not in text and "Соколов" not in text
    assert "'=HYPERLINK" in text
    job = ExportJob.objects.get()
    assert (job.by, job.rows, job.status) == (org.manager, 2, "done")
    entry = AuditEntry.objects.get(action="export")
    assert entry.user == org.manager and entry.changes["filters"] == job.query
    assert api_as("colleague").get(f"/exports/{job.pk}").status_code == 404
    assert [e["id"] for e in api_as("admin").get("/exports").body] == [job.pk]


def test_bad_export_requests_name_the_problem(api_as, org):
    api = api_as("manager")
    assert api.post("/exports", {"entity": "planets"}).body["errors"][0]["field"] == "entity"
    assert api.post("/exports", {"format": "pdf"}).body["errors"][0]["field"] == "format"
    r = api.post("/exports", {"entity": "deals", "query": "amount_min=много"})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "amount_min"
    assert not ExportJob.objects.exists()


def test_an_xlsx_export_is_written_in_the_background_and_downloaded_when_ready(client, api_as, org,
                                                                             django_capture_on_commit_callbacks):
    for n in range(5):
        factories.deal(org.manager, title=f"Сделка {n}", amount=1000 * (n + 1))
    factories.deal(org.outsider, title="Чужая")
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        r = api_as("manager").post("/exports", {"entity": "deals", "format": "xlsx", "query": "amount_min=2000"})
    job = api_as("manager").get(f"/exports/{r.body['id']}").body
    assert (job["status"], job["rows"]) == ("done", 4)
    response = client.get(job["download_url"], HTTP_AUTHORIZATION=f"Bearer {org.tokens['manager']}")
    data = b"".join(response.streaming_content)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert len(rows) == 5 and rows[0][1] == "Title" and {r[1] for r in rows[1:]} == {f"Сделка {n}" for n in range(1, 5)}


def test_export_reads_in_chunks_in_id_order(org, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 2)
    made = [factories.company(org.manager, name=f"Компания {n}", allow_duplicate=True).pk for n in range(5)]
    assert [c["id"] for c in export.records(org.manager, "companies", {})] == sorted(made)
