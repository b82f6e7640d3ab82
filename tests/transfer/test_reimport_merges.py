"""A row merged into a record gives it its external id with the merge's rules: a re-run of the same file, or a
later file naming the record by that id, fills in what the record lacks and overwrites nothing. A migration
from Bitrix24 with `ID 125, Смирнов Андрей, Ген. директор, Коллегин` (a second card of ID 101's Смирнов, same
phone) turned, on every re-run, into an update of 101's record by key: its owner and position flipped to the
duplicate's, with an empty «Changed: owner» on its timeline each time."""

import pytest

from krug.clients.models import Company, Contact, TimelineEvent
from krug.core.models import AuditEntry
from krug.transfer.models import ExternalKey
from tests.transfer.both_paths import agree, import_file, reported

CONTACTS = "ID;Фамилия;Имя;Должность;Город;Телефон;Email;Ответственный\n"
SMIRNOV = ["101;Смирнов;Андрей;Генеральный директор;;+7 912 000-11-01;;manager",
           "125;Смирнов;Андрей;Ген. директор;Тула;8 (912) 000-11-01;;colleague"]
COMPANIES = "ID;Название;ИНН;Город;Сайт;Ответственный\n"
VEKTOR = ["C-101;ООО «Вектор Плюс»;3982597915;;vektor.ru;manager",
          "C-125;Вектор Плюс ООО;3982597915;Тула;vektor-plus.ru;colleague"]
BOTH = pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])


def _file(tmp_path, name: str, header: str, lines: list[str]):
    path = tmp_path / name
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _history(model) -> tuple[int, int]:
    name = model._meta.model_name
    return (AuditEntry.objects.filter(content_type__model=name).count(),
            TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CHANGED).count())


def _contacts_state(jobs) -> dict:
    """(The set-based path merges a row into a record made earlier in its chunk before writing it, so the
    record's version and history differ from the per-row path's; the re-run's are held by the tests above.)"""
    return {**reported(jobs),
            "contacts": sorted((c.surname, c.first_name, c.position, c.city, c.owner.username,
                                tuple(sorted(p.number for p in c.phones.all())))
                               for c in Contact.objects.select_related("owner").prefetch_related("phones")),
            "external": sorted((k.external_id, k.merged) for k in ExternalKey.objects.filter(entity="contacts"))}


def _companies_state(jobs) -> dict:
    return {**reported(jobs),
            "companies": sorted((c.name, c.inn, c.city, c.website, c.owner.username, c.version)
                                for c in Company.objects.select_related("owner")),
            "audit": sorted((e.action, str(sorted(e.changes))) for e in AuditEntry.objects.filter(
                content_type__model="company")),
            "events": sorted((e.kind, e.summary) for e in TimelineEvent.objects.filter(contact=None)),
            "external": sorted((k.external_id, k.merged) for k in ExternalKey.objects.filter(entity="companies"))}


@BOTH
def test_a_rerun_of_a_file_with_a_duplicate_under_another_id_changes_nothing(org, tmp_path, bulk):
    path = _file(tmp_path, "bitrix.csv", CONTACTS, SMIRNOV)
    first = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id")
    assert (first.created, first.merged, first.failed) == (1, 1, 0)
    smirnov = Contact.objects.get()
    assert (smirnov.position, smirnov.city, smirnov.owner_id) == ("Генеральный директор", "Тула", org.manager.pk)
    version, history = smirnov.version, _history(Contact)
    again = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id")
    assert (again.created, again.updated, again.merged, again.skipped, again.failed) == (0, 0, 0, 2, 0)
    smirnov.refresh_from_db()
    assert (smirnov.position, smirnov.owner_id, smirnov.version) == ("Генеральный директор", org.manager.pk, version)
    assert _history(Contact) == history


