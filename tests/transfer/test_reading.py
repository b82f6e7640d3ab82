"""Reading a table file: which encoding a CSV is in, a title above the header, and text that looks garbled."""

from pathlib import Path

import pytest

from krug.transfer import reading

ENGLISH = ("Name;Phone;City;Company;Position\n"
           "Григорьев Павел;+7 912 345-67-89;Москва;ООО \"Вектор\";генеральный директор\n"
           "Щукина Юлия;+7 916 111-22-33;Нижний Новгород;АО \"ГАЗСТРОЙ\";бухгалтер\n")
RUSSIAN = ENGLISH.replace("Name;Phone;City;Company;Position", "ФИО;Телефон;Город;Компания;Должность")
#: short files: a few letters must be enough to tell the code pages apart
SHORT = ["Name\nЦой\n", "City\nМосква\nТула\n", "Name;INN\nООО \"РОМАШКА\";7707083893\n", "Name\nЁлкина Алёна\n",
         "ФИО\nШишкин Щукин\n", "Name;City;Email\nJohn Smith;Москва;john@example.com\n"]


def _file(tmp_path: Path, data: bytes, name: str = "base.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("text", [ENGLISH, RUSSIAN, *SHORT])
@pytest.mark.parametrize("encoding", ["koi8_r", "cp1251", "cp866"])
def test_a_cyrillic_code_page_is_told_from_the_others_even_in_a_short_file(tmp_path, text, encoding):
    path = _file(tmp_path, text.encode(encoding))
    fmt = reading.detect(path)
    assert (fmt.encoding, fmt.garbled) == (encoding, "")
    assert list(reading.rows(path, fmt)) == [line.split(";") for line in text.splitlines()]


def test_a_koi8_file_with_english_headers_reads_as_russian_not_as_garbage(tmp_path):
    path = _file(tmp_path, ENGLISH.encode("koi8_r"))
    rows = list(reading.rows(path, reading.detect(path)))
    assert rows[1][0] == "Григорьев Павел" and rows[2][2] == "Нижний Новгород"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_excels_unicode_text_utf16_with_tabs_is_read(tmp_path, encoding):
    text = RUSSIAN.replace(";", "\t").replace("\n", "\r\n")
    path = _file(tmp_path, text.encode(encoding), "base.txt")  # "utf-16" writes the BOM Excel writes
    fmt = reading.detect(path)
    assert (fmt.kind, fmt.delimiter) == ("csv", "\t") and fmt.encoding.startswith("utf-16")
    assert list(reading.rows(path, fmt))[1] == ["Григорьев Павел", "+7 912 345-67-89", "Москва", "ООО \"Вектор\"",
                                                "генеральный директор"]


@pytest.mark.parametrize("garbled,example", [
    (RUSSIAN.encode("utf-8").decode("cp1251", errors="replace"), "Р¤Р�Рћ"),  # UTF-8 read as Windows-1251
    (RUSSIAN.encode("cp1251").decode("cp1252"), "ÔÈÎ"),  # Windows-1251 read as Western
    (RUSSIAN.encode("koi8_r").decode("cp1251"), "жйп"),  # KOI8-R read as Windows-1251
    (RUSSIAN.encode("cp1251").decode("koi8_r"), "тхн"),  # and the other way round
    ("".join("?" if ord(ch) > 127 else ch for ch in RUSSIAN), "???"),  # letters lost on the way
    (RUSSIAN.split("\n")[0] + "\n" + "".join("?" if ord(ch) > 127 else ch  # under a header that kept them
                                             for ch in RUSSIAN.split("\n", 1)[1]), "?????????"),
])
def test_text_that_decodes_but_looks_garbled_is_noticed_with_an_example(tmp_path, garbled, example):
    path = _file(tmp_path, garbled.encode("utf-8"))
    assert reading.detect(path).garbled == example


@pytest.mark.parametrize("text", [RUSSIAN, ENGLISH, "Name;City\nMüller;München\n", "ПІБ;Місто\nІваненко Іван;Київ\n",
                                  "Name;Phone\nJohn Smith;+1 555 0100\n"])
def test_right_text_is_not_called_garbled(tmp_path, text):
    assert reading.detect(_file(tmp_path, text.encode("utf-8"))).garbled == ""


def test_western_european_text_is_refused_naming_the_encodings_krug_reads(tmp_path):
    with pytest.raises(reading.FileProblem, match="KOI8-R"):
        reading.detect(_file(tmp_path, "Name;City\nMüller;München\nFrançois;Besançon\n".encode("cp1252")))


def test_a_broken_workbook_is_refused_without_the_librarys_words(tmp_path, caplog):
    path = _file(tmp_path, b"PK\x03\x04broken", "base.xlsx")
    with pytest.raises(reading.FileProblem) as info:
        reading.detect(path)
    assert "cannot be read" in info.value.message and "Zip" not in info.value.message
    assert "EOCD" not in info.value.message and "base.xlsx" in caplog.text  # the detail is in the log


def test_a_title_line_above_the_header_does_not_hide_the_delimiter(tmp_path):
    text = "Список контактов на 01.11.2026\n\nФИО;Телефон;Город\nОрлов Олег;8 912 345-67-89;Тула\n"
    fmt = reading.detect(_file(tmp_path, text.encode("utf-8")))
    assert fmt.delimiter == ";"


def test_the_rows_above_the_chosen_header_come_out_empty_so_row_numbers_stay_the_files(tmp_path):
    from dataclasses import replace

    text = "Список контактов на 01.11.2026;;\n;;\nФИО;Телефон;Город\nОрлов Олег;8 912 345-67-89;Тула\n"
    path = _file(tmp_path, text.encode("utf-8"))
    fmt = replace(reading.detect(path), header_row=3)
    assert list(enumerate(reading.rows(path, fmt), start=1)) == [
        (1, []), (2, []), (3, ["ФИО", "Телефон", "Город"]), (4, ["Орлов Олег", "8 912 345-67-89", "Тула"])]
    assert reading.header_and_sample(path, fmt) == (["ФИО", "Телефон", "Город"],
                                                    [["Орлов Олег", "8 912 345-67-89", "Тула"]])
    assert [n for n, _cells in reading.leading_rows(path, fmt)] == [1, 3, 4]


def test_question_marks_in_russian_text_are_not_taken_for_lost_letters(tmp_path):
    text = "ФИО;Комментарий\nОрлов Олег;???\nСоколова Анна;???\nИванов Иван;что???\n"
    assert reading.detect(_file(tmp_path, text.encode("utf-8"))).garbled == ""
