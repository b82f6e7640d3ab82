"""An import changes only what its user may change: a row that names, by the job's key, another manager's record
or (for a manager) one of the common pool's fails and leaves it as it was, on both paths, for every kind of
record and every key. The pool's records a manager sees are refused by name; another team's he does not see
are not found by e-mail, phone or INN, so the row is a new record the duplicate check refuses."""

import pytest

from krug.clients.models import Company, Contact, Lead
from krug.sales.models import Deal
from krug.transfer.models import ExternalKey
from tests import factories
from tests.transfer.both_paths import import_file

REFUSED = ("names a record you may not change",)


def _records(org, make) -> dict[str, object]:
    """One record of the manager's, one of a colleague's and one of the pool, each with an external id."""
    records = {"mine": make(org.manager, org.manager.pk, 1), "theirs": make(org.colleague, org.colleague.pk, 2),
               "pool": make(org.admin, None, 3)}
    for name, record in records.items():
        ExternalKey.objects.create(entity=f"{type(record).__name__.lower()}s".replace("companys", "companies"),
                                   external_id=f"X-{name}", record_id=record.pk)
    return records


def _run(org, tmp_path, entity: str, header: str, lines: list[str], key: str, bulk: bool):
    path = tmp_path / f"{entity}.csv"
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    job = import_file(org.manager, entity, path, bulk=bulk, chunk=50, key=key)
    errors = {e.row: tuple(x["message"] for x in e.errors) for e in job.row_errors.all()}
    return job, errors


def _check(job, errors, records, model, field: str, before, key: str) -> None:
    assert (job.updated, job.failed, job.created) == (1, 2, 0), errors
    assert getattr(model.objects.get(pk=records["mine"].pk), field) == "Казань"
    for name in ("theirs", "pool"):
        assert getattr(model.objects.get(pk=records[name].pk), field) == before, name
    assert errors[4] == REFUSED  # the pool's record, which the manager sees
    if key == "external_id":
        assert errors[3] == REFUSED  # another manager's, found by its external id only


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
@pytest.mark.parametrize("key", ["external_id", "email", "phone"])
def test_contacts(org, tmp_path, bulk, key):
    def make(by, owner, n):
        return factories.contact(by, surname=f"Клиентов{n}", first_name="Иван", owner_id=owner, city="Тверь",
                                 emails=[f"c{n}@firma.ru"], phones=[f"+7 912 000-00-0{n}"])

    records = _records(org, make)
    lines = [f"X-{name};Клиентов{n};Иван;c{n}@firma.ru;+7 912 000-00-0{n};Казань"
             for n, name in enumerate(records, start=1)]
    job, errors = _run(org, tmp_path, "contacts", "ID;Фамилия;Имя;Email;Телефон;Город\n", lines, key, bulk)
    _check(job, errors, records, Contact, "city", "Тверь", key)


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
@pytest.mark.parametrize("key", ["external_id", "inn"])
def test_companies(org, tmp_path, bulk, key):
    inns = {1: "7707083893", 2: "7728168971", 3: "7702070139"}

    def make(by, owner, n):
        return factories.company(by, name=f"Фирма {n}", inn=inns[n], owner_id=owner, city="Тверь")

    records = _records(org, make)
    lines = [f"X-{name};Фирма {n};{inns[n]};Казань" for n, name in enumerate(records, start=1)]
    job, errors = _run(org, tmp_path, "companies", "ID;Название;ИНН;Город\n", lines, key, bulk)
    _check(job, errors, records, Company, "city", "Тверь", key)


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
@pytest.mark.parametrize("key", ["external_id", "email", "phone"])
def test_leads(org, tmp_path, bulk, key):
    def make(by, owner, n):
        return factories.lead(by, title=f"Заявка {n}", owner_id=owner, email=f"l{n}@firma.ru",
                              phone=f"+7 912 000-00-0{n}", message="Тверь")

    records = _records(org, make)
    lines = [f"X-{name};Заявка {n};l{n}@firma.ru;+7 912 000-00-0{n};Казань" for n, name in enumerate(records, start=1)]
    job, errors = _run(org, tmp_path, "leads", "ID;Заявка;Email;Телефон;Сообщение\n", lines, key, bulk)
    if key != "external_id":  # a lead found by nothing is a new one: leads have no duplicate check on entry
        assert Lead.objects.filter(message="Казань").count() == 2 and errors == {4: REFUSED}
        return
    _check(job, errors, records, Lead, "message", "Тверь", key)


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_deals(org, tmp_path, bulk):
    def make(by, owner, n):
        return factories.deal(by, title=f"Сделка {n}", owner_id=owner, description="Тверь")

    records = _records(org, make)
    lines = [f"X-{name};Сделка {n};Казань" for n, name in enumerate(records, start=1)]
    job, errors = _run(org, tmp_path, "deals", "ID;Название;Описание\n", lines, "external_id", bulk)
    _check(job, errors, records, Deal, "description", "Тверь", "external_id")
