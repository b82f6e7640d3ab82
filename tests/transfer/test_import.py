"""Import: reading any common table file, recognising its columns, and writing each good row exactly once."""

from pathlib import Path

import pytest

from krug.clients.models import Company, Contact
from krug.transfer import importer, mapping, reading, services
from krug.transfer.models import ImportJob

HEADER = "ФИО;Телефон;E-mail;Компания;ИНН;Должность;Город;Теги\n"
ROWS = [
    "Иванов Иван Иванович;8 (912) 345-67-89;ivan@vektor.ru;ООО «Вектор»;7707083893;генеральный директор;москва;vip",
    "Петрова Анна Сергеевна;+7 916 555 12 34;anna@vektor.ru;ООО «Вектор»;7707083893;бухгалтер;Москва;",
    "Сидоров Пётр;9031112233;petr@gamma.ru;Гамма;;менеджер;Казань;vip, опт",
    "Иванов Иван Иванович;+79123456789;IVAN@vektor.ru;ООО «Вектор»;;;;опт",  # the first row again
    "Плохой Телефон;12;bad@;;;;;",  # two bad values: fails, names both
]


def _file(tmp_path: Path, text: str, name: str = "base.csv", encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _upload(org, path: Path, entity: str = "contacts", key: str | None = None) -> ImportJob:
    with path.open("rb") as stream:
        job = services.upload(org.admin, entity, path.name, stream)
    if key is not None:
        services.configure(org.admin, job, key=key)
    return job


def _run(job: ImportJob, bulk: bool = True) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    return importer.run(job.pk, chunk_size=2, bulk=bulk)


#: contacts go through the set-based path; the per-row path is the reference it must agree with
PATHS = pytest.mark.parametrize("bulk", [True, False], ids=["set-based", "per-row"])


@pytest.mark.parametrize("encoding,delimiter", [("utf-8-sig", ";"), ("utf-8", ","), ("cp1251", "\t")])
def test_csv_in_utf8_with_or_without_bom_or_windows_1251_with_any_delimiter_reads_the_same(tmp_path, encoding,
                                                                                           delimiter):
    text = f"Фамилия{delimiter}Имя{delimiter}Телефон\nЁлкина{delimiter}Алёна{delimiter}8 912 345-67-89\n"
    path = _file(tmp_path, text, encoding=encoding)
    fmt = reading.detect(path)
    assert (fmt.kind, fmt.delimiter) == ("csv", delimiter)
    assert list(reading.rows(path, fmt)) == [["Фамилия", "Имя", "Телефон"], ["Ёлкина", "Алёна", "8 912 345-67-89"]]


def test_xlsx_reads_through_calamine_and_a_broken_one_is_refused_with_a_reason(tmp_path):
    import xlsxwriter

    path = tmp_path / "base.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Название", "ИНН", "Основана"])
    sheet.write_row(1, 0, ["Вектор", "7707083893", 2001])
    book.close()
    fmt = reading.detect(path)
    assert fmt.kind == "xlsx"
    assert list(reading.rows(path, fmt)) == [["Название", "ИНН", "Основана"], ["Вектор", "7707083893", "2001"]]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(path.read_bytes()[:300])
    with pytest.raises(reading.FileProblem, match="cannot be read"):
        reading.detect(broken)
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    with pytest.raises(reading.FileProblem):
        reading.detect(binary)
    with pytest.raises(reading.FileProblem, match="empty"):
        reading.detect(_file(tmp_path, "", "empty.csv", "utf-8"))


def test_columns_are_recognised_from_russian_and_english_headers():
    assert mapping.guess("contacts", ["ФИО", "Моб. телефон", "Телефон рабочий", "Эл. почта", "Компания", "ИНН",
                                      "Ответственный", "Непонятно что"]) == [
        "full_name", "phone_mobile", "phone_work", "email", "company", "company_inn", "owner", ""]
    assert mapping.guess("companies", ["Company name", "INN", "KPP", "Website", "Manager"]) == [
        "name", "inn", "kpp", "website", "owner"]


def test_a_mapping_that_cannot_work_is_refused_naming_the_problem(org, tmp_path):
    job = _upload(org, _file(tmp_path, "Город;Телефон\nМосква;89123456789\n"))
    with pytest.raises(Exception) as info:
        services.configure(org.admin, job, mapping_=["city", "phone"])
    assert info.value.errors["mapping"][0].startswith("no column fills a required field")
    with pytest.raises(Exception) as info:
        services.configure(org.admin, job, mapping_=["surname", "city"], key="email")
    assert "key" in info.value.errors


