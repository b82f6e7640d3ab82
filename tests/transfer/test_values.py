"""A file from another CRM names owners, client types, lead sources, pipelines, stages and pick-list values its
own way; before the import starts the user sees every such value with what Krug makes of it and chooses what
each becomes (`transfer.values`). Without a choice, each value Krug does not know failed all of its rows."""

import pytest

from krug.accounts import services as accounts
from krug.clients.models import Contact, Lead
from krug.core.errors import ValidationFailed
from krug.core.models import CustomField
from krug.core.permissions import Role
from krug.sales import services as sales
from krug.sales.models import Deal
from krug.transfer import services, values
from krug.transfer.models import ImportJob
from tests.transfer.both_paths import import_file

# Bitrix24's contacts export, as it writes it: Windows-1251, semicolons, its own column names and values
BITRIX_CONTACTS = (
    "ID;Имя;Фамилия;Должность;Рабочий телефон;Рабочий e-mail;Тип контакта;Ответственный\n"
    "11;Анна;Смирнова;Бухгалтер;+7 (916) 100-00-01;anna@vostok.ru;Клиенты;Мария Петрова\n"
    "12;Борис;Котов;Директор;+7 (916) 100-00-02;kotov@vostok.ru;Поставщики;Иван Иванов\n"
    "13;Вера;Лосева;;+7 (916) 100-00-03;;Клиенты;мария  петрова\n"
    "14;Глеб;Орлов;;+7 (916) 100-00-04;;;\n"
)


def _upload(by, entity: str, tmp_path, text: str, encoding: str = "cp1251") -> ImportJob:
    path = tmp_path / f"{entity}.csv"
    path.write_bytes(text.encode(encoding))
    with path.open("rb") as stream:
        return services.upload(by, entity, path.name, stream)


@pytest.fixture
def ivanov(org):
    user = org.manager
    user.first_name, user.last_name = "Иван", "Иванов"
    user.save()
    return user


def _found(job) -> dict:
    return {f["field"]: {v["value"]: (v["rows"], v["recognised"], v["becomes"]) for v in f["values"]}
            for f in values.found(job)["fields"]}


def test_the_page_lists_each_value_with_what_krug_makes_of_it(org, ivanov, tmp_path):
    job = _upload(org.admin, "contacts", tmp_path, BITRIX_CONTACTS)
    assert job.mapping[6:] == ["client_type", "owner"]
    found = _found(job)
    assert found["owner"] == {"Мария Петрова": (2, None, None), "Иван Иванов": (1, ivanov.username, ivanov.username)}
    assert found["client_type"] == {"Клиенты": (2, None, None), "Поставщики": (1, "supplier", "supplier")}
    first = values.found(job)["fields"][0]["values"][0]
    assert first["becomes"] is None  # what would fail comes first


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
def test_chosen_values_are_what_the_rows_get_on_both_paths(org, ivanov, tmp_path, bulk):
    head = org.admin
    job = _upload(head, "contacts", tmp_path, BITRIX_CONTACTS)
    services.configure(head, job, values_={"owner": {"Мария Петрова": ivanov.username},
                                          "client_type": {"Клиенты": "new", "Поставщики": "supplier"}})
    job.refresh_from_db()
    assert job.values == {"owner": {"мария петрова": ivanov.username},
                          "client_type": {"клиенты": "new", "поставщики": "supplier"}}
    assert {v["becomes"] for f in values.found(job)["fields"] for v in f["values"]} == {
        ivanov.username, "new", "supplier"}
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    from krug.transfer import importer

    done = importer.run(job.pk, chunk_size=2, bulk=bulk)
    assert (done.created, done.failed) == (4, 0), list(done.row_errors.values_list("errors", flat=True))
    got = {c.surname: (c.owner_id, c.client_type) for c in Contact.objects.all()}
    assert got == {"Смирнова": (ivanov.pk, "new"), "Котов": (ivanov.pk, "supplier"),
                   "Лосева": (ivanov.pk, "new"), "Орлов": (head.pk, "new")}  # the default type


