"""Recognising a file's columns: Krug's own export, every field's own label, and where the header is."""

import csv
import io

import pytest
from django.utils import translation

from krug.transfer import export, mapping
from tests import factories

#: export columns the import has no field for: what Krug sets itself (when a record was made, when a deal
#: closed, a deal's status, which is its stage's), and values the import cannot read yet (a lead's status and
#: expected amount, a deal's contact by name, a contact's company KPP and consent date)
NOT_IMPORTED = {"Created", "Closed on", "Status", "Expected amount", "Contact", "Company KPP",
                "Personal data consent"}


def _export_header(org, entity: str) -> list[str]:
    job = export.create(org.admin, entity, "csv", "")
    text = "".join(export.stream_csv(job))
    return next(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("entity", mapping.ENTITIES)
def test_krugs_own_export_maps_back_column_by_column(org, entity, language):
    factories.deal(org.admin, contact_id=factories.contact(org.admin, emails=["a@example.com"]).pk)
    with translation.override(language):
        header = _export_header(org, entity)[1:]  # the first column, Krug's own id, is not an old system's id
        not_imported = {str(translation.gettext(label)) for label in NOT_IMPORTED}
    guessed = mapping.guess(entity, header)
    unmapped = [h for h, name in zip(header, guessed, strict=True) if not name and h not in not_imported]
    assert unmapped == []
    assert len(header) - len(unmapped) > 8


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("entity", mapping.ENTITIES)
def test_every_fields_own_label_maps_to_that_field(entity, language):
    with translation.override(language):
        labels = [str(target.label) for target in mapping.TARGETS[entity]]
    assert mapping.guess(entity, labels) == [target.name for target in mapping.TARGETS[entity]]


def test_the_exports_russian_headers_are_recognised():
    assert mapping.guess("contacts", ["Телефоны", "E-mail", "Отказ от рассылок"]) == ["phone", "email", "opt_out"]
    assert mapping.guess("deals", ["Ожидаемое закрытие", "E-mail контакта", "Телефон контакта", "Причина проигрыша"]) \
        == ["expected_close", "contact_email", "contact_phone", "loss_reason"]


def test_the_header_is_the_row_that_names_the_most_fields_not_the_title_above_it():
    rows = [(1, ["Список контактов на 01.11.2026", "", ""]), (2, ["Выгрузка: Иван Продавцов", "", ""]),
            (3, ["ФИО", "Телефон", "Город"]), (4, ["Орлов Олег", "8 912 345-67-89", "Тула"])]
    assert mapping.header_row("contacts", rows) == 3
    assert mapping.header_row("contacts", rows[2:]) == 3
    assert mapping.header_row("contacts", [(1, ["Что-то"]), (2, ["Непонятно"])]) == 1  # nothing maps: the first


def test_a_columns_problem_names_it_by_its_header_and_its_number_from_one():
    header = ["ФИО", "Телефон", "Город", "Город доставки"]
    with pytest.raises(Exception) as info:
        mapping.check("contacts", header, ["full_name", "phone", "city", "city"], "")
    assert info.value.errors == {"mapping.3": [
        "column 4 (Город доставки): City is already filled from another column, column 3 (Город)"]}
    with pytest.raises(Exception) as info:
        mapping.check("contacts", header, ["full_name", "planet", "", ""], "")
    assert info.value.errors == {"mapping.1": ["column 2 (Телефон): unknown field planet"]}


def test_bitrix24_and_amocrm_export_headers_map():
    """Headers a new-user trial found skipped: Bitrix24's companies export and amoCRM's contacts export."""
    assert mapping.guess("companies", ["Название компании", "Рабочий телефон", "Рабочий e-mail",
                                       "Корпоративный сайт"]) == ["name", "phone", "email", "website"]
    assert mapping.guess("companies", ["Название компании", "Мобильный телефон"]) == ["name", "phone"]
    assert mapping.guess("contacts", ["Полное имя контакта", "Тип контакта"]) == ["full_name", "client_type"]
