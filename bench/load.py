"""Loading a generated base straight into the database for benchmarks (COPY on PostgreSQL, executemany on
SQLite): the values are the ones the services would store (E.164 phones, casefolded keys, search and match
keys; an activity's fields and the timeline events its `create_*` writes), without the per-row cost of the
services, which the import benchmark measures separately."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from django.db import connection, models, transaction
from django.utils import timezone

from bench.people import Person
from krug.core import bulk


def copy_rows(model, rows: Iterable[dict]) -> int:
    """Write rows (dicts by attname, with explicit ids) into the model's table."""
    return bulk.insert(model, rows, with_ids=True)


def reset_sequences(*models_) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"COALESCE((SELECT MAX(id) FROM {table}), 1))")


def _next_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1


@transaction.atomic
def load_people(people: list[Person], owner_ids: list[int], *,
                touched: Iterable[dt.datetime | None] | None = None) -> dict[int, int]:
    """Companies, contacts, phones, e-mails and match keys for `people`; returns {person id: contact id}.
    `touched`: each person's last contact, in order (`History.last_contacts`); none by default."""
    from krug.clients.models import Company, Contact, ContactEmail, ContactPhone
    from krug.clients.services import contact_search_key
    from krug.quality import normalize
    from krug.quality.duplicates import company_keys, contact_keys, key_hash
    from krug.quality.models import CompanyKey, ContactKey

    now = timezone.now()
    companies: dict[str, int] = {}
    first_company = _next_id(Company)
    company_rows = []
    for p in people:
        if p.company and p.company not in companies:
            companies[p.company] = first_company + len(companies)
            company_rows.append({"id": companies[p.company], "name": p.company, "city": p.city,
                                 "owner_id": owner_ids[len(companies) % len(owner_ids)], "created_at": now,
                                 "updated_at": now, "search_key": normalize.search_key(p.company, p.city)})
    copy_rows(Company, company_rows)
    first = _next_id(Contact)
    ids = {p.id: first + n for n, p in enumerate(people)}

    last_contacts = iter(touched) if touched is not None else None

    def contacts() -> Iterator[dict]:
        for n, p in enumerate(people):
            yield {"id": ids[p.id], "surname": p.surname, "first_name": p.first_name, "patronymic": p.patronymic,
                   "position": "", "job_title": "", "company_id": companies.get(p.company), "city": p.city,
                   "source": "", "owner_id": owner_ids[n % len(owner_ids)], "created_at": now, "updated_at": now,
                   "search_key": contact_search_key(p.surname, p.first_name, p.patronymic, p.company),
                   "last_contact_at": next(last_contacts) if last_contacts is not None else None}

    copy_rows(Contact, contacts())
    phone_id, email_id = _next_id(ContactPhone), _next_id(ContactEmail)
    phones, emails = [], []
    key_hashes: list[int] = []
    key_records: list[int] = []
    company_key_hashes: list[int] = []
    company_key_records: list[int] = []
    for p in people:
        for position, raw in enumerate(p.phones):
            try:
                number, extension = normalize.phone(raw)
            except ValueError:
                continue
            phones.append({"id": phone_id + len(phones), "contact_id": ids[p.id], "number": number,
                           "extension": extension, "raw": raw, "position": position})
        for position, address in enumerate(p.emails):
            emails.append({"id": email_id + len(emails), "contact_id": ids[p.id], "email": address,
                           "email_key": address.casefold(), "position": position})
        for key in contact_keys(p.surname, p.first_name, p.company, p.city):
            key_hashes.append(key_hash(key))
            key_records.append(ids[p.id])
    for name, company_id in companies.items():
        for key in company_keys(name, ""):
            company_key_hashes.append(key_hash(key))
            company_key_records.append(company_id)
    copy_rows(ContactPhone, phones)
    copy_rows(ContactEmail, emails)
    bulk.insert_bigints(ContactKey, ("hash", "record_id"), key_hashes, key_records)
    bulk.insert_bigints(CompanyKey, ("hash", "record_id"), company_key_hashes, company_key_records)
    reset_sequences(Company, Contact, ContactPhone, ContactEmail)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return ids


