"""A company's legal form is told from the start of its name as people write it, and the name is shown with it
as Russians write them together."""

import pytest

from krug.clients.models import Company
from krug.quality.normalize import LEGAL_FORMS, split_legal_form


@pytest.mark.parametrize("written, expected", [
    ("ООО «Вектор Плюс»", ("ООО", "Вектор Плюс")),
    ('ООО "Вектор Плюс"', ("ООО", "Вектор Плюс")),
    ("ООО “Вектор Плюс”", ("ООО", "Вектор Плюс")),
    ("ооо 'Вектор Плюс'", ("ООО", "Вектор Плюс")),
    ("OOO «Вектор Плюс»", ("ООО", "Вектор Плюс")),  # Latin O's
    ("AO Kaspersky", ("АО", "Kaspersky")),
    ("ООО«Вектор»", ("ООО", "Вектор")),
    ('ООО "Вектор', ("ООО", "Вектор")),
    ("ИП Сергеев Андрей Викторович", ("ИП", "Сергеев Андрей Викторович")),
    ("МУП «Водоканал»", ("", "МУП «Водоканал»")),  # ГУП/МУП is one choice: which it was would be lost
    ("Общество с ограниченной ответственностью «Ромашка»", ("ООО", "Ромашка")),
    ("Публичное акционерное общество «Ростелеком»", ("ПАО", "Ростелеком")),
    ("Индивидуальный предприниматель Иванов И. И.", ("ИП", "Иванов И. И.")),
    ("ООО «Торговый дом «Вектор»»", ("ООО", "Торговый дом «Вектор»")),
    ("ООО «Вектор» и «Плюс»", ("ООО", "«Вектор» и «Плюс»")),
    ('ООО "ТД "Вектор""', ("ООО", 'ТД "Вектор"')),
    # after the name, as amoCRM's and 1C's lists write it
    ("Бюро Профи ООО", ("ООО", "Бюро Профи")),
    ("Вектор Плюс, ООО", ("ООО", "Вектор Плюс")),
    ("«Вектор Плюс» ООО", ("ООО", "Вектор Плюс")),
    ("Банк ВТБ (ПАО)", ("ПАО", "Банк ВТБ")),
    ("Ростелеком ( ПАО ).", ("ПАО", "Ростелеком")),
    ("Иванов Иван Иванович ИП", ("ИП", "Иванов Иван Иванович")),
    ("Kaspersky AO", ("АО", "Kaspersky")),  # Latin A and O
    ("Ромашка, общество с ограниченной ответственностью", ("ООО", "Ромашка")),
    ("Ромашка (Общество с ограниченной  ответственностью)", ("ООО", "Ромашка")),
])
def test_a_known_form_at_the_start_of_the_name_is_split_off_with_the_quotes(written, expected):
    assert split_legal_form(written) == expected


@pytest.mark.parametrize("written", ["ЗАО «Дельта»", "ОАО «Завод»", "Закрытое акционерное общество «Дельта»",
                                     "ООО", "ООО «»", "Ипподром", "Аорта", "",
                                     # after the name: only capitals, a whole word, a form Krug has, some name
                                     "Ресторан Ип", "Макао", "Дельта ЗАО", "Завод (ОАО)", "Вектор (ООО",
                                     "«» ООО", ", ООО", "Вектор ООО Плюс"])
def test_other_forms_a_form_alone_and_words_that_only_start_like_one_stay_the_name(written):
    assert split_legal_form(written) == ("", written)


def test_every_form_is_one_of_the_companys_choices():
    assert set(LEGAL_FORMS.values()) <= set(Company.LegalForm.values)


@pytest.mark.parametrize("name, form, shown", [
    ("Вектор Плюс", "ООО", "ООО «Вектор Плюс»"),
    ("Ростелеком", "ПАО", "ПАО «Ростелеком»"),
    ("Иванов Иван Иванович", "ИП", "ИП Иванов Иван Иванович"),
    ("«Вектор»", "АО", "АО «Вектор»"),
    ("Siemens AG", "foreign", "Siemens AG"),
    ("Вектор", "", "Вектор"),
])
def test_the_name_is_shown_with_its_form_as_russians_write_it(name, form, shown):
    assert str(Company(name=name, legal_form=form)) == shown
