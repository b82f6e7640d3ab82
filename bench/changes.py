"""Benchmark of a second import, the one that changes what the first made: `python -m bench changes --size 30000
--rows 2000 --repeat 3` (in this process, on DATABASE_URL or a temporary SQLite database).

Loads seeded contacts, deals (a third of `--size`) and companies (a tenth) with the set-based import, then
imports files of changes to them by their IDs (`--key external_id`: new amounts and stages for deals, new
phones and cities for companies), `--rows` rows each, `--repeat` times on the per-row path and as many on the
set-based one, each file with values of its own (seeded), and prints the median seconds of each with the ratio.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path


def _import(by, entity: str, path: Path, *, key: str = "", bulk: bool = True):
    from krug.transfer import importer, services
    from krug.transfer.models import ImportJob

    with path.open("rb") as stream:
        job = services.upload(by, entity, path.name, stream)
    services.configure(by, job, key=key)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    started = time.perf_counter()
    job = importer.run(job.pk, bulk=bulk)
    return time.perf_counter() - started, job


def measure(size: int, seed: int, rows: int, repeat: int) -> list[dict]:
    from django.core.management import call_command

    from bench.people import generate
    from bench.transfer import write_companies, write_company_changes, write_deal_changes, write_deals, write_people
    from krug.accounts import services as accounts
    from krug.core.permissions import Role

    call_command("migrate", verbosity=0)
    folder = Path(tempfile.mkdtemp(prefix="krug-bench-changes-"))
    admin = accounts.create_user("bench-changes-admin", role=Role.ADMIN)
    people = generate(size, seed)
    write_people(folder / "contacts.csv", people)
    write_deals(folder / "deals.csv", people, size // 3, seed)
    write_companies(folder / "companies.csv", people, size // 10, seed)
    for entity in ("contacts", "deals", "companies"):
        _import(admin, entity, folder / f"{entity}.csv")
    results = []
    for entity, write in (("deals", write_deal_changes), ("companies", write_company_changes)):
        count = min(rows, size // 3 if entity == "deals" else size // 10)
        seconds: dict[bool, list[float]] = {False: [], True: []}
        outcome = {}
        for run in range(repeat):
            for bulk in (False, True):  # alternating, so a slower minute of the machine weighs on both
                path = folder / f"{entity}-changes-{run}-{bulk}.csv"
                write(path, count, seed + 10 * run + bulk)
                elapsed, job = _import(admin, entity, path, key="external_id", bulk=bulk)
                seconds[bulk].append(elapsed)
                outcome[bulk] = (job.created, job.updated, job.skipped, job.failed)
        per_row, set_based = (statistics.median(seconds[b]) for b in (False, True))
        results.append({"entity": entity, "rows": count, "per_row": per_row, "set_based": set_based,
                        "outcome": outcome[True], "runs": repeat})
    return results


def table(results: list[dict]) -> str:
    lines = ["changes | rows | runs | per-row path, median s | set-based, median s | ratio | set-based rows/s | "
             "outcome (created, updated, skipped, failed)", "--- | --- | --- | --- | --- | --- | --- | ---"]
    for r in results:
        lines.append(f"{r['entity']} | {r['rows']:,} | {r['runs']} | {r['per_row']:.1f} | {r['set_based']:.1f} | "
                     f"×{r['per_row'] / r['set_based']:.1f} | {r['rows'] / r['set_based']:,.0f} | {r['outcome']}")
    return "\n".join(lines)