# ---- activities: tasks, calls, meetings and notes, with their timeline events -------------------------------

DAY = dt.timedelta(days=1)
TASK_TITLES = ("Перезвонить клиенту", "Отправить коммерческое предложение", "Выставить счёт", "Согласовать договор",
               "Уточнить потребность", "Напомнить об оплате", "Отправить закрывающие документы", "Назначить встречу",
               "Подготовить презентацию", "Проверить поступление оплаты", "Отправить образцы", "Запросить реквизиты")
TASK_NOTES = ("Клиент просил связаться после обеда.", "Приложить прайс на следующий квартал.",
              "Уточнить у бухгалтерии номер счёта.", "ЛПР — финансовый директор.")
CALL_NOTES = ("Обсудили условия поставки, ждут КП.", "Просит перезвонить на следующей неделе.",
              "Согласовали скидку 5% при оплате до конца месяца.", "Уточнили объём партии и сроки.",
              "Интересуется рассрочкой.", "Подтвердил встречу.")
MEETING_TITLES = ("Знакомство", "Презентация продукта", "Переговоры по договору", "Демонстрация",
                  "Обсуждение условий", "Подписание договора", "Встреча по итогам пилота")
PLACES = ("Офис клиента", "Наш офис", "Zoom", "Телемост", "Кафе рядом с офисом клиента", "")
AGENDAS = ("", "", "Цены, сроки, условия оплаты.", "Показать новый модуль отчётов.", "Итоги пилота и следующие шаги.")
OUTCOMES = ("", "Договорились о пилоте на месяц.", "Ждут КП до пятницы.", "Решение после согласования бюджета.",
            "Подписали договор.")
NOTES = ("Клиент просит перезвонить после 15:00.", "Интересуется оптовыми ценами, отправил прайс.",
         "Бюджет согласован на следующий квартал.", "ЛПР — финансовый директор, встреча через неделю.",
         "Работают с конкурентом, недовольны сроками доставки.", "Попросили счёт на предоплату 50%.",
         "Сменился контактный телефон, новый в карточке.", "Готовы рассмотреть годовой контракт.")
PRIORITIES = ("low",) * 4 + ("normal",) * 13 + ("high",) * 3
OUT_RESULTS = ("answered",) * 13 + ("no_answer",) * 4 + ("busy",) + ("voicemail",) * 2
IN_RESULTS = ("answered",) * 17 + ("missed",) * 3
MEETING_ENDS = ("held",) * 15 + ("cancelled",) * 3 + ("planned",) * 2  # some forget to mark a past meeting
MEETING_MINUTES = (30, 60, 60, 90, 120)
#: activities of each kind a contact has: drawn evenly from these, about three a contact in all
PER_CONTACT = {"task": (0, 1, 1, 2), "call": (0, 1, 1, 2), "meeting": (0, 0, 0, 1), "note": (0, 1, 1, 1)}


class Client(NamedTuple):
    """A loaded contact as his touchpoints need him."""

    contact_id: int
    owner_id: int | None
    company_id: int | None
    deal_id: int | None  # his deal, if he has one: some activities are attached to it
    phones: list[str]  # as typed; a call stores the first that normalises, in E.164


