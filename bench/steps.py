"""Where an import's time goes, step by step and thread by thread.

    tools/with-postgres .venv/bin/python -m bench steps --size 300000

Imports a generated CSV (the `transfer` scenario's file) into the (fresh) database named by DATABASE_URL, or a
temporary SQLite one, in this process, with each step of the set-based contact path timed: its elapsed seconds
and its own thread's CPU seconds. On PostgreSQL the run is pipelined: the reading thread (read, clean, match,
decide, build) and the writing thread (COPY and commit) work at once, and what the elapsed time waits for is
whichever of them is slower. The database server's CPU seconds are shown when it runs on this machine.

The steps are timed by wrapping the functions that do them; the wrappers cost about a microsecond a call, and
the steps are called once or a few times a chunk.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

#: (module, function, thread, what it is), in the order a chunk does them
STEPS = [
    ("krug.transfer.bulk_contacts", "plan_chunk", "reader", "the reading thread, all of a chunk"),
    ("krug.transfer.bulk_contacts", "_indexes", "reader", "others' changes into the keys in memory"),
    ("krug.transfer.bulk_contacts", "prepare", "reader", "reading rows into values"),
    ("krug.transfer.bulk_contacts", "_find_by_key", "reader", "records named by the job's key"),
    ("krug.transfer.bulk_contacts", "resolve_companies", "reader", "companies by INN or name"),
    ("krug.transfer.bulk_contacts", "company_names", "reader", "the companies' names (database)"),
    ("krug.transfer.bulk_contacts", "_clean", "reader", "cleaning, as a create cleans"),
    ("krug.transfer.bulk_contacts", "_match", "reader", "finding duplicates, all of it"),
    ("krug.transfer.bulk_contacts", "_key_hashes", "reader", "hashing name keys and phones"),
    ("krug.transfer.name_index", "NameIndex.match", "reader", "name keys' holders (memory)"),
    ("krug.transfer.name_index", "NameIndex.count", "reader", "whole names' holders (memory)"),
    ("krug.transfer.name_index", "NameIndex.records", "reader", "phones' holders (memory)"),
    ("krug.quality.duplicates", "key_members", "reader", "name keys' holders (database)"),
    ("krug.quality.duplicates", "phone_owners", "reader", "phones' holders (database)"),
    ("krug.transfer.bulk_contacts", "_base_rows", "reader", "the candidates' rows (database)"),
    ("krug.transfer.bulk_contacts", "find_duplicates", "reader", "the matcher"),
    ("krug.transfer.bulk_contacts", "_load_cards", "reader", "records to merge into (database)"),
    ("krug.transfer.bulk_contacts", "_changeable", "reader", "which of them the user may change (database)"),
    ("krug.transfer.bulk_contacts", "_decide", "reader", "create, update, merge or fail, row by row"),
    ("krug.transfer.bulk_contacts", "_build", "reader", "the rows to write, audit and timeline"),
    ("krug.transfer.importer", "Writer.settle", "reader", "waiting for the writer"),
    ("krug.transfer.importer", "_commit_chunk", "writer", "the writing thread, all of a chunk"),
    ("krug.transfer.bulk_contacts", "flush", "writer", "COPY and the other statements"),
]


def _wrap(totals: dict, module: str, name: str):
    """Time calls of `module.name` into `totals`; returns what puts the function back. A step the code does
    not have (an older version, compared with this one) is left out."""
    import importlib

    owner = importlib.import_module(module)
    *classes, attribute = name.split(".")
    for cls in classes:
        owner = getattr(owner, cls)
    real = getattr(owner, attribute, None)
    if real is None:
        return lambda: None

    def timed(*args, **kwargs):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return real(*args, **kwargs)
        finally:
            total = totals[(module, name)]
            total[0] += time.perf_counter() - started
            total[1] += time.thread_time() - cpu
            total[2] += 1

    setattr(owner, attribute, timed)
    return lambda: setattr(owner, attribute, real)


def measure(size: int, seed: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from bench.transfer import _postmaster, server_cpu, write_csv
    from krug.accounts import services as accounts
    from krug.core.permissions import Role
    from krug.transfer import importer, services
    from krug.transfer.models import ImportJob

    call_command("migrate", verbosity=0)
    path = Path(tempfile.mkdtemp(prefix="krug-bench-steps-")) / "contacts.csv"
    rows = write_csv(path, size, seed)
    admin = accounts.create_user("bench-steps-admin", role=Role.ADMIN)
    with path.open("rb") as stream:
        job = services.upload(admin, "contacts", path.name, stream)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    totals: dict = defaultdict(lambda: [0.0, 0.0, 0])
    restore = [_wrap(totals, module, name) for module, name, _thread, _what in STEPS]
    postmaster = _postmaster(os.environ.get("DATABASE_URL", ""))
    server_before = server_cpu(postmaster)
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    try:
        job = importer.run(job.pk)
    finally:
        for put_back in reversed(restore):
            put_back()
    elapsed = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    python_cpu = own.ru_utime + own.ru_stime - own_before.ru_utime - own_before.ru_stime
    return {"rows": rows, "elapsed": elapsed, "python_cpu": python_cpu,
            "server_cpu": server_cpu(postmaster) - server_before if postmaster else None,
            "outcome": (job.created, job.updated, job.merged, job.skipped, job.failed),
            "pipelined": connection.vendor == "postgresql",
            "steps": [(name, thread, what, *totals[(module, name)]) for module, name, thread, what in STEPS]}


def table(r: dict) -> str:
    created, updated, merged, skipped, failed = r["outcome"]
    lines = [f"{r['rows']:,} rows in {r['elapsed']:.1f} s: {created:,} created, {updated:,} updated, {merged:,} "
             f"merged, {skipped:,} skipped, {failed:,} failed; Python {r['python_cpu']:.1f} CPU s"
             + (f", database {r['server_cpu']:.1f} CPU s" if r["server_cpu"] is not None else "")
             + ("" if r["pipelined"] else " (SQLite: one thread, the writer's steps inside the reader's)"),
             "",
             "step | thread | what | calls | seconds | CPU s",
             "--- | --- | --- | --- | --- | ---"]
    for name, thread, what, seconds, cpu, calls in r["steps"]:
        if calls:
            lines.append(f"{name} | {thread} | {what} | {calls:,} | {seconds:.1f} | {cpu:.1f}")
    return "\n".join(lines)
