"""The set-based deal import agrees with the per-row path (the sales services, one deal at a time), which is the
reference: the same deals with the same links, stage history, audit entries, timeline events, external ids,
companies and failed rows, on a file that mixes good rows with every kind of bad one, over several chunks."""

import random

import pytest

from krug.clients.models import Company, Contact, TimelineEvent
from krug.core.models import AuditEntry
from krug.quality.models import CompanyKey, ContactKey
from krug.sales import services as sales
from krug.sales.models import Deal, Pipeline, Stage, StageHistory
from krug.transfer.models import ExternalKey, ImportJob
from tests import factories
from tests.transfer.both_paths import agree, agree_on_changes, import_file, reported

HEADER = "ID;Название;Сумма;Воронка;Этап;Компания;ИНН;Email контакта;Телефон контакта;Ответственный;Источник\n"


def _rows(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        kind = rng.choice(["plain", "plain", "plain", "contact", "phone", "inn", "stage", "partner", "repeat",
                           "bad stage", "bad pipeline", "no contact", "bad amount", "no title", "bad inn",
                           "needs contact", "empty", "bad phone", "owner"])
        ext, title, amount, pipeline, stage = f"D-{i}", f"Сделка {i}", str(rng.randint(1, 90) * 1000), "", ""
        company, inn, email, phone, owner, source = f"Клиент {rng.randint(1, 12)}", "", "", "", "", "сайт"
        if kind == "contact":
            email, company = rng.choice(["oleg@orlov.ru", "OLEG@ORLOV.RU", "anna@lis.ru"]), ""
        elif kind == "phone":
            phone, company = "8 912 345-67-89", ""
        elif kind == "inn":
            company, inn = rng.choice(["", "Вектор"]), "7707083893"
        elif kind == "stage":
            stage = rng.choice(["Negotiation", "negotiation", "Won"])
        elif kind == "partner":
            pipeline, stage = "Партнёры", rng.choice(["", "Договор"])
        elif kind == "repeat":
            ext = f"D-{max(i - rng.randint(1, 3), 0)}"  # an id an earlier row gave
        elif kind == "bad stage":
            stage = "Нет такого этапа"
        elif kind == "bad pipeline":
            pipeline, stage = "Нет такой", "Negotiation"
        elif kind == "no contact":
            email, company = "nobody@nowhere.ru", f"Только у ошибки {i}"
        elif kind == "bad amount":
            amount = "сто рублей"
        elif kind == "no title":
            title, company = "", f"Только у ошибки {i}"
        elif kind == "bad inn":
            company, inn = "", "1234567890"
        elif kind == "needs contact":
            pipeline, stage = "Партнёры", "Договор"  # the stage requires a contact
            email = rng.choice(["", "anna@lis.ru"])
        elif kind == "empty":
            ext = title = amount = company = source = ""
        elif kind == "bad phone":
            phone, company = "12", ""
        elif kind == "owner":
            owner = rng.choice(["manager", "nobody-here"])
        lines.append(";".join([ext, title, amount, pipeline, stage, company, inn, email, phone, owner, source]))
    return lines


def _base(org) -> None:
    factories.contact(org.admin, surname="Орлов", first_name="Олег", emails=["oleg@orlov.ru"],
                      company_id=factories.company(org.admin, name="Орлов и сыновья").pk)
    factories.contact(org.admin, surname="Лисина", first_name="Анна", emails=["anna@lis.ru"],
                      phones=["+7 912 345-67-89"])
    factories.company(org.admin, name="Клиент 3", inn="7707083893")
    sales.default_pipeline(org.admin)
    sales.create_pipeline(org.admin, {"name": "Партнёры", "stages": [
        {"name": "Знакомство"}, {"name": "Договор", "required_fields": ["contact"]},
        {"name": "Партнёр", "kind": "won"}]})


def _fresh(org) -> None:
    for model in (StageHistory, Deal, Stage, Pipeline, Contact, Company, CompanyKey, ContactKey, TimelineEvent,
                  AuditEntry, ExternalKey):
        model.objects.all().delete()
    _base(org)


def _state(jobs: list[ImportJob]) -> dict:
    """What the imports left, with ids replaced by what they stand for (the two runs number records apart)."""
    deals = {d.pk: d for d in Deal.objects.select_related("stage", "pipeline", "contact", "company", "owner")}

    def deal(pk):
        d = deals[pk]
        return (d.title, str(d.amount), d.currency, d.pipeline.name, d.stage.name, d.closed_at is None,
                d.contact.surname if d.contact_id else None, d.company.name if d.company_id else None,
                d.owner.username if d.owner_id else None, d.source, d.search_key, d.version)

    def plain(values: dict) -> list:  # ids and times left out
        return sorted((k, v) for k, v in values.items() if k not in ("pipeline", "stage", "contact", "company",
                                                                     "owner", "closed_at"))

    return {
        **reported(jobs),
        "deals": sorted(deal(pk) for pk in deals),
        "history": sorted((h.deal.title, h.stage.name, h.moved_by_id) for h in
                          StageHistory.objects.select_related("deal", "stage")),
        "audit": sorted((e.object_repr, e.action, e.user_id, plain(e.changes)) for e in AuditEntry.objects.filter(
            content_type__model__in=["deal", "company"]).order_by("id")),
        "events": sorted((e.kind, e.summary, str(plain(e.data)), e.deal_id in deals,
                          e.contact.surname if e.contact_id else None, e.company.name if e.company_id else None)
                         for e in TimelineEvent.objects.select_related("contact", "company")),
        "companies": sorted(Company.objects.values_list("name", "inn", "search_key")),
        "external": sorted((k.external_id, deal(k.record_id)[0]) for k in ExternalKey.objects.filter(entity="deals")),
    }


@pytest.mark.parametrize("key", ["", "external_id"], ids=["no key", "key external_id"])
def test_the_set_based_path_gives_what_the_per_row_path_gives(org, tmp_path, key):
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "\n".join(_rows(11, 160)) + "\n", encoding="utf-8")
    set_based = agree(lambda: _fresh(org), org.admin, "deals", path, key, _state)
    created, updated, _merged, skipped, failed = set_based["outcomes"][0]
    assert created > 60 and failed > 40 and skipped > 3  # the file exercised every kind of row
    if key:
        assert set_based["outcomes"][1][0] == 0 and updated > 0  # the re-run creates nothing


