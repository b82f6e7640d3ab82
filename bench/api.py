"""API latency with a loaded base: `python -m bench api --size 100000` (DATABASE_URL, or a temporary SQLite).

Loads `size` generated contacts with their companies, phones, e-mails and match keys, one deal per three
contacts across the stages of the default pipeline, and about three activities per contact (tasks, open,
overdue, postponed and done; calls; meetings; notes), owned by the contact's owner, on the contact and his
company and some on his deal, each with the timeline events its service writes (the contact's last contact
follows them), straight into the tables (bench/load.py). Then, as a manager (so the permission filter is part
of every query), times through Django's test client (no network):

- a filtered contact list page (`/contacts?city=…`, 50 rows with phones, e-mails and tags);
- a deal board column (`/deals?stage=…`, 50 rows);
- global search by surname and by phone digits (`/search?q=…`);
- a contact card with its timeline (`/contacts/{id}` and `/contacts/{id}/timeline`);
- the manager's agenda, his open and postponed tasks (`/tasks?owner=…&state=open&state=postponed`; the API
  cannot order them by due date, the raw SQL does, as the agenda page does), and every task he may see;
- and whole screens as he opens them in the browser (home, tasks, the calendar's week, the sales dashboard,
  the contact list), logged in, through the templates;

each next to the equivalent raw SQL, and prints p50/p95 and the ratio of the medians.
"""

from __future__ import annotations

