"""Deals from Bitrix24 and amoCRM arrive whole (a migration trial's findings): a deal finds its contact by his
full name, a lost deal without a reason is imported, a row that closes an existing deal dates it, a stage value
is chosen per pipeline, and a deal keeps the date the old CRM created it. On both import paths."""

import datetime as dt
import random

import pytest
from django.utils import timezone, translation

from krug.clients.models import Company, TimelineEvent
from krug.core.errors import ValidationFailed
from krug.sales import services as sales
from krug.sales.models import Deal, Pipeline, Stage, StageHistory
from krug.transfer import mapping, services, values
from krug.transfer.models import ImportJob
from tests import factories
from tests.transfer.both_paths import agree, agree_on_changes, import_file, reported

BOTH = pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])


def _moment(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.strptime(text, "%d.%m.%Y %H:%M"), timezone.get_default_timezone())


def _warnings(job: ImportJob) -> list[tuple[int, str, str]]:
    return [(e.row, x["field"], x["message"]) for e in job.row_errors.all() for x in e.errors if x.get("warning")]


def _file(tmp_path, text: str):
    path = tmp_path / "deals.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _upload(by, tmp_path, text: str) -> ImportJob:
    path = _file(tmp_path, text)
    with path.open("rb") as stream:
        return services.upload(by, "deals", path.name, stream)


def _run(job: ImportJob, bulk: bool) -> ImportJob:
    from krug.transfer import importer

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    return importer.run(job.pk, chunk_size=3, bulk=bulk)


# ---- the columns ------------------------------------------------------------------------------------------

def test_the_contact_and_creation_columns_of_bitrix24_and_amocrm_are_recognised():
    bitrix = ["ID", "Название", "Стадия сделки", "Направление", "Сумма", "Валюта", "Компания", "Контакт",
              "Ответственный", "Дата начала", "Предполагаемая дата закрытия", "Комментарий"]
    assert mapping.guess("deals", bitrix) == [
        "external_id", "title", "stage", "pipeline", "amount", "currency", "company", "contact_name", "owner",
        "created_at", "expected_close", "description"]
    amo = ["ID", "Название сделки", "Дата создания", "Кем создана", "Этап сделки", "Воронка", "Полное имя контакта",
           "Компания контакта", "Рабочий телефон (контакт)", "Рабочий email (контакт)", "Компания", "Дата закрытия"]
    assert mapping.guess("deals", amo) == [
        "external_id", "title", "created_at", "", "stage", "pipeline", "contact_name", "", "contact_phone",
        "contact_email", "company", "closed_at"]
    assert mapping.guess("deals", ["Contact name", "Контактное лицо", "Created at", "Creation date"]) == [
        "contact_name", "", "created_at", ""]


# ---- 1. a deal's contact by his name ---------------------------------------------------------------------

def _people(org) -> dict[str, int]:
    """The manager's contacts: two Andrey Smirnovs of two companies, two Maxim Kravtsovs, and others."""
    by = org.manager
    vector = factories.company(by, name="ООО «Вектор Плюс»")
    alpha = factories.company(by, name="Альфа")
    made = {
        "Смирнов А. П.": factories.contact(by, surname="Смирнов", first_name="Андрей", patronymic="Петрович",
                                           company_id=vector.pk),
        "Смирнов А. И.": factories.contact(by, surname="Смирнов", first_name="Андрей", patronymic="Иванович",
                                           company_id=alpha.pk),
        "Громова": factories.contact(by, surname="Громова", first_name="Лариса", patronymic="Ивановна"),
        "Орлова": factories.contact(by, surname="Орлова", first_name="Алёна"),
        "Кравцов 1": factories.contact(by, surname="Кравцов", first_name="Максим", company_id=alpha.pk),
        "Кравцов 2": factories.contact(by, surname="Кравцов", first_name="Максим"),
        "Егорова": factories.contact(by, surname="Егорова", first_name="Светлана", emails=["sveta@ego.ru"]),
    }
    factories.contact(org.outsider, surname="Чужой", first_name="Пётр")  # another team's: not the manager's to link
    return {label: c.pk for label, c in made.items()}


