"""Export: the list's filters and permissions, streamed CSV, XLSX in the background, formulas escaped, logged.

What the files hold (columns, typed cells, dates, phones) is told in test_export_files.py."""

from django.test import override_settings

from krug.core import custom_fields
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
    entry = AuditEntry.objects.get(action="export", changes__event="created")
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


def test_an_unknown_filter_is_refused_naming_it_instead_of_exporting_the_whole_base(api_as, org):
    factories.contact(org.manager, surname="Орлов", city="Тула")
    api = api_as("manager")
    r = api.post("/exports", {"entity": "contacts", "query": "bogus=1"})
    assert r.status_code == 422 and r.body["code"] == "validation_failed"
    assert [e["field"] for e in r.body["errors"]] == ["bogus"]
    assert "city" in r.body["errors"][0]["message"]  # the message lists the list's own filters
    r = api.post("/exports", {"entity": "deals", "query": "citty=Тула&amount_min=5&stagee=3"})
    assert r.status_code == 422 and [e["field"] for e in r.body["errors"]] == ["citty", "stagee"]
    r = api.post("/exports", {"entity": "companies", "query": "cf.nope=1"})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "cf.nope"
    assert not ExportJob.objects.exists()


def test_every_filter_a_list_address_carries_is_accepted_and_paging_and_sorting_are_dropped(api_as, org):
    for entity in ("contact", "company", "lead", "deal"):
        custom_fields.define_field(org.admin, {"entity": entity, "type": "number", "label": "Баллы"})
    api = api_as("manager")
    common = "owner=&team=&created_from=2026-01-01&created_to=2026-12-31&updated_since=2026-01-01T00:00&cf.bally.gte=1"
    controls = "order=-surname&cursor=abc&view=3&limit=50&error=Ошибка"
    queries = {
        "contacts": "q=Ив&tag=vip&tag=опт&city=Тула&source=сайт&job_title=Директор&client_type=vip&opt_out=0"
                    "&company=1&cleanup=&no_contact_days=30",
        "companies": "q=Век&inn=7707083893&city=Тула&industry=ИТ",
        "leads": "status=open&status=new&source=site&utm_source=ya&utm_campaign=x&pool=1&q=Ив",
        "deals": "q=Сд&pipeline=1&contact=1&company=1&stage=1&stage=2&status=open&amount_min=1&amount_max=9"
                 "&expected_close_from=2026-01-01&expected_close_to=2026-12-31&closed_from=2026-01-01"
                 "&closed_to=2026-12-31",
    }
    for entity, query in queries.items():
        r = api.post("/exports", {"entity": entity, "query": f"{query}&{common}&{controls}"})
        assert r.status_code == 201, (entity, r.body)
        kept = r.body["query"]
        assert "cf.bally.gte=1" in kept
        assert not {"order", "cursor", "view", "limit", "error"} & {p.split("=")[0] for p in kept.split("&")}


def test_an_xlsx_export_is_written_in_the_background_and_downloaded_when_ready(client, api_as, org,
                                                                             django_capture_on_commit_callbacks):
    import io

    from python_calamine import CalamineWorkbook

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


def test_an_admin_sees_who_exported_what_and_can_ask_for_one_users_exports(api_as, org):
    api_as("manager").post("/exports", {"entity": "contacts", "query": "city=Тула"})
    api_as("colleague").post("/exports", {"entity": "deals", "format": "xlsx"})
    log = api_as("admin").get("/exports").body
    assert [(e["user"]["username"], e["user"]["full_name"], e["entity"], e["format"], e["query"]) for e in log] == [
        ("colleague", "Пётр Коллегин", "deals", "xlsx", ""),
        ("manager", "Иван Продавцов", "contacts", "csv", "city=Тула")]
    assert {"rows", "created_at", "finished_at", "status", "downloads"} <= set(log[0])
    mine = api_as("admin").get("/exports", user=org.manager.pk).body
    assert [e["user"]["id"] for e in mine] == [org.manager.pk]
    # a manager sees his own exports only, whoever he asks about
    assert [e["user"]["id"] for e in api_as("manager").get("/exports").body] == [org.manager.pk]
    assert api_as("manager").get("/exports", user=org.colleague.pk).body == []


def test_every_download_is_an_audit_entry_of_who_took_it_and_how_many_rows(client, api_as, org,
                                                                          django_capture_on_commit_callbacks):
    factories.contact(org.manager, surname="Орлов", city="Тула")
    job_id = api_as("manager").post("/exports", {"entity": "contacts", "query": "city=Тула"}).body["id"]
    _csv(client, org.tokens["manager"], job_id)
    factories.contact(org.manager, surname="Орлова", city="Тула")
    _csv(client, org.tokens["manager"], job_id)
    _csv(client, org.tokens["admin"], job_id)
    downloads = AuditEntry.objects.filter(action="export", changes__event="download").order_by("id")
    assert [(e.user.username, e.object_id, e.changes["rows"], e.changes["filters"]) for e in downloads] == [
        ("manager", job_id, 1, "city=Тула"), ("manager", job_id, 2, "city=Тула"), ("admin", job_id, 2, "city=Тула")]
    assert api_as("admin").get("/exports").body[0]["downloads"] == 3
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        xlsx = api_as("manager").post("/exports", {"entity": "contacts", "format": "xlsx"}).body["id"]
    for _n in range(2):
        r = client.get(f"/api/v1/exports/{xlsx}/download", HTTP_AUTHORIZATION=f"Bearer {org.tokens['admin']}")
        assert r.status_code == 200
    assert api_as("manager").get(f"/exports/{xlsx}").body["downloads"] == 2
    entry = AuditEntry.objects.filter(object_id=xlsx, changes__event="download").last()
    assert (entry.user, entry.changes["rows"], entry.changes["format"]) == (org.admin, 2, "xlsx")
