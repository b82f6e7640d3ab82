"""A comment column («Комментарий», «Примечание», "Comment", "Note") in a file of contacts or companies puts a
note on each record's timeline, by the importing user and owned by the record's owner, on both paths alike: an
empty cell adds nothing, a failed row nothing, a merged row adds its note to the record it merged into, and a
re-run adds nothing again (a text the record holds already is not added twice)."""

import random

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from krug.activities.models import Note
from krug.clients.models import Company, Contact, TimelineEvent
from krug.core.models import AuditEntry
from krug.quality.models import CompanyKey, ContactKey
from krug.transfer import mapping
from krug.transfer.models import ExternalKey, ImportJob
from tests import factories
from tests.transfer import test_bulk_companies
from tests.transfer.both_paths import agree, agree_on_changes, import_file, reported

PATHS = pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
HEADER = "ID;ФИО;Телефон;Email;Компания;Ответственный;Комментарий;Примечание 2\n"


def _notes() -> list[tuple]:
    """Each note: its text, owner, author, contact, company."""
    return sorted((n.text, n.owner.username if n.owner_id else None, n.created_by.username,
                   n.contact.surname if n.contact_id else None, n.company.name if n.company_id else None)
                  for n in Note.objects.select_related("owner", "created_by", "contact", "company"))


def test_comment_columns_of_contacts_and_companies_are_notes_and_a_leads_comment_is_still_its_message():
    header = ["ФИО", "Название", "Комментарий", "Примечание", "Comment", "Note", "Примечание 2", "Описание"]
    assert mapping.guess("contacts", header) == ["full_name", "", *["note"] * 5, ""]
    assert mapping.guess("companies", header) == ["", "name", *["note"] * 5, "description"]
    assert mapping.guess("leads", ["Название", "Комментарий"]) == ["title", "message"]
    assert mapping.guess("deals", ["Название", "Комментарий"]) == ["title", "description"]
    assert mapping.field_label("contacts", "note") == "Note"


@PATHS
def test_a_contacts_comment_is_a_note_on_his_timeline_and_a_re_run_adds_nothing(org, tmp_path, bulk):
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "\n".join([
        "C-1;Орлов Олег;+7 912 000-00-01;;Вектор;manager;Звонил 12.03, просит КП;",
        "C-2;Соколова Анна;+7 912 000-00-02;;;;;",  # no comment: no note
        "C-3;Ивлев Пётр;12;;;;Не должно остаться;",  # a failed row writes no note
        "C-4;Орлов Олег;+7 912 000-00-01;;;;Перезвонить в пятницу;Любит чай",  # his double: merged, two notes
        "C-5;Соколова Анна;+7 912 000-00-02;;;;Звонил 12.03, просит КП;",  # hers: merged, her note
    ]) + "\n", encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id")
    assert (job.created, job.updated, job.merged, job.skipped, job.failed) == (2, 0, 2, 0, 1)
    assert _notes() == [  # text, owner (the record's), author (the importing user), contact, company (his)
        ("Звонил 12.03, просит КП", "admin", "admin", "Соколова", None),
        ("Звонил 12.03, просит КП", "manager", "admin", "Орлов", "Вектор"),
        ("Любит чай", "manager", "admin", "Орлов", "Вектор"),
        ("Перезвонить в пятницу", "manager", "admin", "Орлов", "Вектор")]
    events = TimelineEvent.objects.filter(kind="note")
    assert sorted(events.values_list("summary", "contact__surname", "company__name", "actor__username")) == [
        ("Note: Звонил 12.03, просит КП", "Орлов", "Вектор", "admin"),
        ("Note: Звонил 12.03, просит КП", "Соколова", None, "admin"),
        ("Note: Любит чай", "Орлов", "Вектор", "admin"), ("Note: Перезвонить в пятницу", "Орлов", "Вектор", "admin")]
    assert AuditEntry.objects.filter(content_type__model="note", action="create").count() == 4
    assert Contact.objects.get(surname="Орлов").last_contact_at is None  # an old comment is no contact today

    again = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id")
    assert (again.created, again.updated, again.merged, again.skipped, again.failed) == (0, 0, 0, 4, 1)
    assert Note.objects.count() == 4 and events.count() == 4


