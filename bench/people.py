"""A deterministic generator of a realistic Russian/English client base with planted duplicates of known
truth, for the data-quality benchmark.

Every base person gets a cluster id; a share of them get one or two corrupted copies (typos, swapped name
order, transliteration, other phone formats, missing fields, e-mail case...). Corruption kinds are split
into *tuning* kinds and *held-out* kinds: the matcher is tuned on the first only, and the benchmark
reports F1 on the held-out kinds separately, so the figures show how it generalises.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field, replace

from anyascii import anyascii

SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
            "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
            "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
            "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов",
            "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин",
            "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов",
            "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов",
            "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов",
            "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
            "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков",
            "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев",
            "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов",
            "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов",
            "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев",
            "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов", "Еремин", "Тихомиров", "Галкин",
            "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов",
            "Князев", "Цветков", "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов", "Мальцев", "Логинов",
            "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников",
            "Дёмин", "Хохлов", "Жданов", "Рябов", "Мухин", "Гордеев", "Третьяков", "Лапин", "Бобров", "Шубин",
            "Блинов", "Чистяков", "Ершов", "Зуев", "Панфилов", "Шестаков", "Муравьёв", "Сазонов", "Родин"]
FIRST_M = ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Евгений", "Иван", "Михаил", "Артём",
           "Николай", "Павел", "Олег", "Игорь", "Владимир", "Роман", "Денис", "Виктор", "Кирилл", "Антон",
           "Юрий", "Илья", "Никита", "Вадим", "Константин", "Егор", "Григорий", "Тимур", "Станислав", "Леонид",
           "Борис", "Василий", "Пётр", "Фёдор", "Глеб", "Ярослав", "Руслан", "Валерий", "Геннадий", "Аркадий"]
FIRST_F = ["Елена", "Ольга", "Наталья", "Анна", "Татьяна", "Ирина", "Екатерина", "Мария", "Светлана", "Юлия",
           "Марина", "Анастасия", "Дарья", "Ксения", "Виктория", "Людмила", "Галина", "Надежда", "Вера",
           "Алёна", "Полина", "Алина", "Валентина", "Оксана", "Евгения", "Софья", "Кристина", "Любовь",
           "Маргарита", "Вероника", "Лариса", "Жанна", "Диана", "Милана", "Яна", "Василиса", "Зоя", "Инна"]
EN_FIRST = ["James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Mark", "Paul",
            "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen", "Emma",
            "Oliver", "Harry", "George", "Jack", "Charlotte", "Amelia", "Olivia", "Sophie", "Lucy", "Daniel"]
EN_SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
               "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis",
               "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams",
               "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner"]
#: rarer surnames built from syllables, so the base has the long tail of a real one (real ones stay the most common)
_SYLLABLES_1 = ["Бел", "Крас", "Мор", "Тур", "Сол", "Гор", "Лес", "Бур", "Сав", "Кор", "Мал", "Вер", "Дуб", "Жар",
                "Зим", "Кал", "Лоп", "Мур", "Нос", "Пес", "Рыж", "Сух", "Тол", "Ус", "Хол", "Чер", "Шар", "Щег",
                "Яр", "Вол", "Зал", "Кос", "Лаз", "Мед", "Нов", "Ост", "Пол", "Рус", "Ст", "Тр"]
_SYLLABLES_2 = ["об", "ан", "ен", "ух", "ик", "ар", "ол", "ям", "ыг", "ец", "ач", "ош", "ун", "ер", "ал", "ит",
                "ор", "ус", "ад", "ем"]
_SURNAME_ENDINGS = ["ов", "ев", "ин", "ский", "енко"]
RARE_SURNAMES = [a + b + c for a in _SYLLABLES_1 for b in _SYLLABLES_2 for c in _SURNAME_ENDINGS]
PATRONYMIC_ROOTS = ["Александров", "Сергеев", "Дмитриев", "Андреев", "Алексеев", "Николаев", "Павлов",
                    "Викторов", "Владимиров", "Игорев", "Михайлов", "Петров", "Иванов", "Олегов", "Юрьев",
                    "Борисов", "Васильев", "Евгеньев", "Константинов", "Геннадьев", "Анатольев", "Валерьев"]
CITIES = ["Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань", "Нижний Новгород", "Самара",
          "Краснодар", "Воронеж", "Пермь", "Уфа", "Ростов-на-Дону", "Омск", "Челябинск", "Красноярск", "Тюмень",
          "Волгоград", "Саратов", "Тула", "Ярославль", "Иркутск", "Хабаровск", "Владивосток", "Калининград"]
COMPANY_WORDS = ["Вектор", "Альфа", "Строй", "Техно", "Пром", "Сервис", "Меридиан", "Горизонт", "Агро", "Логистик",
                 "Маш", "Энерго", "Сибирь", "Волга", "Кристалл", "Прогресс", "Орион", "Стандарт", "Профиль",
                 "Гранит", "Авангард", "Эталон", "Урал", "Балтика", "Континент", "Импульс", "Сфера", "Регион",
                 "Форвард", "Атлант", "Монолит", "Феникс", "Интеграл", "Норд", "Зенит", "Спектр", "Лидер", "Трейд"]
MAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru", "rambler.ru"]

#: the corruptions the matcher may be tuned on, and the ones kept out of tuning (reported separately)
TUNING_KINDS = ("typo", "swap", "translit", "phone_format", "drop_phone", "email_case", "drop_email")
HELD_OUT_KINDS = ("double_typo", "drop_company_and_phone", "translit_and_typo", "patronymic_dropped")


@dataclass
class Person:
    id: int
    cluster: int
    surname: str
    first_name: str
    patronymic: str
    company: str
    city: str
    phones: list[str] = field(default_factory=list)  # as typed (any format)
    emails: list[str] = field(default_factory=list)
    corruption: str = ""  # "" for an original record


_GOST = {"ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ю": "yu", "я": "ya", "й": "y",
         "ё": "e", "ъ": "", "ь": "", "ы": "y", "э": "e"}
_OTHER = {"ж": "j", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sch", "ю": "iu", "я": "ia", "й": "i",
          "ё": "yo", "ъ": "", "ь": "'", "ы": "i", "э": "e"}


def transliterate(text: str, rng: random.Random) -> str:
    """Cyrillic to Latin the way people do it: one of two common systems, then anyascii for the rest."""
    table = _GOST if rng.random() < 0.6 else _OTHER
    out = []
    for ch in text:
        low = ch.lower()
        if low in table:
            latin = table[low]
            out.append(latin.capitalize() if ch.isupper() else latin)
        else:
            out.append(anyascii(ch))
    return "".join(out)


def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip: a letter dropped, doubled, swapped with its neighbour or replaced."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]
    alphabet = "абвгдеиклмнопрстуя" if any("а" <= c <= "я" for c in word.lower()) else "abcdeiklmnoprstu"
    return word[:i] + rng.choice(alphabet) + word[i + 1:]


def _phone_formats(e164: str, rng: random.Random) -> str:
    d = e164[2:]  # 10 digits after +7
    return rng.choice([f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}", f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
                       f"8{d}", f"+7{d}", f"7 {d[:3]} {d[3:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}"])


def _surname(rng: random.Random) -> str:
    return rng.choice(SURNAMES) if rng.random() < 0.5 else rng.choice(RARE_SURNAMES)


def _base_person(pid: int, rng: random.Random, companies: list[tuple[str, str, str]]) -> Person:
    english = rng.random() < 0.12
    if english:
        surname, first, patronymic = rng.choice(EN_SURNAMES), rng.choice(EN_FIRST), ""
    elif rng.random() < 0.55:
        surname, first, patronymic = _surname(rng), rng.choice(FIRST_M), rng.choice(PATRONYMIC_ROOTS) + "ич"
    else:
        surname = _surname(rng)
        surname = surname[:-2] + "ая" if surname.endswith("ий") else surname if surname.endswith("о") else surname + "а"
        first, patronymic = rng.choice(FIRST_F), rng.choice(PATRONYMIC_ROOTS) + "на"
    company, city, domain = rng.choice(companies) if rng.random() < 0.85 else ("", rng.choice(CITIES), "")
    mobile = f"+79{rng.randrange(10**9):09d}"
    phones = [_phone_formats(mobile, rng)]
    if company and rng.random() < 0.3:  # the company's switchboard, shared by its people
        code = zlib.crc32(company.encode())
        phones.append(f"+7 495 {code % 900 + 100}-{code // 900 % 90 + 10}-00")
    login = anyascii(first[0] + "." + surname).lower().replace("'", "") + str(rng.randrange(1000))
    emails = [f"{login}@{domain or rng.choice(MAIL_DOMAINS)}"] if rng.random() < 0.8 else []
    return Person(pid, pid, surname, first, patronymic, company, city, phones, emails)


def corrupt(p: Person, kind: str, rng: random.Random) -> Person:
    c = replace(p, phones=list(p.phones), emails=list(p.emails), corruption=kind)
    if kind == "typo":
        if rng.random() < 0.5:
            c.surname = typo(c.surname, rng)
        else:
            c.first_name = typo(c.first_name, rng)
    elif kind == "swap":
        c.surname, c.first_name = c.first_name, c.surname
    elif kind == "translit":
        c.surname, c.first_name, c.patronymic = (transliterate(x, rng) for x in (c.surname, c.first_name,
                                                                                  c.patronymic))
    elif kind == "phone_format":
        c.phones = [_phone_formats("+7" + "".join(ch for ch in x if ch.isdigit())[-10:], rng) for x in c.phones]
    elif kind == "drop_phone":
        c.phones = []
    elif kind == "email_case":
        c.emails = [e.upper() if rng.random() < 0.5 else e.capitalize() for e in c.emails]
    elif kind == "drop_email":
        c.emails = []
    elif kind == "double_typo":
        c.surname, c.first_name = typo(c.surname, rng), typo(c.first_name, rng)
    elif kind == "drop_company_and_phone":
        c.company, c.phones = "", []
    elif kind == "translit_and_typo":
        c.surname, c.first_name = transliterate(typo(c.surname, rng), rng), transliterate(c.first_name, rng)
    elif kind == "patronymic_dropped":
        c.patronymic, c.phones = "", c.phones[1:]
    return c


def generate(n: int, seed: int = 2026, duplicate_share: float = 0.1) -> list[Person]:
    """About n records, `duplicate_share` of them copies of others; the same seed gives the same base."""
    rng = random.Random(seed)
    company_count = max(n // 10, 10)
    companies = []
    for i in range(company_count):
        name = f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()} {i}"
        domain = anyascii(name).lower().replace(" ", "").replace("'", "") + ".ru"
        companies.append((name, rng.choice(CITIES), domain))
    base_count = int(n / (1 + duplicate_share))
    people = [_base_person(i, rng, companies) for i in range(base_count)]
    kinds = TUNING_KINDS + HELD_OUT_KINDS
    weights = [3, 2, 2, 2, 1, 1, 1] + [1, 1, 1, 1]
    copies = []
    for i in range(n - base_count):
        original = people[rng.randrange(base_count)]
        kind = rng.choices(kinds, weights)[0]
        copy = corrupt(original, kind, rng)
        copy.id = base_count + i
        copies.append(copy)
    everyone = people + copies
    rng.shuffle(everyone)
    return everyone
