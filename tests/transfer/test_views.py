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
    assert r.redirect_chain[-1][0] == "/transfer/#exports" and 'id="exports"' in r.content.decode()


def test_the_leads_inbox_exports_the_open_leads_it_shows(client, org):
    """The inbox shows open leads unless asked otherwise; its export button exports what it shows."""
    client.force_login(org.manager)
    page = client.get("/clients/leads/").content.decode()
    assert 'name="query" value="status=open"' in page
    assert 'name="query" value="status=rejected"' in client.get("/clients/leads/?status=rejected").content.decode()


def _uploaded(client, org, data: bytes, name: str = "база.csv") -> ImportJob:
    client.force_login(org.manager)
    r = client.post("/transfer/import/", {"entity": "contacts", "file": SimpleUploadedFile(name, data)})
    assert r.status_code == 302, r.content.decode()
    return ImportJob.objects.get()


def test_checking_the_first_rows_with_a_bad_mapping_shows_the_problem_beside_the_column(client, org):
    job = _uploaded(client, org, CSV)
    r = client.post(f"/transfer/import/{job.pk}/mapping/", {"col0": "full_name", "col1": "phone", "col2": "planet",
                                                            "key": "inn", "go": "preview"}, HTTP_HX_REQUEST="true")
    # htmx swaps only 2xx answers: the form comes back with 200 in place of the one on the page
    assert r.status_code == 200 and 'hx-target="#mapping-form" hx-swap="outerHTML"' in r.content.decode()
    page = r.content.decode()
    assert page.startswith('<form id="mapping-form"') and '<p class="field-error" id="e-key">' in page
    assert "field-error" not in page.split('id="col1"')[1].split("</td>")[0]
    beside = page.split('id="col2"')[1].split("</td>")[0]
    assert 'aria-describedby="e-col2"' in beside and "column 3 (Email): unknown field planet" in beside
    r = client.post(f"/transfer/import/{job.pk}/mapping/", {"col0": "full_name", "col1": "city", "col2": "city",
                                                            "key": "", "go": "preview"}, HTTP_HX_REQUEST="true")
    beside = r.content.decode().split('id="col2"')[1].split("</td>")[0]
    assert "column 3 (Email): City is already filled from another column, column 2 (Телефон)" in beside
    r = client.post(f"/transfer/import/{job.pk}/mapping/", {"col0": "full_name", "col1": "phone", "col2": "email",
                                                            "key": "", "go": "preview"}, HTTP_HX_REQUEST="true")
    page = r.content.decode()  # the rows, and the problems fixed are gone
    assert r.status_code == 200 and "field-error" in page and 'id="e-col' not in page and "alert" not in page
    assert "The first rows, as they would be imported" in page


def test_the_header_row_is_chosen_on_the_mapping_page(client, org):
    data = "Клиенты на 01.11.2026;;\nФИО;Телефон;Email\nОрлов Олег;8 912 345-67-89;oleg@orlov.ru\n".encode("koi8_r")
    job = _uploaded(client, org, data)
    page = client.get(f"/transfer/import/{job.pk}/").content.decode()
    assert "KOI8-R" in page and '<option value="2" selected>row 2: ФИО · Телефон · Email' in page
    assert 'value="full_name" selected' in page and "oleg@orlov.ru" in page
    r = client.post(f"/transfer/import/{job.pk}/mapping/", {"header_row": "1", "go": "header"})
    assert r.status_code == 302
    job.refresh_from_db()
    assert (job.header, job.mapping) == (["Клиенты на 01.11.2026", "", ""], ["", "", ""])
    r = client.post(f"/transfer/import/{job.pk}/mapping/", {"header_row": "3", "go": "header"})
    assert r.status_code == 422 and 'id="e-header-row"' in r.content.decode()


def test_a_header_only_file_is_refused_beside_the_file_field(client, org):
    client.force_login(org.manager)
    r = client.post("/transfer/import/", {"entity": "contacts", "file": SimpleUploadedFile("a.csv", b"Name;Phone\n")})
    assert r.status_code == 422 and 'id="e-file"' in r.content.decode() and "no rows under it" in r.content.decode()
    assert not ImportJob.objects.exists()


def test_my_imports_and_the_report_show_every_count_in_russian(client, org, django_capture_on_commit_callbacks):
    job = _uploaded(client, org, CSV)
    ImportJob.objects.filter(pk=job.pk).update(status="done", created=3, updated=4, merged=5, skipped=6, failed=7)
    page = client.get("/transfer/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "создано: 3, обновлено: 4, объединено: 5, пропущено: 6, с ошибками: 7" in page
    report = client.get(f"/transfer/import/{job.pk}/status/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<dt>Создано</dt><dd>3</dd>" in report and "Новая" not in report


def test_a_garbled_file_is_flagged_on_the_mapping_page(client, org):
    garbled = CSV.decode("cp1251").encode("utf-8").decode("cp1251", errors="replace").encode("utf-8")
    job = _uploaded(client, org, garbled)
    page = client.get(f"/transfer/import/{job.pk}/").content.decode()
    assert "The text in the file looks garbled (for example «Р¤Р�Рћ»)" in page
