"""Browser tests: Playwright drives Debian's chromium (headless) against pytest-django's live server.

`page_as("manager")` gives a signed-in page of one of the org's users; `shot(page, "deals-board")` saves a
screenshot into the folder printed at the end of the run (KRUG_SCREENSHOTS, else a temporary one).
Without chromium these tests are skipped, unless KRUG_REQUIRE_BROWSER=1 (set by tools/test) makes that
a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "browser-test-2026"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENS = Path(os.environ.get("KRUG_SCREENSHOTS") or tempfile.mkdtemp(prefix="krug-screens-"))


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        if os.environ.get("KRUG_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_as(browser, live_server, org):
    """page_as('manager', locale='ru-RU') -> a page signed in as that user, at the home page."""
    contexts = []

    def make(name: str, *, locale: str = "ru-RU", width: int = 1280, height: int = 860):
        user = getattr(org, name)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height},
                                      extra_http_headers={"Accept-Language": locale})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.base = live_server.url
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    """shot(page, 'name'): a full-page screenshot into the run's screenshot folder."""
    SCREENS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


ALLOWED_LATIN = {"API", "REST", "CRM", "RUB", "USD", "EUR", "INN", "KPP", "OGRN", "UTM", "Krug", "EN", "RU",
                 "Telegram", "WhatsApp", "Zoom", "VIP", "SKU", "CSV", "XLSX",
                 # file formats and the command that runs background work, named as they are
                 "Excel", "UTF", "Windows", "csv", "xlsx", "krug", "worker"}


def visible_latin_words(page) -> list[str]:
    """English words left in a Russian page's visible text (for the 'no untranslated strings' checks);
    e-mail addresses, URLs, "E-mail", the API and currency codes are allowed."""
    text = page.inner_text("body")
    text = re.sub(r"\S+@\S+|https?://\S+|/\S+|(?i:\be-mail\b)", " ", text)  # "E-mail" is the Russian UI term too
    words = set(re.findall(r"\b[A-Za-z][A-Za-z]{2,}\b", text))
    return sorted(words - ALLOWED_LATIN)


def pytest_terminal_summary(terminalreporter):
    if SCREENS.exists() and any(SCREENS.glob("*.png")):
        terminalreporter.write_line(f"Screenshots of the main screens: {SCREENS}")