@PATHS
def test_a_row_whose_only_new_thing_is_a_note_updates_its_contact(org, tmp_path, bulk):
    orlov = factories.contact(org.manager, surname="Орлов", first_name="Олег", phones=["+7 912 000-00-01"])
    factories.note(org.manager, contact_id=orlov.pk, text="Любит чай")
    ExternalKey.objects.create(entity="contacts", external_id="C-1", record_id=orlov.pk)
    path = tmp_path / "notes.csv"
    path.write_text("ID;Комментарий;Note\nC-1;Любит чай;\nC-1;;Просил скидку\nC-1;Просил скидку;Любит чай\n",
                    encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id")
    assert (job.created, job.updated, job.merged, job.skipped, job.failed) == (0, 1, 0, 2, 0)
    assert sorted(Note.objects.values_list("text", "owner__username", "created_by__username")) == [
        ("Любит чай", "manager", "manager"), ("Просил скидку", "manager", "admin")]
    orlov.refresh_from_db()
    assert orlov.version == 1  # the note is on his timeline; his card is as it was


@PATHS
def test_a_notes_owner_is_the_contacts_even_when_he_no_longer_works_here(org, tmp_path, bulk):
    from krug.accounts import services as accounts

    orlov = factories.contact(org.manager, surname="Орлов", first_name="Олег", phones=["+7 912 000-00-01"])
    accounts.update_user(org.manager, {"is_active": False})
    path = tmp_path / "notes.csv"
    path.write_text("ФИО;Телефон;Комментарий\nОрлов Олег;8 912 000-00-01;Уволился, передать коллеге\n",
                    encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50)
    assert (job.merged, job.failed) == (1, 0)
    assert list(Note.objects.values_list("contact", "owner__username")) == [(orlov.pk, "manager")]


@PATHS
def test_a_companys_comment_is_a_note_on_its_timeline_and_a_re_run_adds_nothing(org, tmp_path, bulk):
    inns = test_bulk_companies.INNS
    vector = factories.company(org.manager, name="Вектор", inn=inns[0])
    factories.note(org.manager, company_id=vector.pk, text="Платят в срок")
    factories.note(org.manager, contact_id=factories.contact(org.manager, company_id=vector.pk).pk,
                   text="Ходит в бассейн")  # a note on one of its people is his, not the company's
    path = tmp_path / "companies.csv"
    path.write_text("Название;ИНН;Примечание;Описание\n"
                    f"Вектор;{inns[0]};Платят в срок;\n"  # held already: skipped
                    f"Вектор;{inns[0]};Ходит в бассейн;\n"  # the company's first such note: updated
                    f"Гамма;{inns[1]};Новый клиент;Поставщик станков\n"  # created, with its note
                    f"Плохая;1234567890;Не должно остаться;\n"
                    f"Дельта;{inns[2]};;\n", encoding="utf-8")
    for outcomes in [(2, 1, 0, 1, 1), (0, 0, 0, 4, 1)]:  # the re-run changes nothing
        job = import_file(org.admin, "companies", path, bulk=bulk, chunk=50, key="inn")
        assert (job.created, job.updated, job.merged, job.skipped, job.failed) == outcomes
        assert _notes() == [("Новый клиент", "admin", "admin", None, "Гамма"),
                            ("Платят в срок", "manager", "manager", None, "Вектор"),
                            ("Ходит в бассейн", "manager", "admin", None, "Вектор"),
                            ("Ходит в бассейн", "manager", "manager", "Тестов", "Вектор")]
    assert Company.objects.get(name="Гамма").description == "Поставщик станков"
    assert sorted(TimelineEvent.objects.filter(kind="note", contact=None).values_list("summary", "company__name")) \
        == [("Note: Новый клиент", "Гамма"), ("Note: Платят в срок", "Вектор"), ("Note: Ходит в бассейн", "Вектор")]


@PATHS
def test_a_note_too_long_fails_its_row_naming_the_column(org, tmp_path, bulk):
    path = tmp_path / "contacts.csv"
    path.write_text(f"ФИО;Комментарий\nОрлов Олег;{'а' * 20001}\n", encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50)
    assert reported([job])["failures"] == [[(2, (("note", "at most 20000 characters"),))]]
    assert not Contact.objects.exists() and not Note.objects.exists()


# ---- both paths, on generated files ----------------------------------------------------------------------

PEOPLE = [("Орлов Олег", "+7 912 000-00-01", "oleg@orlov.ru", "Вектор"),
          ("Соколова Анна", "+7 912 000-00-02", "", ""),
          ("Ивлев Пётр", "", "petr@ivlev.ru", "Гамма"),
          ("Смирнов Алексей", "+7 912 000-00-04", "", "Вектор"),
          ("Кузнецова Мария", "+7 912 000-00-05", "maria@kuz.ru", ""),
          ("Попов Игорь", "+7 912 000-00-06", "", "Дельта"),
          ("Лисина Анна", "+7 912 345-67-89", "anna@lis.ru", "")]  # she is in the base, with a note
COMMENTS = ["", "", "Звонил 12.03, просит КП", "Перезвонить в пятницу", "Любит чай", '"Просил скидку\nдо 10%"',
            "Платит вовремя"]


def _twice(holder: str) -> list:
    """The texts a contact (or a company, by its own notes) holds twice, in what the last import left."""
    notes = Note.objects.filter(**({} if holder == "contact" else {"contact": None}))
    return list(notes.values(holder, "text").annotate(n=Count("id")).filter(n__gt=1))


def _contact_rows(seed: int, count: int, new: str = "N") -> list[str]:
    """Rows of new people (external ids `new`-i), of the people of PEOPLE again and again (P-i), with comments
    in one or two columns or none, bad phones, rows of only an id and a comment, owners."""
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        kind = rng.choice(["new", "new", "person", "person", "person", "two", "bad", "only note", "owner", "empty"])
        ext, comment, second, owner = f"{new}-{i}", rng.choice(COMMENTS), "", ""
        name, phone, email, company = f"Новиков{new}{i} Иван", f"+7 913 {i:03d}-00-00", "", ""
        if kind in ("person", "two", "only note", "owner"):
            p = rng.randrange(len(PEOPLE))
            ext, (name, phone, email, company) = f"P-{p}", PEOPLE[p]
        if kind == "two":
            second = rng.choice(COMMENTS)
        elif kind == "bad":
            phone, comment = "12", rng.choice(COMMENTS[2:])
        elif kind == "only note":
            name = phone = email = company = ""
            comment = rng.choice(COMMENTS[2:])
        elif kind == "owner":
            owner = rng.choice(["manager", "colleague", "nobody-here"])
        elif kind == "empty":
            ext = name = phone = comment = ""
        lines.append(";".join([ext, name, phone, email, company, owner, comment, second]))
    return lines


def _contacts_base(org) -> None:
    for model in (Note, Contact, Company, ContactKey, CompanyKey, TimelineEvent, AuditEntry, ExternalKey):
        model.objects.all().delete()
    anna = factories.contact(org.manager, surname="Лисина", first_name="Анна", emails=["anna@lis.ru"],
                             phones=["+7 912 345-67-89"])
    factories.note(org.manager, contact_id=anna.pk, text="Любит чай")
    factories.contact(org.outsider, surname="Попов", first_name="Игорь", phones=["+7 912 000-00-06"])


def _names(values: dict, contacts: dict, companies: dict, users: dict) -> list:
    """An audit entry's changes with the ids it names replaced by what they stand for."""
    out = []
    for name, (old, new) in values.items():
        new = {"contact": contacts, "company": companies, "owner": users}.get(name, {}).get(new, new)
        out.append((name, old, new))
    return sorted(out, key=str)


def _state(jobs: list[ImportJob]) -> dict:
    """What the imports left of the notes and of the records they are on (the two runs number records apart)."""
    from krug.accounts.models import User

    contacts = dict(Contact.objects.values_list("pk", "surname"))
    companies = dict(Company.objects.values_list("pk", "name"))
    users = dict(User.objects.values_list("pk", "username"))
    notes = set(Note.objects.values_list("pk", flat=True))
    return {
        **reported(jobs),
        "notes": _notes(),
        # a contact's version is left out: the set-based path steps it once a chunk (test_bulk.py compares the rest)
        "records": sorted((c.surname, c.first_name, c.owner_id, c.last_contact_at is None)
                          for c in Contact.objects.all()) + sorted(Company.objects.values_list("name", "version")),
        "events": sorted((e.summary, e.contact_id and contacts[e.contact_id], e.company_id and companies[e.company_id],
                          e.actor_id, e.source_id in notes, e.data, e.hidden)
                         for e in TimelineEvent.objects.filter(kind="note")),
        "audit": sorted((e.object_repr, e.action, e.user_id, _names(e.changes, contacts, companies, users))
                        for e in AuditEntry.objects.filter(content_type__model="note")),
    }


@pytest.mark.parametrize("who", ["admin", "manager"])
@pytest.mark.parametrize("key", ["", "external_id", "phone"])
def test_contacts_notes_are_the_same_on_both_paths(org, tmp_path, key, who):
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "\n".join(_contact_rows(3, 120)) + "\n", encoding="utf-8")
    set_based = agree(lambda: _contacts_base(org), getattr(org, who), "contacts", path, key, _state)
    created, updated, merged, skipped, failed = set_based["outcomes"][0]
    assert created > 10 and merged + updated > 10 and failed > 5, set_based["outcomes"]
    assert len(set_based["notes"]) > 20
    assert not _twice("contact"), "no contact has a text twice, after the re-run neither"


