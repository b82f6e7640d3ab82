"""Benchmark of import and export: `python -m bench transfer --size 100000` (on DATABASE_URL, or a temporary
SQLite database when it is not set).

1. Writes a seeded CSV of generated contacts (Russian and English names, phones in any format, companies,
   about 10 % planted duplicates), as a customer's Excel export would look.
2. On PostgreSQL, times a bare `COPY` of the same file into a plain text table: the physical limit. After the
   import, also times a `COPY` of everything the import wrote (each table it grew, whole, in binary) into twin
   tables with the same indexes and checks: what writing the import's result costs the database alone.
3. Times `krug import FILE --entity contacts` in its own process (normalisation, duplicate checks, company
   linking, audit and timeline), with the process's peak memory.
4. Times the CSV export of everything just imported, streamed, with its peak memory.
5. Times `krug import FILE --entity deals` of a third as many deals of those contacts (`--deals`), linked to
   them by e-mail or phone and to their companies by name; then a second file of the same deals by their
   IDs (`--key external_id`), with new amounts and a third of them moved to another stage; then a tenth as
   many deals that name their contact by his full name only (`--named`), looked up among all the contacts.
6. Times `krug import FILE --entity companies` of a tenth as many companies (`--companies`), some of them
   duplicates of each other or of the contacts' companies (merged); then a second file of the same companies
   by their IDs, with new phones and some new cities.
Prints a table with the rows/s and the ratio to COPY. With `--repeat N` all of it runs N times, each on a fresh
base (a new SQLite data folder, or a new PostgreSQL database beside the given one, dropped afterwards), and the
table gives each scenario's median, every run's seconds and the highest peak memory.
"""

from __future__ import annotations

import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from bench.people import generate

WRITTEN = "COPY of what the import wrote"
HEADER = ["Фамилия", "Имя", "Отчество", "Телефон", "Email", "Компания", "Город"]


def write_csv(path: Path, size: int, seed: int) -> int:
    return write_people(path, generate(size, seed))


DEAL_HEADER = ["ID", "Название", "Сумма", "Компания", "Email контакта", "Телефон контакта", "Источник"]