class _Clock:
    """Times in working hours up to `now`, the recent past more often than the distant one."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)

    def day(self, offset: int, rng: random.Random) -> dt.datetime:
        """A time between 9:00 and 18:00, `offset` days from today."""
        return self.today + dt.timedelta(days=offset, seconds=9 * 3600 + rng.randrange(9 * 3600))

    def past(self, rng: random.Random, days: int = 365) -> dt.datetime:
        at = self.day(-int(rng.random() ** 2 * days), rng)
        return at if at <= self.now else at - DAY

    def before(self, at: dt.datetime, rng: random.Random, days: int = 14) -> dt.datetime:
        """Some time within `days` before `at` (and not after now): when a task or meeting was entered."""
        return min(at, self.now) - dt.timedelta(seconds=rng.randrange(600, days * 86400))


def _task(rng: random.Random, clock: _Clock) -> dict:
    """Half done, the rest open (due from three weeks ago, so overdue, to a month ahead; a tenth without a date)
    or postponed; created before they were due, completed about when due."""
    roll = rng.random()
    state = "done" if roll < 0.5 else "postponed" if roll < 0.58 else "open"
    dated = state == "postponed" or rng.random() < 0.9
    due = due_then = done_at = None
    if state == "done":
        due = due_then = clock.day(-1 - int(rng.random() ** 2 * 364), rng) if dated else None
        created = clock.before(due, rng) if dated else clock.past(rng)
        done_at = min(clock.now, max(created + dt.timedelta(minutes=10),
                                     (due or created) + dt.timedelta(seconds=rng.randrange(-2 * 86400, 3 * 86400))))
    elif state == "postponed":
        due_then, due = clock.day(rng.randint(-10, 0), rng), clock.day(rng.randint(1, 14), rng)
        created = clock.before(due_then, rng)
    else:
        due = due_then = clock.day(rng.randint(-20, 30), rng) if dated else None
        created = clock.before(due, rng) if dated else clock.past(rng, 60)
    changed = done_at or (max(created, min(clock.now, due_then)) if state == "postponed" else created)
    return {"title": rng.choice(TASK_TITLES), "description": rng.choice(TASK_NOTES) if rng.random() < 0.2 else "",
            "due_at": due, "priority": rng.choice(PRIORITIES), "state": state, "done_at": done_at,
            "created_at": created, "updated_at": changed, "version": 1 if state == "open" else 2,
            "_due_then": due_then, "_on_deal": rng.random() < 0.5}


def _call(rng: random.Random, clock: _Clock) -> dict:
    """Six in ten outgoing; answered ones last a few minutes, a third of them recorded; logged as they end."""
    started = clock.past(rng)
    incoming = rng.random() < 0.4
    result = rng.choice(IN_RESULTS if incoming else OUT_RESULTS)
    duration = (min(3600, 5 + int(rng.lognormvariate(5.0, 0.8))) if result == "answered"
                else rng.randint(15, 60) if result == "voicemail" else 0)
    ended = min(clock.now, started + dt.timedelta(seconds=duration))
    return {"direction": "in" if incoming else "out", "result": result, "started_at": started,
            "duration_seconds": duration,
            "summary": rng.choice(CALL_NOTES) if result == "answered" and rng.random() < 0.5 else "",
            "created_at": ended, "updated_at": ended, "version": 1,
            "_recorded": result == "answered" and rng.random() < 0.3, "_on_deal": rng.random() < 0.5}


def _meeting(rng: random.Random, clock: _Clock) -> dict:
    """Planned a few days ahead; the past ones mostly held, some cancelled, a few never marked."""
    offset = rng.randint(0, 30) if rng.random() < 0.15 else -1 - int(rng.random() ** 2 * 364)
    starts = clock.today + dt.timedelta(days=offset, hours=rng.randint(10, 17), minutes=rng.choice((0, 30)))
    ends = starts + dt.timedelta(minutes=rng.choice(MEETING_MINUTES))
    created = clock.before(starts, rng, 10)
    state = rng.choice(MEETING_ENDS) if ends <= clock.now else "planned"
    changed = max(created, min(clock.now, ends + dt.timedelta(seconds=rng.randrange(86400))))
    return {"title": rng.choice(MEETING_TITLES), "starts_at": starts, "ends_at": ends, "location": rng.choice(PLACES),
            "agenda": rng.choice(AGENDAS), "outcome": rng.choice(OUTCOMES) if state == "held" else "", "state": state,
            "created_at": created, "updated_at": created if state == "planned" else changed,
            "version": 1 if state == "planned" else 2, "_on_deal": rng.random() < 0.5}


def _note(rng: random.Random, clock: _Clock) -> dict:
    created = clock.past(rng)
    text = rng.choice(NOTES)
    if rng.random() < 0.2:
        text += "\n" + rng.choice(NOTES)
    return {"text": text, "created_at": created, "updated_at": created, "version": 1, "_on_deal": rng.random() < 0.5}


_PLANS = {"task": _task, "call": _call, "meeting": _meeting, "note": _note}


class History:
    """The touchpoints of a generated base, the same on every pass: each kind of activity draws from its own
    seeded generator and nothing else, so one kind's rows, its timeline events and the contacts' last contact
    are written in separate passes (COPY writes one table at a time) and 3 million activities are never held."""

    def __init__(self, seed: int, now: dt.datetime):
        self.seed, self.clock = seed, _Clock(now)

    def planned(self, kind: str) -> Iterator[list[dict]]:
        """Contact after contact, his activities of `kind`: their own fields, without ids and links."""
        rng, plan, counts = random.Random(f"{self.seed}-{kind}"), _PLANS[kind], PER_CONTACT[kind]
        while True:
            yield [plan(rng, self.clock) for _ in range(rng.choice(counts))]

    def last_contacts(self, count: int) -> Iterator[dt.datetime | None]:
        """Each of `count` contacts' last contact as the services keep it (`_touch_contact`): a call that reached
        him (every incoming one, an answered outgoing one), a held meeting, a note."""
        plans = zip(self.planned("call"), self.planned("meeting"), self.planned("note"), strict=False)
        for _n, (calls, meetings, notes) in zip(range(count), plans, strict=False):
            times = [c["started_at"] for c in calls if c["direction"] == "in" or c["result"] == "answered"]
            times += [m["starts_at"] for m in meetings if m["state"] == "held"]
            times += [n["created_at"] for n in notes]
            yield min(max(times), self.clock.now) if times else None


def _e164(phones: list[str]) -> str:
    from krug.quality import normalize

    for raw in phones:
        try:
            return normalize.phone(raw)[0]
        except ValueError:
            continue
    return ""


def _activities(history: History, kind: str, clients: Iterable[Client], first_id: int) -> Iterator[dict]:
    """Each activity of `kind` with its id and links, as `create_*` attaches it: owned and created by the
    contact's owner, on the contact and his company, half of them on his deal when he has one."""
    pk = first_id
    for client, planned in zip(clients, history.planned(kind), strict=False):  # the plans never end
        for row in planned:
            row.update(id=pk, owner_id=client.owner_id, created_by_id=client.owner_id, updated_by_id=client.owner_id,
                       contact_id=client.contact_id, company_id=client.company_id,
                       deal_id=client.deal_id if row.pop("_on_deal") else None, deleted_at=None, deleted_by_id=None)
            if kind == "call":
                row["phone"] = _e164(client.phones)
                row["recording_url"] = f"https://pbx.example.ru/records/{pk}.mp3" if row.pop("_recorded") else ""
            pk += 1
            yield row


