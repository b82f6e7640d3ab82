"""What an exported file holds: every field a user entered, custom fields as columns, phones as they are, typed
XLSX cells, local times, CSV that Russian Excel reads, formulas never run; read a fixed number of queries a chunk."""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from krug.clients.models import Company, Contact, Lead
from krug.core import custom_fields
from krug.sales.models import Deal
from krug.transfer import export
from tests import factories

FORMULAS = ['=HYPERLINK("http://evil","click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|x",
            "-2+3"]
CLOSE = dt.date(2026, 12, 31)
CREATED = dt.datetime(2026, 11, 24, 9, 53, 56, 686717, tzinfo=dt.UTC)  # 12:53:56 in Moscow


def _download(client, user, job_id, language="en") -> list[dict]:
    client.force_login(user)
    r = client.get(f"/api/v1/exports/{job_id}/download", HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 200
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def _csv(client, user, entity, query="", language="en") -> list[dict]:
    return _download(client, user, export.create(user, entity, "csv", query).pk, language)


def _xlsx(user, entity, query="") -> tuple[list[list], bytes]:
    job = export.write_xlsx(export.create(user, entity, "xlsx", query).pk)
    data = Path(job.path).read_bytes()
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python(), data


@pytest.mark.parametrize("text", ["+79167770001", "-1500,50", "+79167770001, +74951234567", "8-916-777-00-01",
                                  "Иванов"])
def test_csv_keeps_numbers_and_phones_as_they_are(text):
    assert export.csv_safe(text) == text


@pytest.mark.parametrize("text", [*FORMULAS, "\t=1+1", "\r=1", "+7916 доб=1", "+7-1", "+7 (916) 777-00-01"])
def test_csv_escapes_whatever_excel_would_run_as_a_formula(text):
    assert export.csv_safe(text) == "'" + text


def test_a_csv_export_keeps_phones_and_escapes_formulas(client, org):
    factories.contact(org.manager, surname="Орлов", phones=["+79167770001", "+74951234567"])
    for text in FORMULAS:
        factories.contact(org.manager, surname="Злой", position=text)
    rows = _csv(client, org.manager, "contacts")
    assert [r["Phones"] for r in rows if r["Surname"] == "Орлов"] == ["+79167770001, +74951234567"]
    assert sorted(r["Position"] for r in rows if r["Surname"] == "Злой") == sorted("'" + t for t in FORMULAS)


def test_an_xlsx_export_keeps_every_text_exactly_and_never_as_a_formula(org):
    factories.contact(org.manager, surname="Орлов", phones=["+79167770001"])
    for text in FORMULAS:
        factories.contact(org.manager, surname="Злой", position=text)
    rows, data = _xlsx(org.manager, "contacts")
    header = rows[0]
    phones, position = header.index("Phones"), header.index("Position")
    assert [r[phones] for r in rows[1:] if r[1] == "Орлов"] == ["+79167770001"]
    assert sorted(r[position] for r in rows[1:] if r[1] == "Злой") == sorted(FORMULAS)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and 't="inlineStr"><is><t>@SUM(1+1)*cmd|x</t>' in sheet  # a string cell, no formula


def test_xlsx_cells_are_numbers_dates_and_datetimes_in_the_sites_time_zone(org, settings):
    assert settings.TIME_ZONE == "Europe/Moscow"
    deal = factories.deal(org.manager, title="Поставка", amount=Decimal("36000.50"), expected_close=CLOSE)
    Deal.objects.filter(pk=deal.pk).update(created_at=CREATED)
    rows, data = _xlsx(org.manager, "deals")
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Krug deal ID"] == deal.pk and isinstance(row["Krug deal ID"], float)
    assert row["Amount"] == 36000.5
    assert row["Expected close"] == dt.date(2026, 12, 31)
    assert row["Created"] == dt.datetime(2026, 11, 24, 12, 53, 56)
    styles = zipfile.ZipFile(io.BytesIO(data)).read("xl/styles.xml").decode()
    assert 'numFmtId="22"' in styles and 'numFmtId="14"' in styles  # Excel's own short date (time) formats


def test_csv_dates_are_local_and_read_by_russian_excel_as_dates_and_numbers(client, org):
    deal = factories.deal(org.manager, title="Поставка", amount=Decimal("36000.50"), expected_close=CLOSE)
    Deal.objects.filter(pk=deal.pk).update(created_at=CREATED)
    [ru] = _csv(client, org.manager, "deals", language="ru")
    assert (ru["ID сделки в Круге"], ru["Сумма"], ru["Ожидаемое закрытие"], ru["Создан"]) == (
        str(deal.pk), "36000,50", "31.12.2026", "24.11.2026 12:53")
    [en] = _csv(client, org.manager, "deals", language="en")
    assert (en["Krug deal ID"], en["Amount"], en["Expected close"], en["Created"]) == (
        str(deal.pk), "36000.50", "2026-12-31", "2026-11-24 12:53")
    assert "ID" not in en and "ID" not in ru  # an import reads "ID" as the old system's id


def test_every_field_a_user_entered_is_exported_custom_fields_included(client, org):
    for entity in ("contact", "company", "lead", "deal"):
        custom_fields.define_field(org.admin, {"entity": entity, "type": "text", "label": "Сегмент", "position": 1})
        custom_fields.define_field(org.admin, {"entity": entity, "type": "date", "label": "Дата визита",
                                               "position": 2})
    custom = {"segment": "Опт", "data_vizita": "2026-03-01"}
    company = factories.company(org.manager, name="Вектор", inn="7707083893", kpp="773601001", size="50-100",
                                founded=dt.date(2001, 5, 4), description="Поставщик", custom=custom)
    person = factories.contact(org.manager, surname="Орлов", company_id=company.pk, phones=["+79167770001"],
                               emails=["orlov@vector.ru"], custom=custom)
    factories.lead(org.manager, title="Нужны станки", patronymic="Петрович", position="Снабженец", inn="7707083893",
                   city="Тула", message="Перезвоните после 15:00", amount=Decimal("120000"), utm_medium="cpc",
                   utm_term="станки", referrer="https://ya.ru", custom=custom)
    factories.deal(org.manager, title="Станки", contact_id=person.pk, company_id=company.pk, source="выставка",
                   description="Три станка", custom=custom)
    [contact] = _csv(client, org.manager, "contacts")
    assert (contact["Company INN"], contact["Company KPP"], contact["Сегмент"], contact["Дата визита"]) == (
        "7707083893", "773601001", "Опт", "2026-03-01")
    [lead] = _csv(client, org.manager, "leads")
    assert {k: lead[k] for k in ("Patronymic", "Position", "INN", "City", "Message", "Expected amount",
                                 "utm_medium", "utm_term", "referrer", "Сегмент")} == {
        "Patronymic": "Петрович", "Position": "Снабженец", "INN": "7707083893", "City": "Тула",
        "Message": "Перезвоните после 15:00", "Expected amount": "120000.00", "utm_medium": "cpc",
        "utm_term": "станки", "referrer": "https://ya.ru", "Сегмент": "Опт"}
    [deal] = _csv(client, org.manager, "deals")
    assert {k: deal[k] for k in ("Contact's phone", "Contact's e-mail", "Company INN", "Status", "Source",
                                 "Description", "Дата визита")} == {
        "Contact's phone": "+79167770001", "Contact's e-mail": "orlov@vector.ru", "Company INN": "7707083893",
        "Status": "in progress", "Source": "выставка", "Description": "Три станка", "Дата визита": "2026-03-01"}
    [firm] = _csv(client, org.manager, "companies")
    assert (firm["Size"], firm["Founded"], firm["Description"], firm["Сегмент"]) == (
        "50-100", "2001-05-04", "Поставщик", "Опт")
    rows, _data = _xlsx(org.manager, "contacts")
    assert dict(zip(rows[0], rows[1], strict=True))["Дата визита"] == dt.date(2026, 3, 1)  # a date cell


def test_a_deals_contact_phone_and_email_are_exported_only_to_who_may_see_the_contact(client, org):
    stranger = factories.contact(org.outsider, surname="Чужой", phones=["+79160000001"], emails=["x@y.ru"])
    factories.deal(org.admin, title="Общая", owner_id=org.manager.pk, contact_id=stranger.pk)
    [deal] = _csv(client, org.manager, "deals")
    assert (deal["Contact"], deal["Contact's phone"], deal["Contact's e-mail"]) == ("Чужой Тест", "", "")
    [deal] = _csv(client, org.admin, "deals")
    assert (deal["Contact's phone"], deal["Contact's e-mail"]) == ("+79160000001", "x@y.ru")


def _plant(org, entity: str, start: int, n: int) -> None:
    for i in range(start, start + n):
        if entity == "companies":
            factories.company(org.manager, name=f"Фирма {i}")
        elif entity == "leads":
            factories.lead(org.manager, title=f"Заявка {i}")
        else:
            person = factories.contact(org.manager, surname=f"Иванов{i}", phones=[f"+7916000{i:04d}"],
                                       emails=[f"i{i}@x.ru"], tags=["опт", "vip"])
            if entity == "deals":
                factories.deal(org.manager, title=f"Сделка {i}", contact_id=person.pk)


@pytest.mark.parametrize(("entity", "per_chunk"), [("contacts", 4), ("companies", 1), ("leads", 1), ("deals", 3)])
def test_an_export_reads_a_fixed_number_of_queries_a_chunk_whatever_its_rows(org, monkeypatch, entity, per_chunk):
    monkeypatch.setattr(export, "CHUNK", 3)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rows = list(export.records(org.manager, entity, QueryDict("")))
        return len(captured), len(rows)

    _plant(org, entity, 0, 3)
    one_chunk, rows = queries()
    assert rows == 3
    _plant(org, entity, 3, 6)
    three_chunks, rows = queries()
    assert rows == 9 and three_chunks - one_chunk == 2 * per_chunk
    assert one_chunk <= per_chunk + 1  # the chunk and the empty read that ends the run


def test_the_export_models_fields_are_all_exported_or_deliberately_left_out():
    """A field added to a model must be added to the export, or here with the reason it is not exported."""
    internal = {"search_key", "created_by", "updated_by", "updated_at", "version", "deleted_at", "deleted_by"}
    left_out = {
        Contact: {"job_title", "last_contact_at"},  # derived from the position; kept by the activities
        Company: set(),
        Lead: {"contact", "company", "deal_id", "converted_at"},  # links made by converting, not entered
        Deal: {"stage_entered_at"},  # kept by the pipeline
    }
    for model, fields in export.export_columns.FIELDS.items():
        model_class = {"contacts": Contact, "companies": Company, "leads": Lead, "deals": Deal}[model]
        concrete = {f.name for f in model_class._meta.concrete_fields}
        read = {f.split("__")[0].removesuffix("_id") for f in fields}
        assert concrete - internal - left_out[model_class] - read == set(), model
