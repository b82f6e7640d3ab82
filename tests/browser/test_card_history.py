"""A contact's card in the browser tells its changes in words: the timeline «Изменено: ответственный, должность»,
the history tab «Ответственный: Иван Продавцов → Пётр Коллегин», and the same in English after switching."""

from playwright.sync_api import expect

from krug.clients import services
from tests import factories


def test_the_card_tells_who_changed_what_in_the_readers_language(page_as, shot, org):
    smirnov = factories.contact(org.manager, surname="Смирнов", first_name="Андрей", position="Генеральный директор",
                                client_type="new", owner_id=org.manager.pk)
    services.update_contact(org.head, smirnov, {"owner_id": org.colleague.pk, "position": "Ген. директор",
                                                "client_type": "returning"})
    page = page_as("head", width=1400)
    page.goto(page.base + f"/clients/contacts/{smirnov.pk}/")
    expect(page.locator("#timeline")).to_contain_text("Изменено: тип клиента, ответственный, должность")
    page.get_by_role("button", name="История изменений").click()
    history = page.locator("#timeline")
    expect(history).to_contain_text("Ответственный: Иван Продавцов → Пётр Коллегин")
    expect(history).to_contain_text("Тип клиента: Новый → Постоянный")
    expect(history).to_contain_text("Должность: Генеральный директор → Ген. директор")
    assert "owner" not in history.inner_text() and "client_type" not in history.inner_text()
    shot(page, "card-history")
    page.get_by_role("button", name="EN").click()
    expect(page.locator("#timeline")).to_contain_text("Changed: client type, owner, position")
    page.get_by_role("button", name="History of changes").click()
    expect(page.locator("#timeline")).to_contain_text("Owner: Иван Продавцов → Пётр Коллегин")
