"""Krug's own export, edited in a spreadsheet and imported again, updates the records it came from by their
Krug ID (the key `krug_id`); a Krug ID that names no record fails, a row without one is a new record. (The
export's `ID` column was once read as the old system's id, so such a file overwrote other records.)"""

import pytest

from krug.clients.models import Contact
from krug.sales.models import Deal
from krug.transfer import export, services
from tests import factories
from tests.transfer.both_paths import import_file


def _exported(by, entity: str) -> str:
    job = export.create(by, entity, "csv", "")
    return "".join(export.stream_csv(job, by)).lstrip("\ufeff")


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_an_edited_export_updates_its_own_records_by_krug_id(org, tmp_path, bulk):
    other = factories.contact(org.manager, surname="Амо", first_name="Клиент", city="Сочи")
    mine = factories.contact(org.manager, surname="Петров", first_name="Артём", city="Москва")
    text = _exported(org.manager, "contacts")
    header, *lines = text.strip().splitlines()
    assert header.split(";")[0] in ("Krug ID", "ID в Круге")
    edited = [line.replace("Москва", "Тула") for line in lines]
    path = tmp_path / "contacts.csv"
    path.write_text("\n".join([header, *edited, ";Новый;Человек" + ";" * (header.count(";") - 2),
                               f"999999;Нет;Такого{';' * (header.count(';') - 2)}"]) + "\n", encoding="utf-8")
    with path.open("rb") as stream:
        job = services.upload(org.manager, "contacts", path.name, stream)
    assert job.key == "krug_id" and job.mapping[0] == "krug_id"
    job = import_file(org.manager, "contacts", path, bulk=bulk, chunk=50, key="krug_id")
    assert (job.created, job.updated, job.skipped, job.failed) == (1, 1, 1, 1)
    assert [(e.row, e.errors[0]["field"]) for e in job.row_errors.all()] == [(5, "krug_id")]
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.surname, mine.city, other.surname, other.city) == ("Петров", "Тула", "Амо", "Сочи")
    assert Contact.objects.count() == 3


def test_a_krug_id_of_a_record_the_user_may_not_change_fails(org, tmp_path):
    theirs = factories.contact(org.outsider, surname="Чужой", city="Казань")
    path = tmp_path / "contacts.csv"
    path.write_text(f"ID в Круге;Фамилия;Город\n{theirs.pk};Мой;Тула\n1.5;Кто;Тула\n", encoding="utf-8")
    job = import_file(org.manager, "contacts", path, bulk=True, chunk=50, key="krug_id")
    assert (job.updated, job.failed) == (0, 2)
    assert [e.errors[0]["field"] for e in job.row_errors.all()] == ["krug_id", "krug_id"]
    theirs.refresh_from_db()
    assert (theirs.surname, theirs.city) == ("Чужой", "Казань")


def test_a_file_of_krug_ids_and_amounts_changes_the_deals(org, tmp_path):
    deal = factories.deal(org.manager, title="Поставка", amount=1000)
    path = tmp_path / "deals.csv"
    path.write_text(f"Krug ID;Сумма\n{deal.pk};36 000,50\n", encoding="utf-8")
    job = import_file(org.manager, "deals", path, bulk=True, chunk=50, key="krug_id")
    assert (job.created, job.updated, job.failed) == (0, 1, 0)
    assert str(Deal.objects.get(pk=deal.pk).amount) == "36000.50"
