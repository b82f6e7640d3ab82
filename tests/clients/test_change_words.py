"""A card's timeline and its history of changes speak people's words, in the language of the one who looks: a
trial saw «Изменено: owner, position» and `owner: 4 → 5` where a user must read «Изменено: ответственный,
должность» and «Ответственный: Иван Продавцов → Пётр Коллегин». The API keeps the keys and adds the words."""

import datetime as dt
import re

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation

from krug.clients import services
from krug.clients.models import Contact, Lead, TimelineEvent
from krug.core import changes
from krug.core.models import CustomField
from krug.sales import services as sales
from tests import factories


def _text(response) -> str:
    """The page's text without its tags, spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def _page(client, user, name: str, kind: str, pk: int, language: str) -> str:
    client.force_login(user)
    return _text(client.get(reverse(name, args=[kind, pk]), HTTP_ACCEPT_LANGUAGE=language))


def _smirnov(org):
    CustomField.objects.create(entity="contact", key="car_bought", label="Дата покупки авто", type="date")
    return factories.contact(org.manager, surname="Смирнов", first_name="Андрей", position="Генеральный директор",
                             client_type="new", owner_id=org.manager.pk)


def test_the_history_tab_tells_each_change_by_label_and_values_in_words(client, org):
    smirnov = _smirnov(org)
    services.update_contact(org.head, smirnov, {"owner_id": org.colleague.pk, "client_type": "returning",
                                                   "position": "", "birthday": dt.date(1985, 5, 12),
                                                   "custom": {"car_bought": "2024-03-01"}})
    page = _page(client, org.head, "clients:card_history", "contact", smirnov.pk, "ru")
    assert "Ответственный: Иван Продавцов → Пётр Коллегин" in page, page
    assert "Тип клиента: Новый → Постоянный" in page
    assert "Должность: Генеральный директор → —" in page
    assert "День рождения: — → 12 мая 1985" in page
    assert "Дата покупки авто: — → 1 марта 2024" in page, "a custom field by the administrator's label"
    assert "Фамилия: Смирнов" in page, "the creation lists what the card was created with"
    for key in ("owner", "client_type", "birthday", "custom", "car_bought", "returning"):
        assert key not in page, key


def test_the_timeline_names_the_changed_fields_in_the_viewers_language(client, org):
    smirnov = _smirnov(org)
    services.update_contact(org.head, smirnov, {"owner_id": org.colleague.pk, "position": "Ген. директор"})
    assert "Изменено: ответственный, должность" in _page(client, org.head, "clients:card_timeline", "contact",
                                                         smirnov.pk, "ru")
    english = _page(client, org.head, "clients:card_timeline", "contact", smirnov.pk, "en")
    assert "Changed: owner, position" in english and "Contact created: Смирнов Андрей" in english
    card = _text(client.get(reverse("clients:contact", args=[smirnov.pk]), HTTP_ACCEPT_LANGUAGE="ru"))
    assert "Изменено: ответственный, должность" in card and "Создан контакт: Смирнов Андрей" in card


def test_a_change_written_with_field_names_in_english_reads_in_words(client, org):
    """Rows written before the words were: the trial's «Changed: owner, position» with `owner: 4 → 5`."""
    smirnov = _smirnov(org)
    TimelineEvent.objects.create(kind=TimelineEvent.Kind.CHANGED, source_type=ContentType.objects.get_for_model(
        Contact), source_id=smirnov.pk, contact=smirnov, summary="Changed: owner, position",
        data={"owner": [org.manager.pk, org.colleague.pk], "position": ["Генеральный директор", "Ген. директор"]})
    page = _page(client, org.head, "clients:card_timeline", "contact", smirnov.pk, "ru")
    assert "Изменено: ответственный, должность" in page and "owner" not in page


