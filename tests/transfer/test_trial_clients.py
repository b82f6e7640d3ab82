"""Companies and contacts exported by Bitrix24 and amoCRM arrive whole and clean, on the per-row path and the
set-based one alike: the legal form taken out of the name, a cell of several phones kept, the address, the kind
of each phone and e-mail from its column, and the day each client came (their «Дата создания»)."""

import datetime as dt

import pytest
from django.utils import timezone

from krug.activities.models import Note
from krug.clients.models import Company, Contact, Lead, TimelineEvent
from krug.core.models import AuditEntry
from krug.quality.models import CompanyKey, ContactKey
from krug.transfer import mapping, services
from krug.transfer.models import ExternalKey
from tests import factories
from tests.transfer.both_paths import agree, import_file, reported

B24_COMPANIES = (
    "ID;Название компании;Тип компании;ИНН;Рабочий телефон;Рабочий e-mail;Корпоративный сайт;Адрес;"
    "Сфера деятельности;Комментарий;Ответственный;Дата создания\n"
    "201;ООО «Вектор Плюс»;Клиент;7701234560;+7 (495) 123-45-67;info@vector-plus.ru;vector-plus.ru;"
    "г. Москва, ул. Тверская, д. 12, оф. 301;ИТ;Ключевой клиент;manager;10.01.2021 12:00:00\n"
    "203;ООО \"ТехноСтрой\";Клиент;5027123457;+74957778899, +7 916 777-88-99, 8 916 777 88 99;"
    "zakaz@tehnostroy.ru, sales@tehnostroy.ru;www.tehnostroy.ru;Московская обл., г. Мытищи, ул. Мира, 5;"
    "Строительство;Тендер каждый квартал;;12.01.2021 12:00\n"
    "204;ИП Сергеев Андрей Викторович;Клиент;;8-903-111-22-33;sergeev.av@mail.ru;;г. Тула, ул. Ленина, 45;"
    "Розница;;;13.01.2021\n"
    "209;ЗАО «Дельта»;Другое;5406127776;(383) 222-33-44;delta@delta-nsk.ru;;г. Новосибирск, Красный пр-т, 1;;;;"
    "2021-01-18T09:30:00\n"
)
B24_CONTACTS = (
    "ID;Имя;Фамилия;Компания;Рабочий телефон;Мобильный телефон;Домашний телефон;Рабочий e-mail;Частный e-mail;"
    "Город;Дата создания\n"
    "101;Андрей;Смирнов;ООО «Вектор Плюс»;+7 (495) 123-45-67 доб. 12;+7 916 555-12-34;;a.smirnov@vector-plus.ru;"
    "andrey.smirnov@gmail.com;Москва;15.03.2021 10:22:11\n"
    "102;Елена;Козлова;ООО \"Вектор Плюс\";;89161234567;;buh@vector-plus.ru;;Москва;16.03.2021\n"
    "103;Андрей;Сергеев;ИП Сергеев Андрей Викторович;;8-903-111-22-33;8 (4872) 31-22-33;;sergeev.av@mail.ru;Тула;"
    "11.06.2022\n"
    "104;Ира;Цой;Вектор Плюс;;;;;;Москва;\n"
    "105;Олег;Ким;OOO «Вектор Плюс»;;+7 926 101-20-30;;;;Москва;01.08.2022 09:15\n"
)
MOSCOW = timezone.get_default_timezone()


def _when(moment: dt.datetime):
    """A moment the file gave, or "now" for one the import took (which differs between two runs)."""
    return "now" if moment > timezone.now() - dt.timedelta(hours=1) else moment


def _fresh():
    for model in (Note, Contact, Company, Lead, CompanyKey, ContactKey, TimelineEvent, AuditEntry, ExternalKey):
        model.objects.all().delete()


def _companies(jobs) -> dict:
    created = {e.company_id: e.at for e in TimelineEvent.objects.filter(kind="created", contact=None)}
    return {**reported(jobs), "companies": sorted(
        (c.name, c.legal_form, str(c), c.inn, c.phone, c.email, c.address, c.city, c.description, c.search_key,
         c.created_at, created[c.pk], c.version) for c in Company.objects.all())}


def _contacts(jobs) -> dict:
    created = {e.contact_id: e.at for e in TimelineEvent.objects.filter(kind="created", contact__isnull=False)}
    return {**reported(jobs), "contacts": sorted(
        (c.surname, str(c.company) if c.company_id else "", _when(c.created_at), _when(created[c.pk]), c.version,
         tuple((p.number, p.extension, p.kind) for p in c.phones.all()),
         tuple((e.email, e.kind) for e in c.emails.all())) for c in Contact.objects.all()),
        "companies": sorted((c.name, c.legal_form) for c in Company.objects.all())}