def test_without_a_choice_an_unknown_value_fails_its_rows_naming_it(org, ivanov, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(BITRIX_CONTACTS.encode("cp1251"))
    job = import_file(org.admin, "contacts", path, bulk=True, chunk=10)
    assert (job.created, job.failed) == (2, 2)  # Клиенты and Мария Петрова fail; Поставщики is Bitrix24's own


def test_as_if_empty_gives_the_fields_default(org, ivanov, tmp_path):
    job = _upload(org.admin, "contacts", tmp_path, BITRIX_CONTACTS)
    services.configure(org.admin, job, values_={"owner": {"Мария Петрова": ""},
                                               "client_type": {"Клиенты": "", "Поставщики": ""}})
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    from krug.transfer import importer

    done = importer.run(job.pk, chunk_size=10, bulk=True)
    assert (done.created, done.failed) == (4, 0)
    assert Contact.objects.get(surname="Смирнова").owner_id == org.admin.pk


def test_bad_choices_are_refused_naming_the_field(org, ivanov, tmp_path):
    job = _upload(org.manager, "contacts", tmp_path, BITRIX_CONTACTS)
    with pytest.raises(ValidationFailed) as bad:
        services.configure(org.manager, job, values_={"city": {"Москва": "Тула"}})
    assert "values.city" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        services.configure(org.manager, job, values_={"client_type": {"Клиенты": "king"}})
    assert "«Клиенты»" in bad.value.errors["values.client_type"][0]
    # a manager may make only himself responsible: another user is not one of his choices
    with pytest.raises(ValidationFailed) as bad:
        services.configure(org.manager, job, values_={"owner": {"Мария Петрова": org.admin.username}})
    assert "values.owner" in bad.value.errors
    job.refresh_from_db()
    assert job.values == {}


def test_deal_pipelines_and_stages_of_another_crm(org, tmp_path):
    head = org.admin
    pipeline = sales.default_pipeline(head)
    stage = pipeline.stages.filter(kind="open").order_by("position")[1]
    text = ("Название сделки;Бюджет;Воронка;Этап сделки\n"
            "Поставка;1000;Воронка;Первичный контакт\n"
            "Монтаж;2000;Воронка;Переговоры\n")
    job = _upload(head, "deals", tmp_path, text, encoding="utf-8")
    assert job.mapping == ["title", "amount", "pipeline", "stage"]
    found = _found(job)
    assert found["pipeline"] == {"Воронка": (2, None, None)}
    stages = [o["value"] for f in values.found(job)["fields"] if f["field"] == "stage" for o in f["options"]]
    assert stage.name in stages
    services.configure(head, job, values_={"pipeline": {"Воронка": pipeline.name},
                                          "stage": {"Первичный контакт": stage.name, "Переговоры": stage.name}})
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    from krug.transfer import importer

    done = importer.run(job.pk, chunk_size=10, bulk=True)
    assert (done.created, done.failed) == (2, 0)
    assert set(Deal.objects.values_list("stage_id", flat=True)) == {stage.pk}


def test_lead_sources_and_pick_lists(org, tmp_path):
    """A pick list's value in another case is its choice, as the list spells it («север» is «Север»); one
    not on the list waits for the user's choice."""
    CustomField.objects.create(entity="lead", key="region", label="Регион продаж", type=CustomField.Type.CHOICE,
                               choices=["Север", "Юг"])
    text = ("Имя;Телефон;Источник;Регион продаж\nАнна;+79161000001;Яндекс.Директ;север\nБорис;+79161000002;Сайт;Юг\n"
            "Вера;+79161000003;Сайт;Сибирь\n")
    job = _upload(org.admin, "leads", tmp_path, text, encoding="utf-8")
    assert job.mapping[2:] == ["source", "cf.region"]
    found = _found(job)
    assert found["source"] == {"Яндекс.Директ": (1, None, None), "Сайт": (2, "site", "site")}
    assert found["cf.region"] == {"Сибирь": (1, None, None), "север": (1, "Север", "Север"), "Юг": (1, "Юг", "Юг")}
    services.configure(org.admin, job, values_={"source": {"Яндекс.Директ": "site"}, "cf.region": {"Сибирь": "Север"}})
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    from krug.transfer import importer

    done = importer.run(job.pk, chunk_size=10, bulk=True)
    assert (done.created, done.failed) == (3, 0)
    assert sorted((s, c["region"]) for s, c in Lead.objects.values_list("source", "custom")) == [
        ("site", "Север"), ("site", "Север"), ("site", "Юг")]


def test_the_api_shows_and_takes_the_choices(org, ivanov, tmp_path, api_as):
    api = api_as("admin")
    path = tmp_path / "contacts.csv"
    path.write_bytes(BITRIX_CONTACTS.encode("cp1251"))
    with path.open("rb") as stream:
        job_id = api.client.post("/api/v1/imports", {"file": stream, "entity": "contacts"},
                                 **api.headers).json()["id"]
    shown = api.get(f"/imports/{job_id}/values")
    assert shown.status_code == 200
    owner = next(f for f in shown.json()["fields"] if f["field"] == "owner")
    assert {v["value"]: v["becomes"] for v in owner["values"]} == {"Мария Петрова": None,
                                                                   "Иван Иванов": ivanov.username}
    bad = api.patch(f"/imports/{job_id}", {"values": {"owner": {"Мария Петрова": "nobody"}}})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["values.owner"]
    ok = api.patch(f"/imports/{job_id}", {"values": {"owner": {"Мария Петрова": ivanov.username}}})
    assert ok.status_code == 200 and ok.json()["values"] == {"owner": {"мария петрова": ivanov.username}}


def test_a_reader_of_another_team_is_not_a_choice_for_a_head(org, tmp_path):
    outsider = accounts.create_user("stranger", role=Role.MANAGER)
    job = _upload(org.head, "contacts", tmp_path, BITRIX_CONTACTS)
    assert outsider.username not in {o.value for o in values.options(job, "owner")}


def test_the_mapping_page_shows_the_values_and_keeps_the_choices(client, org, ivanov, tmp_path):
    client.force_login(org.admin)
    job = _upload(org.admin, "contacts", tmp_path, BITRIX_CONTACTS)
    page = client.get(f"/transfer/import/{job.pk}/").content.decode()
    assert "Мария Петрова" in page and 'name="v:owner:мария петрова"' in page and "2 rows would fail" in page
    form = {f"col{i}": name for i, name in enumerate(job.mapping)}
    form.update({"key": "", "go": "preview", "v:owner:мария петрова": ivanov.username,
                 "v:owner:иван иванов": ivanov.username, "r:owner:иван иванов": ivanov.username,
                 "v:client_type:клиенты": "new"})
    answer = client.post(f"/transfer/import/{job.pk}/mapping/", form, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    job.refresh_from_db()
    assert job.values == {"owner": {"мария петрова": ivanov.username}, "client_type": {"клиенты": "new"}}
    assert "would fail" not in answer.content.decode()
    form["v:client_type:клиенты"] = "emperor"
    answer = client.post(f"/transfer/import/{job.pk}/mapping/", form, HTTP_HX_REQUEST="true")
    assert 'id="e-values-client_type"' in answer.content.decode()
    job.refresh_from_db()
    assert job.values["client_type"] == {"клиенты": "new"}


def test_an_owner_the_manager_may_not_assign_would_fail_and_says_why(client, org, tmp_path):
    text = "Фамилия;Ответственный\nСмирнов;Анна Админова\nКотов;Никто Никтович\nОрлов;manager\n"
    job = _upload(org.manager, "contacts", tmp_path, text, encoding="utf-8")
    owner = values.found(job)["fields"][0]
    by_value = {v["value"]: (v["recognised"], v["problem"]) for v in owner["values"]}
    assert by_value == {"Анна Админова": (None, "you may not assign records to this user"),
                        "Никто Никтович": (None, "no active user of Krug has this name, login or e-mail"),
                        "manager": ("manager", "")}
    client.force_login(org.manager)
    page = client.get(f"/transfer/import/{job.pk}/").content.decode()
    assert "2 rows would fail" in page and "you may not assign records to this user" in page
    assert page.count('<option value="?" selected>') == 2  # not "leave empty": the rows would fail, said so


def test_a_file_keyed_by_its_id_without_a_name_column_is_warned_about_before_the_import(org, tmp_path):
    job = _upload(org.admin, "companies", tmp_path, "ID;Юрлицо клиента;ИНН\n7;Ромашка;7707083893\n", encoding="utf-8")
    assert job.key == "external_id" and "name" not in job.mapping
    assert services.warnings(job) == ["No column fills Name: a row that names no record already in Krug by ID in "
                                      "the old system will fail, since a new record needs it. Map the column that "
                                      "holds it, if the file has one."]
    services.configure(org.admin, job, mapping_=["external_id", "name", "inn"])
    assert services.warnings(job) == []


def test_the_command_line_takes_the_choices(org, ivanov, tmp_path, capsys):
    from krug import cli

    path = tmp_path / "b24.csv"
    path.write_bytes(BITRIX_CONTACTS.encode("cp1251"))
    assert cli.main(["import", str(path), "--entity", "contacts", "--as", "admin",
                     "--value", "owner:Мария Петрова=nobody"]) == 2
    assert "--value owner: «Мария Петрова» cannot become «nobody»" in capsys.readouterr().err
    assert cli.main(["import", str(path), "--entity", "contacts", "--value", "bad"]) == 2
    assert "FIELD:VALUE=WHAT IT BECOMES" in capsys.readouterr().err
    assert cli.main(["import", str(path), "--entity", "contacts", "--as", "admin",
                     "--value", f"owner:Мария Петрова={ivanov.username}", "--value", "client_type:Клиенты="]) == 0
    assert "4 created" in capsys.readouterr().out
    assert Contact.objects.get(surname="Смирнова").owner_id == ivanov.pk


def test_a_users_choices_carry_over_to_his_next_files(org, ivanov, tmp_path):
    first = _upload(org.admin, "contacts", tmp_path, BITRIX_CONTACTS)
    services.configure(org.admin, first, values_={"owner": {"Мария Петрова": ivanov.username},
                                                  "client_type": {"Клиенты": "key"}})
    deals = _upload(org.admin, "deals", tmp_path, "Название;Ответственный\nПоставка;Мария Петрова\n", encoding="utf-8")
    assert deals.values == {"owner": {"мария петрова": ivanov.username}}  # an owner is the same person in any file
    assert _found(deals)["owner"] == {"Мария Петрова": (1, None, ivanov.username)}
    services.configure(org.admin, deals, values_={"owner": {}})  # cleared, it stays cleared
    assert deals.values == {}
    services.configure(org.admin, deals, key="")
    assert deals.values == {}
    theirs = _upload(org.manager, "contacts", tmp_path, BITRIX_CONTACTS)
    assert theirs.values == {}  # another user's choices are his own


def test_owners_are_recognised_from_the_users_read_once(org, ivanov, tmp_path, django_assert_max_num_queries):
    """A file of many owners: each is found by login, e-mail or name (either way round, any case) among the users
    read once, not with queries of its own."""
    ivanov.email = "i.ivanov@example.org"
    ivanov.save()
    lines = [f"Контакт{n};{'Иванов Иван' if n % 3 == 0 else f'Никто {n}'}" for n in range(120)]
    job = _upload(org.admin, "contacts", tmp_path, "Фамилия;Ответственный\n" + "\n".join(lines) + "\n"
                  "Ещё;ИВАН ИВАНОВ\nЕщё раз;" + ivanov.email.upper() + "\nИ ещё;" + ivanov.username + "\n",
                  encoding="utf-8")
    values.found(job)  # counts the file once (`tally`)
    with django_assert_max_num_queries(12):
        page = values.found(job)
    [owner] = page["fields"]
    becomes = {v["value"]: v["becomes"] for v in owner["values"]}
    assert {becomes[k] for k in ("Иванов Иван", "ИВАН ИВАНОВ", ivanov.email.upper(), ivanov.username)} == \
        {ivanov.username}
    assert [v for v in becomes.values() if v is None] == [None] * 80  # «Никто 1», …: no such user
