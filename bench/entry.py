"""Benchmark of the duplicate check on entry against a loaded base.

    tools/with-postgres .venv/bin/python -m bench entry --size 1000000

Loads a generated base into the (fresh) database named by DATABASE_URL (or a temporary SQLite one), then
times `quality.duplicates.check_contact` for probes that are corrupted copies of people in the base (they
should be found) and for new people (they should not), and prints p50/p95 latency and the hit rates.
"""

from __future__ import annotations

import random
import statistics
import time

from bench.people import TUNING_KINDS, corrupt, generate


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(size: int, seed: int, probes: int = 400) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from bench.load import load_people
    from krug.accounts import services as accounts
    from krug.clients.models import Company
    from krug.core.permissions import Role
    from krug.quality import duplicates, normalize

    call_command("migrate", verbosity=0)
    admin = accounts.create_user("bench-admin", role=Role.ADMIN)
    team = accounts.get_or_create_team("Bench")
    owners = [accounts.create_user(f"bench-{i}", role=Role.MANAGER, team=team).pk for i in range(5)]
    people = generate(size, seed, duplicate_share=0.0)
    started = time.perf_counter()
    load_people(people, owners)
    loaded = time.perf_counter() - started
    companies = dict(Company.objects.values_list("name", "id"))
    rng = random.Random(seed + 1)
    outsiders = generate(probes, seed + 2, duplicate_share=0.0)
    cases = [(corrupt(rng.choice(people), rng.choice(TUNING_KINDS), rng), True) for _ in range(probes // 2)]
    cases += [(p, False) for p in outsiders[: probes - len(cases)]]
    rng.shuffle(cases)
    timings, found_copies, false_alarms = [], 0, 0
    for person, is_copy in cases:
        phones = []
        for raw in person.phones:
            try:
                phones.append(normalize.phone(raw)[0])
            except ValueError:
                pass
        probe = {"surname": person.surname, "first_name": person.first_name, "patronymic": person.patronymic,
                 "city": person.city, "company_id": companies.get(person.company),
                 "company_name": person.company, "phones": phones, "emails": person.emails}
        t = time.perf_counter()
        hits = duplicates.check_contact(admin, probe)
        timings.append((time.perf_counter() - t) * 1000)
        if is_copy and hits:
            found_copies += 1
        if not is_copy and hits:
            false_alarms += 1
    copies = sum(1 for _, c in cases if c)
    return {"size": size, "database": connection.vendor, "load_s": loaded, "p50_ms": statistics.median(timings),
            "p95_ms": _percentile(timings, 0.95), "found": found_copies / copies,
            "false_alarms": false_alarms / (len(cases) - copies)}


def table(r: dict) -> str:
    head = ["contacts", "database", "load s", "check p50 ms", "check p95 ms", "copies found", "new flagged"]
    values = [f"{r['size']:,}", r["database"], f"{r['load_s']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}",
              f"{r['found']:.1%}", f"{r['false_alarms']:.1%}"]
    return "\n".join([" | ".join(head), " | ".join("---" for _ in head), " | ".join(values)])