NAMED = ("ID;Название;Компания;Контакт;Email контакта\n"
         "1;Полное имя;ООО «Вектор Плюс»;Смирнов Андрей Петрович;\n"
         "2;Имя первым, компания решает;Вектор Плюс;Андрей Смирнов;\n"
         "3;Двое без компании;;Смирнов Андрей;\n"
         "4;Отчество в середине;;Лариса Ивановна Громова;\n"
         "5;Регистр и ё;;ОРЛОВА АЛЕНА;\n"
         "6;Тёзки не из этой компании;ООО «Вектор Плюс»;Кравцов Максим;\n"
         "7;Никого;;Никто Никтович;\n"
         "8;Почта важнее имени;;Смирнов Андрей;sveta@ego.ru\n"
         "9;Чужой контакт;;Чужой Пётр;\n")


@BOTH
def test_a_deals_contact_is_found_by_his_full_name_and_one_it_cannot_tell_is_a_warning(org, tmp_path, bulk):
    sales.default_pipeline(org.admin)
    people = _people(org)
    job = import_file(org.manager, "deals", _file(tmp_path, NAMED), bulk=bulk, chunk=4)
    assert (job.created, job.failed, job.warned) == (9, 0, 4)
    contacts = dict(Deal.objects.values_list("title", "contact_id"))
    assert contacts == {"Полное имя": people["Смирнов А. П."], "Имя первым, компания решает": people["Смирнов А. П."],
                        "Двое без компании": None, "Отчество в середине": people["Громова"],
                        "Регистр и ё": people["Орлова"], "Тёзки не из этой компании": None, "Никого": None,
                        "Почта важнее имени": people["Егорова"], "Чужой контакт": None}
    assert _warnings(job) == [
        (4, "contact_name", "contact «Смирнов Андрей» — 2 contacts with this name, the deal was created without a "
                            "contact"),
        (7, "contact_name", "contact «Кравцов Максим» — 2 contacts with this name, the deal was created without a "
                            "contact"),
        (8, "contact_name", "contact «Никто Никтович» — no contact with this name, the deal was created without a "
                            "contact"),
        (10, "contact_name", "contact «Чужой Пётр» — no contact with this name, the deal was created without a "
                             "contact")]
    assert reported([job])["outcomes"] == [(9, 0, 0, 0, 0)]  # warned rows are imported, not failed
    failed_rows = "".join(services.failed_rows_csv(job))
    assert "Смирнов Андрей» — 2 contacts with this name" in failed_rows


@BOTH
def test_a_contact_written_in_latin_letters_is_found_by_his_russian_name(org, tmp_path, bulk):
    sales.default_pipeline(org.admin)
    petrov = factories.contact(org.manager, surname="Petrov", first_name="Sergey")
    xenia = factories.contact(org.manager, surname="Shchukina", first_name="Xenia")
    factories.contact(org.manager, surname="Petrova", first_name="Sergeya")  # a prefix, not the name
    rows = ("ID;Название;Контакт\n1;Латиница;Петров Сергей\n2;Имя первым, другое написание;Ксения Щукина\n"
            "3;Не он;Петров Степан\n")
    job = import_file(org.manager, "deals", _file(tmp_path, rows), bulk=bulk, chunk=50)
    assert (job.created, job.failed, job.warned) == (3, 0, 1)
    assert dict(Deal.objects.values_list("title", "contact_id")) == {
        "Латиница": petrov.pk, "Имя первым, другое написание": xenia.pk, "Не он": None}


@BOTH
def test_the_warning_is_russian_for_a_russian_import_and_a_rerun_says_the_contact_stayed(org, tmp_path, bulk):
    sales.default_pipeline(org.admin)
    _people(org)
    path = _file(tmp_path, NAMED)
    with translation.override("ru"):
        first = import_file(org.manager, "deals", path, bulk=bulk, chunk=50, key="external_id")
        again = import_file(org.manager, "deals", path, bulk=bulk, chunk=50, key="external_id")
    assert _warnings(first)[0][2] == "контакт «Смирнов Андрей» — 2 контакта с таким именем, сделка создана без контакта"
    assert (again.created, again.skipped, again.warned) == (0, 9, 4)
    assert _warnings(again)[2][2] == "контакт «Никто Никтович» — нет контакта с таким именем, контакт сделки не изменён"


