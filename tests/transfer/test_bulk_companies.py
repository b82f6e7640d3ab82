"""The set-based company import agrees with the per-row path (the services, one company at a time), which is
the reference: the same companies, match keys, audit entries, timeline events, external ids, merges and failed
rows, on a file with duplicates of the base and of its own rows, over several chunks, and on a re-run."""

import random
from collections import Counter

import pytest

from krug.clients.models import Company, TimelineEvent
from krug.core.models import AuditEntry
from krug.quality.models import CompanyKey, QualitySettings
from krug.transfer.models import ExternalKey, ImportJob
from tests import factories
from tests.transfer.both_paths import agree, agree_on_changes, reported

HEADER = "ID;Название;ОПФ;ИНН;КПП;Город;Телефон;Email;Сайт;Ответственный\n"
INNS = ["3982597915", "9074833780", "8762328602", "1290404798", "6669725104", "2734646867", "9589693501"]
NAMES = ["Вектор", "Гамма Плюс", "Северный ветер", "Ромашка", "Техносфера", "Стройресурс", "Альфа-Трейд",
         "Школа №5", "Школа №12", "Vektor"]


def _rows(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        kind = rng.choice(["new", "new", "new", "same name", "quoted", "latin", "inn", "branch", "other city",
                           "bad inn", "no name", "bad email", "repeat id", "empty", "owner", "base"])
        ext, name, form, inn, kpp, city = f"C-{i}", f"Компания {i}", "", "", "", rng.choice(["Москва", "Казань"])
        phone, email, site, owner = "", "", f"site{i}.ru", ""
        if kind == "same name":
            name, form = rng.choice(NAMES), rng.choice(["", "ООО", "АО"])
        elif kind == "quoted":
            name = f"«{rng.choice(NAMES)}»"
        elif kind == "latin":
            name, city = "Vektor", "Москва"
        elif kind == "inn":
            name, inn = rng.choice(["", "Вектор", "Новое имя"]) or f"Без имени {i}", rng.choice(INNS)
        elif kind == "branch":
            inn, kpp = INNS[0], rng.choice(["770101001", "770201001"])
        elif kind == "other city":
            name, city = rng.choice(NAMES), rng.choice(["Омск", "Тверь"])
        elif kind == "bad inn":
            inn = "1234567890"
        elif kind == "no name":
            name = ""
        elif kind == "bad email":
            email = "нет@"
        elif kind == "repeat id":
            ext = f"C-{max(i - rng.randint(1, 4), 0)}"
        elif kind == "empty":
            ext = name = city = site = ""
        elif kind == "owner":
            owner = rng.choice(["manager", "nobody-here"])
        elif kind == "base":
            name, inn = rng.choice(["Орлов и сыновья", "ООО «Лисий хвост»", "Чужая"]), rng.choice(["", INNS[6]])
        phone = rng.choice(["", "8 (495) 123-45-67", "12"])
        lines.append(";".join([ext, name, form, inn, kpp, city, phone, email, site, owner]))
    return lines


def _base(org) -> None:
    factories.company(org.admin, name="Орлов и сыновья", city="Москва")
    factories.company(org.admin, name="Лисий хвост", inn=INNS[6])
    factories.company(org.outsider, name="Чужая", city="Москва")


def _state(jobs: list[ImportJob]) -> dict:
    companies = {c.pk: c for c in Company.objects.select_related("owner")}

    def plain(values: dict) -> list:  # ids left out
        return sorted((k, v) for k, v in values.items() if k != "owner")

    return {
        **reported(jobs),
        "companies": sorted((c.name, c.legal_form, c.inn, c.kpp, c.city, c.phone, c.email, c.website, c.search_key,
                             c.owner.username if c.owner_id else None, c.version) for c in companies.values()),
        "keys": Counter((companies[k.record_id].name, k.hash) for k in CompanyKey.objects.all()),
        "audit": sorted((e.object_repr, e.action, e.user_id, plain(e.changes)) for e in AuditEntry.objects.filter(
            content_type__model="company")),
        "events": sorted((e.kind, e.summary, str(plain(e.data)), companies[e.company_id].name)
                         for e in TimelineEvent.objects.filter(contact=None, deal_id=None)),
        "external": sorted((k.external_id, companies[k.record_id].name) for k in ExternalKey.objects.all()),
    }


@pytest.mark.parametrize("who,max_block", [("admin", 50), ("manager", 50), ("admin", 2)],
                         ids=["admin", "manager", "keys common past 2"])
@pytest.mark.parametrize("key", ["", "inn", "external_id"])
def test_the_set_based_path_gives_what_the_per_row_path_gives(org, tmp_path, key, who, max_block):
    """With a max_block of 2, keys turn too common to read as the chunk goes (and back, when a merge re-keys)."""
    settings = QualitySettings.current()
    settings.match_rules = {**settings.match_rules, "max_block": max_block}
    settings.save()
    path = tmp_path / "companies.csv"
    path.write_text(HEADER + "\n".join(_rows(5, 150)) + "\n", encoding="utf-8")
    by = getattr(org, who)

    def fresh():
        for model in (Company, CompanyKey, TimelineEvent, AuditEntry, ExternalKey):
            model.objects.all().delete()
        _base(org)

    set_based = agree(fresh, by, "companies", path, key, _state)
    created, updated, merged, skipped, failed = set_based["outcomes"][0]
    assert created > 25 and merged > 10 and failed > 20 and skipped > 3, "the file exercises every kind of row"
    if key and max_block == 50:
        assert set_based["outcomes"][1][0] == 0  # the re-run creates nothing



def _changes(lines: list[str], seed: int) -> list[str]:
    """The same companies (same ids, names and INNs) with new values, some renamed, some bad."""
    rng = random.Random(seed)
    out = []
    for line in lines:
        ext, name, form, inn, kpp, city, phone, email, site, owner = line.split(";")
        kind = rng.choice(["city", "phone", "site", "kpp", "several", "same", "rename", "bad email", "owner"])
        if kind == "city":
            city = rng.choice(["Омск", "Тверь", "Казань"])
        elif kind == "phone":
            phone = rng.choice(["8 (495) 765-43-21", "12"])
        elif kind == "site":
            site = f"new-{site or 'site'}"
        elif kind == "kpp":
            kpp = rng.choice(["770101001", "770301001"])
        elif kind == "several":
            city, site, email = "Самара", "samara.ru", "office@samara.ru"
        elif kind == "rename":
            name = f"{name} Групп" if name else "Новая"
        elif kind == "bad email":
            email = "нет@"
        elif kind == "owner":
            owner = "head"
        out.append(";".join([ext, name, form, inn, kpp, city, phone, email, site, owner]))
    return out


@pytest.mark.parametrize("who", ["admin", "head"])
@pytest.mark.parametrize("key", ["inn", "external_id"])
def test_a_second_file_changes_the_companies_the_set_based_path_as_the_per_row_path_does(org, tmp_path, key, who,
                                                                                          monkeypatch):
    lines = _rows(5, 150)
    first, second = tmp_path / "companies.csv", tmp_path / "changes.csv"
    first.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    second.write_text(HEADER + "\n".join(_changes(lines, 6)) + "\n", encoding="utf-8")

    def fresh():
        for model in (Company, CompanyKey, TimelineEvent, AuditEntry, ExternalKey):
            model.objects.all().delete()
        _base(org)

    set_based, handed = agree_on_changes(fresh, getattr(org, who), "companies", first, second, key, _state,
                                         monkeypatch)
    assert sum(outcome[1] for outcome in set_based["outcomes"]) > 15, set_based["outcomes"]
    assert handed[True] < handed[False] / 2, handed  # most changes were made set-based (merges are handed over)


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_row_that_changes_nothing_still_gives_the_company_its_external_id(org, tmp_path, bulk):
    from krug.transfer.models import ExternalKey
    from tests.transfer.both_paths import import_file

    company = factories.company(org.admin, name="Вектор", inn=INNS[1], city="Москва")
    path = tmp_path / "companies.csv"
    path.write_text(HEADER + f"C-9;Вектор;;{INNS[1]};;Москва;;;;\nC-8;ООО «Вектор»;;{INNS[1]};;;;;;\n",
                    encoding="utf-8")
    job = import_file(org.admin, "companies", path, bulk=bulk, chunk=50)  # no key: the rows are its duplicates
    assert (job.created, job.merged, job.failed) == (0, 2, 0)
    assert sorted(ExternalKey.objects.values_list("external_id", "record_id")) == [("C-8", company.pk),
                                                                                   ("C-9", company.pk)]


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_duplicate_that_keeps_the_name_is_merged_without_the_per_row_path(org, tmp_path, bulk, monkeypatch):
    from krug.transfer import importer
    from tests.transfer.both_paths import import_file

    handed_over = []
    one = importer.import_one
    monkeypatch.setattr(importer, "import_one", lambda ctx, cells: handed_over.append(cells) or one(ctx, cells))
    company = factories.company(org.admin, name="Вектор", inn=INNS[1], city="Москва")
    path = tmp_path / "companies.csv"
    path.write_text(HEADER + f"C-1;Вектор;;{INNS[1]};;Казань;;;vektor.ru;\n", encoding="utf-8")
    job = import_file(org.admin, "companies", path, bulk=bulk, chunk=50)
    company.refresh_from_db()
    # a merge fills in what the company lacks (its site) and keeps what it has (its city)
    assert (job.created, job.merged, company.city, company.website, company.version) == (
        0, 1, "Москва", "https://vektor.ru", 2)
    assert len(handed_over) == (0 if bulk else 1)


def _people(org) -> None:
    """Two contacts and a deal at every company with an INN and at every fifth of the others, added between the
    first file and its changes."""
    for company in [c for i, c in enumerate(Company.objects.order_by("pk")) if c.inn or i % 5 == 0]:
        factories.contact(org.admin, surname="Петров", first_name="Иван", company_id=company.pk, city="Москва")
        factories.contact(org.admin, surname="Ли", first_name="Анна", company_id=company.pk)
        factories.deal(org.admin, title="Поставка", company_id=company.pk)


def _with_people(jobs: list[ImportJob]) -> dict:
    from krug.clients.models import Contact
    from krug.quality.models import ContactKey
    from krug.sales.models import Deal

    contacts = {c.pk: c for c in Contact.objects.select_related("company")}
    return {**_state(jobs),
            "people": sorted((c.company.name, c.surname, c.search_key) for c in contacts.values()),
            "people's keys": Counter((contacts[k.record_id].company.name, contacts[k.record_id].surname, k.hash)
                                     for k in ContactKey.objects.all()),
            "deals": sorted((d.company.name, d.search_key) for d in Deal.objects.select_related("company"))}


@pytest.mark.parametrize("key", ["inn", "external_id"])
def test_renames_and_new_inns_re_key_the_company_and_its_people_set_based_as_per_row(org, tmp_path, key,
                                                                                    monkeypatch):
    """A second file renaming companies (and giving INNs to some that had none): the same companies, keys,
    people's search and name keys and deals' search keys both ways, and the renames no longer handed over."""
    lines = _rows(5, 150)
    renamed = []
    for i, line in enumerate(lines):
        ext, name, form, inn, kpp, city, *rest = line.split(";")
        if i % 7 == 0 and not inn:
            inn = INNS[i % 6]
        if (i % 3 == 0 or inn) and name:
            name = f"{name} Холдинг"
        renamed.append(";".join([ext, name, form, inn, kpp, city, *rest]))
    first, second = tmp_path / "companies.csv", tmp_path / "changes.csv"
    first.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    second.write_text(HEADER + "\n".join(renamed) + "\n", encoding="utf-8")

    def fresh():
        from krug.clients.models import Contact
        from krug.quality.models import ContactKey
        from krug.sales.models import Deal

        for model in (Deal, Contact, ContactKey, Company, CompanyKey, TimelineEvent, AuditEntry, ExternalKey):
            model.objects.all().delete()
        _base(org)

    set_based, handed = agree_on_changes(fresh, org.admin, "companies", first, second, key, _with_people,
                                         monkeypatch, between=lambda: _people(org))
    assert any("Холдинг" in name for name, *_ in set_based["people"]), "people of renamed companies"
    # by INN every rename is an update; by the old IDs those of rows the first file merged into another company
    # only fill in (a merge never renames), and 24 of them update
    assert sum(outcome[1] for outcome in set_based["outcomes"]) > (40 if key == "inn" else 20), set_based["outcomes"]
    assert handed[True] < handed[False] / 5, handed  # renames are made set-based (79 of 300 were handed over)
