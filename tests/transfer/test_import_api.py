"""Import through the API: upload, mapping, preview, start in the background, report and failed rows."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from krug.clients.models import Contact
from krug.transfer import services
from krug.transfer.models import ImportJob
from tests.quality.test_scan_job import IMMEDIATE

CSV = ("Фамилия;Имя;Телефон;Email\nОрлов;Олег;8 912 345-67-89;oleg@orlov.ru\n"
       "Плохов;Пётр;12;petr@\nСоколова;Анна;+7 916 111-22-33;anna@sokol.ru\n").encode()


def _upload(client, token, data=CSV, name="base.csv", entity="contacts"):
    return client.post("/api/v1/imports", {"file": SimpleUploadedFile(name, data), "entity": entity},
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def test_upload_preview_start_and_report(client, api_as, org, django_capture_on_commit_callbacks):
    r = _upload(client, org.tokens["manager"])
    assert r.status_code == 201, r.content
    job = r.json()
    assert job["mapping"] == ["surname", "first_name", "phone", "email"] and job["format"]["delimiter"] == ";"
    api = api_as("manager")
    rows = api.get(f"/imports/{job['id']}/preview").body
    assert [x["outcome"] for x in rows] == ["created", "failed", "created"]
    assert not Contact.objects.exists()  # a preview writes nothing
    assert api.patch(f"/imports/{job['id']}", {"key": "inn"}).status_code == 422
    assert api.patch(f"/imports/{job['id']}", {"key": "email"}).body["key"] == "email"
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/imports/{job['id']}/start")
    assert r.status_code == 202
    done = api.get(f"/imports/{job['id']}").body
    assert (done["status"], done["percent"], done["created"], done["failed"]) == ("done", 100, 2, 1)
    assert set(Contact.objects.values_list("owner", flat=True)) == {org.manager.pk}
    failed = client.get(f"/api/v1/imports/{job['id']}/failed-rows.csv",
                        HTTP_AUTHORIZATION=f"Bearer {org.tokens['manager']}")
    text = b"".join(failed.streaming_content).decode()
    assert "Плохов" in text and "Phone: 12" in text
    assert api.post(f"/imports/{job['id']}/start").status_code == 409
    # somebody else's import does not exist for a colleague
    assert api_as("colleague").get(f"/imports/{job['id']}").status_code == 404


def test_bad_files_get_a_clear_answer_and_leave_nothing_behind(client, org):
    r = _upload(client, org.tokens["manager"], b"PK\x03\x04broken", "base.xlsx")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert "cannot be read" in r.json()["errors"][0]["message"]
    r = _upload(client, org.tokens["manager"], "Город\nМосква\n".encode(), entity="planets")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "entity"
    r = _upload(client, org.tokens["manager"], "Город\nМосква\n".encode("cp1251"))
    assert r.status_code == 201  # a file without a name column uploads; it cannot start until mapped
    job_id = r.json()["id"]
    assert client.post(f"/api/v1/imports/{job_id}/start",
                       HTTP_AUTHORIZATION=f"Bearer {org.tokens['manager']}").status_code == 422
    assert not ImportJob.objects.exclude(pk=job_id).exists()


def test_a_running_import_whose_worker_died_is_queued_again(org, tmp_path, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    path = tmp_path / "a.csv"
    path.write_bytes(CSV)
    with path.open("rb") as stream:
        job = services.upload(org.admin, "contacts", "a.csv", stream)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING,
                                               heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        assert services.resume_stale() == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.created, job.failed) == ("done", 2, 1)
    assert services.resume_stale() == []


def test_an_upload_without_a_file_names_the_field_file_in_the_users_language(client, org):
    r = client.post("/api/v1/imports", {"entity": "contacts"}, HTTP_AUTHORIZATION=f"Bearer {org.tokens['manager']}",
                    HTTP_ACCEPT_LANGUAGE="ru")
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "file", "message": "Выберите файл CSV или Excel."}]


def test_a_header_only_file_and_a_broken_workbook_are_refused_on_the_field_file_in_russian(client, org):
    token = org.tokens["manager"]
    r = client.post("/api/v1/imports", {"file": SimpleUploadedFile("a.csv", "ФИО;Телефон\n".encode()),
                                        "entity": "contacts"}, HTTP_AUTHORIZATION=f"Bearer {token}",
                    HTTP_ACCEPT_LANGUAGE="ru")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert "нет ни одной строки" in r.json()["errors"][0]["message"]
    r = client.post("/api/v1/imports", {"file": SimpleUploadedFile("a.xlsx", b"PK\x03\x04broken"),
                                        "entity": "contacts"}, HTTP_AUTHORIZATION=f"Bearer {token}",
                    HTTP_ACCEPT_LANGUAGE="ru")
    message = r.json()["errors"][0]["message"]
    assert message.startswith("Книгу не удаётся прочитать") and "Zip" not in message and "EOCD" not in message
    assert not ImportJob.objects.exists()


def test_the_header_row_is_found_under_a_title_and_can_be_changed(client, api_as, org):
    data = "Список контактов на 01.11.2026\n\nФамилия;Имя;Телефон\nОрлов;Олег;8 912 345-67-89\n".encode("koi8_r")
    job = _upload(client, org.tokens["manager"], data).json()
    assert (job["header_row"], job["header"], job["mapping"]) == (3, ["Фамилия", "Имя", "Телефон"],
                                                                  ["surname", "first_name", "phone"])
    assert (job["format"]["encoding"], job["warnings"]) == ("koi8_r", [])
    api = api_as("manager")
    assert [r["row"] for r in api.get(f"/imports/{job['id']}/preview").body] == [4]
    changed = api.patch(f"/imports/{job['id']}", {"header_row": 1}).body
    assert (changed["header_row"], changed["header"], changed["mapping"]) == (1, ["Список контактов на 01.11.2026"],
                                                                              [""])
    r = api.patch(f"/imports/{job['id']}", {"header_row": 4})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "header_row"
    assert api.patch(f"/imports/{job['id']}", {"header_row": 3}).body["mapping"] == ["surname", "first_name", "phone"]


def test_a_garbled_file_is_flagged_in_the_api(client, org):
    data = CSV.decode().encode("utf-8").decode("cp1251", errors="replace").encode("utf-8")
    job = _upload(client, org.tokens["manager"], data).json()
    assert job["format"]["garbled"] and "garbled" in job["warnings"][0] and "UTF-8" in job["warnings"][0]
