"""A workbook of several sheets: the import reads the first that holds a table, or the one the user chooses on
the mapping page, through the API or with `krug import --sheet`, and the background run reads that one."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from krug.clients.models import Contact
from krug.core.errors import ValidationFailed
from krug.transfer import importer, services
from krug.transfer.models import ImportJob
from tests.quality.test_scan_job import IMMEDIATE

CLIENTS = [["Клиенты на 01.11.2026"], [], ["ФИО", "Телефон", "E-mail"],
           ["Орлов Олег", "8 912 345-67-89", "oleg@orlov.ru"], ["Соколова Анна", "+7 916 111-22-33", "anna@sokol.ru"]]
ARCHIVE = [["Фамилия", "Имя", "Телефон"], ["Старов", "Семён", "+7 903 000-00-01"]]


def _book(tmp_path: Path, sheets: dict[str, list[list[str]]], *, hidden=(), chart=False,
          name: str = "база.xlsx") -> Path:
    import xlsxwriter

    path = tmp_path / name
    book = xlsxwriter.Workbook(str(path))
    for title, rows in sheets.items():
        sheet = book.add_worksheet(title)
        for number, cells in enumerate(rows):
            sheet.write_row(number, 0, cells)
    shown = [sheet for sheet in book.worksheets() if sheet.name not in hidden]
    shown[0].activate()  # the sheet a workbook opens at cannot be hidden
    for sheet in book.worksheets():
        if sheet.name in hidden:
            sheet.hide()
    if chart:
        chart_sheet = book.add_chartsheet("Диаграмма")
        line = book.add_chart({"type": "line"})
        line.add_series({"values": f"='{next(iter(sheets))}'!$A$1:$A$2"})
        chart_sheet.set_chart(line)
    book.close()
    return path


def _upload(org, path: Path, sheet: str = "", entity: str = "contacts") -> ImportJob:
    with path.open("rb") as stream:
        return services.upload(org.admin, entity, path.name, stream, sheet=sheet)


def _refusal(call) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as info:
        call()
    [(field, [message])] = info.value.errors.items()
    return field, message


def _run(job: ImportJob) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    return importer.run(job.pk)


# ---- which sheet an upload reads ----------------------------------------------------------------------------

def test_an_empty_first_sheet_does_not_refuse_the_workbook_the_sheet_with_the_table_is_read(org, tmp_path):
    job = _upload(org, _book(tmp_path, {"Титул": [], "Клиенты": CLIENTS, "Архив": ARCHIVE}, chart=True))
    assert (job.sheets, job.sheet, job.format["sheet"]) == (["Титул", "Клиенты", "Архив"], "Клиенты", "Клиенты")
    assert (job.header, job.mapping, job.format["header_row"]) == (["ФИО", "Телефон", "E-mail"],
                                                                   ["full_name", "phone", "email"], 3)


def test_a_title_page_instructions_and_hidden_lists_before_the_table_are_passed_over(org, tmp_path):
    path = _book(tmp_path, {"Списки": [["Источник"], ["Сайт"], ["Звонок"]],
                            "Обложка": [["Отчёт отдела продаж"]],
                            "Как заполнять": [["Заполните лист «Клиенты»"], ["Телефон пишите с кодом"]],
                            "Сделки Круга": [["ID сделки в Круге", "Название"], ["1", "Поставка"]],
                            "Клиенты": CLIENTS}, hidden=("Списки",))
    job = _upload(org, path)
    assert job.sheet == "Клиенты" and job.header == ["ФИО", "Телефон", "E-mail"]


def test_without_a_recognised_header_the_first_sheet_with_rows_is_read(org, tmp_path):
    job = _upload(org, _book(tmp_path, {"Обложка": [["Отчёт"]], "Данные": [["Кто", "Где"], ["Орлов", "Тула"]]}))
    assert (job.sheet, job.header, job.mapping) == ("Данные", ["Кто", "Где"], ["", ""])


def test_a_workbook_whose_sheets_are_all_empty_is_refused_on_file(org, tmp_path):
    field, message = _refusal(lambda: _upload(org, _book(tmp_path, {"Лист1": [], "Лист2": []})))
    assert (field, message) == ("file", "Every sheet of the workbook is empty.")
    assert not ImportJob.objects.exists()


def test_the_sheet_asked_for_at_upload_is_read_and_its_name_is_taken_without_its_case(org, tmp_path):
    path = _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE})
    job = _upload(org, path, sheet="архив")
    assert (job.sheet, job.header, job.mapping) == ("Архив", ["Фамилия", "Имя", "Телефон"],
                                                    ["surname", "first_name", "phone"])
    field, message = _refusal(lambda: _upload(org, path, sheet="Лиды"))
    assert field == "sheet" and message == "The workbook has no sheet «Лиды»; its sheets: «Клиенты», «Архив»."


def test_a_csv_file_has_no_sheet_to_choose(org, tmp_path):
    path = tmp_path / "base.csv"
    path.write_text("ФИО;Телефон\nОрлов Олег;8 912 345-67-89\n", encoding="utf-8")
    job = _upload(org, path)
    assert (job.sheets, job.sheet) == ([], "")
    assert _refusal(lambda: _upload(org, path, sheet="Лист1"))[0] == "sheet"
    assert _refusal(lambda: services.configure(org.admin, job, sheet="Лист1"))[0] == "sheet"
    assert services.configure(org.admin, job, sheet="").sheet == ""  # nothing to change


# ---- choosing another sheet ---------------------------------------------------------------------------------

def test_choosing_another_sheet_finds_its_header_row_and_guesses_its_columns_again(org, tmp_path):
    job = _upload(org, _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE}))
    services.configure(org.admin, job, mapping_=["full_name", "phone", ""])  # a choice of the old sheet's
    job = services.configure(org.admin, ImportJob.objects.get(pk=job.pk), sheet="Архив")
    job.refresh_from_db()
    assert (job.sheet, job.format["sheet"], job.format["header_row"]) == ("Архив", "Архив", 1)
    assert (job.header, job.mapping) == (["Фамилия", "Имя", "Телефон"], ["surname", "first_name", "phone"])
    assert [r["values"]["Фамилия"] for r in services.preview(org.admin, job)] == ["Старов"]
    job = services.configure(org.admin, job, sheet="Клиенты")  # and back: the title above is skipped again
    assert (job.format["header_row"], job.header) == (3, ["ФИО", "Телефон", "E-mail"])
    job = services.configure(org.admin, job, sheet="Архив")
    job = services.configure(org.admin, job, sheet="Клиенты", header_row=1)  # a header row given with it
    assert (job.sheet, job.format["header_row"], job.header, job.mapping) == (
        "Клиенты", 1, ["Клиенты на 01.11.2026", "", ""], ["", "", ""])


@pytest.mark.parametrize("sheets,asked,field,message", [
    ({"Клиенты": CLIENTS, "Архив": ARCHIVE}, "Корзина", "sheet",
     "The workbook has no sheet «Корзина»; its sheets: «Клиенты», «Архив»."),
    ({"Клиенты": CLIENTS, "Архив": ARCHIVE}, "  ", "sheet", "Choose one of the workbook's sheets: «Клиенты», «Архив»."),
    ({"Клиенты": CLIENTS, "Пустой": []}, "Пустой", "sheet",
     "The sheet «Пустой» is empty: choose the sheet that holds the table."),
    ({"Клиенты": CLIENTS, "Шапка": [["ФИО", "Телефон"]]}, "Шапка", "sheet",
     "The file has a header but no rows under it: there is nothing to import."),
    ({"Клиенты": CLIENTS, "Сделки": [["ID сделки в Круге", "Название"], ["1", "Поставка"]]}, "Сделки", "sheet",
     "This sheet is Krug's export of deals: import it as deals."),
])
def test_a_sheet_that_cannot_be_read_is_refused_naming_the_field_and_nothing_changes(org, tmp_path, sheets, asked,
                                                                                      field, message):
    job = _upload(org, _book(tmp_path, sheets))
    assert _refusal(lambda: services.configure(org.admin, job, sheet=asked)) == (field, message)
    job.refresh_from_db()
    assert (job.sheet, job.header) == ("Клиенты", ["ФИО", "Телефон", "E-mail"])


def test_a_header_row_that_the_chosen_sheet_lacks_is_refused_on_header_row(org, tmp_path):
    job = _upload(org, _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE}))
    assert _refusal(lambda: services.configure(org.admin, job, sheet="Архив", header_row=3))[0] == "header_row"


def test_the_sheet_cannot_change_once_the_import_has_started(org, tmp_path):
    from krug.core.errors import Conflict

    job = _upload(org, _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE}))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    job.refresh_from_db()
    with pytest.raises(Conflict):
        services.configure(org.admin, job, sheet="Архив")


def test_the_run_reads_the_chosen_sheet_only(org, tmp_path):
    job = _upload(org, _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE}))
    job = _run(services.configure(org.admin, job, sheet="Архив"))
    assert (job.status, job.total_rows, job.created) == ("done", 1, 1)
    assert list(Contact.objects.values_list("surname", flat=True)) == ["Старов"]


def test_a_job_from_before_sheets_were_chosen_still_reads_the_first_sheet(org, tmp_path):
    job = _upload(org, _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE}))
    legacy = {k: v for k, v in job.format.items() if k != "sheet"}
    ImportJob.objects.filter(pk=job.pk).update(format=legacy, sheet="", sheets=[])
    job.refresh_from_db()
    assert [r["values"]["ФИО"] for r in services.preview(org.admin, job)] == ["Орлов Олег", "Соколова Анна"]
    assert services.configure(org.admin, job, sheet="Архив").header == ["Фамилия", "Имя", "Телефон"]


# ---- the API ------------------------------------------------------------------------------------------------

def _api_upload(client, org, path: Path, **extra):
    return client.post("/api/v1/imports", {"file": SimpleUploadedFile(path.name, path.read_bytes()),
                                           "entity": "contacts", **extra},
                       HTTP_AUTHORIZATION=f"Bearer {org.tokens['manager']}")


def test_the_api_shows_the_sheets_changes_the_sheet_and_the_background_run_reads_it(
        client, api_as, org, tmp_path, django_capture_on_commit_callbacks):
    path = _book(tmp_path, {"Титул": [], "Клиенты": CLIENTS, "Архив": ARCHIVE})
    r = _api_upload(client, org, path)
    assert r.status_code == 201, r.content
    job = r.json()
    assert (job["sheets"], job["sheet"], job["header_row"]) == (["Титул", "Клиенты", "Архив"], "Клиенты", 3)
    api = api_as("manager")
    r = api.patch(f"/imports/{job['id']}", {"sheet": "Нет такого"})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "sheet"
    assert "«Клиенты»" in r.body["errors"][0]["message"]
    r = api.patch(f"/imports/{job['id']}", {"sheet": "Титул"})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "sheet"
    changed = api.patch(f"/imports/{job['id']}", {"sheet": "Архив"}).body
    assert (changed["sheet"], changed["header_row"], changed["header"], changed["mapping"]) == (
        "Архив", 1, ["Фамилия", "Имя", "Телефон"], ["surname", "first_name", "phone"])
    assert [row["row"] for row in api.get(f"/imports/{job['id']}/preview").body] == [2]
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/imports/{job['id']}/start").status_code == 202
    done = api.get(f"/imports/{job['id']}").body
    assert (done["status"], done["created"], done["sheet"]) == ("done", 1, "Архив")
    assert list(Contact.objects.values_list("surname", flat=True)) == ["Старов"]


def test_the_api_upload_takes_the_sheet_and_refuses_an_unknown_one_on_sheet(client, org, tmp_path):
    path = _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE})
    r = _api_upload(client, org, path, sheet="Архив")
    assert r.status_code == 201 and r.json()["sheet"] == "Архив"
    r = _api_upload(client, org, path, sheet="Лиды")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sheet"
    assert ImportJob.objects.count() == 1


# ---- the mapping page ---------------------------------------------------------------------------------------

def test_the_mapping_page_offers_the_sheets_and_reads_the_chosen_one_again(client, org, tmp_path):
    client.force_login(org.manager)
    path = _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE})
    r = client.post("/transfer/import/", {"entity": "contacts", "file": SimpleUploadedFile(path.name,
                                                                                           path.read_bytes())})
    job = ImportJob.objects.get()
    page = client.get(r["Location"]).content.decode()
    assert 'id="f-sheet"' in page and '<option value="Клиенты" selected>Клиенты</option>' in page
    assert "oleg@orlov.ru" in page and "sheet «Клиенты»" in page
    r = client.post(f"/transfer/import/{job.pk}/mapping/", {"sheet": "Архив", "go": "sheet"})
    assert r.status_code == 302 and r["Location"] == f"/transfer/import/{job.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert '<option value="Архив" selected>Архив</option>' in page and 'value="surname" selected' in page
    assert "+7 903 000-00-01" in page and "oleg@orlov.ru" not in page
    r = client.post(f"/transfer/import/{job.pk}/mapping/", {"sheet": "Корзина", "go": "sheet"})
    page = r.content.decode()
    assert r.status_code == 422 and 'id="e-sheet"' in page and "no sheet «Корзина»" in page
    assert '<option value="Архив" selected>' in page  # the sheet read stays what it was


def test_a_single_sheet_workbook_shows_no_sheet_choice(client, org, tmp_path):
    client.force_login(org.manager)
    path = _book(tmp_path, {"Клиенты": CLIENTS})
    r = client.post("/transfer/import/", {"entity": "contacts", "file": SimpleUploadedFile(path.name,
                                                                                           path.read_bytes())})
    assert 'id="f-sheet"' not in client.get(r["Location"]).content.decode()


def test_the_sheet_choice_is_in_russian(client, org, tmp_path):
    client.force_login(org.manager)
    path = _book(tmp_path, {"Клиенты": CLIENTS, "Пустой": []})
    client.post("/transfer/import/", {"entity": "contacts", "file": SimpleUploadedFile(path.name, path.read_bytes())})
    job = ImportJob.objects.get()
    page = client.get(f"/transfer/import/{job.pk}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Лист книги" in page and "лист «Клиенты»" in page
    r = client.post(f"/transfer/import/{job.pk}/mapping/", {"sheet": "Пустой", "go": "sheet"},
                    HTTP_ACCEPT_LANGUAGE="ru")
    assert r.status_code == 422 and "Лист «Пустой» пуст" in r.content.decode()


# ---- the command line ---------------------------------------------------------------------------------------

def test_krug_import_reads_the_sheet_it_is_told(org, tmp_path, capsys):
    from krug import cli

    path = _book(tmp_path, {"Клиенты": CLIENTS, "Архив": ARCHIVE})
    assert cli.main(["import", str(path), "--entity", "contacts", "--sheet", "Корзина"]) == 2
    assert "sheet: The workbook has no sheet «Корзина»" in capsys.readouterr().err
    assert not ImportJob.objects.exists()
    assert cli.main(["import", str(path), "--entity", "contacts", "--sheet", "Архив"]) == 0
    assert "(sheet 'Архив')" in capsys.readouterr().out
    assert list(Contact.objects.values_list("surname", flat=True)) == ["Старов"]


def test_a_crm_workbook_of_several_kinds_opens_at_the_sheet_of_the_kind_imported(org, tmp_path):
    """Bitrix24's workbook «Компании», «Контакты», «Сделки»: each kind reads its own sheet (contacts read the
    companies before, their «Название компании» naming the contact's company field)."""
    path = _book(tmp_path, {
        "Компании": [["Название компании", "ИНН", "Телефон"], ["Вектор", "7707083893", "+74951234567"]],
        "Контакты": [["Имя", "Фамилия", "Компания"], ["Анна", "Смирнова", "Вектор"]],
        "Сделки": [["Название", "Сумма", "Компания"], ["Поставка", "1000", "Вектор"]],
    })
    assert {entity: _upload(org, path, entity=entity).sheet for entity in ("companies", "contacts", "deals")} == {
        "companies": "Компании", "contacts": "Контакты", "deals": "Сделки"}


def test_without_a_sheet_named_for_the_kind_the_one_that_fills_a_new_record_is_read(org, tmp_path):
    path = _book(tmp_path, {"Лист1": [["Компания", "Телефон"], ["Вектор", "+74951234567"]],
                            "Лист2": [["ФИО", "Телефон"], ["Смирнова Анна", "+79161234567"]]})
    assert _upload(org, path).sheet == "Лист2"