@BOTH
def test_a_deal_keeps_its_contact_when_his_name_fits_him_and_a_namesake(org, tmp_path, bulk):
    sales.default_pipeline(org.admin)
    people = _people(org)
    path = _file(tmp_path, "ID;Название;Контакт\n1;Сделка;Кравцов Максим\n")
    import_file(org.admin, "deals", path, bulk=bulk, chunk=50, key="external_id")
    deal = Deal.objects.get()
    sales.update_deal(org.admin, deal, {"contact_id": people["Кравцов 2"]})
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=50, key="external_id")
    assert (job.skipped, job.warned) == (1, 0)
    assert Deal.objects.get().contact_id == people["Кравцов 2"]


# ---- 2. lost deals without a reason ----------------------------------------------------------------------

@BOTH
def test_a_lost_deal_without_a_reason_is_imported_saying_so_and_a_manual_move_still_asks(org, tmp_path, bulk,
                                                                                         api_as):
    sales.default_pipeline(org.admin)
    job = import_file(org.admin, "deals", _file(tmp_path, (
        "ID;Название;Этап;Причина отказа\n1;Без причины;Lost;\n2;С причиной;Lost;Дорого\n3;Пока открыта;New;\n")),
        bulk=bulk, chunk=50, key="external_id")
    assert (job.created, job.failed) == (3, 0), reported([job])
    moved = import_file(org.admin, "deals", _file(tmp_path, "ID;Название;Этап\n3;Пока открыта;Lost\n"),
                        bulk=bulk, chunk=50, key="external_id")
    assert (moved.updated, moved.failed) == (1, 0), reported([moved])
    assert dict(Deal.objects.values_list("title", "loss_reason")) == {
        "Без причины": "Not given (import)", "С причиной": "Дорого", "Пока открыта": "Not given (import)"}
    with translation.override("ru"):
        import_file(org.admin, "deals", _file(tmp_path, "Название;Этап\nПо-русски;Lost\n"), bulk=bulk, chunk=50)
    assert Deal.objects.get(title="По-русски").loss_reason == "Не указана (импорт)"
    open_deal = factories.deal(org.admin, title="Вручную")
    lost = Stage.objects.get(kind=Stage.Kind.LOST)
    with pytest.raises(ValidationFailed) as refused:
        sales.move_deal(org.admin, open_deal, lost.pk)
    assert "loss_reason" in refused.value.errors
    answer = api_as("admin").post(f"/deals/{open_deal.pk}/move", {"stage_id": lost.pk})
    assert answer.status_code == 422 and "loss_reason" in [e["field"] for e in answer.json()["errors"]]


# ---- 3. a row that closes an existing deal dates it ------------------------------------------------------

@BOTH
def test_a_row_moving_a_deal_to_won_closes_it_on_its_close_date_with_its_history(org, tmp_path, bulk):
    sales.default_pipeline(org.admin)
    company = factories.company(org.admin, name="Гамма")
    import_file(org.admin, "deals", _file(tmp_path, (
        "ID;Название;Компания;Этап;Дата создания\n1;Старая;Гамма;New;01.09.2026 10:00\n2;Тоже;Гамма;New;"
        "01.09.2026 10:00\n3;Сегодняшняя;Гамма;New;\n")), bulk=bulk, chunk=50, key="external_id")
    job = import_file(org.admin, "deals", _file(tmp_path, (
        "ID;Этап;Дата закрытия\n1;Won;15.09.2026\n2;Lost;01.10.2026 18:30\n3;Won;15.09.2026\n")),
        bulk=bulk, chunk=50, key="external_id")
    assert (job.updated, job.failed) == (3, 0), reported([job])
    deals = {d.title: d for d in Deal.objects.all()}
    noon = {title: timezone.localtime(deals[title].closed_at) for title in deals}
    assert noon["Старая"] == _moment("15.09.2026 12:00") and noon["Тоже"] == _moment("01.10.2026 12:00")
    assert timezone.now() - deals["Сегодняшняя"].closed_at < dt.timedelta(minutes=5)  # not before it entered New
    for deal in deals.values():
        stays = list(StageHistory.objects.filter(deal=deal).order_by("entered_at", "pk").values_list(
            "entered_at", "left_at"))
        assert deal.stage_entered_at == deal.closed_at
        assert stays[-1] == (deal.closed_at, None) and stays[0][1] == deal.closed_at
        assert TimelineEvent.objects.get(deal_id=deal.pk, kind=TimelineEvent.Kind.STAGE, company=company).at \
            == deal.closed_at


