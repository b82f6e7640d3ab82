"""The import pages look finished (a trial's screenshots): the upload button is a button's height, not the height
of the fields beside it; the panels of the page start at the same height; «Остановить импорт» is a red button
that asks before it stops anything, not bare bold text."""

from playwright.sync_api import expect

from krug.transfer.models import ImportJob

CSV = "ФИО;Телефон\nИванов Иван;8 (912) 345-67-89\n"


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_the_upload_form_has_a_button_sized_button_and_aligned_panels(page_as, shot, tmp_path):
    page = page_as("manager", width=1400)
    page.goto(page.base + "/transfer/")
    button = _box(page, "button:has-text('Загрузить и проверить')")
    field = _box(page, "#f-entity")
    assert button["height"] < 2 * field["height"], (button, field)
    assert button["y"] > _box(page, "#f-file")["y"], "the button is under the fields, not beside them"
    upload = _box(page, "section[aria-labelledby=upload-title]")
    imports = _box(page, "section[aria-labelledby=imports-title]")
    assert abs(upload["y"] - imports["y"]) < 1, (upload, imports)
    path = tmp_path / "b24_contacts_cp1251_export_2026-11-24.csv"
    path.write_text(CSV, encoding="utf-8")
    page.set_input_files("#f-file", str(path))
    assert _box(page, "#f-file")["width"] > 300, "room for a long file name"
    shot(page, "import-index")


def test_stopping_an_import_is_a_red_button_that_asks_first(page_as, shot, tmp_path, org):
    page = page_as("manager", width=1400)
    page.goto(page.base + "/transfer/")
    path = tmp_path / "клиенты.csv"
    path.write_text(CSV, encoding="utf-8")
    page.set_input_files("#f-file", str(path))
    page.get_by_role("button", name="Загрузить и проверить").click()
    expect(page.locator("h1")).to_have_text("клиенты.csv")
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, total_rows=1)
    page.goto(page.base + f"/transfer/import/{job.pk}/")
    stop = page.get_by_role("button", name="Остановить импорт")
    style = stop.evaluate("b => [getComputedStyle(b).borderTopStyle, getComputedStyle(b).borderTopColor, "
                          "getComputedStyle(b).color]")
    assert style[0] == "solid" and style[1] != "rgba(0, 0, 0, 0)", style
    assert style[2] == "rgb(201, 58, 58)", "the alert colour"
    shot(page, "import-stop-button")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    stop.click()
    assert asked and asked[0].startswith("Остановить импорт?"), asked
    assert ImportJob.objects.get().status == ImportJob.Status.QUEUED, "dismissed: nothing stopped"
    page.once("dialog", lambda dialog: dialog.accept())
    stop.click()
    expect(page.locator("#progress")).to_contain_text("Остановлен")
    assert ImportJob.objects.get().status == ImportJob.Status.CANCELLED