@PATHS
def test_an_import_links_contacts_to_one_company_merges_repeats_and_reports_bad_rows(org, tmp_path, bulk):
    job = _run(_upload(org, _file(tmp_path, HEADER + "\n".join(ROWS) + "\n")), bulk)
    assert job.status == "done" and job.total_rows == 5
    assert (job.created, job.merged, job.failed) == (3, 1, 1)
    assert Company.objects.filter(inn="7707083893").count() == 1  # not one company per row
    assert Company.objects.count() == 2
    ivanov = Contact.objects.get(surname="Иванов")
    assert (ivanov.first_name, ivanov.patronymic, ivanov.city, ivanov.job_title) == (
        "Иван", "Иванович", "Москва", "Генеральный директор")
    assert sorted(t.name for t in ivanov.tags.all()) == ["vip", "опт"]  # the repeat added its tag
    assert [p.number for p in ivanov.phones.all()] == ["+79123456789"]
    error = job.row_errors.get()
    assert error.row == 6 and {e["field"] for e in error.errors} == {"phones.0", "emails.0"}
    csv_text = "".join(services.failed_rows_csv(job))
    assert "Плохой Телефон" in csv_text and "Phone: 12" in csv_text and csv_text.startswith("\ufeff")


@PATHS
def test_running_the_same_file_again_with_a_key_changes_nothing(org, tmp_path, bulk):
    path = _file(tmp_path, HEADER + "\n".join(ROWS[:3]) + "\n")
    first = _run(_upload(org, path, key=""), bulk)
    assert first.created == 3
    before = {c.pk: (c.version, c.updated_at) for c in Contact.objects.all()}
    again = _run(_upload(org, path, key="email"), bulk)
    assert (again.created, again.updated, again.merged, again.skipped, again.failed) == (0, 0, 0, 3, 0)
    assert {c.pk: (c.version, c.updated_at) for c in Contact.objects.all()} == before
    changed = _file(tmp_path, HEADER + ROWS[0].replace("москва", "Тула") + "\n", "changed.csv")
    third = _run(_upload(org, changed, key="email"), bulk)
    assert third.updated == 1 and Contact.objects.get(surname="Иванов").city == "Тула"


@PATHS
def test_a_worker_killed_mid_chunk_resumes_and_writes_each_good_row_exactly_once(org, tmp_path, monkeypatch, bulk):
    from krug.transfer import bulk_contacts

    lines = [f"Человеков{n};+7 912 000-{n // 100:02d}-{n % 100:02d};person{n}@example.ru;;;;;" for n in range(11)]
    lines[7] = "Плохой;1;;;;;;"
    job = _upload(org, _file(tmp_path, HEADER + "\n".join(lines) + "\n"))
    # per row: die on the ninth row; set-based: die in the third chunk after its contacts are inserted
    module, name, fatal = (bulk_contacts, "write_history", 3) if bulk else (importer, "import_row", 9)
    real = getattr(module, name)
    calls = {"n": 0}

    def dies(*args):
        calls["n"] += 1
        if calls["n"] == fatal:
            raise KeyboardInterrupt  # SIGKILL cannot be caught; what matters is that the chunk's transaction dies
        return real(*args)

    monkeypatch.setattr(module, name, dies)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    with pytest.raises(KeyboardInterrupt):
        importer.run(job.pk, chunk_size=4, bulk=bulk)
    job.refresh_from_db()
    assert job.done_rows == 8 and job.status == "running"  # two whole chunks, the third rolled back
    assert Contact.objects.count() == 7
    monkeypatch.setattr(module, name, real)
    job = importer.run(job.pk, chunk_size=4, bulk=bulk)
    assert (job.status, job.done_rows, job.created, job.failed) == ("done", 11, 10, 1)
    assert Contact.objects.count() == 10
    assert sorted(Contact.objects.values_list("surname", flat=True)) == sorted(
        f"Человеков{n}" for n in range(11) if n != 7)


def test_a_second_runner_of_the_same_job_writes_nothing(org, tmp_path):
    job = _upload(org, _file(tmp_path, HEADER + "\n".join(ROWS[:3]) + "\n"))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, done_rows=2)
    ctx = importer.Context(ImportJob.objects.get(pk=job.pk))
    with pytest.raises(importer.Superseded):
        importer._commit_chunk(job.pk, 0, [(2, ROWS[0].split(";"))], ctx)
    assert not Contact.objects.exists()


