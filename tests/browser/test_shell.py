"""The shell in a real browser: signing in, the navigation, the language."""

from tests.browser.conftest import visible_latin_words


def test_a_manager_signs_in_and_sees_his_home_page_in_russian(page_as, shot):
    page = page_as("manager")
    assert page.locator("nav.mainnav").is_visible()
    assert page.get_by_role("link", name="Клиенты").is_visible()
    assert visible_latin_words(page) == []
    shot(page, "home")
