"""A column Krug has no field for (Bitrix24's «Тип компании», «Обращение») gets one from the mapping page or the
API: a custom field suggested by its header and values, the column mapped to it in the same step."""

from django.core.files.uploadedfile import SimpleUploadedFile

from krug.core.models import CustomField
from krug.transfer import new_fields, services
from krug.transfer.models import ImportJob

COMPANIES = ("ID;Название компании;Тип компании;Обращение;Дата сделки;Сотрудников;НДС;Комментарий;Создана\n"
             "201;Вектор;Клиент;г-н;12.05.2024;50;да;Ключевой клиент, работаем с 2019 года;10.01.2021 12:00:00\n"
             "202;Северный Ветер;Поставщик;г-жа;13.05.2024;250;нет;Тендер каждый квартал;11.01.2021 12:00:00\n"
             "203;ТехноСтрой;Клиент;г-н;2024-05-14;1 200;Да;Платит с задержкой;12.01.2021 12:00:00\n"
             "204;Гамма;клиент;г-н;15.05.2024;7;нет;Бывший клиент, ушёл в 2022;13.01.2021 12:00:00\n")
TYPE, SALUTATION = 2, 3


def _job(org, text: str = COMPANIES, entity: str = "companies") -> ImportJob:
    return services.upload(org.admin, entity, "companies.csv", [text.encode()])


def test_a_column_is_suggested_a_field_by_its_header_and_values(org):
    job = _job(org)
    suggested = {i: new_fields.suggest_field(job, i) for i in range(2, 9)}
    assert suggested[TYPE] == {"label": "Тип компании", "type": "choice", "choices": ["Клиент", "Поставщик"]}
    assert suggested[SALUTATION]["choices"] == ["г-н", "г-жа"] and suggested[SALUTATION]["type"] == "choice"
    assert [suggested[i]["type"] for i in range(4, 9)] == ["date", "number", "boolean", "text", "text"]


def _form(job: ImportJob, **fields) -> dict:
    form = {f"col{i}": name for i, name in enumerate(job.mapping)}
    return {**form, "key": job.key, **fields}


def test_an_administrator_creates_a_list_field_for_a_column_from_the_mapping_page(client, org):
    job = _job(org)
    client.force_login(org.admin)
    page = client.get(f"/transfer/import/{job.pk}/").content.decode()
    cell = page.split('id="col2"')[1].split("</td>")[0]
    assert "Create a field…" in cell and f"/transfer/import/{job.pk}/new-field/?column=2" in cell
    assert "Create a field…" not in page.split('id="col1"')[1].split("</td>")[0]  # a column with a field has none
    form = client.get(f"/transfer/import/{job.pk}/new-field/?column=2").content.decode()
    assert 'value="Тип компании"' in form and '<option value="choice" selected>' in form
    assert ">Клиент\nПоставщик</textarea>" in form
    answer = client.post(f"/transfer/import/{job.pk}/mapping/", _form(
        job, col3="description", go="field:2", **{"nf-label-2": "Тип компании", "nf-type-2": "choice",
                                           "nf-choices-2": "Клиент\nПоставщик\nПартнёр\n"}), HTTP_HX_REQUEST="true")
    field = CustomField.objects.get()
    assert (field.entity, field.label, field.type, field.choices) == ("company", "Тип компании", "choice",
                                                                      ["Клиент", "Поставщик", "Партнёр"])
    job.refresh_from_db()
    assert job.mapping[TYPE] == f"cf.{field.key}" and job.mapping[SALUTATION] == ""  # only the column is saved
    page = answer.content.decode()
    assert answer.status_code == 200 and page.startswith('<form id="mapping-form"')
    assert f'<option value="cf.{field.key}" selected>Тип компании' in page.split('id="col2"')[1].split("</td>")[0]
    assert 'value="description" selected' in page.split('id="col3"')[1].split("</td>")[0]  # his unsaved choice
    values = page.split('id="values-cf.')[1]  # the list's values, to choose what each becomes
    assert 'name="v:cf.tip_kompanii:клиент"' in values and "Клиент" in values


def test_a_refused_field_is_said_beside_its_input_and_nothing_is_made(client, org):
    job = _job(org)
    client.force_login(org.admin)
    answer = client.post(f"/transfer/import/{job.pk}/mapping/", _form(
        job, go="field:2", **{"nf-label-2": "inn", "nf-type-2": "text", "nf-choices-2": ""}), HTTP_HX_REQUEST="true")
    page = answer.content.decode()
    assert answer.status_code == 200 and '<details class="new-field-menu" open>' in page
    assert 'id="e-nf-label-2"' in page and "Companies already have the field «INN»" in page
    assert 'value="inn"' in page.split('id="nf-label-2"')[1]  # what he typed stays
    answer = client.post(f"/transfer/import/{job.pk}/mapping/", _form(
        job, go="field:2", **{"nf-label-2": "Тип", "nf-type-2": "choice", "nf-choices-2": " \n"}))
    assert answer.status_code == 422 and 'id="e-nf-choices-2"' in answer.content.decode()
    assert not CustomField.objects.exists() and ImportJob.objects.get().mapping[TYPE] == ""


