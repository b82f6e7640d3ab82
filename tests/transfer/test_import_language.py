"""An import is run by the background worker, whatever language it runs in; its report (each row's problem) and
the words it writes into records («Другие телефоны: …») are in the language of the user who uploaded the file,
on both of its paths, as an export's file is."""

import pytest
from django.utils import translation

from krug.clients.models import Company
from krug.transfer import importer, services
from krug.transfer.models import ImportJob

FILE = ("Название;Телефон;ИНН\n"
        "ТехноСтрой;+74957778899, 8 916 777-88-99;5027123457\n"
        "Дельта;+74951112233;12\n")


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
@pytest.mark.parametrize("asked,worker,other,problem", [
    ("ru", "en", "Другие телефоны: +79167778899", "ИНН"),
    ("en", "ru", "Other phones: +79167778899", "INN")])
def test_an_import_reports_and_writes_in_the_language_of_who_uploaded_it(org, tmp_path, bulk, asked, worker, other,
                                                                        problem):
    path = tmp_path / "companies.csv"
    path.write_text(FILE, encoding="utf-8")
    with translation.override(asked), path.open("rb") as stream:
        job = services.upload(org.admin, "companies", path.name, stream)
    assert job.language == asked
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    with translation.override(worker):
        job = importer.run(job.pk, chunk_size=50, bulk=bulk)
        assert translation.get_language() == worker  # the worker's own language is back after the run
    assert (job.created, job.failed) == (1, 1)
    assert Company.objects.get().description == other
    [failed] = job.row_errors.all()
    assert [e["field"] for e in failed.errors] == ["inn"]
    assert problem in failed.errors[0]["message"]


def test_a_job_from_before_the_language_was_kept_runs_in_the_workers(org, tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text(FILE, encoding="utf-8")
    with path.open("rb") as stream:
        job = services.upload(org.admin, "companies", path.name, stream)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, language="")
    with translation.override("ru"):
        importer.run(job.pk, chunk_size=50)
    assert Company.objects.get().description.startswith("Другие телефоны: ")
