"""The `krug` command: serve the UI and API, run the background worker, load the demo, add users.

Every command prepares Django itself (settings from the environment, migrations applied), so an operator
never needs `manage.py`; `krug manage ...` is there for everything else Django offers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

USAGE_ERROR = 2


class UsageError(Exception):
    """Bad input from the command line: reported on stderr, exit code 2, nothing written."""


def _version() -> str:
    try:
        return version("krug")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krug.settings")
    from django.apps import apps

    if not apps.ready:
        import django

        django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


# --- serve -----------------------------------------------------------------------------------------------


def _browser_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def serve(args: argparse.Namespace) -> int:
    """Apply migrations, then serve the UI, the API and the static files with granian (WSGI)."""
    _setup_django()
    _migrate()
    from django.conf import settings
    from django.db import connections
    from granian import Granian
    from granian.constants import Interfaces

    # the workers are separate processes: they must find the same data folder and not share our connection
    os.environ.setdefault("KRUG_DATA", str(settings.DATA_DIR))
    connections.close_all()
    threads = args.threads or (os.cpu_count() or 1) * 2 + 1
    print(f"Krug is running at {_browser_url(args.host, args.port)}", flush=True)
    if args.host in ("0.0.0.0", "::"):
        print(f"(listening on all interfaces, port {args.port})", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    Granian(
        "krug.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=threads,
        backpressure=threads,
        log_access=args.access_log,
    ).serve()
    return 0


# --- worker ----------------------------------------------------------------------------------------------


def worker(args: argparse.Namespace) -> int:
    """Run the background job worker of the database queue (django-tasks-db's `db_worker`)."""
    _setup_django()
    from django.conf import settings

    backend = settings.TASKS["default"]["BACKEND"]
    if backend != "django_tasks_db.DatabaseBackend":
        raise UsageError(f"the worker serves the database queue, but KRUG_TASKS_BACKEND selects {backend}; "
                         "with 'immediate' jobs run inside the web process and no worker is needed")
    _migrate()
    from django.core.management import call_command

    print(f"Krug worker: queue {args.queue!r}, polling every {args.interval}s. Press Ctrl+C to stop.", flush=True)
    if not args.no_routine and not args.batch:
        _start_routine()
    call_command("db_worker", queue_name=args.queue, interval=args.interval, batch=args.batch, reload=False,
                 verbosity=1)
    return 0


ROUTINE_EVERY = 300  # seconds between checks of what the data-quality routine has due


def _start_routine() -> None:
    """A daemon thread that queues the daily health snapshot and the nightly duplicate scans when due, and
    takes over imports whose worker died."""
    import logging
    import threading

    from django.db import connection, transaction

    from krug.quality import schedule
    from krug.transfer import services as transfer

    def loop() -> None:
        while True:
            try:
                schedule.run_due()
                with transaction.atomic():
                    transfer.resume_stale()  # imports whose worker was killed go on from their checkpoint
            except Exception:  # the routine must never take the worker down
                logging.getLogger("krug.worker").exception("data-quality routine failed")
            finally:
                connection.close()
            time.sleep(ROUTINE_EVERY)

    threading.Thread(target=loop, name="krug-routine", daemon=True).start()


# --- demo ------------------------------------------------------------------------------------------------


def _print_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def demo(args: argparse.Namespace) -> int:
    """Load the demo organisation once (the same seed gives the same data) and show how to log in."""
    _setup_django()
    _migrate()
    from krug import demo as demo_data

    if demo_data.already_loaded():
        from krug.accounts.models import User

        print("The demo data is already loaded (a user 'admin' exists); nothing was changed.")
        users = User.objects.filter(email__endswith="@krug.example", is_active=True).order_by("id")
        logins = [(u.username, demo_data.DEMO_PASSWORD, u.role) for u in users]
        if not logins:
            return 0
        print("Demo logins (unless their passwords were changed since):")
    else:
        print(f"Loading the demo data (seed {args.seed}), this takes a moment...", flush=True)
        logins = demo_data.load_demo(args.seed)
        print("Demo data loaded. Logins:")
    _print_table([(u, p, str(r)) for u, p, r in logins], ("username", "password", "role"))
    return 0


# --- user ------------------------------------------------------------------------------------------------


def _domain_message(exc) -> str:
    if getattr(exc, "errors", None):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
    return str(exc)


def user_add(args: argparse.Namespace) -> int:
    """Create a user (and his team if new) and print a fresh API token as the last line."""
    _setup_django()
    _migrate()
    from django.db import transaction
    from django.utils import translation

    from krug.accounts import services
    from krug.core.errors import DomainError
    from krug.core.permissions import Role

    team_name = (args.team or "").strip()
    if args.role == Role.HEAD and not team_name:
        raise UsageError("a head of sales leads a team: give it with --team NAME")
    try:
        # one transaction: a rejected user leaves no new team behind; messages in the CLI's language
        with translation.override("en"), transaction.atomic():
            team = services.get_or_create_team(team_name) if team_name else None
            user = services.create_user(args.username, role=args.role, team=team, password=args.password,
                                        first_name=args.first_name, last_name=args.last_name, email=args.email)
            token = services.issue_token(user, name="krug user add")
    except DomainError as exc:
        raise UsageError(_domain_message(exc)) from exc
    where = f" in team {team.name}" if team else ""
    print(f"Created {user.role} {user.username}{where}.")
    if not args.password:
        print(f"No password set: {user.username} uses the API token only "
              f"(set one with: krug manage changepassword {user.username}).")
    print("API token (shown once, keep it safe):")
    print(token)
    return 0


def user_token(args: argparse.Namespace) -> int:
    """Issue another API token for an existing user, e.g. when the first one is lost."""
    _setup_django()
    _migrate()
    from krug.accounts import services
    from krug.accounts.models import User

    user = User.objects.filter(username=args.username, is_active=True).first()
    if user is None:
        raise UsageError(f"no active user named {args.username!r}")
    token = services.issue_token(user, name=args.name)
    print(f"New API token for {user.username} (shown once, keep it safe):")
    print(token)
    return 0


# --- quality ---------------------------------------------------------------------------------------------


def quality_scan(args: argparse.Namespace) -> int:
    """Scan the whole base for duplicate contacts now, printing progress; the pairs land in the API and UI."""
    _setup_django()
    _migrate()
    from krug.quality import tasks
    from krug.quality.models import ScanRun

    entity = {"contacts": "contact", "companies": "company"}[args.entity]
    if args.background:
        run = tasks.start_scan(None, entity=entity)
        print(f"Scan {run.pk} queued; `krug worker` runs it.")
        return 0
    run = ScanRun.objects.create(entity=entity)
    started = time.monotonic()
    run = tasks.run_scan(run.pk)
    print(f"Scanned {run.records} {args.entity} in {time.monotonic() - started:.1f} s: {run.found} probable "
          f"duplicate pairs{f', {run.merged} merged automatically' if run.merged else ''}.")
    return 0


def quality_snapshot(args: argparse.Namespace) -> int:
    """Store today's data-health figures (run it daily, e.g. from cron, so the trend shows)."""
    _setup_django()
    _migrate()
    from krug.quality import health

    rows = health.take_snapshot()
    print(f"Data health snapshot stored ({rows - 1} managers and the total).")
    return 0


# --- import ----------------------------------------------------------------------------------------------


def _importing_user(name: str | None):
    from krug.accounts.models import User
    from krug.core.permissions import Role

    if name:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise UsageError(f"no active user {name!r} (see `krug user add`)")
        return user
    user = User.objects.filter(is_active=True, role=Role.ADMIN).order_by("id").first()
    if user is None:
        raise UsageError("no administrator to import as: create one with `krug user add NAME --role admin` "
                         "or name the user with --as")
    return user


def _value_choices(given: list[str]) -> dict[str, dict[str, str]] | None:
    """`--value owner="Мария Петрова=petrova"` (field:value=what it becomes, '' for empty) -> the choices."""
    chosen: dict[str, dict[str, str]] = {}
    for text in given:
        field, colon, rest = text.partition(":")
        value, equals, target = rest.rpartition("=")
        if not colon or not equals or not field.strip() or not value.strip():
            raise UsageError(f"--value {text!r}: write it as FIELD:VALUE=WHAT IT BECOMES, e.g. "
                             "--value 'owner:Мария Петрова=petrova' or --value 'client_type:Клиенты=new'")
        chosen.setdefault(field.strip(), {})[value.strip()] = target.strip()
    return chosen or None


def import_file(args: argparse.Namespace) -> int:
    """Import a CSV/XLSX file through the same normalisation and duplicate logic as the UI and the API."""
    _setup_django()
    _migrate()
    from krug.core.errors import DomainError
    from krug.transfer import importer, services
    from krug.transfer.models import ImportJob

    if args.resume:
        job = ImportJob.objects.filter(pk=args.resume).first()
        if job is None:
            raise UsageError(f"no import {args.resume}")
        if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.UPLOADED):
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    else:
        if not args.file:
            raise UsageError("name the file to import, or --resume JOB")
        path = Path(args.file)
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        user = _importing_user(args.as_user)
        try:
            with path.open("rb") as stream:
                job = services.upload(user, args.entity, path.name, stream, sheet=args.sheet or "")
            services.configure(user, job, key=args.key if args.key is not None else job.key,
                               values_=_value_choices(args.value or []))
        except DomainError as exc:
            for field, messages in (exc.errors or {"": [exc.message]}).items():
                for message in messages:
                    print(f"{field + ': ' if field else ''}{message}", file=sys.stderr)
            return USAGE_ERROR
        columns = ", ".join(f"{h!r}→{m or '-'}" for h, m in zip(job.header, job.mapping, strict=True))
        print(f"Import {job.pk}: {job.file_name}{f' (sheet {job.sheet!r})' if job.sheet else ''} as {job.entity}; "
              f"columns {columns}"
              f"{f'; upsert by {job.key}' if job.key else ''}", flush=True)
        if args.background:
            services.start(user, job)
            print(f"Queued; `krug worker` runs it. Resume or watch it with `krug import --resume {job.pk}`.")
            return 0
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    started = time.monotonic()

    def progress(current: ImportJob) -> None:
        total = current.total_rows or 0
        print(f"  {current.done_rows:,} / {total:,} rows, {time.monotonic() - started:.0f} s", flush=True)

    job = importer.run(job.pk, progress=progress)
    print(f"{job.status.capitalize()} in {time.monotonic() - started:.1f} s: {job.created:,} created, "
          f"{job.updated:,} updated, {job.merged:,} merged as duplicates, {job.skipped:,} skipped, "
          f"{job.failed:,} failed.")
    if job.error:
        print(job.error, file=sys.stderr)
    if job.failed:
        failed = Path(job.path).with_name("failed-rows.csv")
        with failed.open("w", encoding="utf-8", newline="") as out:
            for chunk in services.failed_rows_csv(job):
                out.write(chunk)
        print(f"The failed rows with their errors: {failed}")
    return 0 if job.status == ImportJob.Status.DONE else 1


