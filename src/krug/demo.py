"""`krug demo`: a deterministic, realistic Russian sales department to try Krug on.

Everything is written through the services (so the data is normalised, audited and on the timelines
like real data); only the timestamps are then spread over the past months so reports and timelines look
lived-in. The same seed gives the same base.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

DEMO_PASSWORD = "krug-demo-2026"

SURNAMES_M = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
              "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
              "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
              "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв"]
FIRST_M = ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Евгений", "Иван", "Михаил",
           "Артём", "Николай", "Павел", "Олег", "Игорь", "Владимир", "Роман", "Денис", "Виктор"]
FIRST_F = ["Елена", "Ольга", "Наталья", "Анна", "Татьяна", "Ирина", "Екатерина", "Мария", "Светлана",
           "Юлия", "Марина", "Анастасия", "Дарья", "Ксения", "Виктория"]
PATRONYMIC_ROOTS = ["Александров", "Сергеев", "Дмитриев", "Андреев", "Алексеев", "Николаев", "Павлов",
                    "Викторов", "Владимиров", "Игорев", "Михайлов", "Петров", "Иванов", "Олегов"]
POSITIONS = ["Генеральный директор", "Коммерческий директор", "Главный бухгалтер", "Начальник отдела снабжения",
             "Менеджер по закупкам", "Юрист", "Секретарь", "Технический директор", "Финансовый директор",
             "Руководитель отдела продаж", "Инженер", "Офис-менеджер"]
COMPANY_ROOTS = ["Вектор", "Альфа", "Стройресурс", "ТехноПром", "СеверСталь-Сервис", "Меридиан", "Горизонт",
                 "Агроторг", "Логистик Плюс", "ПромМаш", "Энергия", "Сибирь Трейд", "Волга-Инвест", "Кристалл",
                 "Прогресс", "Орион", "Стандарт", "Профиль", "Гранит", "Авангард", "Технолайн", "Эталон",
                 "Уралхим", "Балтика Логистик", "Континент", "Импульс", "Сфера", "Регион-Снаб", "Форвард",
                 "Атлант", "Мегаполис", "Монолит", "Феникс", "Интеграл", "Норд", "Зенит", "Спектр", "Лидер"]
INDUSTRIES = ["Строительство", "Производство", "Розничная торговля", "Оптовая торговля", "Логистика",
              "IT и телеком", "Сельское хозяйство", "Энергетика", "Медицина", "Образование", "HoReCa"]
CITIES = [("Москва", "Москва"), ("Санкт-Петербург", "Санкт-Петербург"), ("Новосибирск", "Новосибирская область"),
          ("Екатеринбург", "Свердловская область"), ("Казань", "Республика Татарстан"),
          ("Нижний Новгород", "Нижегородская область"), ("Самара", "Самарская область"),
          ("Краснодар", "Краснодарский край"), ("Воронеж", "Воронежская область"), ("Пермь", "Пермский край")]
SOURCES = ["site", "form", "call", "email", "referral", "exhibition", "social", "messenger"]
UTM = [("yandex", "cpc", "spring_sale"), ("google", "cpc", "brand"), ("vk", "social", "retarget"),
       ("newsletter", "email", "november"), ("", "", "")]
PRODUCTS = [("Станок токарный ТВ-320", 485000), ("Фрезерный центр ФЦ-500", 1250000),
            ("Сервисное обслуживание, год", 96000), ("Пусконаладка", 45000), ("Обучение персонала", 30000),
            ("Комплект оснастки", 64000), ("Система ЧПУ", 310000), ("Доставка", 12000),
            ("Гарантия расширенная", 52000), ("Консультация инженера, час", 3500)]
LOSS_REASONS = ["Дорого", "Выбрали конкурента", "Нет бюджета", "Проект отложен", "Не вышли на ЛПР"]
TASKS = ["Позвонить и уточнить потребность", "Отправить коммерческое предложение", "Выставить счёт",
         "Согласовать договор с юристом", "Напомнить об оплате", "Подготовить презентацию",
         "Запросить реквизиты", "Отправить закрывающие документы"]
NOTES = ["Клиент просит скидку 5% при оплате до конца месяца.", "ЛПР — генеральный директор, решение до пятницы.",
         "Интересуются лизингом, прислать условия.", "Есть действующий поставщик, недовольны сроками.",
         "Попросили перезвонить после 15:00.", "Бюджет утверждён на следующий квартал."]


def _inn(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(9)]
    digits[0] = rng.randint(1, 9)
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def _mobile(rng: random.Random) -> str:
    return f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"


def _person(rng: random.Random) -> tuple[str, str, str]:
    root = rng.choice(PATRONYMIC_ROOTS)
    if rng.random() < 0.55:
        return rng.choice(SURNAMES_M), rng.choice(FIRST_M), root + "ич"
    return rng.choice(SURNAMES_M) + "а", rng.choice(FIRST_F), root + "на"


def _translit_login(name: str) -> str:
    from anyascii import anyascii

    return anyascii(name).lower().replace("'", "").replace(" ", "")


def already_loaded() -> bool:
    from krug.accounts.models import User

    return User.objects.filter(username="admin").exists()


@transaction.atomic
def load_demo(seed: int = 42, *, companies: int = 220, contacts: int = 520, deals: int = 320,
              leads: int = 60) -> list[tuple[str, str, str]]:
    """Create the demo organisation and its base; returns [(username, password, role)]."""
    from krug.accounts import services as accounts
    from krug.activities import services as activities
    from krug.clients import services as clients
    from krug.clients.models import TimelineEvent
    from krug.core.models import CustomField
    from krug.core.permissions import Role
    from krug.sales import services as sales

    rng = random.Random(seed)
    now = timezone.now()
    logins = []

    def user(username, role, team=None, first="", last=""):
        u = accounts.create_user(username, role=role, team=team, password=DEMO_PASSWORD, first_name=first,
                                 last_name=last, email=f"{username}@krug.example")
        logins.append((username, DEMO_PASSWORD, role))
        return u

    admin = user("admin", Role.ADMIN, first="Анна", last="Администраторова")
    moscow = accounts.get_or_create_team("Продажи Москва")
    spb = accounts.get_or_create_team("Продажи Санкт-Петербург")
    user("head", Role.HEAD, moscow, "Олег", "Руководов")
    user("head.spb", Role.HEAD, spb, "Марина", "Северова")
    managers = [
        user("ivanov", Role.MANAGER, moscow, "Иван", "Иванов"),
        user("petrova", Role.MANAGER, moscow, "Дарья", "Петрова"),
        user("sidorov", Role.MANAGER, moscow, "Кирилл", "Сидоров"),
        user("nevsky", Role.MANAGER, spb, "Александр", "Невский"),
        user("volkova", Role.MANAGER, spb, "Ксения", "Волкова"),
    ]

    CustomField.objects.get_or_create(entity="company", key="employees", defaults={
        "label": "Численность сотрудников", "type": "number", "position": 1})
    CustomField.objects.get_or_create(entity="contact", key="preferred_channel", defaults={
        "label": "Удобный канал связи", "type": "choice", "choices": ["Телефон", "E-mail", "Telegram", "WhatsApp"],
        "position": 1})
    CustomField.objects.get_or_create(entity="deal", key="delivery_date", defaults={
        "label": "Дата поставки", "type": "date", "position": 1})

    first_sale = sales.create_pipeline(admin, {"name": "Первичные продажи", "is_default": True, "stages": [
        {"name": "Новая заявка", "probability": 10}, {"name": "Квалификация", "probability": 20},
        {"name": "Встреча / презентация", "probability": 40}, {"name": "КП отправлено", "probability": 60},
        {"name": "Переговоры", "probability": 75}, {"name": "Счёт выставлен", "probability": 90,
                                                     "required_fields": ["amount", "company"]},
        {"name": "Успешно реализовано", "probability": 100, "kind": "won"},
        {"name": "Закрыто и не реализовано", "probability": 0, "kind": "lost"}]})
    repeat_sale = sales.create_pipeline(admin, {"name": "Повторные продажи", "stages": [
        {"name": "Новый заказ", "probability": 50}, {"name": "Счёт", "probability": 80},
        {"name": "Оплачено", "probability": 95}, {"name": "Отгружено", "probability": 100, "kind": "won"},
        {"name": "Отказ", "probability": 0, "kind": "lost"}]})
    products = [sales.create_product(admin, {"name": n, "price": Decimal(p), "unit": "шт"}) for n, p in PRODUCTS]

    company_rows = []
    for i in range(companies):
        owner = rng.choice(managers)
        city, region = rng.choice(CITIES)
        root = COMPANY_ROOTS[i % len(COMPANY_ROOTS)]
        name = root if i < len(COMPANY_ROOTS) else f"{root}-{rng.choice(['М', 'Юг', 'Групп', 'Сервис', 'Опт'])}"
        form = rng.choice(["ООО", "ООО", "ООО", "АО", "ПАО", "ИП"])
        company_rows.append(clients.create_company(owner, {
            "name": f"{name} {i + 1}" if i >= 2 * len(COMPANY_ROOTS) else name, "legal_form": form,
            "inn": _inn(rng) if form != "ИП" else "", "industry": rng.choice(INDUSTRIES), "city": city,
            "region": region, "website": f"{_translit_login(name)}.ru",
            "founded": dt.date(rng.randint(1993, 2022), rng.randint(1, 12), rng.randint(1, 28)),
            "custom": {"employees": rng.choice([8, 25, 60, 140, 380, 1200])}, "allow_duplicate": True}))

    contact_rows = []
    for i in range(contacts):
        company = company_rows[i % len(company_rows)] if rng.random() < 0.85 else None
        owner_id = company.owner_id if company else rng.choice(managers).pk
        owner = next(m for m in managers if m.pk == owner_id)
        surname, first, patronymic = _person(rng)
        email_domain = company.website.removeprefix("https://") if company else rng.choice(
            ["mail.ru", "yandex.ru", "gmail.com"])
        contact_rows.append(clients.create_contact(owner, {
            "surname": surname, "first_name": first, "patronymic": patronymic,
            "position": rng.choice(POSITIONS) if company else "", "company_id": company.pk if company else None,
            "phones": [_mobile(rng)] + ([f"+7 495 {rng.randint(100, 999)}-{rng.randint(10, 99)}-"
                                         f"{rng.randint(10, 99)}"] if rng.random() < 0.3 else []),
            "emails": [f"{_translit_login(first)[0]}.{_translit_login(surname)}{i}@{email_domain}"]
            if rng.random() < 0.8 else [],
            "city": company.city if company else rng.choice(CITIES)[0], "source": rng.choice(SOURCES),
            "client_type": rng.choice(["new", "new", "returning", "vip", "key"]),
            "tags": rng.sample(["опт", "розница", "тендер", "постоянный", "госзаказ", "лизинг"], rng.randint(0, 2)),
            "birthday": dt.date(rng.randint(1960, 1998), rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.6 else None,
            "custom": {"preferred_channel": rng.choice(["Телефон", "E-mail", "Telegram", "WhatsApp"])},
            "allow_duplicate": True,  # demo people are made up; two namesakes in one company may happen
        }))

    for _deal in range(deals):
        contact = rng.choice(contact_rows)
        owner = next(m for m in managers if m.pk == contact.owner_id)
        pipeline = first_sale if rng.random() < 0.75 else repeat_sale
        stages = list(pipeline.stages.order_by("position"))
        items = [{"product_id": p.pk, "quantity": rng.randint(1, 3)} for p in rng.sample(products, rng.randint(1, 3))]
        deal = sales.create_deal(owner, {
            "title": f"{rng.choice(['Поставка', 'Модернизация', 'Сервис', 'Запуск линии'])} — "
                     f"{contact.company or contact.full_name}",
            "pipeline_id": pipeline.pk, "contact_id": contact.pk, "company_id": contact.company_id,
            "expected_close": (now + dt.timedelta(days=rng.randint(-20, 60))).date(),
            "source": contact.source, "items": items,
        })
        target = rng.choices(stages, weights=[8, 7, 6, 5, 4, 3, 5, 4][: len(stages)])[0]
        for stage in stages[1: stages.index(target) + 1]:
            kwargs = {"loss_reason": rng.choice(LOSS_REASONS)} if stage.kind == "lost" else {}
            if stage.kind == "lost" and stage is not target:
                continue
            if "company" in stage.required_fields and deal.company_id is None:
                break  # a private client's deal waits before the invoice stage, as the stage demands
            sales.move_deal(owner, deal, stage.pk, **kwargs)
            deal.refresh_from_db()
        _activities_for(rng, activities, owner, contact, deal, now)

    for i in range(leads):
        surname, first, patronymic = _person(rng)
        utm = rng.choice(UTM)
        clients.create_lead(admin, {
            "title": rng.choice(["Запрос цены", "Заявка с сайта", "Нужна консультация", "Запрос КП"]),
            "surname": surname, "first_name": first, "phone": _mobile(rng),
            "email": f"{_translit_login(surname)}{i}@mail.ru" if rng.random() < 0.6 else "",
            "company_name": rng.choice(COMPANY_ROOTS) + " " + rng.choice(["Трейд", "Строй", "Групп"]),
            "source": rng.choice(SOURCES), "utm_source": utm[0], "utm_medium": utm[1], "utm_campaign": utm[2],
            "message": "Прошу связаться со мной по поводу оборудования.",
            "owner_id": rng.choice(managers).pk if rng.random() < 0.4 else None,
        })

    # spread history over the past months, keeping each record's events in order
    events = list(TimelineEvent.objects.order_by("id").values_list("id", flat=True))
    for index, event_id in enumerate(events):
        age = dt.timedelta(days=120 * (1 - index / max(len(events), 1)), minutes=rng.randint(0, 600))
        TimelineEvent.objects.filter(pk=event_id).update(at=now - age)
    return logins


def _activities_for(rng, activities, owner, contact, deal, now) -> None:
    links = {"contact_id": contact.pk, "deal_id": deal.pk}
    for _ in range(rng.randint(1, 3)):
        missed = rng.random() < 0.15
        activities.create_call(owner, {
            **links, "direction": "in" if missed or rng.random() < 0.4 else "out",
            "result": "missed" if missed else rng.choice(["answered", "answered", "no_answer", "busy"]),
            "started_at": now - dt.timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 8)),
            "duration_seconds": 0 if missed else rng.randint(30, 900),
            "phone": contact.phones.first().number if contact.phones.exists() else "",
            "summary": rng.choice(["Обсудили условия поставки", "Уточнили сроки", "Не дозвонились", ""]),
        })
    due = now + dt.timedelta(days=rng.randint(-5, 10), hours=rng.randint(-4, 4))
    task = activities.create_task(owner, {**links, "title": rng.choice(TASKS), "due_at": due,
                                          "priority": rng.choice(["low", "normal", "normal", "high"])})
    if rng.random() < 0.35:
        activities.complete_task(owner, task)
    if rng.random() < 0.4:
        start = now + dt.timedelta(days=rng.randint(-30, 14), hours=rng.randint(9, 17) - now.hour)
        activities.create_meeting(owner, {**links, "title": "Встреча с клиентом", "starts_at": start,
                                          "ends_at": start + dt.timedelta(hours=1),
                                          "location": rng.choice(["Офис клиента", "Наш офис", "Zoom"])})
    if rng.random() < 0.5:
        activities.create_note(owner, {**links, "text": rng.choice(NOTES)})