def write_deals(path: Path, people, count: int, seed: int) -> int:
    """`count` deals of the generated people, as a CRM's export names them: the contact by e-mail or phone
    (some by a value no contact has, so they fail), the company by name, an amount in any format."""
    import random

    rng = random.Random(seed)
    titles = ["Поставка оборудования", "Сервисный договор", "Лицензии", "Внедрение", "Аренда", "Консалтинг"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(DEAL_HEADER)
        for i in range(count):
            p = people[rng.randrange(len(people))]
            email = p.emails[0] if p.emails and rng.random() < 0.8 else ""
            phone = p.phones[0] if p.phones and not email else ""
            if rng.random() < 0.01:
                email, phone = f"nobody{i}@example.org", ""
            amount = rng.choice([f"{rng.randint(5, 5000) * 1000}", f"{rng.randint(5, 5000)} 000,00 ₽",
                                 f"{rng.randint(1, 900)}.50"])
            writer.writerow([f"D-{i}", f"{rng.choice(titles)} №{i}", amount, p.company, email, phone,
                             rng.choice(["сайт", "звонок", "выставка", ""])])
    return count


NAMED_DEAL_HEADER = ["ID", "Название", "Сумма", "Компания", "Контакт"]


def write_named_deals(path: Path, people, count: int, seed: int) -> int:
    """`count` deals that name their contact only by his full name, as Bitrix24's «Контакт» and amoCRM's «Полное
    имя контакта» do: the importer finds him by name (namesakes told apart by the deal's company, a name no one
    has imported with a warning). Surname first or last, as those CRMs write it."""
    import random

    rng = random.Random(seed + 1)
    originals = [p for p in people if not p.corruption]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(NAMED_DEAL_HEADER)
        for i in range(count):
            p = originals[rng.randrange(len(originals))]
            name = (f"{p.surname} {p.first_name} {p.patronymic}" if rng.random() < 0.5 else
                    f"{p.first_name} {p.surname}")
            if rng.random() < 0.01:
                name = f"Никто{i} Нигде"
            writer.writerow([f"N-{i}", f"Заказ №{i}", f"{rng.randint(5, 5000) * 1000}", p.company, name.strip()])
    return count


CHANGE_HEADER = ["ID", "Сумма", "Этап"]
STAGES = ["Квалификация", "КП отправлено", "Переговоры", "Выиграна"]  # the standard pipeline's, in Russian


def write_deal_changes(path: Path, count: int, seed: int) -> int:
    """The deals of `write_deals` again by their IDs, as a CRM's next export gives them: every amount new,
    a third of them moved along the pipeline (the import is the CLI's, in Russian)."""
    import random

    rng = random.Random(seed + 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(CHANGE_HEADER)
        for i in range(count):
            writer.writerow([f"D-{i}", f"{rng.randint(5, 5000) * 1000}", rng.choice(STAGES) if i % 3 == 0 else ""])
    return count


def write_company_changes(path: Path, count: int, seed: int) -> int:
    """The companies of `write_companies` again by their IDs, as the next export gives them: a new phone for
    every one, another city for a fifth of them."""
    import random

    from bench.people import CITIES

    rng = random.Random(seed + 2)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["ID", "Телефон", "Город"])
        for i in range(count):
            writer.writerow([f"C-{i}", f"+7 495 {rng.randint(1000000, 9999999)}",
                             rng.choice(CITIES) if i % 5 == 0 else ""])
    return count


def _russian(env: dict) -> dict:
    """The environment of a Russian team's terminal: `krug` then speaks Russian and makes the standard pipeline's
    stages in Russian, as the files' «Этап» names them (`krug` speaks the terminal's language)."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        env.pop(name, None)
    return {**env, "LANG": "ru_RU.UTF-8"}


def _summary(out: str) -> str:
    """The counts of `krug import`'s closing line («Готово за 12,3 с: создано 9 905, …»), else the output's end."""
    return next((line for line in out.splitlines() if " создано " in line or " created, " in line), out[-300:])


def write_people(path: Path, people) -> int:
    """`people` as a customer's CSV export: `;`-separated, phones and e-mails joined in one cell."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for p in people:
            writer.writerow([p.surname, p.first_name, p.patronymic, ", ".join(p.phones), ", ".join(p.emails),
                             p.company, p.city])
    return len(people)


def bare_copy(path: Path, database_url: str) -> float:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute("CREATE UNLOGGED TABLE bench_copy (" + ", ".join(f"c{i} text" for i in range(len(HEADER))) + ")")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, DELIMITER ';', "
                                            "HEADER true)") as copy, path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy")
    return elapsed


def table_rows(database_url: str) -> dict[str, int]:
    """The rows in each table of the base."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as conn:
        names = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))).fetchone()[0]
                for name in names}


def copy_written(database_url: str, before: dict[str, int]) -> tuple[float, int, int]:
    """(seconds, rows, tables) of copying every table that grew since `before` into a twin with the same
    columns, defaults, checks and indexes (`LIKE … INCLUDING ALL`; foreign keys are not copied), one table after
    the other, in binary COPY. Only the COPY into the twin is timed; the twins are dropped afterwards."""
    import psycopg
    from psycopg import sql

    after = table_rows(database_url)
    grown = [name for name, count in after.items() if count > before.get(name, 0)]
    seconds = 0.0
    with psycopg.connect(database_url, autocommit=True) as conn:
        for number, name in enumerate(grown):
            twin = sql.Identifier(f"bench_twin_{number}")
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(twin, sql.Identifier(name)))
            with tempfile.TemporaryFile() as buffer, conn.cursor() as cur:
                with cur.copy(sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(sql.Identifier(name))) as copy:
                    for data in copy:
                        buffer.write(data)
                buffer.seek(0)
                started = time.perf_counter()
                with cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(twin)) as copy:
                    while chunk := buffer.read(1024 * 1024):
                        copy.write(chunk)
                seconds += time.perf_counter() - started
            conn.execute(sql.SQL("DROP TABLE {}").format(twin))
    return seconds, sum(after[name] for name in grown), len(grown)


#: the child's own peak: VmHWM belongs to the process's memory since its exec, whereas ru_maxrss also
#: counts the parent's memory at the fork (a parent holding a million generated people would show as 670 MB)
PEAK = """
import resource
def peak_kb():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

PEAK_WRAPPER = PEAK + """
import sys
from krug import cli
code = cli.main(sys.argv[1:])
print("PEAK_KB", peak_kb())
sys.exit(code)
"""

