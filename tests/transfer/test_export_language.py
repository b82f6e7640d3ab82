"""An Excel export is written by the background worker, whatever language it runs in; the file speaks the
language of the user who asked for it (its headers, its sheet's name, yes and no), as the CSV export does."""

import io
from pathlib import Path

import pytest
from django.utils import translation
from python_calamine import CalamineWorkbook

from krug.transfer import export, export_columns
from krug.transfer.models import ExportJob
from tests import factories


def _sheet(job: ExportJob) -> tuple[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(Path(job.path).read_bytes()))
    return book.sheet_names[0], book.get_sheet_by_index(0).to_python()


def _headers(entity: str, language: str) -> list[str]:
    with translation.override(language):
        return [str(label) for label, _getter in export_columns.columns(entity)]


@pytest.mark.parametrize("asked,worker,sheet,yes", [("ru", "en", "Контакты", "да"), ("en", "ru", "Contacts", "yes")])
def test_an_excel_export_is_in_the_language_of_who_asked_not_of_the_worker(client, org,
                                                                         django_capture_on_commit_callbacks,
                                                                         asked, worker, sheet, yes):
    factories.contact(org.manager, surname="Орлов", opt_out=True)
    client.force_login(org.manager)
    with django_capture_on_commit_callbacks() as queued:
        r = client.post("/transfer/export/", {"entity": "contacts", "format": "xlsx"}, HTTP_ACCEPT_LANGUAGE=asked)
    assert r.status_code == 302
    job = ExportJob.objects.get()
    assert job.language == asked
    with translation.override(worker):  # the worker's own language, and what it would write without the job's
        export.write_xlsx(job.pk)
    assert len(queued) == 1  # the worker's task was queued, and written above as the worker would
    job.refresh_from_db()
    name, rows = _sheet(job)
    assert (job.status, name, rows[0]) == ("done", sheet, _headers("contacts", asked))
    assert rows[0] != _headers("contacts", worker)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row[_headers("contacts", asked)[1]] == "Орлов"
    assert yes in rows[1]


def test_the_api_export_keeps_the_language_of_its_request(api_as, org):
    factories.deal(org.manager, title="Поставка")
    r = api_as("manager").client.post("/api/v1/exports", {"entity": "deals", "format": "xlsx"},
                                      content_type="application/json", HTTP_ACCEPT_LANGUAGE="ru",
                                      HTTP_AUTHORIZATION=f"Bearer {org.tokens['manager']}")
    assert r.status_code == 201
    job = export.write_xlsx(r.json()["id"])  # in the tests' English
    assert job.language == "ru" and _sheet(job)[1][0][:2] == ["ID сделки в Круге", "Название"]


def test_an_export_queued_before_languages_were_kept_is_written_in_the_sites_language(org, settings):
    settings.LANGUAGE_CODE = "ru"
    job = export.create(org.manager, "companies", "xlsx", "")
    ExportJob.objects.filter(pk=job.pk).update(language="")
    job = export.write_xlsx(job.pk)  # the worker runs in English
    assert _sheet(job) == ("Компании", [_headers("companies", "ru")])