def test_formula_injection_is_escaped_in_the_failed_rows_file(org, tmp_path):
    job = _run(_upload(org, _file(tmp_path, HEADER + '=HYPERLINK("http://evil");12;;;;;;\n')))
    text = "".join(services.failed_rows_csv(job))
    assert "'=HYPERLINK" in text


def test_krug_import_runs_a_file_and_prints_the_report(org, tmp_path, capsys):
    from krug import cli

    path = _file(tmp_path, HEADER + "\n".join(ROWS) + "\n")
    assert cli.main(["import", str(path), "--entity", "contacts"]) == 0
    out = capsys.readouterr().out
    assert "3 created" in out and "1 merged as duplicates" in out and "1 failed" in out
    assert "failed-rows.csv" in out
    assert cli.main(["import", str(tmp_path / "nope.csv")]) == 2


def test_leads_and_deals_import_with_their_links_and_upsert_by_external_id(org, tmp_path):
    from krug.clients.models import Lead
    from krug.sales.models import Deal
    from tests import factories

    leads = _run(_upload(org, _file(tmp_path, "Заявка;Имя;Телефон;Источник;utm_campaign\n"
                                              "Нужна поставка;Олег;8 912 345-67-89;Сайт;весна\n"
                                              ";Анна;+7 916 111 22 33;выставка;\n", "leads.csv"), "leads"))
    assert (leads.created, leads.failed) == (2, 0)
    assert sorted(Lead.objects.values_list("source", flat=True)) == ["exhibition", "site"]
    assert Lead.objects.get(first_name="Анна").title == "Request from Анна"
    contact = factories.contact(org.admin, surname="Орлов", emails=["oleg@orlov.ru"])
    text = ("ID;Название;Сумма;Этап;Компания;ИНН;Email контакта;Ответственный\n"
            "D-1;Поставка станков;1 250 000,50 ₽;negotiation;Вектор;7707083893;oleg@orlov.ru;manager\n"
            "D-2;Аренда;300000;Нет такого этапа;;;;\n"
            "D-3;Сервис;abc;;;;nobody@nowhere.ru;\n")
    deals = _run(_upload(org, _file(tmp_path, text, "deals.csv"), "deals"))
    assert (deals.created, deals.failed) == (1, 2)
    deal = Deal.objects.get()
    assert (str(deal.amount), deal.stage.name, deal.company.inn, deal.contact_id, deal.owner) == (
        "1250000.50", "Negotiation", "7707083893", contact.pk, org.manager)
    problems = {e.row: {x["field"] for x in e.errors} for e in deals.row_errors.all()}
    assert problems == {3: {"stage"}, 4: {"amount"}}
    again = _run(_upload(org, _file(tmp_path, text, "deals2.csv"), "deals", key="external_id"))
    assert (again.created, again.skipped, again.failed) == (0, 1, 2) and Deal.objects.count() == 1


def test_a_file_over_the_size_limit_is_refused_and_not_kept(org, tmp_path, monkeypatch, settings):
    settings.DATA_DIR = tmp_path / "data"
    monkeypatch.setattr(reading, "MAX_BYTES", 1000)  # stands for the 1 GB limit: a 2 GB file is refused the same way
    path = _file(tmp_path, HEADER + "\n".join(ROWS * 20) + "\n")
    with pytest.raises(Exception) as info, path.open("rb") as stream:
        services.upload(org.admin, "contacts", path.name, stream)
    assert info.value.errors["file"][0].startswith("The file is larger than")
    assert not any((tmp_path / "data").rglob("*.csv")) and not ImportJob.objects.exists()


def test_a_file_of_changes_without_a_key_is_told_to_choose_one(org, tmp_path):
    from krug.transfer import services as transfer

    path = tmp_path / "deals.csv"
    path.write_text("ID;Сумма\nD-1;1000\n", encoding="utf-8")
    with path.open("rb") as stream:
        job = transfer.upload(org.admin, "deals", path.name, stream)
    assert job.key == "external_id"  # an ID column makes it the key from the start
    with pytest.raises(Exception) as info:
        transfer.configure(org.admin, job, mapping_=["external_id", "amount"], key="")
    assert info.value.errors["mapping"] == [
        "no column fills a required field: Title (or choose the key, ID in the old system, to change the records "
        "the file names)"]
    transfer.configure(org.admin, job, mapping_=["external_id", "amount"], key="external_id")