def test_a_bitrix24_company_sheet_arrives_whole_and_clean_on_both_paths(org, tmp_path):
    path = tmp_path / "b24_companies.csv"
    path.write_text(B24_COMPANIES, encoding="utf-8")
    state = agree(_fresh, org.admin, "companies", path, "external_id", _companies)
    assert state["outcomes"] == [(4, 0, 0, 0, 0), (0, 0, 0, 4, 0)]  # the re-run changes nothing
    found = {c[0]: c for c in state["companies"]}
    assert set(found) == {"Вектор Плюс", "ТехноСтрой", "Сергеев Андрей Викторович", "ЗАО «Дельта»"}
    vector, stroy, sole, delta = (found[n] for n in ("Вектор Плюс", "ТехноСтрой", "Сергеев Андрей Викторович",
                                                     "ЗАО «Дельта»"))
    assert vector[1:3] == ("ООО", "ООО «Вектор Плюс»")
    assert sole[1:3] == ("ИП", "ИП Сергеев Андрей Викторович")
    assert delta[1:3] == ("", "ЗАО «Дельта»")  # a form Krug has no choice for stays in the name
    assert (vector[6], vector[7]) == ("г. Москва, ул. Тверская, д. 12, оф. 301", "")  # no city guessed
    assert "тверская" in vector[9]  # the address is searched
    assert (stroy[4], stroy[5]) == ("+74957778899", "zakaz@tehnostroy.ru")
    assert stroy[8] == "Other phones: +79167778899\nOther e-mails: sales@tehnostroy.ru"  # «Комментарий»: a note
    assert vector[10] == vector[11] == dt.datetime(2021, 1, 10, 12, tzinfo=MOSCOW)
    assert stroy[10] == dt.datetime(2021, 1, 12, 12, tzinfo=MOSCOW)
    assert sole[10] == dt.datetime(2021, 1, 13, tzinfo=MOSCOW)
    assert delta[10] == dt.datetime(2021, 1, 18, 9, 30, tzinfo=MOSCOW)


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_the_other_phones_go_once_into_the_description_the_company_has(org, tmp_path, bulk):
    """An update or a merge adds the line to the company's own description (a user's text stays), once."""
    company = factories.company(org.admin, name="ТехноСтрой", inn="5027123457", phone="+74957778899",
                                description="Звонить до обеда")
    path = tmp_path / "companies.csv"
    path.write_text("Название;ИНН;Телефон\nООО ТехноСтрой;5027123457;+74957778899, 8 916 777-88-99\n",
                    encoding="utf-8")
    for outcome in ("updated", "skipped"):
        job = import_file(org.admin, "companies", path, bulk=bulk, chunk=50, key="inn")
        assert (job.updated, job.skipped) == ((1, 0) if outcome == "updated" else (0, 1))
    company.refresh_from_db()
    assert (company.legal_form, company.phone) == ("ООО", "+74957778899")
    assert company.description == "Звонить до обеда\nOther phones: +79167778899"
    path.write_text("Название;Телефон\nТехноСтрой;+74957778899, +7 916 777-88-99, 8 (495) 111-22-33\n",
                    encoding="utf-8")
    job = import_file(org.admin, "companies", path, bulk=bulk, chunk=50)  # no key: a duplicate, merged
    assert job.merged == 1
    company.refresh_from_db()
    assert company.description == "Звонить до обеда\nOther phones: +79167778899, +74951112233"


def test_bitrix24_contacts_get_their_companies_kinds_and_dates_on_both_paths(org, tmp_path):
    path = tmp_path / "b24_contacts.csv"
    path.write_text(B24_CONTACTS, encoding="utf-8")
    with path.open("rb") as stream:
        job = services.upload(org.admin, "contacts", path.name, stream)
    assert job.mapping == ["external_id", "first_name", "surname", "company", "phone_work", "phone_mobile",
                           "phone_home", "email_work", "email_personal", "city", "created_at"]
    state = agree(_fresh, org.admin, "contacts", path, "external_id", _contacts)
    assert state["outcomes"] == [(5, 0, 0, 0, 0), (0, 0, 0, 5, 0)]
    assert state["companies"] == [("Вектор Плюс", "ООО"), ("Сергеев Андрей Викторович", "ИП")]
    people = {c[0]: c for c in state["contacts"]}
    assert {c[1] for c in state["contacts"]} == {"ООО «Вектор Плюс»", "ИП Сергеев Андрей Викторович"}
    assert people["Смирнов"][5] == (("+74951234567", "12", "work"), ("+79165551234", "", "mobile"))
    assert people["Смирнов"][6] == (("a.smirnov@vector-plus.ru", "work"), ("andrey.smirnov@gmail.com", "personal"))
    assert people["Сергеев"][5] == (("+79031112233", "", "mobile"), ("+74872312233", "", "home"))
    assert people["Сергеев"][6] == (("sergeev.av@mail.ru", "personal"),)
    assert people["Смирнов"][2] == people["Смирнов"][3] == dt.datetime(2021, 3, 15, 10, 22, 11, tzinfo=MOSCOW)
    assert people["Козлова"][2] == dt.datetime(2021, 3, 16, tzinfo=MOSCOW)
    assert people["Ким"][2] == dt.datetime(2022, 8, 1, 9, 15, tzinfo=MOSCOW)
    assert people["Цой"][2] == "now"  # no date: the moment of the import