def test_move_deal_takes_the_close_date_only_from_an_import(org):
    sales.default_pipeline(org.admin)
    deal = sales.create_deal(org.admin, {"title": "Старая"}, created_at=_moment("01.08.2026 09:00"))
    won = Stage.objects.get(kind=Stage.Kind.WON)
    sales.move_deal(org.admin, deal, won.pk, closed_on=dt.date(2026, 9, 1))
    assert (deal.closed_at, deal.stage_entered_at) == (_moment("01.09.2026 12:00"), _moment("01.09.2026 12:00"))
    deal = factories.deal(org.admin, title="Сейчас")
    sales.move_deal(org.admin, deal, won.pk)
    assert timezone.now() - deal.closed_at < dt.timedelta(minutes=5)


# ---- 4. stage choices per pipeline -----------------------------------------------------------------------

PIPELINES = ("Название;Воронка;Этап\n"
             "В продажах;Sales;Торги\n"
             "Без воронки;;Торги\n"
             "У партнёров;Партнёры;Торги\n"
             "Неизвестно где;Тендеры;Торги\n")


def _pipelines(org) -> tuple[Pipeline, Pipeline]:
    main = sales.default_pipeline(org.admin)
    partners = sales.create_pipeline(org.admin, {"name": "Партнёры", "stages": [
        {"name": "Знакомство"}, {"name": "Договор"}, {"name": "Партнёр", "kind": "won"}]})
    return main, partners


def test_the_values_page_lists_stage_values_by_pipeline_with_that_pipelines_stages(org, tmp_path):
    main, partners = _pipelines(org)
    job = _upload(org.admin, tmp_path, PIPELINES)
    stages = [f for f in values.found(job)["fields"] if f["field"] == "stage"]
    assert [(f["pipeline"], f["pipeline_id"], [v["rows"] for v in f["values"]]) for f in stages] == [
        ("Sales", main.pk, [2]), ("Партнёры", partners.pk, [1]), (None, None, [1])]
    assert [o["value"] for o in stages[1]["options"]] == ["Знакомство", "Договор", "Партнёр"]
    assert [o["value"] for o in stages[0]["options"]] == list(
        main.stages.order_by("position").values_list("name", flat=True))


@BOTH
def test_a_stage_value_becomes_a_stage_of_the_rows_pipeline(org, tmp_path, bulk):
    main, partners = _pipelines(org)
    job = _upload(org.admin, tmp_path, PIPELINES)
    services.configure(org.admin, job, values_={"pipeline": {"Тендеры": "Партнёры"}, "stage": {
        "sales": {"Торги": "Negotiation"}, str(partners.pk): {"Торги": "Договор"}}})
    job.refresh_from_db()
    assert job.values["stage"] == {str(main.pk): {"торги": "Negotiation"},
                                   str(partners.pk): {"торги": "Договор"}}
    done = _run(job, bulk)
    assert (done.created, done.failed) == (4, 0), reported([done])
    assert sorted(Deal.objects.values_list("title", "pipeline__name", "stage__name")) == [
        ("Без воронки", "Sales", "Negotiation"), ("В продажах", "Sales", "Negotiation"),
        ("Неизвестно где", "Партнёры", "Договор"), ("У партнёров", "Партнёры", "Договор")]


def test_the_command_line_lists_and_takes_stage_choices_per_pipeline(org, tmp_path, capsys, monkeypatch):
    from krug import cli

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):  # it speaks English
        monkeypatch.delenv(name, raising=False)
    _pipelines(org)
    path = _file(tmp_path, PIPELINES)
    assert cli.main(["import", str(path), "--entity", "deals", "--as", "admin"]) == 2
    err = capsys.readouterr().err
    assert "«Stage · Партнёры» (stage.Партнёры):\n  «Торги» — 1 row\n  it may become: Знакомство, Договор" in err
    assert "(pipeline):\n  «Тендеры» — 1 row" in err and not Deal.objects.exists()
    assert cli.main(["import", str(path), "--entity", "deals", "--as", "admin", "--value", "pipeline:Тендеры=Sales",
                     "--value", "stage:Торги=Negotiation", "--value", "stage.Партнёры:Торги=Договор"]) == 0
    assert sorted(Deal.objects.values_list("title", "stage__name")) == [
        ("Без воронки", "Negotiation"), ("В продажах", "Negotiation"), ("Неизвестно где", "Negotiation"),
        ("У партнёров", "Договор")]


