"""The full duplicate scan finds planted duplicates and leaves namesakes and colleagues apart."""

from krug.quality.scan import ContactRow, MatchRules, clusters, find_duplicates


def row(id, surname, first, *, patronymic="", company="", city="", phones=(), emails=()):
    return ContactRow(id, surname, first, patronymic, company, city, tuple(phones), tuple(emails))


def test_the_scan_joins_one_person_written_many_ways():
    rows = [
        row(1, "Смирнова", "Анна", company="ООО «Вектор»", city="Москва", phones=["+79120000001"]),
        row(2, "Smirnova", "Anna", company="Vektor LLC", city="Москва"),             # transliterated
        row(3, "Анна", "Смирнова", company="Вектор", phones=["+79120000001"]),      # swapped, same phone
        row(4, "Смирнва", "Анна", city="Москва", emails=["anna@vektor.ru"]),         # typo, no company
    ]
    groups = clusters(find_duplicates(rows))
    assert groups == [{1, 2, 3, 4}]


def test_colleagues_sharing_a_switchboard_or_namesakes_elsewhere_stay_apart():
    rows = [
        row(1, "Осипова", "Алина", company="Вектор", phones=["+74951234500", "+79120000001"]),
        row(2, "Романова", "Галина", company="Вектор", phones=["+74951234500", "+79120000002"]),
        row(3, "Иванов", "Иван", company="Альфа", city="Тула", phones=["+79120000003"]),
        row(4, "Иванов", "Иван", company="Омега", city="Тула", phones=["+79120000004"]),
        row(5, "Петров", "Пётр", patronymic="Иванович", company="Альфа", emails=["p@alfa.ru"]),
        row(6, "Петров", "Пётр", patronymic="Сергеевич", company="Альфа", emails=["p2@alfa.ru"]),
    ]
    assert find_duplicates(rows) == []


def test_the_rules_an_admin_tunes_change_what_is_found():
    rows = [row(1, "Кузнецов", "Павел", phones=["+79120000001"]), row(2, "Кузнецов", "П", phones=["+79120000001"])]
    assert [p.reasons for p in find_duplicates(rows)] == [["phone"]]
    assert find_duplicates(rows, MatchRules(use_phone=False)) == []
    assert MatchRules.from_dict({"threshold": 90, "unknown": 1}).threshold == 90
