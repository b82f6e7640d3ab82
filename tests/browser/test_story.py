"""A manager's working day and a head's look at it, in a real Chromium, in Russian.

One story on purpose: each step starts from what the previous one left on screen, the way a user works.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.browser.conftest import visible_latin_words


def _no_english(page, where: str) -> None:
    left = visible_latin_words(page)
    assert left == [], f"untranslated words on {where}: {left}"


def _db(read, tries: int = 50):
    """An ORM read beside the live server: SQLite's shared in-memory database locks a table while the
    server thread writes it, so wait for the write to finish."""
    from django.db import OperationalError

    for attempt in range(tries):
        try:
            return read()
        except OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(0.1)


def _drag(page, source, target) -> None:
    """Drag with real mouse steps: SortableJS listens to pointer events, not to a synthetic drop."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    goal = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 12)
    page.mouse.down()
    for step in range(1, 21):
        x = box["x"] + box["width"] / 2 + (goal["x"] + goal["width"] / 2 - box["x"] - box["width"] / 2) * step / 20
        y = box["y"] + 12 + (goal["y"] + 30 - box["y"] - 12) * step / 20
        page.mouse.move(x, y)
        page.wait_for_timeout(15)
    page.mouse.up()


def test_a_managers_day_from_new_client_to_done_task_and_the_heads_dashboard(page_as, shot, org):
    from krug.activities.models import Task
    from krug.clients.models import Company, Contact
    from krug.sales.models import Deal

    page = page_as("manager")
    _no_english(page, "the home page")

    # A new company, from the companies list.
    page.get_by_role("link", name="Клиенты").first.click()
    page.goto(page.base + "/clients/companies/")
    _no_english(page, "the companies list")
    page.get_by_role("link", name=re.compile("Новая компания|Компания")).first.click()
    page.fill("#f-name", "ООО «Северный ветер»")
    page.fill("#f-inn", "7707083893")
    page.fill("#f-city", "Москва")
    shot(page, "company-new")
    _no_english(page, "the new company form")
    page.get_by_role("button", name="Создать компанию").click()
    expect(page.locator("h1")).to_contain_text("Северный ветер")
    company = _db(lambda: Company.objects.get(inn="7707083893"))
    assert company.owner == org.manager

    # A contact at that company, from the company card.
    page.get_by_role("link", name="+ Контакт").click()
    page.fill("#f-surname", "смирнова")
    page.fill("#f-first_name", "ольга")
    page.fill("#f-patronymic", "викторовна")
    page.fill("#f-position", "генеральный директор")
    page.fill("#f-phones", "8 (916) 555-12-34")
    page.fill("#f-emails", "O.Smirnova@Veter.RU")
    _no_english(page, "the new contact form")
    page.get_by_role("button", name="Создать контакт").click()
    expect(page.locator("h1")).to_contain_text("Смирнова Ольга Викторовна")
    contact = _db(lambda: Contact.objects.get(surname="Смирнова"))
    assert contact.company_id == company.pk
    assert _db(lambda: contact.phones.get().number) == "+79165551234"
    assert _db(lambda: contact.emails.get().email) == "O.Smirnova@veter.ru"
    contact_url = page.url

    # The list shows her; ticking her row brings up the bulk actions.
    page.goto(page.base + "/clients/contacts/")
    page.locator(f'input[name=ids][value="{contact.pk}"]').check()
    expect(page.locator("[data-bulk]")).to_be_visible()
    expect(page.locator("[data-bulk-count]")).to_have_text("1")
    _no_english(page, "the contact list")
    shot(page, "contacts-list")

    # Found again by typing part of the phone, in another format, into the global search.
    page.goto(page.base + "/")
    page.fill("#global-search", "555-12")
    hit = page.locator("#search-results .search-hit").first
    expect(hit).to_contain_text("Смирнова")
    shot(page, "search")
    hit.click()
    expect(page).to_have_url(contact_url)
    _no_english(page, "the contact card")

    # A deal for her, then dragged on the board to the next stage.
    page.get_by_role("link", name="+ Сделка").click()
    page.fill("#f-title", "Поставка ветрогенераторов")
    page.fill("#f-amount", "1250000")
    _no_english(page, "the new deal form")
    page.get_by_role("button", name="Создать сделку").click()
    expect(page.locator("h1")).to_contain_text("Поставка ветрогенераторов")
    deal = _db(lambda: Deal.objects.get(title="Поставка ветрогенераторов"))
    first_stage = deal.stage
    assert deal.contact_id == contact.pk and deal.company_id == company.pk

    page.get_by_role("link", name="Сделки").first.click()
    card = page.locator(f'.deal-card[data-deal="{deal.pk}"]')
    expect(card).to_be_visible()
    _no_english(page, "the deal board")
    columns = page.locator("ol.cards")
    next_column = columns.nth(1)
    next_stage_id = int(next_column.get_attribute("data-stage"))
    with page.expect_response(lambda r: f"/deals/{deal.pk}/move/" in r.url) as moved:
        _drag(page, card, next_column)
    assert moved.value.ok, moved.value.text()
    expect(next_column.locator(f'.deal-card[data-deal="{deal.pk}"]')).to_be_visible()
    _db(deal.refresh_from_db)
    assert deal.stage_id == next_stage_id != first_stage.pk
    shot(page, "deals-board")

    # A task on her card, scheduled from the timeline and then done.
    page.goto(contact_url)
    page.get_by_text("Запланировать задачу").click()
    form = page.locator("form.quick-form:visible")
    form.locator("input[name=title]").fill("Отправить коммерческое предложение")
    form.locator("input[name=due_at]").fill("2030-01-15T11:00")
    form.get_by_role("button", name="Сохранить").click()
    open_tasks = page.locator("section[aria-labelledby=open-tasks]")
    expect(open_tasks).to_contain_text("Отправить коммерческое предложение")
    task = _db(lambda: Task.objects.get(title="Отправить коммерческое предложение"))
    assert task.contact_id == contact.pk
    shot(page, "contact-card")
    open_tasks.get_by_role("button", name="Готово").first.click()
    expect(open_tasks).to_have_count(0)
    expect(page.locator("#timeline")).to_contain_text("Задача выполнена: Отправить коммерческое предложение")
    _db(task.refresh_from_db)
    assert task.state == "done"
    timeline = page.locator("#timeline").inner_text()
    assert "Поставка ветрогенераторов" in timeline
    _no_english(page, "the contact card after the task")
    shot(page, "contact-card-timeline")

    # The colleague on the same team does not own her: the card does not exist for him.
    colleague = page_as("colleague")
    response = colleague.goto(contact_url)
    assert response.status == 404
    expect(colleague.locator("h1")).to_have_text("Здесь ничего нет")
    _no_english(colleague, "the not-found page")
    colleague.goto(colleague.base + "/")
    colleague.fill("#global-search", "555-12")
    colleague.wait_for_timeout(600)
    assert "Смирнова" not in colleague.locator("#search-results").inner_text()

    # The head sees the work of both managers on his dashboard and follows a figure down to the deal.
    from tests import factories

    _db(lambda: factories.deal(org.colleague, title="Аренда склада", amount=300000))
    head = page_as("head")
    head.get_by_role("link", name="Дашборд").first.click()
    expect(head.locator("main")).to_contain_text(deal.stage.name)
    _no_english(head, "the dashboard")
    shot(head, "dashboard")
    stages = head.locator("ul.bars")
    expect(stages.locator(f'a[href$="stage={first_stage.pk}"]')).to_contain_text("1 · 300 000 ₽")
    expect(stages.locator(f'a[href$="stage={deal.stage_id}"]')).to_contain_text("1 · 1 250 000 ₽")
    head.locator(f'a[href*="stage={deal.stage_id}"]').first.click()
    expect(head.locator("main")).to_contain_text("Поставка ветрогенераторов")
    _no_english(head, "the deal list")
    head.goto(head.base + "/deals/list/")
    expect(head.locator("main")).to_contain_text("Аренда склада")
    expect(head.locator("main")).to_contain_text("Поставка ветрогенераторов")

