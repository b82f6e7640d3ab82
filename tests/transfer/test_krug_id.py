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
    assert header.split(";")[0] in ("Krug contact ID", "ID контакта в Круге")
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


def test_an_export_of_one_kind_is_not_imported_as_another(org, tmp_path):
    """A deals export uploaded as contacts is refused on `entity`: its Krug IDs are deals' (a trial's upload
    overwrote contacts 10–12 with deals 10–12)."""
    from krug.core.errors import ValidationFailed

    factories.deal(org.manager, title="Поставка")
    path = tmp_path / "deals.csv"
    path.write_text(_exported(org.manager, "deals"), encoding="utf-8")
    with path.open("rb") as stream, pytest.raises(ValidationFailed) as refused:
        services.upload(org.manager, "contacts", path.name, stream)
    assert list(refused.value.errors) == ["entity"]
    with path.open("rb") as stream:
        assert services.upload(org.manager, "deals", path.name, stream).key == "krug_id"


def test_an_unchanged_round_trip_changes_nothing(org, tmp_path):
    """Escaped cells come back as they were, a phone with an extension stays one phone, a lead of the common
    pool and Krug's own source labels read back."""
    from krug.clients.models import ContactPhone
    from krug.clients.services import create_lead

    factories.contact(org.manager, surname="Орлов", position="- менеджер", tags=["@vip"],
                      phones=["+7 495 700-00-01 доб. 45"])
    create_lead(org.head, {"title": "Сайт", "first_name": "Анна", "source": "form", "phone": "+79161112233"})
    for entity in ("contacts", "leads"):
        path = tmp_path / f"{entity}.csv"
        path.write_text(_exported(org.head, entity), encoding="utf-8")
        job = import_file(org.head, entity, path, bulk=True, chunk=50, key="krug_id")
        assert (job.created, job.updated, job.skipped, job.failed) == (0, 0, 1, 0), (entity, list(
            job.row_errors.values_list("errors", flat=True)))
    assert [(p.number, p.extension) for p in ContactPhone.objects.all()] == [("+74957000001", "45")]


def test_a_krug_id_the_user_does_not_see_is_no_record_to_him(org, tmp_path):
    theirs = factories.contact(org.outsider, surname="Чужой")
    path = tmp_path / "contacts.csv"
    path.write_text(f"ID в Круге;Фамилия\n{theirs.pk};Мой\n999999;Кто\n", encoding="utf-8")
    job = import_file(org.manager, "contacts", path, bulk=True, chunk=50, key="krug_id")
    messages = [e.errors[0]["message"] for e in job.row_errors.all()]
    assert messages == [f"no record with Krug ID {theirs.pk}", "no record with Krug ID 999999"]


def test_a_custom_date_reads_back_as_the_russian_export_writes_it(org, tmp_path):
    """Krug's Russian CSV writes dates as 31.12.2026; a custom date field takes them (it wanted 2026-12-31)."""
    from krug.core import custom_fields

    custom_fields.define_field(org.admin, {"entity": "contact", "type": "date", "label": "Дата встречи",
                                           "position": 1})
    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Дата встречи\nОрлов Пётр;01.10.2026\nКим Ян;31.02.2026\n", encoding="utf-8")
    job = import_file(org.manager, "contacts", path, bulk=True, chunk=50)
    assert (job.created, job.failed) == (1, 1)
    assert Contact.objects.get().custom == {"data_vstrechi": "2026-10-01"}


def test_a_round_trip_keeps_the_links_it_exported(org, tmp_path):
    """Two companies of one name (two cities' branches) and two contacts sharing an office phone: an
    unchanged export, imported again, leaves each contact and deal where it was (they moved to the first)."""
    first = factories.company(org.manager, name="ООО Ромашка", city="Москва")
    second = factories.company(org.manager, name="ООО Ромашка", city="Казань")
    factories.contact(org.manager, surname="Офисов", phones=["+7 495 777-00-11"], company_id=first.pk)
    colleague = factories.contact(org.manager, surname="Коллегин", phones=["+7 495 777-00-11"],
                                  company_id=second.pk)
    deal = factories.deal(org.manager, title="Поставка", company_id=second.pk, contact_id=colleague.pk)
    for entity in ("contacts", "deals"):
        path = tmp_path / f"{entity}.csv"
        path.write_text(_exported(org.manager, entity), encoding="utf-8")
        job = import_file(org.manager, entity, path, bulk=True, chunk=50, key="krug_id")
        assert (job.created, job.updated, job.failed) == (0, 0, 0), entity
    colleague.refresh_from_db()
    deal.refresh_from_db()
    assert (colleague.company_id, deal.company_id, deal.contact_id) == (second.pk, second.pk, colleague.pk)