def test_a_stage_of_another_pipeline_or_an_unknown_pipeline_is_refused_naming_them(org, tmp_path, api_as):
    main, partners = _pipelines(org)
    job = _upload(org.admin, tmp_path, PIPELINES)
    with pytest.raises(ValidationFailed) as bad:
        services.configure(org.admin, job, values_={"stage": {"Партнёры": {"Торги": "Negotiation"}}})
    assert bad.value.errors == {"values.stage.Партнёры": [
        "«Торги» cannot become «Negotiation»: not a stage of the pipeline «Партнёры»"]}
    with pytest.raises(ValidationFailed) as bad:
        services.configure(org.admin, job, values_={"stage": {"Тендеры": {"Торги": "Договор"}}})
    assert list(bad.value.errors) == ["values.stage.Тендеры"]
    api = api_as("admin")
    answer = api.patch(f"/imports/{job.pk}", {"values": {"stage": {str(partners.pk): {"Торги": "Won"}}}})
    assert answer.status_code == 422
    assert [(e["field"], "«Торги»" in e["message"]) for e in answer.json()["errors"]] == [
        (f"values.stage.{partners.pk}", True)]
    answer = api.patch(f"/imports/{job.pk}", {"values": {"stage": {"Партнёры": {"Торги": "Договор"}}}})
    assert answer.status_code == 200 and answer.json()["values"] == {
        "stage": {str(partners.pk): {"торги": "Договор"}}}
    shown = api.get(f"/imports/{job.pk}/values").json()["fields"]
    assert [(f["pipeline"], f["values"][0]["becomes"]) for f in shown if f["field"] == "stage"] == [
        ("Sales", None), ("Партнёры", "Договор"), (None, None)]


@BOTH
def test_stage_choices_stored_before_they_were_per_pipeline_still_work(org, tmp_path, bulk):
    _pipelines(org)
    job = _upload(org.admin, tmp_path, PIPELINES)
    ImportJob.objects.filter(pk=job.pk).update(values={"stage": {"торги": "Negotiation"}})
    job.refresh_from_db()
    done = _run(job, bulk)
    assert (done.created, done.failed) == (2, 2)
    assert sorted(Deal.objects.values_list("title", "stage__name")) == [
        ("Без воронки", "Negotiation"), ("В продажах", "Negotiation")]
    job = _upload(org.admin, tmp_path, PIPELINES)
    services.configure(org.admin, job, values_={"stage": {"Торги": "Договор"}})  # the old form, too
    assert job.values["stage"] == {"*": {"торги": "Договор"}}


def test_the_mapping_page_chooses_stages_per_pipeline(client, org, tmp_path):
    main, partners = _pipelines(org)
    client.force_login(org.admin)
    job = _upload(org.admin, tmp_path, PIPELINES)
    page = client.get(f"/transfer/import/{job.pk}/").content.decode()
    assert f'name="v:stage.{partners.pk}:торги"' in page and f'name="v:stage.{main.pk}:торги"' in page
    form = {f"col{i}": name for i, name in enumerate(job.mapping)}
    form.update({"key": "", "go": "preview", f"v:stage.{partners.pk}:торги": "Договор",
                 f"v:stage.{main.pk}:торги": "Negotiation", "v:stage.*:торги": "?"})
    assert client.post(f"/transfer/import/{job.pk}/mapping/", form, HTTP_HX_REQUEST="true").status_code == 200
    job.refresh_from_db()
    assert job.values == {"stage": {str(main.pk): {"торги": "Negotiation"},
                                    str(partners.pk): {"торги": "Договор"}}}
    form[f"v:stage.{partners.pk}:торги"] = "Negotiation"
    answer = client.post(f"/transfer/import/{job.pk}/mapping/", form, HTTP_HX_REQUEST="true").content.decode()
    assert f'id="e-values-stage.{partners.pk}"' in answer


# ---- 5. when the old CRM created the deal ----------------------------------------------------------------

