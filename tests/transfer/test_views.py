"""Import and export in the browser's pages (through Django's client; the services are tested on their own)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from krug.clients.models import Contact
from krug.transfer.models import ExportJob, ImportJob
from tests import factories
from tests.quality.test_scan_job import IMMEDIATE

CSV = "ФИО;Телефон;Email\nОрлов Олег;8 912 345-67-89;oleg@orlov.ru\nПлохов Пётр;12;\n".encode("cp1251")


def test_upload_check_the_columns_preview_and_run_with_progress(client, org, django_capture_on_commit_callbacks):
    client.force_login(org.manager)
    assert client.get("/transfer/").status_code == 200
    r = client.post("/transfer/import/", {"entity": "contacts", "file": SimpleUploadedFile("база.csv", CSV)})
    job = ImportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/transfer/import/{job.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert "Windows-1251" in page and 'value="full_name" selected' in page and "oleg@orlov.ru" in page
    preview = client.post(f"/transfer/import/{job.pk}/mapping/", {"col0": "full_name", "col1": "phone",
                                                                   "col2": "email", "key": "", "go": "preview"},
                          HTTP_HX_REQUEST="true").content.decode()
    assert "Phone: 12" in preview and not Contact.objects.exists()
    bad = client.post(f"/transfer/import/{job.pk}/mapping/", {"col0": "", "col1": "phone", "col2": "email",
                                                              "go": "start"})
    assert bad.status_code == 422 and "required field" in bad.content.decode()
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/transfer/import/{job.pk}/mapping/", {"col0": "full_name", "col1": "phone",
                                                                "col2": "email", "key": "email", "go": "start"})
    assert r.status_code == 302
    page = client.get(f"/transfer/import/{job.pk}/status/").content.decode()
    assert "failed-rows.csv" in page and Contact.objects.get().surname == "Орлов"
    text = b"".join(client.get(f"/transfer/import/{job.pk}/failed-rows.csv").streaming_content).decode()
    assert "Плохов" in text
    client.force_login(org.colleague)
    assert client.get(f"/transfer/import/{job.pk}/").status_code == 404


def test_a_bad_file_is_refused_beside_the_field(client, org):
    client.force_login(org.manager)
    r = client.post("/transfer/import/", {"entity": "contacts", "file": SimpleUploadedFile("a.xlsx", b"PK\x03\x04x")})
    assert r.status_code == 422 and 'id="e-file"' in r.content.decode()
    r = client.post("/transfer/import/", {"entity": "contacts"})
    assert r.status_code == 422 and 'id="e-file"' in r.content.decode()
    assert not ImportJob.objects.exists()


def test_the_export_button_downloads_the_list_on_screen(client, org):
    factories.contact(org.manager, surname="Орлов", city="Тула")
    factories.contact(org.manager, surname="Соколов", city="Казань")
    client.force_login(org.manager)
    assert 'action="/transfer/export/"' in client.get("/clients/contacts/").content.decode()
    r = client.post("/transfer/export/", {"entity": "contacts", "format": "csv", "query": "city=Тула"})
    assert r.status_code == 302
    text = b"".join(client.get(r["Location"]).streaming_content).decode("utf-8-sig")
    assert "Орлов" in text and "Соколов" not in text
    r = client.post("/transfer/export/", {"entity": "contacts", "format": "xlsx", "query": ""}, follow=True)
    assert ExportJob.objects.filter(format="xlsx").exists() and r.status_code == 200