def test_a_second_file_of_comments_adds_the_same_notes_on_both_paths(org, tmp_path, monkeypatch):
    first, second = tmp_path / "contacts.csv", tmp_path / "comments.csv"
    first.write_text(HEADER + "\n".join(_contact_rows(3, 120)) + "\n", encoding="utf-8")
    # its bad phones are new people's: a bad phone given to a contact in the base is `phones.0` on the set-based
    # path and `phones.1` on the per-row one (counted among his phones), a difference older than notes
    second.write_text(HEADER + "\n".join(_contact_rows(4, 120, new="M")) + "\n", encoding="utf-8")
    set_based, _handed = agree_on_changes(lambda: _contacts_base(org), org.admin, "contacts", first, second,
                                          "external_id", _state, monkeypatch)
    assert set_based["outcomes"][0][1] > 5 and set_based["outcomes"][1][0] == 0, set_based["outcomes"]
    assert not _twice("contact")


@pytest.mark.parametrize("key", ["", "inn", "external_id"])
def test_companies_notes_are_the_same_on_both_paths(org, tmp_path, key):
    rng = random.Random(8)
    lines = [f"{line};{rng.choice(COMMENTS)}" for line in test_bulk_companies._rows(5, 150)]
    path = tmp_path / "companies.csv"
    path.write_text(test_bulk_companies.HEADER.rstrip("\n") + ";Комментарий\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")

    def fresh():
        for model in (Note, Company, CompanyKey, TimelineEvent, AuditEntry, ExternalKey):
            model.objects.all().delete()
        test_bulk_companies._base(org)
        factories.note(org.admin, company_id=Company.objects.get(name="Лисий хвост").pk, text="Любит чай")

    set_based = agree(fresh, org.admin, "companies", path, key, _state)
    created, updated, merged, skipped, failed = set_based["outcomes"][0]
    assert created > 25 and merged > 10 and failed > 20, set_based["outcomes"]
    assert len(set_based["notes"]) > 40
    assert not _twice("company"), "no company has a text twice, after the re-run neither"


