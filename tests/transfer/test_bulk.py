"""The set-based contact import agrees with the per-row path (the services, one row at a time), which is
the reference: same records, same phones, e-mails and companies, same outcomes, on a generated file with
planted duplicates spread over many chunks, into an empty base and into one that already holds people."""

import sys
from collections import Counter
from pathlib import Path

import pytest

from krug.clients.models import Company, Contact
from krug.core.models import AuditEntry
from krug.quality.models import CompanyKey, ContactKey
from krug.transfer import importer, name_index, services
from krug.transfer.models import ImportJob

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.people import generate  # noqa: E402
from bench.transfer import write_people  # noqa: E402


def _csv(tmp_path: Path, people, name: str) -> Path:
    path = tmp_path / name
    write_people(path, people)
    return path


def _import(org, path: Path, bulk: bool, chunk: int) -> ImportJob:
    with path.open("rb") as stream:
        job = services.upload(org.admin, "contacts", path.name, stream)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    return importer.run(job.pk, chunk_size=chunk, bulk=bulk)


def _state() -> tuple:
    people = Counter()
    for c in Contact.objects.select_related("company").prefetch_related("phones", "emails"):
        people[(c.surname, c.first_name, c.patronymic, c.city, c.company.name if c.company_id else "",
                frozenset(p.number for p in c.phones.all()), frozenset(e.email_key for e in c.emails.all()),
                c.search_key)] += 1
    keys = Counter([*(("contact", h) for h in ContactKey.objects.values_list("hash", flat=True)),
                    *(("company", h) for h in CompanyKey.objects.values_list("hash", flat=True))])
    return people, sorted(Company.objects.values_list("name", "search_key")), keys


def _outcome(job: ImportJob) -> tuple:
    return job.created, job.updated, job.merged, job.skipped, job.failed


def _keys_from_database(monkeypatch) -> None:
    """Make the set-based path ask the database for name keys and phones, as it does for a base too large to
    hold them in memory."""
    def refuse():
        raise name_index.GaveUp("forced by the test")

    monkeypatch.setattr(name_index, "load", refuse)
    monkeypatch.setattr(name_index, "load_phones", refuse)


@pytest.mark.parametrize("keys", ["in memory", "from the database"])
@pytest.mark.parametrize("existing", [False, True], ids=["empty base", "base with people"])
def test_the_set_based_path_gives_what_the_per_row_path_gives(org, tmp_path, monkeypatch, existing, keys):
    if keys == "from the database":
        _keys_from_database(monkeypatch)
    people = generate(240, seed=7)
    first, second = _csv(tmp_path, people[:80], "first.csv"), _csv(tmp_path, people, "all.csv")
    results = {}
    for bulk in (False, True):
        Contact.objects.all().delete()
        Company.objects.all().delete()
        ContactKey.objects.all().delete()
        CompanyKey.objects.all().delete()
        jobs = [_import(org, first, bulk, 25)] if existing else []
        jobs.append(_import(org, second, bulk, 25))
        results[bulk] = ([_outcome(j) for j in jobs], _state())
    per_row, set_based = results[False], results[True]
    assert set_based[0] == per_row[0]
    assert set_based[1][0] == per_row[1][0]  # the contacts, with their phones, e-mails and companies
    assert set_based[1][1:] == per_row[1][1:]  # the companies and the match keys
    created, _updated, merged, _skipped, failed = set_based[0][-1]
    assert merged > 0 and created > 0 and failed == 0


def test_each_new_record_gets_its_history(org, tmp_path):
    job = _import(org, _csv(tmp_path, generate(30, seed=3), "few.csv"), True, 10)
    contacts = Contact.objects.count()
    assert job.created == contacts
    assert AuditEntry.objects.filter(action="create", content_type__model="contact").count() == contacts
    from krug.clients.models import TimelineEvent

    assert TimelineEvent.objects.filter(kind="created", contact__isnull=False, source_id__in=Contact.objects.values(
        "pk")).count() == contacts