@BOTH
def test_a_rerun_of_a_companies_file_with_two_spellings_of_one_company_changes_nothing(org, tmp_path, bulk):
    path = _file(tmp_path, "companies.csv", COMPANIES, VEKTOR)
    first = import_file(org.admin, "companies", path, bulk=bulk, chunk=50, key="external_id")
    assert (first.created, first.merged, first.failed) == (1, 1, 0)
    vektor = Company.objects.get()
    assert (str(vektor), vektor.website, vektor.city, vektor.owner_id) == (
        "ООО «Вектор Плюс»", "https://vektor.ru", "Тула", org.manager.pk)
    version, history = vektor.version, _history(Company)
    again = import_file(org.admin, "companies", path, bulk=bulk, chunk=50, key="external_id")
    assert (again.created, again.updated, again.merged, again.skipped, again.failed) == (0, 0, 0, 2, 0)
    vektor.refresh_from_db()
    assert (str(vektor), vektor.website, vektor.owner_id, vektor.version) == ("ООО «Вектор Плюс»", "https://vektor.ru",
                                                                              org.manager.pk, version)
    assert _history(Company) == history


@BOTH
def test_a_later_file_naming_a_merged_id_fills_blanks_and_overwrites_nothing(org, tmp_path, bulk):
    import_file(org.admin, "contacts", _file(tmp_path, "bitrix.csv", CONTACTS, SMIRNOV), bulk=bulk, chunk=50,
                key="external_id")
    later = _file(tmp_path, "amo.csv", CONTACTS,
                  ["125;Смирнов;Андрей;Коммерческий директор;Омск;8 912 000-11-02;smirnov@example.ru;colleague"])
    job = import_file(org.admin, "contacts", later, bulk=bulk, chunk=50, key="external_id")
    assert (job.updated, job.merged, job.failed) == (0, 1, 0)
    smirnov = Contact.objects.prefetch_related("phones", "emails").get()
    assert (smirnov.position, smirnov.city, smirnov.owner_id) == ("Генеральный директор", "Тула", org.manager.pk)
    assert [e.email for e in smirnov.emails.all()] == ["smirnov@example.ru"]  # new: added
    assert sorted(p.number for p in smirnov.phones.all()) == ["+79120001101", "+79120001102"]
    assert ExternalKey.objects.get(external_id="125").merged  # still the merge's


@BOTH
def test_a_later_companies_file_naming_a_merged_id_fills_blanks_and_overwrites_nothing(org, tmp_path, bulk):
    import_file(org.admin, "companies", _file(tmp_path, "companies.csv", COMPANIES, VEKTOR), bulk=bulk, chunk=50,
                key="external_id")
    later = _file(tmp_path, "amo.csv", "ID;Название;ИНН;Город;Сайт;Email;Ответственный\n",
                  ["C-125;Вектор Плюс ООО;3982597915;Омск;vektor-plus.ru;office@vektor.ru;colleague"])
    job = import_file(org.admin, "companies", later, bulk=bulk, chunk=50, key="external_id")
    assert (job.updated, job.merged, job.failed) == (0, 1, 0)
    vektor = Company.objects.get()
    assert (str(vektor), vektor.city, vektor.website, vektor.email, vektor.owner_id) == (
        "ООО «Вектор Плюс»", "Тула", "https://vektor.ru", "office@vektor.ru", org.manager.pk)


@BOTH
def test_a_row_whose_id_created_the_record_still_updates_it_by_key(org, tmp_path, bulk):
    import_file(org.admin, "contacts", _file(tmp_path, "bitrix.csv", CONTACTS, SMIRNOV), bulk=bulk, chunk=50,
                key="external_id")
    later = _file(tmp_path, "changes.csv", CONTACTS,
                  ["101;Смирнов;Андрей;Коммерческий директор;Омск;+7 912 000-11-01;;colleague"])
    job = import_file(org.admin, "contacts", later, bulk=bulk, chunk=50, key="external_id")
    assert (job.updated, job.merged, job.failed) == (1, 0, 0)
    smirnov = Contact.objects.get()
    assert (smirnov.position, smirnov.city, smirnov.owner_id) == ("Коммерческий директор", "Омск", org.colleague.pk)
    assert sorted(ExternalKey.objects.values_list("external_id", "merged")) == [("101", False), ("125", True)]