def test_a_manager_is_told_whom_to_ask_for_a_field(client, org):
    job = services.upload(org.manager, "companies", "companies.csv", [COMPANIES.encode()])
    client.force_login(org.manager)
    page = client.get(f"/transfer/import/{job.pk}/").content.decode()
    cell = page.split('id="col2"')[1].split("</td>")[0]
    assert "Only an administrator adds fields: ask Анна Админова." in cell and "new-field/" not in cell
    answer = client.post(f"/transfer/import/{job.pk}/mapping/", _form(
        job, go="field:2", **{"nf-label-2": "Тип компании", "nf-type-2": "text"}), HTTP_HX_REQUEST="true")
    assert "Only an administrator adds fields: ask Анна Админова." in answer.content.decode()
    assert not CustomField.objects.exists()


def test_the_api_creates_a_field_for_a_column_and_maps_it(api_as, org):
    api = api_as("admin")
    job = _job(org)
    url = f"/imports/{job.pk}/fields"
    made = api.post(url, {"column": SALUTATION})  # the rest as suggested
    assert made.status_code == 201, made.body
    assert made.body["field"]["label"] == "Обращение" and made.body["field"]["choices"] == ["г-н", "г-жа"]
    assert made.body["mapping"][SALUTATION] == "cf.obrashchenie" == ImportJob.objects.get().mapping[SALUTATION]
    made = api.post(url, {"column": 7, "label": "Примечание менеджера", "type": "text"})
    assert made.status_code == 201 and made.body["field"]["type"] == "text"
    refused = {
        "column": api.post(url, {"column": 9, "label": "Девятая", "type": "text"}),
        "label": api.post(url, {"column": TYPE, "label": "обращение", "type": "text"}),
        "type": api.post(url, {"column": TYPE, "label": "Тип компании", "type": "colour"}),
    }
    for field, answer in refused.items():
        assert answer.status_code == 422 and answer.body["errors"][0]["field"] == field, answer.body
    assert api_as("manager").post(url, {"column": TYPE}).status_code == 404  # another's import
    own = services.upload(org.manager, "companies", "companies.csv", [COMPANIES.encode()])
    answer = api_as("manager").post(f"/imports/{own.pk}/fields", {"column": TYPE})
    assert answer.status_code == 403 and "ask Анна Админова" in answer.body["detail"]
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    assert api.post(url, {"column": TYPE, "label": "Тип компании", "type": "text"}).status_code == 409
    assert CustomField.objects.count() == 2


def test_a_field_made_for_a_column_takes_its_values_on_import(org):
    job = _job(org)
    new_fields.new_field(org.admin, job, TYPE)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    from krug.clients.models import Company
    from krug.transfer import importer

    importer.run(job.pk)
    assert sorted(Company.objects.values_list("name", "custom")) == [
        ("Вектор", {"tip_kompanii": "Клиент"}), ("Гамма", {"tip_kompanii": "Клиент"}),
        ("Северный Ветер", {"tip_kompanii": "Поставщик"}), ("ТехноСтрой", {"tip_kompanii": "Клиент"})]
    assert ImportJob.objects.get().failed == 0  # «клиент» is the choice «Клиент», as the list spells it


def test_the_form_for_a_column_the_file_lacks_is_not_found(client, org):
    client.force_login(org.admin)
    r = client.post("/transfer/import/", {"entity": "companies", "file": SimpleUploadedFile("c.csv",
                                                                                             COMPANIES.encode())})
    job = ImportJob.objects.get()
    assert r.status_code == 302 and client.get(f"/transfer/import/{job.pk}/new-field/?column=9").status_code == 404
    assert client.get(f"/transfer/import/{job.pk}/new-field/?column=8").status_code == 200


def test_two_custom_fields_of_an_entity_may_not_share_a_label(org):
    import pytest

    from krug.core import custom_fields
    from krug.core.errors import ValidationFailed

    custom_fields.define_field(org.admin, {"entity": "company", "label": "Тип компании", "type": "text"})
    custom_fields.define_field(org.admin, {"entity": "contact", "label": "Тип компании", "type": "text"})
    with pytest.raises(ValidationFailed) as refused:
        custom_fields.define_field(org.admin, {"entity": "company", "label": "тип  компании", "key": "kind",
                                               "type": "text"})
    assert refused.value.errors == {"label": ["a field with this label exists"]}