def test_a_company_only_a_failed_row_names_is_not_created(org, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + ";;1000;;;Никому не нужна;;;;;\n;Хорошая;1000;;;Нужна;;;;;\n", encoding="utf-8")
    job = import_file(org.admin, "deals", path, bulk=True, chunk=50)
    assert (job.created, job.failed) == (1, 1)
    assert list(Company.objects.values_list("name", flat=True)) == ["Нужна"]


def test_a_stage_the_chunk_looked_up_once_refuses_every_row_that_names_it(org):
    from krug.core.errors import FieldErrors
    from krug.transfer.bulk_deals import ChunkLinks

    links = ChunkLinks(org.admin)
    for _row in range(2):
        errors = FieldErrors()
        assert links.stage({"stage_id": 987654}, errors) == (None, None)
        assert errors.errors == {"stage_id": ["no such stage"]}


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_rows_that_all_fail_leave_a_fresh_base_without_a_pipeline(org, tmp_path, bulk):
    Pipeline.objects.all().delete()
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + ";;1000;;Negotiation;;;;;;\n;Сделка;сто;;Won;;;;;;\n;;;;;;;;;;\n", encoding="utf-8")
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=50)
    assert job.failed == 2 and job.created == 0
    assert not Pipeline.objects.exists() and not Stage.objects.exists()
    path.write_text(HEADER + ";;1000;;Negotiation;;;;;;\n;Сделка;1000;;Won;;;;;;\n", encoding="utf-8")
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=50)
    assert (job.created, job.failed) == (1, 1)
    assert list(Deal.objects.values_list("stage__name", "pipeline__is_default")) == [("Won", True)]


def _changes(seed: int, count: int) -> list[str]:
    """Rows naming the deals `_rows` made (by their external ids) with new values, and some new ones."""
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        kind = rng.choice(["amount", "title", "stage", "stage", "partner", "needs contact", "company", "new company",
                           "contact", "bad amount", "same", "twice", "owner", "new", "lost", "bad stage"])
        ext, title, amount, pipeline, stage = f"D-{i}", f"Сделка {i}", "", "", ""
        company, email, owner = "", "", ""
        if kind == "amount":
            amount = str(rng.randint(1, 90) * 500)
        elif kind == "title":
            title = f"Сделка {i}, вторая очередь"
        elif kind == "stage":
            stage = rng.choice(["Negotiation", "Won", "Proposal sent"])
        elif kind == "partner":
            pipeline, stage, email = "Партнёры", rng.choice(["Знакомство", "Договор"]), "anna@lis.ru"
        elif kind == "needs contact":
            pipeline, stage = "Партнёры", "Договор"  # refused unless the deal has a contact already
        elif kind == "company":
            company = rng.choice(["Клиент 3", "Клиент 5", "Орлов и сыновья"])
        elif kind == "new company":
            company = f"Новый клиент {i % 4}"
        elif kind == "contact":
            email = rng.choice(["oleg@orlov.ru", "anna@lis.ru"])
        elif kind == "bad amount":
            amount, company = "дорого", f"Только у ошибки {i}"
        elif kind == "twice":
            ext, amount, stage = f"D-{max(i - 1, 0)}", str(rng.randint(1, 9) * 100), "Won"
        elif kind == "owner":
            owner = "manager"
        elif kind == "new":
            ext = f"N-{i}"
        elif kind == "lost":
            stage = "Lost"  # without a reason: moved all the same, its reason «Not given (import)»
        elif kind == "bad stage":
            stage = "Нет такого этапа"
        lines.append(";".join([ext, title, amount, pipeline, stage, company, "", email, "", owner, "сайт"]))
    return lines