@pytest.mark.parametrize("chunk", [1, 50])
@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_company_given_by_inn_alone_is_found_once_a_row_names_it(org, tmp_path, bulk, chunk):
    """The per-row path is the reference: a row giving an INN no company has, and no name, fails; a later row
    that names the company creates it, and the rows after find it. (The set-based path once kept the first
    refusal for the whole run, so the naming row failed too.)"""
    from tests.transfer.both_paths import import_file

    path = tmp_path / "contacts.csv"
    path.write_text("Фамилия;Имя;Компания;ИНН\nОрлов;Олег;;7707083893\nЛисина;Анна;Вектор;7707083893\n"
                    "Котов;Кирилл;;7707083893\n", encoding="utf-8")
    job = import_file(org.head, "contacts", path, bulk=bulk, chunk=chunk)
    assert (job.created, job.failed) == (2, 1)
    assert [e.row for e in job.row_errors.all()] == [2]
    company = Company.objects.get()
    assert (company.name, company.inn) == ("Вектор", "7707083893")
    assert sorted(Contact.objects.values_list("surname", "company_id")) == [("Котов", company.pk),
                                                                          ("Лисина", company.pk)]


@pytest.mark.parametrize("chunk", [1, 50])
@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_duplicate_row_fills_in_what_the_contact_lacks_and_overwrites_nothing(org, tmp_path, bulk, chunk):
    """Without a key, a row that is a contact of the base is merged into him: his name, job title, city, company
    and owner stay as someone entered them; what he lacks (patronymic, a second phone, a tag) is added. (A
    merge once overwrote them: `Алексей` became `А.` and a manager's client went to another owner.)"""
    from krug.clients import services
    from tests import factories
    from tests.transfer.both_paths import import_file

    mine = factories.company(org.manager, name="Ромашка")
    contact = factories.contact(org.manager, surname="Смирнов", first_name="Алексей", position="Директор",
                                city="Москва", company_id=mine.pk, emails=["smirnov@romashka-test.ru"])
    path = tmp_path / "contacts.csv"
    path.write_text("Фамилия;Имя;Отчество;E-mail;Телефон;Должность;Город;Компания;Ответственный;Теги\n"
                    "Смирнов;А.;Петрович;smirnov@romashka-test.ru;+7 916 111-22-33;Стажёр;Тула;ИП Рога;colleague;"
                    "VIP\n", encoding="utf-8")
    job = import_file(org.head, "contacts", path, bulk=bulk, chunk=chunk)
    assert (job.created, job.merged, job.failed) == (0, 1, 0)
    contact.refresh_from_db()
    assert (contact.first_name, contact.patronymic, contact.position, contact.city, contact.company_id,
            contact.owner_id) == ("Алексей", "Петрович", "Директор", "Москва", mine.pk, org.manager.pk)
    assert [p.number for p in contact.phones.all()] == ["+79161112233"]
    assert [t.name for t in contact.tags.all()] == ["VIP"]
    assert services.contact_changes(org.head, contact, {"first_name": "Алексей"}) == {}


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_company_made_for_a_managers_client_is_his(org, tmp_path, bulk):
    """An administrator imports the managers' clients: the companies the rows bring are their owners', so a
    manager opens his client's company (it was the administrator's, a 404 for him). An owner the importing
    user may not assign leaves the company the importer's."""
    from krug.core import permissions
    from tests.transfer.both_paths import import_file

    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Компания;Ответственный\nВидимов Иван;ООО Тест Видимость;manager\n"
                    "Другой Пётр;ООО Тест Видимость;colleague\nСвой Олег;Своя;\n", encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50)
    assert (job.created, job.failed) == (3, 0)
    company = Company.objects.get(name="Тест Видимость", legal_form="ООО")
    assert company.owner_id == org.manager.pk  # the first row naming it
    assert permissions.can(org.manager, permissions.VIEW, company)
    assert Company.objects.get(name="Своя").owner_id == org.admin.pk
    path.write_text("ФИО;Компания;Ответственный\nЧужой Рустам;Казанская;outsider\n", encoding="utf-8")
    job = import_file(org.head, "contacts", path, bulk=bulk, chunk=50)  # a head may not assign another team's
    assert job.failed == 1
    assert not Company.objects.filter(name="Казанская").exclude(owner=org.head).exists()