@BOTH
def test_a_deal_keeps_the_date_the_old_crm_created_it_and_a_rerun_does_not_change_it(org, tmp_path, bulk):
    sales.default_pipeline(org.admin)
    company = factories.company(org.admin, name="Гамма")
    path = _file(tmp_path, ("ID;Название;Компания;Дата начала\n"
                            "1;Дата;Гамма;01.09.2026\n2;С минутами;Гамма;01.09.2026 10:00\n"
                            "3;С секундами;Гамма;01.09.2026 10:00:30\n4;ISO;Гамма;2026-09-01T10:00:00+03:00\n"
                            "5;Будущая;Гамма;01.12.2030\n6;Сейчас;Гамма;\n"))
    job = import_file(org.admin, "deals", path, bulk=bulk, chunk=4, key="external_id")
    assert (job.created, job.failed) == (5, 1)
    assert [(e.row, e.errors[0]["field"]) for e in job.row_errors.all()] == [(6, "created_at")]
    created = {d.title: d.created_at for d in Deal.objects.all()}
    assert {t: timezone.localtime(c) for t, c in created.items() if t != "Сейчас"} == {
        "Дата": _moment("01.09.2026 00:00"), "С минутами": _moment("01.09.2026 10:00"),
        "С секундами": _moment("01.09.2026 10:00") + dt.timedelta(seconds=30), "ISO": _moment("01.09.2026 10:00")}
    assert timezone.now() - created["Сейчас"] < dt.timedelta(minutes=5)
    for deal in Deal.objects.all():
        assert deal.stage_entered_at == deal.created_at
        assert StageHistory.objects.get(deal=deal).entered_at == deal.created_at
        assert TimelineEvent.objects.get(deal_id=deal.pk, kind=TimelineEvent.Kind.DEAL, company=company).at \
            == deal.created_at
    path.write_text("ID;Название;Дата начала\n2;С минутами;02.09.2026 11:00\n", encoding="utf-8")
    again = import_file(org.admin, "deals", path, bulk=bulk, chunk=4, key="external_id")
    assert (again.created, again.updated, again.skipped) == (0, 0, 1)
    assert Deal.objects.get(title="С минутами").created_at == created["С минутами"]


# ---- a trial's files, whole ------------------------------------------------------------------------------

AMO = ("ID;Название сделки;Бюджет;Дата создания;Этап сделки;Воронка;Полное имя контакта;Компания контакта;"
       "Компания;Дата закрытия\n"
       "7001;Вектор — модуль;250 000;01.09.2026 10:00;Первичный контакт;Воронка;Смирнов Андрей;"
       "ООО «Вектор Плюс»;ООО «Вектор Плюс»;\n"
       "7005;Зета — подписка;480000;01.09.2026 10:00;Успешно реализовано;Воронка;Громова Лариса;;;15.10.2026\n"
       "7006;Гамма — расширение;90000;01.09.2026 10:00;Закрыто и не реализовано;Воронка;Кравцов Максим;;;"
       "01.10.2026\n")


@BOTH
def test_an_amocrm_deals_file_arrives_whole(org, tmp_path, bulk):
    main = sales.default_pipeline(org.admin)
    people = _people(org)
    job = _upload(org.admin, tmp_path, AMO)
    services.configure(org.admin, job, values_={"pipeline": {"Воронка": "Sales"}, "stage": {str(main.pk): {
        "Первичный контакт": "New", "Успешно реализовано": "Won", "Закрыто и не реализовано": "Lost"}}})
    done = _run(job, bulk)
    assert (done.created, done.failed, done.warned) == (3, 0, 1), reported([done])
    got = {d.title: (d.stage.name, d.contact_id, d.loss_reason, timezone.localtime(d.created_at),
                     d.closed_at and timezone.localdate(d.closed_at)) for d in Deal.objects.select_related("stage")}
    assert got == {
        "Вектор — модуль": ("New", people["Смирнов А. П."], "", _moment("01.09.2026 10:00"), None),
        "Зета — подписка": ("Won", people["Громова"], "", _moment("01.09.2026 10:00"), dt.date(2026, 10, 15)),
        "Гамма — расширение": ("Lost", None, "Not given (import)", _moment("01.09.2026 10:00"),
                               dt.date(2026, 10, 1))}