@pytest.mark.parametrize("key", ["phone", ""], ids=["updated by phone", "merged as a duplicate"])
@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_column_tells_the_kind_only_of_a_phone_or_e_mail_that_had_the_default(org, tmp_path, bulk, key):
    contact = factories.contact(org.admin, surname="Орлов", first_name="Пётр",
                                phones=["+7 495 123-45-67", {"number": "+7 916 555-12-34", "kind": "home"}],
                                emails=["orlov@example.ru"])
    created_at = contact.created_at
    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Рабочий телефон;Мобильный телефон;Частный e-mail;Дата создания\n"
                    "Орлов Пётр;8 495 123 45 67;8 916 555 12 34, +7 903 000-11-22;orlov@example.ru;01.02.2020\n",
                    encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key=key or None)
    assert (job.created, job.updated + job.merged, job.failed) == (0, 1, 0), list(job.row_errors.values("errors"))
    contact.refresh_from_db()
    assert [(p.number, p.kind) for p in contact.phones.all()] == [
        ("+74951234567", "work"), ("+79165551234", "home"), ("+79030001122", "mobile")]
    assert [(e.email, e.kind) for e in contact.emails.all()] == [("orlov@example.ru", "personal")]
    assert contact.created_at == created_at  # an update or a merge never moves it
    entry = AuditEntry.objects.filter(object_id=contact.pk, action="update").latest("id").changes
    assert entry["emails"] == [["orlov@example.ru (work)"], ["orlov@example.ru (personal)"]]
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key=key or None)
    assert (job.updated, job.failed) == (0, 0)  # told once: the re-run changes nothing


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_bad_number_in_a_kind_column_fails_the_row_naming_that_column(org, tmp_path, bulk):
    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Рабочий телефон;Мобильный телефон\nОрлов Пётр;12;+7 916 555-12-34\n", encoding="utf-8")
    job = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50)
    assert job.failed == 1
    [error] = job.row_errors.get().errors
    assert error["field"] == "phone_work"
    assert mapping.field_label("contacts", error["field"]) == "Phone (work)"


def test_the_preview_names_the_kind_column_of_a_bad_number(org, tmp_path):
    path = tmp_path / "contacts.csv"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).strftime("%d.%m.%Y")
    path.write_text(f"ФИО;Частный e-mail;Дата создания\nОрлов Пётр;orlov@;{tomorrow}\n", encoding="utf-8")
    with path.open("rb") as stream:
        job = services.upload(org.admin, "contacts", path.name, stream)
    [row] = services.preview(org.admin, job)
    assert sorted((e["field"], e["label"]) for e in row["errors"]) == [("created_at", "Created"),
                                                                      ("email_personal", "E-mail (personal)")]


@pytest.mark.parametrize("entity, header, row", [
    ("contacts", "ФИО;Дата создания", "Орлов Пётр;{}"),
    ("companies", "Название;Дата создания", "Вектор;{}"),
    ("leads", "Название;Телефон;Дата создания", "Заявка с сайта;+79165551234;{}"),
])
@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_a_creation_date_in_the_future_fails_the_row_and_an_old_one_stays_on_updates(org, tmp_path, bulk, entity,
                                                                                     header, row):
    path = tmp_path / "file.csv"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).strftime("%d.%m.%Y")
    path.write_text(f"ID;{header}\n1;{row.format(tomorrow)}\n", encoding="utf-8")
    job = import_file(org.admin, entity, path, bulk=bulk, chunk=50, key="external_id")
    assert job.failed == 1
    [error] = job.row_errors.get().errors
    assert error["field"] == "created_at" and "future" in error["message"]
    path.write_text(f"ID;{header}\n1;{row.format('15.03.2021 10:22')}\n", encoding="utf-8")
    job = import_file(org.admin, entity, path, bulk=bulk, chunk=50, key="external_id")
    assert job.created == 1
    model = {"contacts": Contact, "companies": Company, "leads": Lead}[entity]
    assert model.objects.get().created_at == dt.datetime(2021, 3, 15, 10, 22, tzinfo=MOSCOW)
    path.write_text(f"ID;{header}\n1;{row.format('01.01.2019')}\n", encoding="utf-8")
    job = import_file(org.admin, entity, path, bulk=bulk, chunk=50, key="external_id")
    assert (job.created, job.updated, job.skipped) == (0, 0, 1)  # the date alone changes nothing
    assert model.objects.get().created_at == dt.datetime(2021, 3, 15, 10, 22, tzinfo=MOSCOW)


