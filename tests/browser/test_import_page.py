"""Import in the browser: choose a file, check the recognised columns, preview the first rows, start."""

from playwright.sync_api import expect

from tests.browser.conftest import visible_latin_words

CSV = ("ФИО;Моб. телефон;Эл. почта;Компания;Город\n"
       "Иванов Иван Иванович;8 (912) 345-67-89;ivan@vektor.ru;ООО «Вектор»;Москва\n"
       "Петрова Анна;+7 916 555 12 34;петрова@;ООО «Вектор»;Москва\n")


def test_a_manager_uploads_a_file_checks_the_columns_and_previews_the_rows(page_as, shot, tmp_path):
    path = tmp_path / "клиенты.csv"
    path.write_bytes(CSV.encode("cp1251"))
    page = page_as("manager")
    page.goto(page.base + "/clients/contacts/")
    page.get_by_role("link", name="Импорт").click()
    assert visible_latin_words(page) == []
    page.set_input_files("#f-file", str(path))
    page.get_by_role("button", name="Загрузить и проверить").click()
    expect(page.locator("h1")).to_have_text("клиенты.csv")
    assert page.locator("#col0").input_value() == "full_name" and page.locator("#col1").input_value() == "phone_mobile"
    page.get_by_role("button", name="Проверить первые строки").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("не загрузится")
    expect(preview).to_contain_text("E-mail: петрова@ — неверный адрес e-mail: после @ ничего нет")
    assert visible_latin_words(page) == []
    shot(page, "import-mapping")
    page.get_by_role("button", name="Импорт").last.click()
    expect(page.locator("#progress")).to_be_visible()
    shot(page, "import-progress")