@PATHS
def test_a_title_above_the_header_is_skipped_and_errors_keep_the_spreadsheets_row_numbers(org, tmp_path, bulk):
    import xlsxwriter

    path = tmp_path / "contacts.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write(0, 0, "Список контактов на 01.11.2026")
    sheet.write_row(2, 0, ["ФИО", "Телефон", "E-mail"])
    sheet.write_row(3, 0, ["Орлов Олег", "8 912 345-67-89", "oleg@orlov.ru"])
    sheet.write_row(4, 0, ["Плохов Пётр", "12", "petr@"])
    book.close()
    job = _upload(org, path)
    assert (job.header, job.mapping, job.format["header_row"]) == (
        ["ФИО", "Телефон", "E-mail"], ["full_name", "phone", "email"], 3)
    assert [r["row"] for r in services.preview(org.admin, job)] == [4, 5]
    job = _run(job, bulk)
    assert (job.total_rows, job.created, job.failed) == (2, 1, 1)
    assert job.row_errors.get().row == 5
    lines = "".join(services.failed_rows_csv(job)).lstrip("\ufeff").splitlines()
    assert lines[0] == "Row;ФИО;Телефон;E-mail;Errors" and lines[1].startswith("5;Плохов Пётр;12;petr@;")


def test_the_header_row_can_be_chosen_by_hand_and_the_columns_are_recognised_again(org, tmp_path):
    text = "Выгрузка;;\nФИО;Телефон;E-mail\nОрлов Олег;8 912 345-67-89;oleg@orlov.ru\n"
    job = _upload(org, _file(tmp_path, text))
    assert job.format["header_row"] == 2
    services.configure(org.admin, job, header_row=1)
    assert (job.header, job.mapping) == (["Выгрузка", "", ""], ["", "", ""])
    services.configure(org.admin, job, header_row=2)
    assert job.mapping == ["full_name", "phone", "email"]
    for row, field in ((3, "header_row"), (7, "header_row")):  # no rows under it; not a row of the file
        with pytest.raises(Exception) as info:
            services.configure(org.admin, job, header_row=row)
        assert list(info.value.errors) == [field]


def test_a_file_with_a_header_and_no_rows_is_refused_at_upload(org, tmp_path):
    for text in ("ФИО;Телефон\n", "Список контактов;\n\nФИО;Телефон\n;\n"):
        with pytest.raises(Exception) as info:
            _upload(org, _file(tmp_path, text))
        assert info.value.errors["file"] == ["The file has a header but no rows under it: there is nothing to "
                                             "import."]
    assert not ImportJob.objects.exists()


def test_formula_like_headers_are_escaped_in_the_failed_rows_file_too(org, tmp_path):
    text = 'ФИО;Телефон;=HYPERLINK("http://evil.example","Open")\nПлохов Пётр;12;x\n'
    job = _run(_upload(org, _file(tmp_path, text)))
    header = "".join(services.failed_rows_csv(job)).lstrip("\ufeff").splitlines()[0]
    assert header == 'Row;ФИО;Телефон;"\'=HYPERLINK(""http://evil.example"",""Open"")";Errors'


def test_a_koi8_r_file_imports_russian_names_not_garbage(org, tmp_path):
    text = "Name;Phone;City\nГригорьев Павел;8 912 345-67-89;Москва\n"
    job = _run(_upload(org, _file(tmp_path, text, encoding="koi8_r")))
    assert job.format["encoding"] == "koi8_r" and job.created == 1
    assert (Contact.objects.get().surname, Contact.objects.get().city) == ("Григорьев", "Москва")


def test_a_file_whose_text_looks_garbled_says_so_when_nothing_maps(org, tmp_path):
    garbled = (HEADER + ROWS[0] + "\n").encode("utf-8").decode("cp1251", errors="replace")
    job = _upload(org, _file(tmp_path, garbled))
    assert "full_name" not in job.mapping and services.warnings(job)[0].startswith("The text in the file looks garbled")
    with pytest.raises(Exception) as info:
        services.start(org.admin, job)
    assert "encoding" in info.value.errors["file"][0] and info.value.errors["mapping"]