@pytest.mark.parametrize("chunk", [1, 50])
@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_company_named_with_other_quotes_or_legal_form_is_one_company(org, tmp_path, bulk, chunk):
    """`ООО «Вектор Плюс»`, `ООО "Вектор Плюс"` and `Вектор Плюс` in one file are one company; `АО “Северный
    Ветер”` is the base's `АО Северный Ветер`. (Each spelling once made a company of its own.) Numbers still
    tell companies apart."""
    from tests import factories
    from tests.transfer.both_paths import import_file

    wind = factories.company(org.admin, name="АО Северный Ветер")
    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Компания\nАнна Ли;ООО «Вектор Плюс»\nОлег Ким;ООО \"Вектор Плюс\"\nИра Цой;Вектор Плюс\n"
                    "Петр Пак;АО “Северный Ветер”\nЮрий Хан;Северный ветер\nЛев Чо;Школа №5\nЯн Ю;Школа № 12\n",
                    encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=chunk)
    assert (job.created, job.failed) == (7, 0)
    assert sorted(str(c) for c in Company.objects.all()) == [
        "АО «Северный Ветер»", "ООО «Вектор Плюс»", "Школа № 12", "Школа №5"]
    assert Contact.objects.filter(company=wind).count() == 2


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_duplicate_of_someone_elses_contact_is_refused_in_words_for_a_person(org, tmp_path, bulk):
    """The row fails with what to do about it, its reasons in words, and nothing of the API (`allow_duplicate`)."""
    from tests import factories
    from tests.transfer.both_paths import import_file

    factories.contact(org.outsider, surname="Чужой", first_name="Ким", phones=["+7 916 555-12-34"])
    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Телефон\nЧужой Ким;8 916 555 12 34\n", encoding="utf-8")
    job = import_file(org.manager, "contacts", path, bulk=bulk, chunk=50)
    assert job.failed == 1
    message = job.row_errors.get().errors[0]["message"]
    assert "same phone" in message and "you may not change" in message and "allow_duplicate" not in message


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_failed_row_names_every_problem_at_once(org, tmp_path, bulk):
    """A bad owner and date, and a bad phone and e-mail: all four in one go (the phone and e-mail came only
    after the first two were fixed)."""
    from tests.transfer.both_paths import import_file

    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Телефон;E-mail;Ответственный;Дата рождения\n"
                    "Всё Плохо;123;bad(at)mail;nobody;31.02.1990\n", encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50)
    assert job.failed == 1
    fields = [e["field"] for e in job.row_errors.get().errors]
    assert sorted(fields) == ["birthday", "emails.0", "owner", "phones.0"]


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_an_inn_of_a_company_the_user_does_not_see_is_not_made_twice(org, tmp_path, bulk):
    """A manager's file names, by INN, another team's company: the row fails on the INN rather than make a
    second company with it (a trial's re-run made one and moved a contact to it)."""
    from tests import factories
    from tests.transfer.both_paths import import_file

    theirs = factories.company(org.outsider, name="Ромашка Тест", inn="7707083893")
    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Компания;ИНН\nКузнецова Мария;ООО Ромашка Тест;7707083893\nЛи Анна;Своя;\n",
                    encoding="utf-8")
    job = import_file(org.manager, "contacts", path, bulk=bulk, chunk=50)
    assert (job.created, job.failed) == (1, 1)
    assert job.row_errors.get().errors[0]["field"] == "company_inn"
    assert list(Company.objects.filter(inn="7707083893")) == [theirs]
    job = import_file(org.outsider, "contacts", path, bulk=bulk, chunk=50)  # its owner's team sees it
    assert Contact.objects.get(surname="Кузнецова").company_id == theirs.pk


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_phone_with_its_extension_given_again_changes_nothing(org, tmp_path, bulk):
    """The per-row path (and so the preview) said "will update" where the set-based run skipped the row: it
    compared the contact's numbers without their extensions."""
    from tests import factories
    from tests.transfer.both_paths import import_file

    factories.contact(org.manager, surname="Орлов", first_name="Пётр", phones=["+7 495 123-45-67 доб. 123"])
    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Телефон\nОрлов Пётр;+7 495 123-45-67 доб. 123\n", encoding="utf-8")
    job = import_file(org.manager, "contacts", path, bulk=bulk, chunk=50, key="phone")
    assert (job.updated, job.skipped, job.failed) == (0, 1, 0)