@BOTH
def test_the_standard_stages_made_in_english_are_found_by_their_russian_names(org, tmp_path, bulk):
    """An import run from an English terminal makes the standard pipeline in English; the team's Russian file
    still names its stages (and the pipeline) in Russian. A stage renamed by hand is only its new name."""
    with translation.override("en"):
        pipeline = sales.default_pipeline(org.admin)
    assert pipeline.name == "Sales"
    qualification = Stage.objects.get(pipeline=pipeline, name="Qualification")
    sales.update_stage(org.admin, qualification, {"name": "Квалификация лида"})
    rows = ("ID;Название;Воронка;Этап\n1;Торг;Продажи;Переговоры\n2;Успех;;ВЫИГРАНА\n3;Английский;;Proposal sent\n"
            "4;Старое имя;;Квалификация\n")
    job = import_file(org.manager, "deals", _file(tmp_path, rows), bulk=bulk, chunk=50)
    assert (job.created, job.failed) == (3, 1), reported([job])
    assert dict(Deal.objects.values_list("title", "stage__name")) == {
        "Торг": "Negotiation", "Успех": "Won", "Английский": "Proposal sent"}
    failures = [(e.row, x["field"], x["message"]) for e in job.row_errors.all() for x in e.errors
                if not x.get("warning")]
    assert failures == [(5, "stage", "no stage named Квалификация")]


# ---- the two paths agree on a file mixing all of it ------------------------------------------------------

def _mixed(seed: int, count: int, ids: int) -> str:
    """Deal rows naming contacts by name (one, two or no contacts fit), companies, stages (won and lost with
    and without a close date) and creation dates; `ids` external ids, so later rows change earlier deals."""
    rng = random.Random(seed)
    lines = ["ID;Название;Компания;Контакт;Этап;Дата создания;Дата закрытия;Причина отказа"]
    for i in range(count):
        lines.append(";".join([
            f"M-{rng.randrange(ids)}", f"Сделка {i % 7}",
            rng.choice(["", "", "ООО «Вектор Плюс»", "Альфа", f"Новая {i % 3}"]),
            rng.choice(["", "Смирнов Андрей", "Андрей Смирнов Петрович", "Громова Лариса", "Кравцов Максим",
                        "Никто Никтович", "ОРЛОВА АЛЕНА"]),
            rng.choice(["", "New", "Negotiation", "Won", "Lost", "Lost"]),
            rng.choice(["", "01.09.2026 10:00", "15.08.2026"]), rng.choice(["", "", "20.09.2026"]),
            rng.choice(["", "", "Дорого"])]))
    return "\n".join(lines) + "\n"


def _when(moment) -> str:
    """A time as both runs give it: an old one as it is, one of the import's own runs as "now"."""
    if moment is None:
        return ""
    return "now" if timezone.now() - moment < dt.timedelta(hours=1) else timezone.localtime(moment).isoformat()


def _mixed_state(jobs: list[ImportJob]) -> dict:
    deals = {d.pk: d for d in Deal.objects.select_related("stage", "contact", "company")}

    def deal(pk):
        d = deals[pk]
        return (d.title, d.stage.name, d.contact.full_name if d.contact_id else "",
                d.company.name if d.company_id else "", d.loss_reason, _when(d.created_at),
                _when(d.stage_entered_at), _when(d.closed_at), d.version)

    return {**reported(jobs), "warned": [j.warned for j in jobs],
            "deals": sorted(deal(pk) for pk in deals),
            "history": sorted((deals[h.deal_id].title, h.stage.name, _when(h.entered_at), _when(h.left_at))
                              for h in StageHistory.objects.select_related("stage")),
            "events": sorted((e.kind, e.summary, _when(e.at), e.contact_id is not None, e.company_id is not None)
                             for e in TimelineEvent.objects.filter(deal_id__isnull=False))}


def _fresh(org):
    for model in (TimelineEvent, StageHistory, Deal):
        model.objects.all().delete()
    Company.objects.filter(name__startswith="Новая").delete()


def test_the_two_paths_agree_on_names_stages_and_dates(org, tmp_path, monkeypatch):
    sales.default_pipeline(org.admin)
    _people(org)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(_mixed(5, 90, 60), encoding="utf-8")
    second.write_text(_mixed(6, 90, 60), encoding="utf-8")
    state = agree(lambda: _fresh(org), org.manager, "deals", first, "external_id", _mixed_state)
    assert state["outcomes"][0][0] > 30 and state["warned"][0] > 10  # the file exercised every kind of row
    changed, _handed = agree_on_changes(lambda: _fresh(org), org.manager, "deals", first, second, "external_id",
                                        _mixed_state, monkeypatch)
    assert changed["outcomes"][0][1] > 20 and changed["warned"][0] > 10, changed["outcomes"]
