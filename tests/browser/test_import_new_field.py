"""The import's mapping page in the browser: a column Krug has no field for gets one without leaving the page."""

from playwright.sync_api import expect

from tests.browser.conftest import visible_latin_words

CSV = ("ID;Название компании;Тип компании;ИНН\n"
       "201;ООО «Вектор Плюс»;Клиент;7701234560\n"
       "202;АО «Северный Ветер»;Поставщик;7810456789\n"
       "203;ООО «ТехноСтрой»;Клиент;5027123457\n")


def test_an_administrator_creates_a_field_for_a_column_and_previews_it(page_as, shot, tmp_path):
    path = tmp_path / "компании.csv"
    path.write_text(CSV, encoding="utf-8")
    page = page_as("admin")
    page.goto(page.base + "/transfer/?entity=companies")
    page.set_input_files("#f-file", str(path))
    page.get_by_role("button", name="Загрузить и проверить").click()
    expect(page.locator("h1")).to_have_text("компании.csv")
    assert page.locator("#col2").input_value() == ""
    page.locator("#col2").locator("xpath=..").get_by_text("Создать поле…").click()
    expect(page.locator("#nf-label-2")).to_have_value("Тип компании")  # read from the file, no page reload
    assert page.locator("#nf-type-2").input_value() == "choice"
    assert page.locator("#nf-choices-2").input_value() == "Клиент\nПоставщик"
    assert visible_latin_words(page) == []
    shot(page, "import-new-field")
    page.get_by_role("button", name="Создать поле", exact=True).click()
    expect(page.locator("#col2 option:checked")).to_have_text("Тип компании")
    expect(page.locator("#values-cf\\.tip_kompanii")).to_contain_text("Поставщик")
    page.get_by_role("button", name="Проверить первые строки").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Проверены 3 строки — весь файл")
    expect(preview.locator("dt", has_text="Тип компании").first).to_be_visible()
    assert visible_latin_words(page) == []
    shot(page, "import-new-field-preview")