EXPORT_SCRIPT = PEAK + """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krug.settings")
django.setup()
from krug.accounts.models import User
from krug.transfer import export
admin = User.objects.get(username="bench-admin")
job = export.create(admin, "contacts", "csv", "")
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for chunk in export.stream_csv(job):
        out.write(chunk)
job.refresh_from_db()
print("ROWS", job.rows)
print("PEAK_KB", peak_kb())
"""


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (so field 1 is the parent, 11–14 the CPU ticks)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _postmaster(database_url: str) -> int | None:
    """The PostgreSQL server's process id when it runs on this machine (its CPU time can then be read)."""
    if not database_url.startswith("postgres"):
        return None
    import psycopg

    with psycopg.connect(database_url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:  # while the connection is open: its backend exits with it
            return int(_stat(backend)[1])
        except (OSError, ValueError, IndexError):
            return None


def server_cpu(postmaster: int | None) -> float:
    """CPU seconds the PostgreSQL server has used: its processes alive now, and (in the postmaster's
    children's ticks) those already ended."""
    if postmaster is None:
        return 0.0
    fields = _stat(postmaster)
    ticks = sum(int(f) for f in fields[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat(int(entry.name))
            if int(child[1]) == postmaster:
                ticks += int(child[11]) + int(child[12])
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile is counted in the postmaster's children
    return ticks / os.sysconf("SC_CLK_TCK")


class Run(NamedTuple):
    """A Python snippet run in its own process: its elapsed seconds, its own peak memory, its output, its own
    CPU seconds and the database server's (when it runs on this machine; else None). The machines are noisy,
    and CPU seconds compare across runs better than elapsed ones."""

    seconds: float
    peak_mb: float
    out: str
    cpu: float
    db_cpu: float | None


def _child(script: str, args: list[str], env: dict, postmaster: int | None = None) -> Run:
    started = time.perf_counter()
    own, server = resource.getrusage(resource.RUSAGE_CHILDREN), server_cpu(postmaster)
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime
    db_cpu = server_cpu(postmaster) - server if postmaster else None
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak = next((int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("PEAK_KB")), 0)
    return Run(elapsed, peak / 1024, done.stdout, cpu, db_cpu)


COMPANY_HEADER = ["ID", "Наименование", "ОПФ", "ИНН", "Город", "Телефон", "Сайт"]


def _inn(rng) -> str:
    digits = [rng.randint(0, 9) for _ in range(9)]
    check = sum(w * d for w, d in zip((2, 4, 10, 3, 5, 9, 4, 6, 8), digits, strict=True)) % 11 % 10
    return "".join(map(str, digits + [check]))


def write_companies(path: Path, people, count: int, seed: int) -> int:
    """`count` companies as a CRM's export lists them: most new, most with an INN; about 5 % repeat an earlier
    row of the file in another spelling (legal form, quotes) and about 3 % are companies the contacts named."""
    import random

    from bench.people import CITIES, COMPANY_WORDS

    rng = random.Random(seed + 1)
    named = sorted({(p.company, p.city) for p in people if p.company})
    written: list[tuple[str, str, str]] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(COMPANY_HEADER)
        for i in range(count):
            roll = rng.random()
            if roll < 0.05 and written:
                name, inn, city = rng.choice(written)
                name, form = f"«{name}»", rng.choice(["ООО", "АО", ""])
            elif roll < 0.08 and named:
                (name, city), inn, form = rng.choice(named), "", ""
            else:
                name = f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()} к{i}"
                inn, city, form = _inn(rng) if rng.random() < 0.7 else "", rng.choice(CITIES), rng.choice(
                    ["ООО", "АО", "ИП", ""])
                written.append((name, inn, city))
            writer.writerow([f"C-{i}", name, form, inn, city, f"+7 495 {rng.randint(1000000, 9999999)}",
                             f"www.company{i}.ru"])
    return count


@contextmanager
def fresh_base(folder: Path, env: dict, number: int):
    """The environment of a run on a base of its own: a new data folder (the SQLite database and uploads) and,
    on PostgreSQL, a new database beside the one DATABASE_URL names (created, then dropped afterwards), so
    every run starts from the same empty base and the given database is left as it was."""
    env = {**env, "KRUG_DATA": str(folder / f"data-{number}")}
    url = env.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield env
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'krug'}_bench_{os.getpid()}_{number}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {**env, "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run(size: int, seed: int, deals: int | None = None, companies: int | None = None,
        named: int | None = None, repeat: int = 1) -> list[dict]:
    """The files written once, then imported and exported `repeat` times, each time on a fresh base
    (`fresh_base`); each scenario's figures are the medians of its runs (`medians`)."""
    folder = Path(tempfile.mkdtemp(prefix="krug-bench-transfer-"))
    env = _russian(dict(os.environ))
    source = folder / "contacts.csv"
    people = generate(size, seed)
    rows = write_people(source, people)
    deals = size // 3 if deals is None else deals
    named = deals // 10 if named is None else named
    companies = size // 10 if companies is None else companies
    files = [("deals", deals, folder / "deals.csv", []),
             ("deal changes", deals, folder / "deal-changes.csv", ["--key", "external_id"]),
             ("deals by contact name", named, folder / "deals-named.csv", []),
             ("companies", companies, folder / "companies.csv", []),
             ("company changes", companies, folder / "company-changes.csv", ["--key", "external_id"])]
    if deals:
        write_deals(files[0][2], people, deals, seed)
        write_deal_changes(files[1][2], deals, seed)
    if named:
        write_named_deals(files[2][2], people, named, seed)
    if companies:
        write_companies(files[3][2], people, companies, seed)
        write_company_changes(files[4][2], companies, seed)
    del people
    runs: dict[str, list[dict]] = {}
    for number in range(repeat):
        with fresh_base(folder, env, number) as run_env:
            for result in _one_run(source, rows, files, folder, run_env):
                runs.setdefault(result["scenario"], []).append(result)
    results = [{"scenario": "file", "rows": rows, "seconds": 0.0, "peak_mb": 0.0, "runs": [],
                "note": f"{source.stat().st_size / 1e6:.0f} MB CSV"}]
    results += [medians(scenario_runs) for scenario_runs in runs.values()]
    copy_seconds = next((r["seconds"] for r in results if r["scenario"].startswith("bare COPY")), None)
    for row in results:
        row["rows_per_s"] = row["rows"] / row["seconds"] if row["seconds"] else 0
        row["vs_copy"] = row["seconds"] / copy_seconds if copy_seconds and row["seconds"] else None
    imported = next((r for r in results if r["scenario"] == "krug import"), None)
    for row in results:
        if row["scenario"] == WRITTEN and row["seconds"] and imported:
            row["note"] += f"; the import took ×{imported['seconds'] / row['seconds']:.1f} of it"
    return results


def _one_run(source: Path, rows: int, files: list, folder: Path, env: dict) -> list[dict]:
    """One run of every scenario on the base `env` names (a fresh one, `fresh_base`)."""
    database_url = env.get("DATABASE_URL", "")
    results = []
    if database_url.startswith("postgres"):
        results.append({"scenario": "bare COPY (PostgreSQL)", "rows": rows, "seconds": bare_copy(source, database_url),
                        "peak_mb": 0.0, "note": "physical limit"})
    _child(PEAK_WRAPPER, ["user", "add", "bench-admin", "--role", "admin", "--password", "bench-password-2026"], env)
    postmaster = _postmaster(database_url)
    before = table_rows(database_url) if database_url.startswith("postgres") else {}
    run = _child(PEAK_WRAPPER, ["import", str(source), "--entity", "contacts", "--as", "bench-admin"], env, postmaster)
    results.append({"scenario": "krug import", "rows": rows, "seconds": run.seconds, "peak_mb": run.peak_mb,
                    "note": _summary(run.out).split(": ", 1)[-1], "cpu": run.cpu, "db_cpu": run.db_cpu})
    if before:
        seconds, written, tables = copy_written(database_url, before)
        results.append({"scenario": WRITTEN, "rows": written, "seconds": seconds, "peak_mb": 0.0,
                        "note": f"{tables} tables, their indexes"})
    run = _child(EXPORT_SCRIPT, [str(folder / "export.csv")], env, postmaster)
    exported = next((int(line.split()[1]) for line in run.out.splitlines() if line.startswith("ROWS")), 0)
    results.append({"scenario": "export CSV", "rows": exported, "seconds": run.seconds, "peak_mb": run.peak_mb,
                    "note": "streamed", "cpu": run.cpu, "db_cpu": run.db_cpu})
    for scenario, count, path, key in files:
        if not count:
            continue
        entity = "deals" if scenario.startswith("deal") else "companies"
        run = _child(PEAK_WRAPPER, ["import", str(path), "--entity", entity, *key, "--as", "bench-admin"], env,
                     postmaster)
        results.append({"scenario": f"krug import {scenario}", "rows": count, "seconds": run.seconds,
                        "peak_mb": run.peak_mb, "note": _summary(run.out).split(": ", 1)[-1], "cpu": run.cpu,
                        "db_cpu": run.db_cpu})
    return results


def medians(runs: list[dict]) -> dict:
    """A scenario's runs as one row: the median of its seconds and CPU seconds, its highest peak memory, every
    run's seconds (for the spread), and its outcome, which must be the same in every run (the data are
    seeded): outcomes that differ are all shown."""
    row = {**runs[0], "runs": [r["seconds"] for r in runs], "seconds": statistics.median(r["seconds"] for r in runs),
           "peak_mb": max(r["peak_mb"] for r in runs)}
    for key in ("cpu", "db_cpu"):
        values = [r[key] for r in runs if r.get(key) is not None]
        row[key] = statistics.median(values) if values else None
    row["note"] = " ≠ ".join(dict.fromkeys(r["note"] for r in runs))
    return row


def table(results: list[dict]) -> str:
    repeat = max((len(r.get("runs", [])) for r in results), default=1)
    lines = [f"medians of {repeat} runs, each on a fresh base" if repeat > 1 else "one run",
             "",
             "scenario | rows | seconds | runs (s) | rows/s | × COPY | peak MB | CPU s: krug | CPU s: database | note",
             "--- | --- | --- | --- | --- | --- | --- | --- | --- | ---"]
    for r in results:
        ratio = f"{r['vs_copy']:.1f}" if r["vs_copy"] else ""
        peak = f"{r['peak_mb']:.0f}" if r["peak_mb"] else ""
        seconds = f"{r['seconds']:.1f}" if r["seconds"] else ""
        spread = " / ".join(f"{s:.1f}" for s in r.get("runs", [])) if len(r.get("runs", [])) > 1 else ""
        speed = f"{r['rows_per_s']:,.0f}" if r["rows_per_s"] else ""
        cpu = f"{r['cpu']:.1f}" if r.get("cpu") else ""
        db_cpu = f"{r['db_cpu']:.1f}" if r.get("db_cpu") is not None else ""
        lines.append(f"{r['scenario']} | {r['rows']:,} | {seconds} | {spread} | {speed} | {ratio} | {peak} | {cpu} | "
                     f"{db_cpu} | {r['note']}")
    return "\n".join(lines)


XLSX_SCRIPT = EXPORT_SCRIPT.replace('job = export.create(admin, "contacts", "csv", "")',
                                    'job = export.create(admin, "contacts", "xlsx", "")').replace(
    """with open(sys.argv[1], "w", encoding="utf-8") as out:
    for chunk in export.stream_csv(job):
        out.write(chunk)""", "export.write_xlsx(job.pk)")

LOAD_SCRIPT = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krug.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from bench.load import load_people
from bench.people import generate
from krug.accounts import services
from krug.core.permissions import Role
admin = services.create_user("bench-admin", role=Role.ADMIN)
team = services.get_or_create_team("Bench")
owners = [services.create_user(f"bench-{i}", role=Role.MANAGER, team=team).pk for i in range(5)]
load_people(generate(int(sys.argv[1]), int(sys.argv[2]), duplicate_share=0.0), owners)
"""


def run_export(size: int, seed: int) -> list[dict]:
    """Export of a base loaded straight into the tables: CSV streamed and XLSX, each with its peak memory."""
    folder = Path(tempfile.mkdtemp(prefix="krug-bench-export-"))
    env = _russian(dict(os.environ))
    env.setdefault("KRUG_DATA", str(folder / "data"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                      env.get("PYTHONPATH", "")]))
    load = _child(LOAD_SCRIPT, [str(size), str(seed)], env)
    results = [{"scenario": "load (migrate + COPY; not the measure)", "rows": size, "seconds": load.seconds,
                "peak_mb": 0.0, "note": ""}]
    for name, script in (("export CSV (streamed)", EXPORT_SCRIPT), ("export XLSX (background)", XLSX_SCRIPT)):
        run = _child(script, [str(folder / "export.csv")], env)
        rows = next((int(line.split()[1]) for line in run.out.splitlines() if line.startswith("ROWS")), 0)
        results.append({"scenario": name, "rows": rows, "seconds": run.seconds, "peak_mb": run.peak_mb, "note": "",
                        "cpu": run.cpu})
    for row in results:
        row["rows_per_s"] = row["rows"] / row["seconds"] if row["seconds"] else 0
        row["vs_copy"] = None
    return results