def test_amocrm_headers_are_recognised():
    assert mapping.guess("contacts", ["Полное имя контакта", "Компания", "Рабочий телефон", "Мобильный телефон",
                                      "Рабочий email", "Личный email", "Дата создания", "Кем создан"]) == [
        "full_name", "company", "phone_work", "phone_mobile", "email_work", "email_personal", "created_at", ""]
    assert mapping.guess("companies", ["Наименование", "Рабочий телефон", "Рабочий email", "Адрес",
                                       "Юридический адрес", "Дата создания"]) == [
        "name", "phone", "email", "address", "", "created_at"]
    assert mapping.guess("contacts", ["Телефон", "E-mail", "Мобильный телефон 2", "Телефон (моб.)"]) == [
        "phone", "email", "phone_mobile", "phone_mobile"]
    assert mapping.guess("leads", ["Имя", "Рабочий телефон", "Личный email", "Дата создания"]) == [
        "first_name", "phone", "email", "created_at"]  # a lead keeps one phone and one e-mail, of no kind


def test_a_file_of_kind_columns_may_name_its_contacts_by_phone_or_e_mail():
    header = ["ФИО", "Рабочий телефон", "Личный email"]
    mapping.check("contacts", header, mapping.guess("contacts", header), "phone")
    mapping.check("contacts", header, mapping.guess("contacts", header), "email")


def test_the_export_has_the_address_and_names_a_contacts_company_with_its_form(client, api_as, org, tmp_path):
    """And the file imports back into the same company: its name with the form finds it."""
    from tests.transfer.test_export import _csv

    company = factories.company(org.manager, name="ООО «Вектор Плюс»", address="г. Москва, ул. Тверская, д. 12")
    factories.contact(org.manager, surname="Смирнов", company_id=company.pk)
    api = api_as("manager")
    companies = _csv(client, org.tokens["manager"], api.post("/exports", {"entity": "companies"}).body["id"])
    header, row = companies.strip().splitlines()
    assert "Address" in header and "г. Москва, ул. Тверская, д. 12" in row
    contacts = _csv(client, org.tokens["manager"], api.post("/exports", {"entity": "contacts"}).body["id"])
    assert "ООО «Вектор Плюс»" in contacts.strip().splitlines()[1]
    path = tmp_path / "contacts.csv"
    path.write_text("ФИО;Компания\nКозлова Елена;ООО «Вектор Плюс»\n", encoding="utf-8")
    import_file(org.manager, "contacts", path, bulk=True, chunk=50)
    assert Contact.objects.get(surname="Козлова").company_id == company.pk


@pytest.mark.parametrize("text, moment", [
    ("15.03.2021", dt.datetime(2021, 3, 15, tzinfo=MOSCOW)),
    ("15.03.2021 10:22", dt.datetime(2021, 3, 15, 10, 22, tzinfo=MOSCOW)),
    (" 15.03.2021  10:22:11 ", dt.datetime(2021, 3, 15, 10, 22, 11, tzinfo=MOSCOW)),
    ("2021-03-15 10:22:11", dt.datetime(2021, 3, 15, 10, 22, 11, tzinfo=MOSCOW)),
    ("2021-03-15T10:22:11+00:00", dt.datetime(2021, 3, 15, 10, 22, 11, tzinfo=dt.UTC)),
])
def test_a_creation_date_is_read_as_other_crms_write_it_in_the_sites_time(text, moment):
    from krug.transfer.rows import parse_created_at

    assert parse_created_at(text) == moment


def test_a_creation_date_that_is_not_one_says_how_to_write_it():
    from krug.transfer.rows import parse_created_at

    with pytest.raises(ValueError, match="15.03.2021 10:22"):
        parse_created_at("вчера")