# ---- the set-based path's cost ---------------------------------------------------------------------------

@pytest.fixture
def note_statements(monkeypatch):
    """Per chunk of a run: the statements that read notes (ids taken for new ones aside) and the bulk inserts of
    notes (COPY on PostgreSQL, which the connection's log does not show)."""
    from krug.core import bulk
    from krug.transfer import importer

    chunks = []
    commit, insert = importer._commit_chunk, bulk.insert

    def counting_insert(model, rows, **kwargs):
        chunks[-1]["inserts"] += model is Note
        return insert(model, rows, **kwargs)

    def counting_commit(*args, **kwargs):
        chunks.append({"reads": 0, "inserts": 0})
        with CaptureQueriesContext(connection) as queries:
            commit(*args, **kwargs)
        chunks[-1]["reads"] = sum(1 for q in queries.captured_queries if Note._meta.db_table in q["sql"] and not any(
            word in q["sql"] for word in ("INSERT", "MAX(id)", "sqlite_sequence", "nextval")))

    monkeypatch.setattr(importer, "_commit_chunk", counting_commit)
    monkeypatch.setattr(bulk, "insert", counting_insert)
    return chunks


def test_a_file_without_a_comment_column_asks_nothing_about_notes(org, tmp_path, note_statements):
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER.replace(";Комментарий;Примечание 2", "") + "\n".join(
        line.rsplit(";", 2)[0] for line in _contact_rows(3, 120)) + "\n", encoding="utf-8")
    _contacts_base(org)
    job = import_file(org.admin, "contacts", path, bulk=True, chunk=40, key="external_id")
    assert job.created > 10
    assert note_statements == [{"reads": 0, "inserts": 0}] * 3


def test_a_chunks_notes_are_read_with_one_query_and_written_with_one_insert(org, tmp_path, note_statements):
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "\n".join(_contact_rows(3, 120)) + "\n", encoding="utf-8")
    _contacts_base(org)
    import_file(org.admin, "contacts", path, bulk=True, chunk=40, key="external_id")
    assert note_statements == [{"reads": 1, "inserts": 1}] * 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", ["", "external_id"])
def test_a_pipelined_run_adds_the_notes_the_per_row_path_adds(org, tmp_path, monkeypatch, key):
    """On PostgreSQL each chunk is read while the writer still commits the one before: a note that chunk gave a
    contact is not in the base yet, and must not be added again (`bulk_contacts.Recent.notes`)."""
    import threading
    import time

    from krug.transfer import bulk_contacts

    real, writers = bulk_contacts.flush, []

    def slow_flush(plan):
        time.sleep(0.05)
        writers.append(threading.current_thread().name)
        real(plan)

    monkeypatch.setattr(bulk_contacts, "flush", slow_flush)
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "\n".join(_contact_rows(5, 150)) + "\n", encoding="utf-8")
    results = {}
    for bulk in (False, True):
        _contacts_base(org)
        jobs = [import_file(org.admin, "contacts", path, bulk=bulk, chunk=12, key=key) for _run in range(2)]
        results[bulk] = _state(jobs)
        assert not _twice("contact")
    for part in results[False]:
        assert results[True][part] == results[False][part], part
    assert len(results[True]["notes"]) > 20
    if connection.vendor == "postgresql":
        assert all(name.startswith("krug-import-writer") for name in writers) and len(writers) >= 20
