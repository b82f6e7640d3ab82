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


def test_asking_only_about_the_first_rows_finds_exactly_their_pairs():
    """`probes=n` (the import's chunk against its candidates) skips the candidates' pairs among themselves
    and nothing else."""
    from bench.people import generate

    people = generate(3000, seed=7)
    rows = [ContactRow(i, p.surname, p.first_name, p.patronymic, p.company, p.city, tuple(p.phones),
                       tuple(e.casefold() for e in p.emails)) for i, p in enumerate(people)]
    everything = {(p.a, p.b): (p.score, p.reasons) for p in find_duplicates(rows)}
    first = 800
    wanted = {ab: found for ab, found in everything.items() if min(ab) < first}
    assert len(wanted) > 20 and len(everything) > len(wanted)
    focused = {(p.a, p.b): (p.score, p.reasons) for p in find_duplicates(rows, probes=first)}
    assert focused == wanted
