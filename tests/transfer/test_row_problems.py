"""A failed row names every problem at once, a missing name included when the row makes a new record."""

import pytest

from tests.transfer.both_paths import import_file, reported

#: entity -> (header, the first file's records, the second file's rows, the name's field)
FILES = {
    "contacts": ("ID;Фамилия;Имя;Телефон;Ответственный", ["1;Орлов;Олег;;", "2;Соколова;Анна;;"],
                 ["1;;;;Никто Никтович", "9;;;12;Никто Никтович", "2;;;;head"], "first_name"),
    "companies": ("ID;Название;Телефон;Ответственный", ["1;Вектор;;", "2;Гамма;;"],
                  ["1;;;Никто Никтович", "9;;12;Никто Никтович", "2;;+7 495 123-45-67;"], "name"),
    "deals": ("ID;Название;Сумма;Ответственный", ["1;Поставка;1000;", "2;Монтаж;2000;"],
              ["1;;;Никто Никтович", "9;;abc;Никто Никтович", "2;;5000;"], "title"),
}


@pytest.mark.parametrize("bulk", [False, True])
@pytest.mark.parametrize("entity", list(FILES))
def test_a_new_row_keyed_by_its_id_is_told_of_its_missing_name_with_its_other_problems(org, tmp_path, entity,
                                                                                       bulk):
    """With the key «ID в старой системе», a row whose ID is not in the base is a new record: its missing name
    came only after its bad owner (or phone, or amount) was fixed. A row whose ID is in the base needs none."""
    header, records, changes, name = FILES[entity]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("\n".join([header, *records]) + "\n", encoding="utf-8")
    second.write_text("\n".join([header, *changes]) + "\n", encoding="utf-8")
    import_file(org.admin, entity, first, bulk=bulk, chunk=10, key="external_id")
    job = import_file(org.admin, entity, second, bulk=bulk, chunk=10, key="external_id")
    failures = dict(reported([job])["failures"][0])
    owner = ("owner", "no active user Никто Никтович")
    assert failures[2] == (owner,)  # its ID is in the base: an update needs no name
    new = {field for field, _message in failures[3]}
    assert name in new and "owner" in new and len(new) == 3, failures[3]  # the name, the owner and the bad value
    assert (job.updated, job.failed) == (1, 2)


@pytest.mark.parametrize("bulk", [False, True])
def test_a_required_custom_field_is_asked_of_a_new_row_only(org, tmp_path, bulk):
    from krug.core import custom_fields

    custom_fields.define_field(org.admin, {"entity": "company", "label": "Сегмент", "type": "text", "required": True})
    custom_fields.define_field(org.admin, {"entity": "company", "label": "Регион продаж", "type": "text"})
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("ID;Название;Сегмент\n1;Вектор;опт\n", encoding="utf-8")
    second.write_text("ID;Регион продаж;Ответственный\n1;Урал;Никто Никтович\n9;Урал;Никто Никтович\n",
                      encoding="utf-8")
    import_file(org.admin, "companies", first, bulk=bulk, chunk=10, key="external_id")
    job = import_file(org.admin, "companies", second, bulk=bulk, chunk=10, key="external_id")
    failures = {row: {field for field, _message in errors} for row, errors in reported([job])["failures"][0]}
    assert failures == {2: {"owner"}, 3: {"owner", "name", "custom.segment"}}