class _Words:
    """The timeline entries `krug.activities.services` writes for an activity (`_task_summary`, `_call_summary`,
    `_meeting_summary`, `_note_summary` and the data given to `_event`), in the active language."""

    def __init__(self, now: dt.datetime):
        from django.utils.translation import gettext as _

        from krug.activities.models import Call

        self.now = now
        self.task, self.task_due = _("Task: %(title)s"), _("Task: %(title)s, due %(due)s")
        self.task_done, self.meeting, self.note = (_("Task done: %(title)s"), _("Meeting: %(title)s, %(starts)s"),
                                                   _("Note: %(text)s"))
        self.missed, self.incoming, self.outgoing = _("Missed incoming call"), _("Incoming call"), _("Outgoing call")
        self.results = {value: str(label) for value, label in Call.Result.choices}

    @staticmethod
    def _when(at: dt.datetime) -> str:
        return timezone.localtime(at).strftime("%d.%m.%Y %H:%M")

    def events(self, kind: str, row: dict) -> Iterator[tuple[dt.datetime, str, str, dict]]:
        """(at, kind, summary, data) of each event the activity's service writes."""
        from krug.quality import normalize

        if kind == "task":  # the summary and data of when it was created: postponing does not rewrite them
            due = row.pop("_due_then")
            summary = self.task_due % {"title": row["title"], "due": self._when(due)} if due else \
                self.task % {"title": row["title"]}
            yield row["created_at"], "task", summary, {"due_at": due.isoformat() if due else None,
                                                       "priority": row["priority"]}
            if row["state"] == "done":
                yield row["done_at"], "task_done", self.task_done % {"title": row["title"]}, {}
        elif kind == "call":
            yield min(row["started_at"], self.now), "call", self._call(row), {
                "direction": row["direction"], "result": row["result"],
                "duration_seconds": row["duration_seconds"], "phone": row["phone"]}
        elif kind == "meeting":  # entered before it took place, so the event says "planned"
            yield row["created_at"], "meeting", self.meeting % {"title": row["title"],
                                                                "starts": self._when(row["starts_at"])}, {
                "starts_at": row["starts_at"].isoformat(), "ends_at": row["ends_at"].isoformat(),
                "location": row["location"], "state": "planned"}
        else:
            yield row["created_at"], "note", self.note % {"text": normalize.tidy(row["text"], 200)}, {}

    def _call(self, row: dict) -> str:
        if row["result"] == "missed" and row["direction"] == "in":
            text = self.missed
        else:
            text = f"{self.incoming if row['direction'] == 'in' else self.outgoing}: {self.results[row['result']]}"
            if row["duration_seconds"]:
                minutes, seconds = divmod(row["duration_seconds"], 60)
                text += f", {minutes}:{seconds:02d}"
        return f"{text} {row['phone']}".strip()