def test_a_row_that_updates_a_merged_id_by_key_takes_it_over(org, tmp_path):
    """An id merged once, then used by a row that creates its record (the one it named was deleted), is that
    record's own: an update by key from then on."""
    import_file(org.admin, "contacts", _file(tmp_path, "bitrix.csv", CONTACTS, SMIRNOV), bulk=True, chunk=50,
                key="external_id")
    Contact.objects.update(deleted_at="2026-01-01T00:00:00Z")
    job = import_file(org.admin, "contacts", _file(tmp_path, "again.csv", CONTACTS, [SMIRNOV[1]]), bulk=True,
                      chunk=50, key="external_id")
    assert job.created == 1
    assert not ExternalKey.objects.get(external_id="125").merged


@pytest.mark.parametrize("entity,header,lines,model", [("contacts", CONTACTS, SMIRNOV, Contact),
                                                         ("companies", COMPANIES, VEKTOR, Company)])
def test_both_paths_agree_on_a_file_with_a_duplicate_under_another_id(org, tmp_path, entity, header, lines, model):
    path = _file(tmp_path, f"{entity}.csv", header, [*lines, *lines[::-1]])
    state = _contacts_state if entity == "contacts" else _companies_state

    def fresh():
        for each in (model, AuditEntry, TimelineEvent, ExternalKey):
            each.objects.all().delete()

    set_based = agree(fresh, org.admin, entity, path, "external_id", state)
    assert set_based["outcomes"][1][:3] == (0, 0, 0), set_based["outcomes"]  # the re-run creates, changes nothing


@BOTH
@pytest.mark.parametrize("entity,header,line,changed", [
    ("contacts", CONTACTS, "101;Смирнов;Андрей;Коммерческий директор;;+7 912 000-11-01;;manager", "position"),
    ("companies", COMPANIES, "C-101;ООО «Вектор Плюс»;3982597915;Омск;vektor.ru;manager", "city")])
def test_an_update_by_key_records_only_what_it_changed(org, tmp_path, bulk, entity, header, line, changed):
    """The row gives the record's owner again: the owner is no change (an «owner 5 → 5» was one)."""
    first = _file(tmp_path, "first.csv", header, [line.replace("Коммерческий", "Генеральный").replace("Омск", "")])
    import_file(org.admin, entity, first, bulk=bulk, chunk=50, key="external_id")
    model = Contact if entity == "contacts" else Company
    version = model.objects.get().version
    job = import_file(org.admin, entity, _file(tmp_path, "second.csv", header, [line]), bulk=bulk, chunk=50,
                      key="external_id")
    assert job.updated == 1
    assert model.objects.get().version == version + 1
    entry = AuditEntry.objects.filter(content_type__model=model._meta.model_name, action="update").latest("pk")
    event = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CHANGED).latest("pk")
    assert changed in entry.changes and "owner" not in entry.changes, entry.changes
    assert changed in event.summary and "owner" not in event.summary, event.summary


@BOTH
def test_a_row_that_puts_back_what_an_earlier_row_changed_leaves_no_empty_change(org, tmp_path, bulk):
    """Two rows of one ID: the second gives back the record's values. Whatever the rows in between did, a
    record that ends as it began has no «Changed: owner, position» with nothing changed, and no new version."""
    lines = [SMIRNOV[0], SMIRNOV[0].replace("Генеральный директор", "Стажёр").replace("manager", "colleague")]
    import_file(org.admin, "contacts", _file(tmp_path, "first.csv", CONTACTS, lines[:1]), bulk=bulk, chunk=50,
                key="external_id")
    import_file(org.admin, "contacts", _file(tmp_path, "second.csv", CONTACTS, [*lines[1:], *lines[:1]]),
                bulk=bulk, chunk=50, key="external_id")
    smirnov = Contact.objects.get()
    assert (smirnov.position, smirnov.owner_id) == ("Генеральный директор", org.manager.pk)
    empty = [e.changes for e in AuditEntry.objects.filter(content_type__model="contact", action="update")
             if any(old == new for old, new in e.changes.values())]
    assert empty == []