@pytest.mark.parametrize("user", ["admin", "head"])
def test_a_second_file_changes_the_deals_the_set_based_path_as_the_per_row_path_does(org, tmp_path, user,
                                                                                      monkeypatch):
    first, second = tmp_path / "deals.csv", tmp_path / "changes.csv"
    first.write_text(HEADER + "\n".join(_rows(11, 160)) + "\n", encoding="utf-8")
    second.write_text(HEADER + "\n".join(_changes(12, 160)) + "\n", encoding="utf-8")
    set_based, handed = agree_on_changes(lambda: _fresh(org), getattr(org, user), "deals", first, second,
                                         "external_id", _state, monkeypatch)
    created, updated, _merged, skipped, failed = set_based["outcomes"][0]
    assert updated > 30 and failed > 15 and skipped > 0 and created > 3, set_based["outcomes"]
    assert set_based["outcomes"][1][0] == 0  # a re-run creates nothing (rows naming a deal twice change it again)
    assert handed[True] < 40  # the set-based run: only a deal's second row in a chunk takes the per-row path


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_file_of_ids_and_new_amounts_changes_the_deals_it_names(org, tmp_path, bulk):
    """With a key, a file need not fill the fields a new record requires: it may only change what it names.
    A row naming no deal is then a new one, refused for what it lacks."""
    sales.default_pipeline(org.admin)
    deal = factories.deal(org.admin, title="Поставка", amount=1000)
    ExternalKey.objects.create(entity="deals", external_id="D-1", record_id=deal.pk)
    path = tmp_path / "changes.csv"
    path.write_text("ID;Сумма;Этап\nD-1;2 500,00;Won\nD-2;300;\n", encoding="utf-8")
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=50, key="external_id")
    assert (job.updated, job.failed) == (1, 1)
    assert [(e.row, e.errors[0]["field"]) for e in job.row_errors.all()] == [(3, "title")]
    deal.refresh_from_db()
    assert (deal.title, str(deal.amount), deal.stage.name, deal.closed_at is not None) == ("Поставка", "2500.00",
                                                                                          "Won", True)


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_stage_of_another_pipeline_fails_naming_the_pipelines_that_have_it_and_the_one_asked(org, tmp_path, bulk):
    from django.utils import translation

    _base(org)  # the standard pipeline, and «Партнёры»: Знакомство, Договор, Партнёр
    sales.create_pipeline(org.admin, {"name": "Опт", "stages": [{"name": "Переговоры"}, {"name": "Отгрузка"}]})
    sales.create_pipeline(org.admin, {"name": "Розница", "stages": [{"name": "Переговоры"}]})
    path = tmp_path / "deals.csv"
    path.write_text(HEADER + "\n".join([
        ";Станки;1000;Опт;Знакомство;;;;;;",  # only «Партнёры» has it
        ";Линия;1000;Партнёры; Переговоры ;;;;;;",  # «Опт» and «Розница» have it
        ";Пресс;1000;Опт;Отгрузка;;;;;;",  # its own: created
        ";Лазер;1000;Опт;Нет такого;;;;;;",  # nowhere
    ]) + "\n", encoding="utf-8")
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=50)
    assert reported([job])["failures"] == [[
        (2, (("stage", "stage «Знакомство» is in pipeline «Партнёры», not in «Опт»"),)),
        (3, (("stage", "stage «Переговоры» is in pipelines «Опт», «Розница», not in «Партнёры»"),)),
        (5, (("stage", "no stage named Нет такого"),)),
    ]]
    assert list(Deal.objects.values_list("title", "pipeline__name", "stage__name")) == [("Пресс", "Опт", "Отгрузка")]
    with translation.override("ru"):
        job = import_file(org.admin, "deals", path, bulk=bulk, chunk=50)
    assert reported([job])["failures"][0][0] == (
        2, (("stage", "этап «Знакомство» есть в воронке «Партнёры», а не в «Опт»"),))


# ---- a migration's history: close dates, currencies by name, amoCRM's contact columns ----------------------

