"""The mapping page lists the values of the file's owner, stage, pipeline and pick-list columns at every render
(each choice, each check of the form); reading a large file's first 200,000 rows for that took over a second
each time. The values are counted once and kept on the job (`values.tally`), with what they were counted for."""

import json

import pytest

from krug.transfer import importer, services, values
from krug.transfer.models import ImportJob

DEALS = (
    "Название;Ответственный;Этап;Воронка;Куратор\n"
    "Поставка 1;Иван Продавцов;Переговоры;Sales;Пётр Коллегин\n"
    "Поставка 2;Мария Петрова;Переговоры;Опт;Пётр Коллегин\n"
    "Поставка 3;мария  петрова;Счёт;;Анна Админова\n"
    "Поставка 4;Мария Петрова;Счёт;Опт;\n"
)


def _upload(org, tmp_path, text: str, name: str = "deals.csv") -> ImportJob:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with path.open("rb") as stream:
        return services.upload(org.admin, "deals", name, stream)


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """The jobs whose file was read, once for each reading."""
    read = []
    real = importer.data_rows
    monkeypatch.setattr(importer, "data_rows", lambda job: read.append(job.pk) or real(job))
    return read


def _found(job: ImportJob) -> dict:
    """What the page shows of each value list: {field (a stage's: with its pipeline): {value: (rows, becomes)}}."""
    return {(f["field"], f.get("pipeline")): {v["value"]: (v["rows"], v["becomes"]) for v in f["values"]}
            for f in values.found(ImportJob.objects.get(pk=job.pk))["fields"]}


def test_the_values_are_shown_again_without_reading_the_file(org, tmp_path, monkeypatch):
    job = _upload(org, tmp_path, DEALS)
    assert job.mapping[:4] == ["title", "owner", "stage", "pipeline"]
    first = values.found(ImportJob.objects.get(pk=job.pk))
    assert {f["field"] for f in first["fields"]} == {"owner", "stage", "pipeline"}

    def no_file(job):
        raise AssertionError("the file was read again")

    monkeypatch.setattr(importer, "data_rows", no_file)
    again = ImportJob.objects.get(pk=job.pk)
    assert again.tally["for"]["columns"] == [[1, "owner"], [2, "stage"], [3, "pipeline"]]
    assert values.found(again) == first
    assert values.found(again) == first  # and from the job as this call left it


def test_the_mapping_page_is_drawn_again_from_the_counts(org, tmp_path, client, reads):
    job = _upload(org, tmp_path, DEALS)
    client.force_login(org.admin)
    pages = [client.get(f"/transfer/import/{job.pk}/") for _time in range(3)]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "Мария Петрова" in pages[2].content.decode()
    assert reads == [job.pk]


def test_a_choice_changes_what_a_value_becomes_without_counting_again(org, tmp_path, reads):
    job = _upload(org, tmp_path, DEALS)
    assert _found(job)[("owner", None)]["Мария Петрова"] == (3, None)
    services.configure(org.admin, job, values_={"owner": {"Мария Петрова": org.manager.username},
                                                "stage": {"Sales": {"Счёт": ""}}})
    found = _found(job)
    assert found[("owner", None)]["Мария Петрова"] == (3, org.manager.username)
    assert found[("stage", "Sales")]["Счёт"] == (1, "")
    assert reads == [job.pk]


def test_another_value_column_is_counted_again(org, tmp_path, reads):
    job = _upload(org, tmp_path, DEALS)
    assert set(_found(job)[("owner", None)]) == {"Иван Продавцов", "Мария Петрова"}
    services.configure(org.admin, job, mapping_=["title", "owner", "", "", ""])
    assert set(_found(job)[("owner", None)]) == {"Иван Продавцов", "Мария Петрова"}
    services.configure(org.admin, job, mapping_=["title", "", "", "", "owner"])  # the owner's column moved
    assert _found(job)[("owner", None)] == _found(job)[("owner", None)] == {
        "Пётр Коллегин": (2, org.colleague.username), "Анна Админова": (1, org.admin.username)}
    services.configure(org.admin, job, mapping_=["title", "", "stage", "", "owner"])  # a stage column, no pipeline
    assert _found(job)[("stage", "Sales")] == {"Переговоры": (2, "Negotiation"), "Счёт": (2, None)}  # a standard name
    assert reads == [job.pk] * 4  # once for each mapping


def test_another_header_row_is_counted_again(org, tmp_path, reads):
    job = _upload(org, tmp_path, "Название;Ответственный\nСделка А;Иван Продавцов\n"
                                 "Название;Ответственный\nСделка Б;Мария Петрова\nСделка В;Мария Петрова\n")
    assert job.format["header_row"] == 1
    assert _found(job)[("owner", None)] == {"Иван Продавцов": (1, org.manager.username),
                                            "Ответственный": (1, None), "Мария Петрова": (2, None)}
    services.configure(org.admin, job, header_row=3)
    assert job.mapping == ["title", "owner"]  # the same columns: only the header row says the counts are old
    assert _found(job)[("owner", None)] == _found(job)[("owner", None)] == {"Мария Петрова": (2, None)}
    assert reads == [job.pk, job.pk]  # once for each header row


def test_another_sheet_is_counted_again(org, tmp_path, reads):
    import xlsxwriter

    path = tmp_path / "deals.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for title, owner in (("Сделки", "Иван Продавцов"), ("Архив", "Мария Петрова")):
        sheet = book.add_worksheet(title)
        for number, cells in enumerate([["Название", "Ответственный"], ["Сделка", owner]]):
            sheet.write_row(number, 0, cells)
    book.close()
    with path.open("rb") as stream:
        job = services.upload(org.admin, "deals", path.name, stream)
    assert list(_found(job)[("owner", None)]) == ["Иван Продавцов"]
    services.configure(org.admin, job, sheet="Архив")
    assert (job.format["header_row"], job.mapping) == (1, ["title", "owner"])
    assert list(_found(job)[("owner", None)]) == list(_found(job)[("owner", None)]) == ["Мария Петрова"]
    assert reads == [job.pk, job.pk]  # once for each sheet


def test_the_counts_of_a_column_of_very_many_values_stay_small(org, tmp_path):
    lines = ["Название;Ответственный;Этап;Воронка"]
    lines += [f"Сделка {i};Человек {i};Этап {i % 400};Воронка {i % 7}" for i in range(1500)]
    job = _upload(org, tmp_path, "\n".join(lines) + "\n")
    found = {f["field"]: f for f in values.found(ImportJob.objects.get(pk=job.pk))["fields"]}
    assert (len(found["owner"]["values"]), found["owner"]["more"]) == (values.MAX_VALUES, 1500 - values.MAX_VALUES)
    # no «Воронка k» is a pipeline of Krug: every stage is in the list of rows whose pipeline is not recognised
    assert (len(found["stage"]["values"]), found["stage"]["more"]) == (values.MAX_VALUES, 400 - values.MAX_VALUES)
    tally = ImportJob.objects.get(pk=job.pk).tally
    assert {name: (len(column["top"]), column["distinct"]) for name, column in tally["columns"].items()} == {
        "owner": (values.MAX_VALUES, 1500), "stage": (values.MAX_VALUES, 400), "pipeline": (7, 7)}
    assert sum(len(cell["top"]) for cell in tally["stages"]) == values.MAX_PAIRS  # of the file's 1,500 pairs
    assert len(json.dumps(tally)) < 60_000