# --- manage ----------------------------------------------------------------------------------------------


def manage(argv: list[str]) -> int:
    """Django's own command line, with Krug's settings."""
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["krug manage", *argv])
    return 0


# --- the parser ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="krug", description="Krug CRM. Data lives in $KRUG_DATA (default ./data) or $DATABASE_URL.")
    parser.add_argument("--version", action="version", version=f"krug {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("serve", help="serve the web UI and the API (applies migrations first)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--threads", type=int, default=None,
                   help="request threads per worker (default: 2 x CPU cores + 1, as granian advises)")
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(handler=serve)

    p = commands.add_parser("worker", help="run background jobs from the database queue")
    p.add_argument("--queue", default="*", help="queue names, comma separated (default '*': every queue)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls of an empty queue")
    p.add_argument("--batch", action="store_true", help="run what is queued, then exit")
    p.add_argument("--no-routine", action="store_true",
                   help="do not queue the daily health snapshot and the nightly duplicate scans from this worker")
    p.set_defaults(handler=worker)

    p = commands.add_parser("demo", help="load the demo organisation (once) and print its logins")
    p.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives the same data")
    p.set_defaults(handler=demo)

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="user_command", metavar="ACTION", required=True)
    p = user.add_parser("add", help="add a user and print his API token")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["admin", "head", "manager"])
    p.add_argument("--team", help="team name; created if new (required for a head)")
    p.add_argument("--password", help="password for the web UI (without one the user has only the API token)")
    p.add_argument("--email", default="")
    p.add_argument("--first-name", default="")
    p.add_argument("--last-name", default="")
    p.set_defaults(handler=user_add)
    p = user.add_parser("token", help="issue another API token for a user")
    p.add_argument("username")
    p.add_argument("--name", default="krug user token", help="what the token is for")
    p.set_defaults(handler=user_token)

    quality = commands.add_parser("quality", help="data quality").add_subparsers(
        dest="quality_command", metavar="ACTION", required=True)
    p = quality.add_parser("scan", help="scan every contact (or company) for duplicates (now, or queued "
                                       "with --background)")
    p.add_argument("--background", action="store_true", help="queue the scan for `krug worker` instead")
    p.add_argument("--entity", choices=["contacts", "companies"], default="contacts", help="what to scan")
    p.set_defaults(handler=quality_scan)
    p = quality.add_parser("snapshot", help="store today's data-health figures (daily, for the trend)")
    p.set_defaults(handler=quality_snapshot)

    p = commands.add_parser("import", help="import contacts, companies, leads or deals from a CSV or XLSX file")
    p.add_argument("file", nargs="?", help="the .csv or .xlsx file")
    p.add_argument("--entity", choices=["contacts", "companies", "leads", "deals"], default="contacts")
    p.add_argument("--key", help="update the records this field names instead of adding them: external_id, "
                                 "email, phone (contacts, leads) or inn (companies)")
    p.add_argument("--sheet", metavar="NAME", help="the workbook's sheet to read (default: the first whose header "
                                                   "names a field and has rows under it)")
    p.add_argument("--value", action="append", metavar="FIELD:VALUE=BECOMES",
                   help="what a value of the file becomes (repeatable): 'owner:Мария Петрова=petrova', "
                        "'client_type:Клиенты=new', 'stage:Первичный контакт=Новая', '=' alone for empty; "
                        "see GET /api/v1/imports/{id}/values for the values and choices")
    p.add_argument("--as", dest="as_user", help="the user the records are imported as (default: the first admin)")
    p.add_argument("--background", action="store_true", help="queue it for `krug worker` instead")
    p.add_argument("--resume", type=int, metavar="JOB", help="finish an import that was interrupted")
    p.set_defaults(handler=import_file)

    commands.add_parser("manage", help="run a Django management command, e.g. krug manage createsuperuser",
                        add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `krug` console script; returns the exit code (2 for bad input)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["manage"]:
        return manage(argv[1:])
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors; argparse already printed the message
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"krug: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