import random
import statistics
import time


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _load(size: int, seed: int):
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.load import Client, History, copy_rows, load_activities, load_people, reset_sequences
    from bench.people import generate
    from krug.accounts import services as accounts
    from krug.clients.models import Contact, TimelineEvent
    from krug.core.permissions import Role
    from krug.sales.models import Deal, Stage
    from krug.sales.services import default_pipeline

    call_command("migrate", verbosity=0)
    admin = accounts.create_user("bench-admin", role=Role.ADMIN)
    team = accounts.get_or_create_team("Bench")
    owners = [accounts.create_user(f"bench-{i}", role=Role.MANAGER, team=team) for i in range(5)]
    people = generate(size, seed, duplicate_share=0.0)
    started = time.perf_counter()
    now = timezone.now()
    history = History(seed, now)
    ids = load_people(people, [o.pk for o in owners], touched=history.last_contacts(len(people)))
    pipeline = default_pipeline(admin)
    stages = list(Stage.objects.filter(pipeline=pipeline, kind=Stage.Kind.OPEN).order_by("position"))
    rng = random.Random(seed)
    contacts = list(Contact.objects.order_by("id").values_list("id", "owner_id", "company_id"))
    deal_rows = [{"id": n + 1, "title": f"Сделка {n + 1}", "amount": rng.randrange(10_000, 5_000_000),
                  "currency": "RUB", "pipeline_id": pipeline.pk, "stage_id": stages[n % len(stages)].pk,
                  "stage_entered_at": now, "contact_id": cid, "company_id": company, "owner_id": owner,
                  "created_at": now, "updated_at": now, "search_key": f"сделка {n + 1}"}
                 for n, (cid, owner, company) in enumerate(contacts[::3])]
    copy_rows(Deal, deal_rows)
    contact_type = ContentType.objects.get_for_model(Contact)

    def created_events():
        for n, (cid, owner, company) in enumerate(contacts, start=1):
            yield {"id": n, "at": now, "kind": "created", "contact_id": cid, "company_id": company,
                   "source_type_id": contact_type.pk, "source_id": cid, "actor_id": owner,
                   "summary": f"created {n}", "data": {}}

    copy_rows(TimelineEvent, created_events())
    reset_sequences(Deal, TimelineEvent)
    # the contacts, by id, are the people in order (the ids were given so); zip(strict) below checks the count
    assert (ids[people[0].id], ids[people[-1].id]) == (contacts[0][0], contacts[-1][0])

    def clients():  # the contact at 3n has deal n + 1, as deal_rows numbers them
        for n, ((cid, owner, company), person) in enumerate(zip(contacts, people, strict=True)):
            yield Client(cid, owner, company, n // 3 + 1 if n % 3 == 0 else None, person.phones)

    activities = load_activities(history, clients)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    load_seconds = time.perf_counter() - started
    return owners[0], people, ids, stages, load_seconds, activities


def _time(call, repeat: int) -> list[float]:
    call()  # warm the caches and the query plan
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure(size: int, seed: int, repeat: int = 200) -> dict:
    from django.db import connection
    from django.test import Client
    from django.utils import translation

    from krug.accounts import services as accounts
    from krug.clients.models import Contact

    manager, people, ids, stages, load_seconds, activities = _load(size, seed)
    token = accounts.issue_token(manager)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    rng = random.Random(seed + 1)
    mine = list(Contact.objects.filter(owner=manager).values_list("id", "city", "surname")[:2000])
    cities = sorted({c for _i, c, _s in mine})
    card_ids = [i for i, _c, _s in rng.sample(mine, min(50, len(mine)))]
    surnames = [s[:5] for _i, _c, s in rng.sample(mine, min(50, len(mine)))]
    phones = [p.phones[0] for p in rng.sample(people, min(50, len(people))) if p.phones]

    def api(path: str, **params):
        def call():
            response = client.get(path, params)
            assert response.status_code == 200, response.content[:300]
        return call

    def sql(query: str, params_list: list):
        def call():
            with connection.cursor() as cursor:
                cursor.execute(query, params_list)
                cursor.fetchall()
        return call

    cycle = {"city": 0, "card": 0, "surname": 0, "phone": 0}

    def rotating(key: str, values: list, make):
        def call():
            value = values[cycle[key] % len(values)]
            cycle[key] += 1
            make(value)()
        return call

    scenarios = {
        "contact list page (city filter)": (
            rotating("city", cities, lambda c: api("/api/v1/contacts", city=c, limit=50)),
            rotating("city", cities, lambda c: sql(
                "SELECT c.id, c.surname, c.first_name, c.city, p.number, e.email FROM clients_contact c "
                "LEFT JOIN clients_contactphone p ON p.contact_id = c.id AND p.position = 0 "
                "LEFT JOIN clients_contactemail e ON e.contact_id = c.id AND e.position = 0 "
                "WHERE c.owner_id = %s AND c.city = %s AND c.deleted_at IS NULL ORDER BY c.id DESC LIMIT 51",
                [manager.pk, c]))),
        "deal board column": (
            rotating("city", [s.pk for s in stages], lambda s: api("/api/v1/deals", stage=s, limit=50)),
            rotating("city", [s.pk for s in stages], lambda s: sql(
                "SELECT d.id, d.title, d.amount, d.contact_id, d.company_id FROM sales_deal d WHERE d.owner_id = %s "
                "AND d.stage_id = %s AND d.deleted_at IS NULL ORDER BY d.id DESC LIMIT 51", [manager.pk, s]))),
        "global search (surname)": (
            rotating("surname", surnames, lambda q: api("/api/v1/search", q=q)),
            rotating("surname", surnames, lambda q: sql(
                "SELECT id, surname, first_name FROM clients_contact WHERE owner_id = %s AND search_key LIKE %s "
                "AND deleted_at IS NULL ORDER BY id DESC LIMIT 20", [manager.pk, q.casefold() + "%"]))),
        "global search (phone digits)": (
            rotating("phone", phones, lambda q: api("/api/v1/search", q=q)),
            rotating("phone", phones, lambda q: sql(
                "SELECT c.id FROM clients_contact c JOIN clients_contactphone p ON p.contact_id = c.id "
                "WHERE p.number LIKE %s LIMIT 20", ["%" + "".join(ch for ch in q if ch.isdigit())[-10:] + "%"]))),
        "contact card + timeline": (
            rotating("card", card_ids, lambda i: lambda: (api(f"/api/v1/contacts/{i}")(),
                                                           api(f"/api/v1/contacts/{i}/timeline")())),
            rotating("card", card_ids, lambda i: lambda: (sql(
                "SELECT * FROM clients_contact WHERE id = %s", [i])(), sql(
                "SELECT * FROM clients_timelineevent WHERE contact_id = %s ORDER BY at DESC, id DESC LIMIT 51",
                [i])()))),
        # the agenda's pending tasks; the API cannot sort tasks by due date (its orders are id, created_at and
        # updated_at), so it answers newest first, and the raw SQL reads the dated ones as the agenda page shows
        # them: by due date, with the names of their contact, company and deal
        "task list (my open tasks by due date)": (
            api("/api/v1/tasks", owner=manager.pk, state=["open", "postponed"], limit=50),
            # each state from the index (owner, state, due_at) in due order, merged, as the agenda asks it
            # (activities.services.soonest_due): one query over both states read and sorted all of them
            sql("SELECT t.id, t.title, t.due_at, t.priority, t.state, c.surname, c.first_name, co.name, d.title "
                "FROM (SELECT * FROM (SELECT * FROM activities_task WHERE owner_id = %s AND state = 'open' "
                "AND due_at IS NOT NULL AND deleted_at IS NULL ORDER BY due_at, id LIMIT 51) o UNION ALL "
                "SELECT * FROM (SELECT * FROM activities_task WHERE owner_id = %s AND state = 'postponed' "
                "AND due_at IS NOT NULL AND deleted_at IS NULL ORDER BY due_at, id LIMIT 51) p "
                "ORDER BY due_at, id LIMIT 51) t "
                "LEFT JOIN clients_contact c ON c.id = t.contact_id "
                "LEFT JOIN clients_company co ON co.id = t.company_id "
                "LEFT JOIN sales_deal d ON d.id = t.deal_id ORDER BY t.due_at, t.id", [manager.pk, manager.pk])),
        # every task he may see, newest first: his own and those on the clients and deals he sees (the door's
        # EXISTS of each task's contact, company and deal); no raw SQL of that rule to compare with
        "task list (everything he sees)": (api("/api/v1/tasks", limit=50), None),
    }
    # the screens a manager opens every day, whole pages through the template (no raw SQL to compare with)
    browser = Client(HTTP_ACCEPT_LANGUAGE="ru")
    browser.force_login(manager)

    def screen(path: str):
        def call():
            with translation.override(translation.get_language()):  # the page's Russian stays in the page
                response = browser.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return call

    for name, path in (("screen: home", "/"), ("screen: tasks", "/tasks/"), ("screen: calendar week", "/calendar/"),
                       ("screen: sales dashboard", "/dashboard/"), ("screen: contact list", "/clients/contacts/")):
        scenarios[name] = (screen(path), None)
    rows = []
    for name, (through_api, raw) in scenarios.items():
        api_ms = _time(through_api, repeat)
        sql_ms = _time(raw, repeat) if raw else None
        rows.append({"scenario": name, "p50": statistics.median(api_ms), "p95": _percentile(api_ms, 0.95),
                     "sql_p50": statistics.median(sql_ms) if sql_ms else None,
                     "sql_p95": _percentile(sql_ms, 0.95) if sql_ms else None})
    return {"size": size, "vendor": connection.vendor, "load_seconds": load_seconds, "activities": activities,
            "rows": rows}


def table(result: dict) -> str:
    loaded = result["activities"]
    lines = [f"{result['size']:,} contacts on {result['vendor']}, with {loaded['task']:,} tasks, "
             f"{loaded['call']:,} calls, {loaded['meeting']:,} meetings, {loaded['note']:,} notes and "
             f"{loaded['timeline events']:,} of their timeline events (loaded in {result['load_seconds']:.0f} s)", "",
             "scenario | API p50 ms | API p95 ms | raw SQL p50 ms | raw SQL p95 ms | API/SQL (p50)",
             "--- | --- | --- | --- | --- | ---"]
    for r in result["rows"]:
        if r["sql_p50"] is None:  # a whole screen
            lines.append(f"{r['scenario']} | {r['p50']:.1f} | {r['p95']:.1f} | — | — | —")
            continue
        ratio = r["p50"] / r["sql_p50"] if r["sql_p50"] else 0
        lines.append(f"{r['scenario']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['sql_p50']:.2f} | {r['sql_p95']:.2f} | "
                     f"×{ratio:.1f}")
    return "\n".join(lines)
