"""What an import writes on a card's timeline: a change names its fields by their labels on both paths (a trial read
«Изменено: owner, position»), and a file run again writes nothing at all — the trial's two identical «Изменено»
entries came from a re-run of a file with a duplicate under another ID, after it was merged."""

import pytest
from django.utils import translation

from krug.clients.models import Contact, TimelineEvent
from krug.core.models import AuditEntry
from krug.quality import merge
from tests.transfer.both_paths import import_file

BOTH = pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
CONTACTS = "ID;Фамилия;Имя;Должность;Тип клиента;Телефон;Ответственный\n"
COMPANIES = "ID;Название;ИНН;Город;Ответственный\n"


def _file(tmp_path, name: str, header: str, lines: list[str]):
    path = tmp_path / name
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _written() -> tuple[int, int]:
    return AuditEntry.objects.count(), TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CHANGED).count()


@BOTH
def test_an_imports_change_names_the_fields_by_their_labels(org, tmp_path, bulk):
    import_file(org.admin, "contacts", _file(tmp_path, "first.csv", CONTACTS, [
        "101;Смирнов;Андрей;Генеральный директор;новый;+7 912 000-11-01;manager"]), bulk=bulk, chunk=50)
    with translation.override("ru"):
        job = import_file(org.admin, "contacts", _file(tmp_path, "second.csv", CONTACTS, [
            "101;Смирнов;Андрей;Ген. директор;постоянный;+7 912 000-11-01;colleague"]), bulk=bulk, chunk=50,
            key="external_id")
    assert job.updated == 1
    event = TimelineEvent.objects.get(kind=TimelineEvent.Kind.CHANGED)
    assert event.summary == "Изменено: тип клиента, ответственный, должность", event.summary
    assert set(event.data) == {"client_type", "owner", "position"}, "the data keeps the keys"


@BOTH
def test_an_imports_change_of_a_company_names_the_fields_by_their_labels(org, tmp_path, bulk):
    import_file(org.admin, "companies", _file(tmp_path, "first.csv", COMPANIES, [
        "C-1;Вектор Плюс;3982597915;Москва;manager"]), bulk=bulk, chunk=50)
    with translation.override("ru"):
        import_file(org.admin, "companies", _file(tmp_path, "second.csv", COMPANIES, [
            "C-1;Вектор Плюс;3982597915;Тула;colleague"]), bulk=bulk, chunk=50, key="external_id")
    event = TimelineEvent.objects.get(kind=TimelineEvent.Kind.CHANGED)
    assert event.summary == "Изменено: город, ответственный", event.summary


@BOTH
def test_the_trials_file_run_again_and_again_writes_no_change(org, tmp_path, bulk):
    """Bitrix24's `101` and its duplicate `125` (same phone, another position and owner): merged by the first run;
    the next two runs of the same file change nothing, so the card gets no «Изменено» (it got «owner 4 → 5,
    position …», then «owner 5 → 5» before)."""
    path = _file(tmp_path, "bitrix.csv", CONTACTS, [
        "101;Смирнов;Андрей;Генеральный директор;постоянный;+7 495 123-45-67;manager",
        "125;Смирнов;Андрей;Ген. директор;постоянный;8 (495) 123-45-67;colleague"])
    first = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id")
    assert (first.created, first.merged) == (1, 1)
    written = _written()
    for _run in range(2):
        again = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id")
        assert (again.created, again.updated, again.merged, again.failed) == (0, 0, 0, 0)
        assert _written() == written
    smirnov = Contact.objects.get()
    assert (smirnov.position, smirnov.owner_id) == ("Генеральный директор", org.manager.pk)


@BOTH
def test_a_file_run_again_after_its_two_cards_were_merged_by_hand_writes_no_change(org, tmp_path, bulk):
    """Two IDs made two cards (different phones); a user merged them; the file run twice more keeps the merged
    card as it is, with no new card, no change and no «Изменено»."""
    path = _file(tmp_path, "bitrix.csv", CONTACTS, [
        "101;Смирнов;Андрей;Генеральный директор;постоянный;+7 912 000-11-01;manager",
        "125;Смирнов;Андрей;Ген. директор;постоянный;+7 912 000-22-02;colleague"])
    assert import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id").created == 2
    kept, other = Contact.objects.order_by("pk")
    merge.merge(org.admin, Contact, kept.pk, [other.pk])
    written = _written()
    for _run in range(2):
        again = import_file(org.admin, "contacts", path, bulk=bulk, chunk=50, key="external_id")
        assert (again.created, again.updated, again.failed) == (0, 0, 0)
        assert _written() == written
    assert list(Contact.objects.alive().values_list("pk", "position", "owner_id")) == [
        (kept.pk, "Генеральный директор", org.manager.pk)]