@transaction.atomic
def load_activities(history: History, clients: Callable[[], Iterable[Client]]) -> dict[str, int]:
    """Tasks, calls, meetings and notes of the `clients` (a fresh iterator on each call, in the order `history`
    was drawn for), each with the timeline events its service writes. Returns the rows written per table."""
    from django.contrib.contenttypes.models import ContentType

    from krug.activities.models import Call, Meeting, Note, Task
    from krug.clients.models import TimelineEvent

    words = _Words(history.clock.now)
    written = {"timeline events": 0}
    event_id = _next_id(TimelineEvent)
    for kind, model in (("task", Task), ("call", Call), ("meeting", Meeting), ("note", Note)):
        first = _next_id(model)
        written[kind] = copy_rows(model, _activities(history, kind, clients(), first))
        source_type = ContentType.objects.get_for_model(model).pk
        count = copy_rows(TimelineEvent, _events(words, _activities(history, kind, clients(), first), kind,
                                                 source_type, event_id))
        written["timeline events"] += count
        event_id += count
    reset_sequences(Task, Call, Meeting, Note, TimelineEvent)
    return written


def _events(words: _Words, activities: Iterable[dict], kind: str, source_type: int, first_id: int) -> Iterator[dict]:
    pk = first_id
    for row in activities:
        for at, event_kind, summary, data in words.events(kind, row):
            yield {"id": pk, "at": at, "kind": event_kind, "contact_id": row["contact_id"],
                   "company_id": row["company_id"], "deal_id": row["deal_id"], "source_type_id": source_type,
                   "source_id": row["id"], "actor_id": row["owner_id"], "summary": summary[:500], "data": data,
                   "hidden": False}
            pk += 1