HISTORY = "Название;Сумма;Валюта;Этап;Дата закрытия;Ожидаемая дата закрытия;Причина отказа\n"


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_deal_won_or_lost_in_september_closed_then_and_is_not_won_this_month(org, tmp_path, bulk):
    import datetime as dt

    from django.utils import timezone

    from krug.analytics import services as analytics

    sales.default_pipeline(org.admin)
    path = tmp_path / "deals.csv"
    path.write_text(HISTORY + "\n".join([
        "Выиграна;1000;RUB;Won;01.09.2026;;",
        "Проиграна;2000;RUB;Lost;15.09.2026 18:30;;Дорого",
        "Открыта;3000;RUB;Negotiation;01.09.2026;;",  # an open deal ignores a close date
        "По плану;4000;RUB;Won;;02.10.2026;",  # a won deal without one closed on its (past) expected close
    ]) + "\n", encoding="utf-8")
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=50)
    assert (job.created, job.failed) == (4, 0), reported([job])
    deals = {d.title: d for d in Deal.objects.all()}
    local = {title: (timezone.localdate(d.closed_at) if d.closed_at else None) for title, d in deals.items()}
    assert local == {"Выиграна": dt.date(2026, 9, 1), "Проиграна": dt.date(2026, 9, 15), "Открыта": None,
                     "По плану": dt.date(2026, 10, 2)}
    for title in ("Выиграна", "Проиграна", "По плану"):
        deal = deals[title]
        assert deal.stage_entered_at == deal.closed_at
        assert list(StageHistory.objects.filter(deal=deal).values_list("entered_at", flat=True)) == [deal.closed_at]
    assert timezone.now() - deals["Открыта"].stage_entered_at < dt.timedelta(minutes=5)
    this_month = analytics.month_bounds(timezone.localdate())
    assert analytics.won(org.admin, *this_month)["count"] == 0
    assert analytics.won(org.admin, dt.date(2026, 9, 1), dt.date(2026, 9, 30))["count"] == 1


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_currencies_named_as_bitrix24_writes_them_are_read_and_an_unknown_one_fails_naming_it(org, tmp_path, bulk):
    sales.default_pipeline(org.admin)
    names = {"Российский рубль": "RUB", "руб.": "RUB", "₽": "RUB", "RUR": "RUB", "Доллар США": "USD", "$": "USD",
             "евро": "EUR", "€": "EUR", "Китайский юань": "CNY", "Тенге": "KZT", "Белорусский рубль": "BYN",
             "usd": "USD"}
    path = tmp_path / "deals.csv"
    path.write_text(HISTORY + "\n".join(f"{name};100;{name};;;;" for name in names)
                    + "\nТугрики;100;Тугрик монгольский;;;;\n", encoding="utf-8")
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=5)
    assert dict(Deal.objects.values_list("title", "currency")) == names
    assert reported([job])["failures"] == [[(len(names) + 2, (
        ("currency", "Тугрик монгольский is not a currency; write its ISO 4217 code, such as RUB"),))]]


def test_the_value_page_offers_currencies_and_recognises_their_names(org, tmp_path):
    from krug.transfer import services, values

    sales.default_pipeline(org.admin)
    factories.deal(org.admin, title="В тенге", currency="AMD")
    path = tmp_path / "deals.csv"
    path.write_text(HISTORY + "А;1;Российский рубль;;;;\nБ;1;Тугрик;;;;\n", encoding="utf-8")
    with path.open("rb") as stream:
        job = services.upload(org.admin, "deals", path.name, stream)
    found = {f["field"]: f for f in values.found(job)["fields"]}["currency"]
    assert {v["value"]: v["recognised"] for v in found["values"]} == {"Российский рубль": "RUB", "Тугрик": None}
    assert [o["value"] for o in found["options"]] == ["RUB", "USD", "EUR", "CNY", "KZT", "BYN", "AMD"]


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_amocrm_deals_find_their_contact_by_the_contact_columns(org, tmp_path, bulk):
    from krug.transfer import mapping

    sales.default_pipeline(org.admin)
    _base(org)
    header = ["Название сделки", "Рабочий email (контакт)", "Личный email (контакт)",
              "Мобильный телефон (контакт)", "Рабочий телефон (контакт)", "Дата закрытия", "Закрыта"]
    assert mapping.guess("deals", header) == ["title", "contact_email", "", "contact_phone", "", "closed_at", ""]
    assert mapping.guess("deals", ["Closed on", "Close date", "Ожидаемое закрытие"]) == [
        "closed_at", "", "expected_close"]
    path = tmp_path / "deals.csv"
    path.write_text(";".join(header) + "\nПо почте;OLEG@orlov.ru;;;;;\nПо телефону;;;8 912 345-67-89;;;\n",
                    encoding="utf-8")
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=50)
    assert (job.created, job.failed) == (2, 0), reported([job])
    assert dict(Deal.objects.values_list("title", "contact__surname")) == {"По почте": "Орлов",
                                                                          "По телефону": "Лисина"}
