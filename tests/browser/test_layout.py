"""The screens at a phone's width, and by keyboard alone with a visible focus."""

import pytest

from tests import factories

SCREENS = ["/", "/clients/contacts/", "/clients/companies/", "/clients/leads/", "/deals/", "/deals/list/",
           "/tasks/", "/calendar/", "/dashboard/"]


@pytest.fixture
def some_data(org):
    company = factories.company(org.manager, name="Северный ветер", city="Москва")
    contact = factories.contact(org.manager, surname="Смирнова", first_name="Ольга", company_id=company.pk,
                                phones=["+79165551234"], emails=["olga@veter.ru"])
    factories.deal(org.manager, title="Поставка ветрогенераторов для северного филиала", amount="1250000",
                   contact_id=contact.pk)
    factories.task(org.manager, title="Позвонить Ольге", contact_id=contact.pk)
    return contact


def _overflow(page) -> int:
    """How many pixels the page is wider than the screen (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_every_main_screen_fits_a_phone_without_sideways_scrolling(page_as, shot, some_data):
    page = page_as("manager", width=390, height=844)
    for url in [*SCREENS, f"/clients/contacts/{some_data.pk}/"]:
        page.goto(page.base + url)
        assert _overflow(page) <= 1, f"{url} scrolls sideways on a phone by {_overflow(page)} px"
    page.goto(page.base + f"/clients/contacts/{some_data.pk}/")
    shot(page, "phone-contact-card")
    page.goto(page.base + "/deals/")
    shot(page, "phone-deals-board")


def test_the_keyboard_reaches_the_search_and_the_navigation_with_a_visible_focus(page_as, some_data):
    page = page_as("manager")
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.textContent.trim()")
    assert first, "the first Tab stop should be the skip link"
    reached = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {tag: e.tagName, id: e.id, text: (e.textContent || '').trim(), outline: s.outlineStyle,
                    width: s.outlineWidth, shadow: s.boxShadow}; }""")
        if info["tag"] == "BODY":  # past the last control of the page
            break
        reached.add(info["id"] or info["text"])
        visible = (info["outline"] != "none" and info["width"] != "0px") or info["shadow"] != "none"
        assert visible, f"no visible focus on {info}"
    assert "global-search" in reached and "Сделки" in reached
    # the deal board can be worked without a mouse: the card's "move to" list moves it
    page.goto(page.base + "/deals/")
    select = page.locator(".move-select").first
    select.focus()
    target = select.locator("option").nth(1).get_attribute("value")
    select.select_option(target)
    card = page.locator(".deal-card").first
    page.wait_for_function("s => document.querySelector(`.cards[data-stage='${s}'] .deal-card`)", arg=target)
    assert card.is_visible()


def test_every_section_of_the_navigation_is_visible_on_a_laptop_screen(page_as):
    page = page_as("admin", width=1280, height=800)
    links = page.locator("nav.mainnav a")
    assert links.count() == 6
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["x"] + box["width"] <= 1280 and links.nth(i).is_visible(), links.nth(i).inner_text()
    nav_right = page.locator("nav.mainnav").bounding_box()
    search_left = page.locator("#global-search").bounding_box()
    assert nav_right["x"] + nav_right["width"] <= search_left["x"]  # nothing hides under the search box