def test_the_company_card_names_whose_change_and_which_deal_changed(client, org, api_as):
    company = factories.company(org.manager, name="Вектор Плюс")
    smirnov = factories.contact(org.manager, surname="Смирнов", first_name="Андрей", company_id=company.pk)
    services.update_contact(org.manager, smirnov, {"position": "Директор"})
    deal = factories.deal(org.manager, title="Поставка", contact_id=smirnov.pk)
    sales.update_deal(org.manager, deal, {"amount": 250000})
    stages = list(deal.pipeline.stages.order_by("position"))
    sales.move_deal(org.manager, deal, stages[1].pk)
    page = _page(client, org.head, "clients:card_timeline", "company", company.pk, "ru")
    assert "Контакт Смирнов Андрей изменён: должность" in page, page
    assert "Сделка «Поставка» изменена: сумма" in page
    assert f"Сделка «Поставка»: {stages[0].name} → {stages[1].name}" in page
    english = _page(client, org.head, "clients:card_timeline", "contact", smirnov.pk, "en")
    assert "Deal «Поставка» changed: amount" in english


def test_the_api_keeps_the_keys_and_adds_the_words(org, api_as, client):
    smirnov = _smirnov(org)
    services.update_contact(org.head, smirnov, {"owner_id": org.colleague.pk, "custom": {"car_bought": "2024-03-01"}})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {org.tokens['head']}", "HTTP_ACCEPT_LANGUAGE": "ru"}
    latest = client.get(f"/api/v1/contacts/{smirnov.pk}/history", **auth).json()["items"][0]
    assert latest["changes"]["owner"] == [org.manager.pk, org.colleague.pk]
    assert latest["changes"]["custom"] == [{}, {"car_bought": "2024-03-01"}]
    assert sorted(latest["fields"], key=lambda f: f["field"]) == [
        {"field": "custom.car_bought", "label": "Дата покупки авто", "old": "—", "new": "1 марта 2024"},
        {"field": "owner", "label": "ответственный", "old": "Иван Продавцов", "new": "Пётр Коллегин"}]
    event = client.get(f"/api/v1/contacts/{smirnov.pk}/timeline", **auth).json()["items"][0]
    assert event["kind"] == "changed" and set(event["data"]) == {"owner", "custom"}
    assert event["text"] == "Изменено: Дата покупки авто, ответственный"
    assert {f["field"]: f["new"] for f in event["fields"]} == {"owner": "Пётр Коллегин",
                                                               "custom.car_bought": "1 марта 2024"}


def test_a_leads_and_a_deals_history_speak_words_too(org, client):
    lead = factories.lead(org.manager, title="Запрос с сайта", source="site")
    services.update_lead(org.manager, lead, {"status": Lead.Status.IN_PROGRESS, "amount": "150000"})
    deal = factories.deal(org.manager, title="Поставка", amount=1000)
    sales.update_deal(org.manager, deal, {"items": [{"name": "Доставка", "price": "12000"}]})
    stages = list(deal.pipeline.stages.order_by("position"))
    sales.move_deal(org.manager, deal, stages[1].pk)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {org.tokens['manager']}", "HTTP_ACCEPT_LANGUAGE": "ru"}
    lead_change = client.get(f"/api/v1/leads/{lead.pk}/history", **auth).json()["items"][0]["fields"]
    assert {(f["label"], f["old"], f["new"]) for f in lead_change} == {
        ("статус", "Новый", "В работе"), ("ожидаемая сумма", "—", "150\xa0000")}
    said = {(f["label"], f["old"], f["new"]) for e in client.get(f"/api/v1/deals/{deal.pk}/history", **auth).json()[
        "items"] for f in e["fields"]}
    assert ("этап", stages[0].name, stages[1].name) in said
    assert ("товары", "—", "Доставка × 1 @ 12000.00") in said and ("сумма", "1\xa0000", "12\xa0000") in said, said


def test_values_in_words():
    with translation.override("ru"):
        assert changes.words(Contact, "birthday", "1985-05-12") == "12 мая 1985"
        assert changes.words(Contact, "opt_out", True) == "да"
        assert changes.words(Contact, "position", "") == changes.EMPTY
        assert changes.words(Contact, "phones", ["+74951234567", "+79165551234"]) == "+74951234567, +79165551234"
        assert changes.label(Contact, "company_id") == "компания"
    with translation.override("en"):
        assert changes.words(Contact, "client_type", "vip") == "VIP"
        assert changes.label(Contact, "client_type") == "client type"
