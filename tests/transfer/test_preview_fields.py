"""The preview shows what each row becomes, field by field (not the file's raw cells), with the raw cell where
it differs and each problem beside its field; and how many rows the whole file has."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from krug.clients.models import Company, Contact
from krug.transfer import services
from krug.transfer.models import ImportJob
from tests import factories

CONTACTS = ("ФИО;Телефон;E-mail;Компания;День рождения;Ответственный\n"
            "ИВАНОВ иван;8 (916) 555-12-34 доб. 12;Ivan@Vektor.RU;ООО «Вектор Плюс»;1985-05-12;Олег Руководов\n"
            "Петрова Анна;+7 916 555 12 35;;ООО «Новая Линия»;;\n"
            "Сидоров Пётр;12;petr@;;31.02.1990;Никто Никтович\n")


def _fields(row: dict) -> dict:
    return {f["field"]: f for f in row["fields"]}


def test_each_row_shows_the_values_it_writes_beside_the_file_s(org):
    factories.company(org.head, name="Вектор Плюс", legal_form="ООО")
    job = services.upload(org.head, "contacts", "base.csv", [CONTACTS.encode()])
    created, second, failed = services.preview(org.head, job)
    assert [created["outcome"], second["outcome"], failed["outcome"]] == ["created", "created", "failed"]
    ivanov = _fields(created)
    assert (ivanov["full_name"]["value"], ivanov["full_name"]["raw"], ivanov["full_name"]["changed"]) == (
        "Иванов Иван", "ИВАНОВ иван", True)
    assert ivanov["phone"]["value"] == "+7 916 555-12-34 ext. 12 (mobile)"
    assert ivanov["email"]["value"] == "Ivan@vektor.ru (work)"
    assert (ivanov["company"]["value"], ivanov["company"]["note"]) == ("ООО «Вектор Плюс»",
                                                                       "a company already in the base")
    assert (ivanov["birthday"]["value"], ivanov["owner"]["value"]) == ("05/12/1985", "Олег Руководов")
    petrova = _fields(second)
    assert (petrova["company"]["note"], petrova["company"]["changed"]) == ("new company", False)
    assert petrova["owner"] == {"field": "owner", "label": "Owner", "value": "Олег Руководов", "raw": "",
                                "note": "", "changed": False, "errors": []}  # no owner in the file: the importer
    sidorov = _fields(failed)
    assert sidorov["phone"]["errors"] == ["12 is not a valid phone number"] and sidorov["phone"]["value"] == ""
    assert sidorov["email"]["errors"] and sidorov["owner"]["errors"] == ["no active user Никто Никтович"]
    assert sidorov["birthday"]["errors"] and sidorov["full_name"]["value"] == "Сидоров Пётр"
    assert failed["other_errors"] == [] and not Contact.objects.exists() and Company.objects.count() == 1


def test_a_problem_about_no_column_is_shown_apart(org):
    """A new row of a file keyed by e-mail that has no name column lacks a name: no column is to blame."""
    job = services.upload(org.admin, "contacts", "base.csv", ["E-mail;Город\nnew@vektor.ru;Тула\n".encode()])
    services.configure(org.admin, job, key="email")
    row = services.preview(org.admin, job)[0]
    assert [e["field"] for e in row["other_errors"]] == ["first_name"]
    assert all(not f["errors"] for f in row["fields"])


def test_a_deal_shows_its_stage_and_owner_by_name_and_its_amount_the_reader_s_way(org):
    text = "Название;Сумма;Этап;Ответственный\nПоставка;1250000,5;Переговоры;Иван Продавцов\n"
    job = services.upload(org.admin, "deals", "deals.csv", [text.encode()])
    services.configure(org.admin, job, values_={"stage": {"Переговоры": "Negotiation"}})
    fields = _fields(services.preview(org.admin, job)[0])
    assert (fields["stage"]["value"], fields["stage"]["raw"]) == ("Negotiation", "Переговоры")
    assert (fields["owner"]["value"], fields["amount"]["value"]) == ("Иван Продавцов", "1,250,000.50")


def _previewed(client, user) -> tuple[ImportJob, str]:
    """The contacts file uploaded on the page by `user`, and the preview the mapping page shows of it."""
    client.force_login(user)
    client.post("/transfer/import/", {"entity": "contacts", "file": SimpleUploadedFile("база.csv", CONTACTS.encode())})
    job = ImportJob.objects.get()
    form = {f"col{i}": name for i, name in enumerate(job.mapping)}
    return job, client.post(f"/transfer/import/{job.pk}/mapping/", {**form, "key": "", "go": "preview"},
                            HTTP_HX_REQUEST="true").content.decode()


def test_the_page_and_the_api_show_the_fields(client, api_as, org):
    job, page = _previewed(client, org.manager)
    assert ('<dt>Phone</dt><dd>+7 916 555-12-35 (mobile) <span class="muted small" title="+7 916 555 12 35">in the '
            'file: +7 916 555 12 35</span>') in page
    assert '<dt>Owner</dt><dd> <span class="muted small" title="Олег Руководов">' in page  # he may not assign him
    beside = page.split("<dt>Phone</dt>")[-1].split("</dd>")[0]
    assert '<p class="field-error">Phone: 12 is not a valid phone number</p>' in beside
    rows = api_as("manager").get(f"/imports/{job.pk}/preview").body
    assert set(rows[0]) == {"row", "values", "outcome", "errors", "fields"}
    assert rows[1]["values"]["Телефон"] == "+7 916 555 12 35"
    assert rows[1]["fields"][1] == {"field": "phone", "label": "Phone", "value": "+7 916 555-12-35 (mobile)",
                                    "raw": "+7 916 555 12 35", "changed": True, "note": "", "errors": []}


def _big(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "big.csv"
    path.write_text("Список на 01.11.2026\nФамилия;Телефон\n" + "".join(f"Орлов{i};\n" for i in range(rows)),
                    encoding="utf-8")
    return path


def test_the_preview_says_how_many_rows_the_file_has(client, org, tmp_path):
    client.force_login(org.admin)
    with _big(tmp_path, 12_345).open("rb") as stream:
        job = services.upload(org.admin, "contacts", "big.csv", stream)
    form = {"col0": "surname", "col1": "phone", "key": "", "go": "preview"}
    page = client.post(f"/transfer/import/{job.pk}/mapping/", form, HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="/transfer/import/{job.pk}/rows/?shown=10" hx-trigger="load"' in page  # counted apart
    count = client.get(f"/transfer/import/{job.pk}/rows/?shown=10", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Проверены первые 10 строк из 12\xa0345" in count
    assert ImportJob.objects.get().total_rows == 12_345  # counted once: the run needs it too
    page = client.post(f"/transfer/import/{job.pk}/mapping/", form, HTTP_HX_REQUEST="true").content.decode()
    assert "Checked the first 10 rows of 12,345" in page and "/rows/" not in page
    client.post(f"/transfer/import/{job.pk}/mapping/", {"header_row": "1", "go": "header"})
    assert ImportJob.objects.get().total_rows is None  # another header row: other rows


def test_a_file_the_preview_reads_whole_is_counted_by_it(client, org):
    job, page = _previewed(client, org.manager)
    assert "Checked 3 rows: the whole file" in page and ImportJob.objects.get().total_rows == 3


def test_a_deal_s_contact_named_in_the_file_is_shown_as_the_contact_it_links(org):
    factories.contact(org.admin, surname="Смирнов", first_name="Андрей", patronymic="Петрович")
    text = "Название;Контакт\nПоставка;Андрей Смирнов\n"
    job = services.upload(org.admin, "deals", "deals.csv", [text.encode()])
    fields = _fields(services.preview(org.admin, job)[0])
    assert (fields["contact_name"]["value"], fields["contact_name"]["raw"]) == ("Смирнов Андрей Петрович",
                                                                              "Андрей Смирнов")
