"""The `krug` command: serve the UI and API, run the background worker, load the demo, add users.

Every command prepares Django itself (settings from the environment, migrations applied), so an operator
never needs `manage.py`; `krug manage ...` is there for everything else Django offers. It speaks the language of
the terminal, chosen as gettext chooses (`language`): `LANG=ru_RU.UTF-8 krug import …` reports in Russian.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

USAGE_ERROR = 2
#: the languages the command speaks (those of the interface); English where the terminal asks for none of them
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "en"


class UsageError(Exception):
    """Bad input from the command line: reported on stderr, exit code 2, nothing written."""


def language(environ=os.environ) -> str:
    """The language of the messages, as gettext picks it: LANGUAGE (a list, `ru:en`), unless the locale is C or
    POSIX, then the locale of messages, LC_ALL, LC_MESSAGES, LANG (`ru_RU.UTF-8` is Russian); English when
    none is set or none is one Krug speaks."""
    locale = next((environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(name)), "")
    base = locale.split(".")[0].split("@")[0]
    if base in ("", "C", "POSIX"):
        return DEFAULT_LANGUAGE
    for wanted in [*environ.get("LANGUAGE", "").split(":"), base]:
        code = wanted.split("_")[0].split(".")[0].lower()
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def _number(value: float, decimals: int = 0) -> str:
    """A count or a duration as the language writes it: 12,345 and 1.5 in English, 12 345 and 1,5 in Russian."""
    from django.utils import formats

    return formats.number_format(round(value, decimals), decimals, use_l10n=True, force_grouping=True)


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
    print(_("Krug is running at %(url)s") % {"url": _browser_url(args.host, args.port)}, flush=True)
    if args.host in ("0.0.0.0", "::"):
        print(_("(listening on all interfaces, port %(port)s)") % {"port": args.port}, flush=True)
    print(_("Press Ctrl+C to stop."), flush=True)
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
        raise UsageError(_("the worker serves the database queue, but KRUG_TASKS_BACKEND selects %(backend)s; "
                           "with 'immediate' jobs run inside the web process and no worker is needed")
                         % {"backend": backend})
    _migrate()
    from django.core.management import call_command

    print(_("Krug worker: queue %(queue)s, polling every %(seconds)s s. Press Ctrl+C to stop.")
          % {"queue": repr(args.queue), "seconds": _number(args.interval, 1)}, flush=True)
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

        print(_("The demo data is already loaded (a user 'admin' exists); nothing was changed."))
        users = User.objects.filter(email__endswith="@krug.example", is_active=True).order_by("id")
        logins = [(u.username, demo_data.DEMO_PASSWORD, u.role) for u in users]
        if not logins:
            return 0
        print(_("Demo logins (unless their passwords were changed since):"))
    else:
        print(_("Loading the demo data (seed %(seed)s), this takes a moment...") % {"seed": args.seed}, flush=True)
        logins = demo_data.load_demo(args.seed)
        print(_("Demo data loaded. Logins:"))
    # the role as `krug user add --role` takes it
    _print_table([(u, p, str(r)) for u, p, r in logins], (_("username"), _("password"), _("role")))
    return 0


# --- user ------------------------------------------------------------------------------------------------


#: the option that gives a user's field, where one does (the username is the command's argument)
USER_OPTIONS = {"password": "--password", "email": "--email", "first_name": "--first-name",
                "last_name": "--last-name", "role": "--role", "team": "--team"}


def _domain_message(exc) -> str:
    """A refused user, each problem named by the option that gave the value (or the field's label)."""
    if not getattr(exc, "errors", None):
        return str(exc)
    from krug.accounts.models import User
    from krug.core import changes

    return "; ".join(f"{USER_OPTIONS.get(field) or changes.label(User, field)}: {' '.join(map(str, msgs))}"
                     for field, msgs in exc.errors.items())


def user_add(args: argparse.Namespace) -> int:
    """Create a user (and his team if new) and print a fresh API token as the last line."""
    _setup_django()
    _migrate()
    from django.db import transaction

    from krug.accounts import services
    from krug.core.errors import DomainError
    from krug.core.permissions import Role

    team_name = (args.team or "").strip()
    if args.role == Role.HEAD and not team_name:
        raise UsageError(_("a head of sales leads a team: give it with --team NAME"))
    try:
        with transaction.atomic():  # a rejected user leaves no new team behind
            team = services.get_or_create_team(team_name) if team_name else None
            user = services.create_user(args.username, role=args.role, team=team, password=args.password,
                                        first_name=args.first_name, last_name=args.last_name, email=args.email)
            token = services.issue_token(user, name="krug user add")
    except DomainError as exc:
        raise UsageError(_domain_message(exc)) from exc
    said = {"role": user.get_role_display().lower(), "username": user.username, "team": team.name if team else ""}
    print((_("Created %(role)s %(username)s in team %(team)s.") if team else _("Created %(role)s %(username)s."))
          % said)
    if not args.password:
        print(_("No password set: %(username)s uses the API token only (set one with: krug manage changepassword "
                "%(username)s).") % said)
    print(_("API token (shown once, keep it safe):"))
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
        raise UsageError(_("no active user named %(name)s") % {"name": repr(args.username)})
    token = services.issue_token(user, name=args.name)
    print(_("New API token for %(username)s (shown once, keep it safe):") % {"username": user.username})
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
        print(_("Scan %(id)s queued; `krug worker` runs it.") % {"id": run.pk})
        return 0
    run = ScanRun.objects.create(entity=entity)
    started = time.monotonic()
    run = tasks.run_scan(run.pk)
    print(_scanned(run, args.entity, time.monotonic() - started))
    return 0


def _scanned(run, entity: str, seconds: float) -> str:
    """The scan's report: what it read, in how long, the pairs it found and merged."""
    if entity == "contacts":
        records = ngettext("%(n)s contact", "%(n)s contacts", run.records)
    else:
        records = ngettext("%(n)s company", "%(n)s companies", run.records)
    found = ngettext("%(n)s probable duplicate pair", "%(n)s probable duplicate pairs", run.found)
    merged = ngettext(", %(n)s merged automatically", ", %(n)s merged automatically", run.merged) if run.merged \
        else ""
    return _("Scanned %(records)s in %(seconds)s s: %(found)s%(merged)s.") % {
        "records": records % {"n": _number(run.records)}, "seconds": _number(seconds, 1),
        "found": found % {"n": _number(run.found)}, "merged": merged % {"n": _number(run.merged)} if merged else ""}


def quality_snapshot(args: argparse.Namespace) -> int:
    """Store today's data-health figures (run it daily, e.g. from cron, so the trend shows)."""
    _setup_django()
    _migrate()
    from krug.quality import health

    rows = health.take_snapshot()
    managers = rows - 1
    print(ngettext("Data health snapshot stored (%(n)s manager and the total).",
                   "Data health snapshot stored (%(n)s managers and the total).", managers) % {"n": managers})
    return 0


# --- import ----------------------------------------------------------------------------------------------


def _importing_user(name: str | None):
    from krug.accounts.models import User
    from krug.core.permissions import Role

    if name:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise UsageError(_("no active user %(name)s (see `krug user add`)") % {"name": repr(name)})
        return user
    user = User.objects.filter(is_active=True, role=Role.ADMIN).order_by("id").first()
    if user is None:
        raise UsageError(_("no administrator to import as: create one with `krug user add NAME --role admin` "
                           "or name the user with --as"))
    return user


def _value_choices(given: list[str]) -> dict[str, dict[str, str]] | None:
    """`--value owner="Мария Петрова=petrova"` (field:value=what it becomes, '' for empty) -> the choices; a stage
    in one pipeline is `stage.<pipeline>:value=stage` (plain `stage:` chooses it in every pipeline that has it)."""
    chosen: dict[str, dict[str, str]] = {}
    for text in given:
        field, colon, rest = text.partition(":")
        value, equals, target = rest.rpartition("=")
        if not colon or not equals or not field.strip() or not value.strip():
            raise UsageError(_("--value %(text)s: write it as FIELD:VALUE=WHAT IT BECOMES, e.g. "
                               "--value 'owner:Мария Петрова=petrova' or --value 'client_type:Клиенты=new'")
                             % {"text": repr(text)})
        field = field.strip()
        if field.startswith("stage."):  # a stage in one pipeline: 'stage.Опт:В работе=Счёт'
            chosen.setdefault("stage", {}).setdefault(field.removeprefix("stage.").strip(), {})[
                value.strip()] = target.strip()
        else:
            chosen.setdefault(field, {})[value.strip()] = target.strip()
    return chosen or None


#: what each kind of import is called (the import page's words)
ENTITIES = {"contacts": gettext_lazy("Contacts"), "companies": gettext_lazy("Companies"),
            "leads": gettext_lazy("Leads"), "deals": gettext_lazy("Deals")}
#: the option that gave a job's setting, to name it in a refusal
IMPORT_OPTIONS = {"entity": "--entity", "key": "--key", "sheet": "--sheet"}


def _import_problem(field: str, path: Path) -> str:
    """Where a refused upload's problem lies, as the operator typed it: the option (`--sheet`, `--value owner`),
    the file, or nothing where the message names the column itself."""
    if field in IMPORT_OPTIONS:
        return IMPORT_OPTIONS[field]
    if field.startswith("values."):
        return f"--value {field.removeprefix('values.')}"
    if field == "file":
        return str(path)
    return ""


def _upload(args: argparse.Namespace, path: Path):
    """The uploaded and configured job, or None after printing why the file was refused."""
    from krug.core.errors import DomainError
    from krug.transfer import services

    user = _importing_user(args.as_user)
    try:
        with path.open("rb") as stream:
            job = services.upload(user, args.entity, path.name, stream, sheet=args.sheet or "")
        services.configure(user, job, key=args.key if args.key is not None else job.key,
                           values_=_value_choices(args.value or []))
    except DomainError as exc:
        for field, messages in (exc.errors or {"": [exc.message]}).items():
            where = _import_problem(field, path)
            for message in messages:
                print(f"{where}: {message}" if where else str(message), file=sys.stderr)
        return None
    return job


#: how many of a field's choices a refusal lists
SHOWN_OPTIONS = 12


def _unsettled(job) -> list[str]:
    """What the file's value columns hold that nothing turns into a value Krug has (the rows holding it would
    fail), each with its rows, why and the choices; [] when there is none. The import page lists the same
    (`transfer.values.found`) and lets the user choose; here it is said before a single row is written."""
    from krug.transfer import values

    lines = []
    for field in values.found(job)["fields"]:
        failing = [value for value in field["values"] if value["becomes"] is None]
        if not failing:
            continue
        name = f"stage.{field['pipeline']}" if field["field"] == "stage" and field.get("pipeline") else field["field"]
        lines.append(f"«{field['label']}» ({name}):")
        for value in failing:
            rows = ngettext("%(n)s row", "%(n)s rows", value["rows"]) % {"n": _number(value["rows"])}
            lines.append(f"  «{value['value']}» — {rows}" + (f"; {value['problem']}" if value["problem"] else ""))
        options = [option["value"] for option in field["options"]]
        shown = ", ".join(options[:SHOWN_OPTIONS]) + (", …" if len(options) > SHOWN_OPTIONS else "")
        lines.append("  " + (_("it may become: %(options)s") % {"options": shown} if options else
                             _("it may only be left empty ('=')")))
    return lines


def _started(job) -> str:
    """What is imported how: the file (and sheet), the kind of records, each column's field, the key."""
    from krug.transfer import mapping

    columns = ", ".join(f"«{header}» → {mapping.field_label(job.entity, name) if name else '—'}"
                        for header, name in zip(job.header, job.mapping, strict=True))
    text = _("Import %(id)s: %(file)s") % {"id": job.pk, "file": job.file_name}
    if job.sheet:
        text += _(" (sheet '%(sheet)s')") % {"sheet": job.sheet}
    text += _(" as %(entity)s; columns %(columns)s") % {"entity": str(ENTITIES.get(job.entity, job.entity)).lower(),
                                                       "columns": columns}
    if job.key:
        text += _("; updating the records named by %(key)s") % {"key": mapping.field_label(job.entity, job.key)}
    return text


def _report(job, seconds: float) -> str:
    return _("%(status)s in %(seconds)s s: %(created)s created, %(updated)s updated, %(merged)s merged as "
             "duplicates, %(skipped)s skipped, %(failed)s failed.") % {
        "status": job.get_status_display().capitalize(), "seconds": _number(seconds, 1),
        "created": _number(job.created), "updated": _number(job.updated), "merged": _number(job.merged),
        "skipped": _number(job.skipped), "failed": _number(job.failed)}


def import_file(args: argparse.Namespace) -> int:
    """Import a CSV/XLSX file through the same normalisation and duplicate logic as the UI and the API."""
    _setup_django()
    _migrate()
    from krug.transfer import importer, services
    from krug.transfer.models import ImportJob

    if args.resume:
        job = ImportJob.objects.filter(pk=args.resume).first()
        if job is None:
            raise UsageError(_("no import %(id)s") % {"id": args.resume})
        if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.UPLOADED):
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    else:
        if not args.file:
            raise UsageError(_("name the file to import, or --resume JOB"))
        path = Path(args.file)
        if not path.is_file():
            raise UsageError(_("%(path)s: no such file") % {"path": path})
        job = _upload(args, path)
        if job is None:
            return USAGE_ERROR
        print(_started(job), flush=True)
        unsettled = _unsettled(job)
        if unsettled and not args.anyway:
            print(_("These values of the file are not values Krug has, so the rows holding them would fail:"),
                  *unsettled, _("Say what each becomes with --value FIELD:VALUE=BECOMES ('FIELD:VALUE=' leaves it "
                                "empty), or add --anyway to import the other rows and list these in the failed rows."),
                  sep="\n", file=sys.stderr)
            return USAGE_ERROR
        if args.background:
            services.start(job.by, job)
            print(_("Queued; `krug worker` runs it. Resume or watch it with `krug import --resume %(id)s`.")
                  % {"id": job.pk})
            return 0
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    started = time.monotonic()

    def progress(current: ImportJob) -> None:
        print(_("  %(done)s / %(total)s rows, %(seconds)s s") % {
            "done": _number(current.done_rows), "total": _number(current.total_rows or 0),
            "seconds": _number(time.monotonic() - started)}, flush=True)

    job = importer.run(job.pk, progress=progress)
    print(_report(job, time.monotonic() - started))
    if job.error:
        print(job.error, file=sys.stderr)
    if job.failed:
        failed = Path(job.path).with_name("failed-rows.csv")
        with failed.open("w", encoding="utf-8", newline="") as out:
            for chunk in services.failed_rows_csv(job):
                out.write(chunk)
        print(_("The failed rows with their errors: %(path)s") % {"path": failed})
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
        prog="krug", description=_("Krug CRM. Data lives in $KRUG_DATA (default ./data) or $DATABASE_URL. "
                                   "Messages are in the language of LANG (e.g. ru_RU.UTF-8)."))
    parser.add_argument("--version", action="version", version=f"krug {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("serve", help=_("serve the web UI and the API (applies migrations first)"))
    p.add_argument("--host", default="127.0.0.1",
                   help=_("address to listen on (default 127.0.0.1; 0.0.0.0 for all)"))
    p.add_argument("--port", type=int, default=8000, help=_("port (default 8000)"))
    p.add_argument("--workers", type=int, default=1, help=_("worker processes (default 1)"))
    p.add_argument("--threads", type=int, default=None,
                   help=_("request threads per worker (default: 2 x CPU cores + 1, as granian advises)"))
    p.add_argument("--access-log", action="store_true", help=_("log every request"))
    p.set_defaults(handler=serve)

    p = commands.add_parser("worker", help=_("run background jobs from the database queue"))
    p.add_argument("--queue", default="*", help=_("queue names, comma separated (default '*': every queue)"))
    p.add_argument("--interval", type=float, default=1.0, help=_("seconds between polls of an empty queue"))
    p.add_argument("--batch", action="store_true", help=_("run what is queued, then exit"))
    p.add_argument("--no-routine", action="store_true",
                   help=_("do not queue the daily health snapshot and the nightly duplicate scans from this worker"))
    p.set_defaults(handler=worker)

    p = commands.add_parser("demo", help=_("load the demo organisation (once) and print its logins"))
    p.add_argument("--seed", type=int, default=42, help=_("random seed; the same seed gives the same data"))
    p.set_defaults(handler=demo)

    user = commands.add_parser("user", help=_("manage users")).add_subparsers(
        dest="user_command", metavar="ACTION", required=True)
    p = user.add_parser("add", help=_("add a user and print his API token"))
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["admin", "head", "manager"])
    p.add_argument("--team", help=_("team name; created if new (required for a head)"))
    p.add_argument("--password", help=_("password for the web UI (without one the user has only the API token)"))
    p.add_argument("--email", default="")
    p.add_argument("--first-name", default="")
    p.add_argument("--last-name", default="")
    p.set_defaults(handler=user_add)
    p = user.add_parser("token", help=_("issue another API token for a user"))
    p.add_argument("username")
    p.add_argument("--name", default="krug user token", help=_("what the token is for"))
    p.set_defaults(handler=user_token)

    quality = commands.add_parser("quality", help=_("data quality")).add_subparsers(
        dest="quality_command", metavar="ACTION", required=True)
    p = quality.add_parser("scan", help=_("scan every contact (or company) for duplicates (now, or queued with "
                                          "--background)"))
    p.add_argument("--background", action="store_true", help=_("queue the scan for `krug worker` instead"))
    p.add_argument("--entity", choices=["contacts", "companies"], default="contacts", help=_("what to scan"))
    p.set_defaults(handler=quality_scan)
    p = quality.add_parser("snapshot", help=_("store today's data-health figures (daily, for the trend)"))
    p.set_defaults(handler=quality_snapshot)

    p = commands.add_parser("import", help=_("import contacts, companies, leads or deals from a CSV or XLSX file"))
    p.add_argument("file", nargs="?", help=_("the .csv or .xlsx file"))
    p.add_argument("--entity", choices=["contacts", "companies", "leads", "deals"], default="contacts")
    p.add_argument("--key", help=_("update the records this field names instead of adding them: external_id, "
                                   "email, phone (contacts, leads) or inn (companies)"))
    p.add_argument("--sheet", metavar="NAME", help=_("the workbook's sheet to read (default: the first whose header "
                                                     "names a field and has rows under it)"))
    p.add_argument("--value", action="append", metavar="FIELD:VALUE=BECOMES",
                   help=_("what a value of the file becomes (repeatable): 'owner:Мария Петрова=petrova', "
                          "'client_type:Клиенты=new', 'stage:Первичный контакт=Новая', '=' alone for empty; "
                          "see GET /api/v1/imports/{id}/values for the values and choices"))
    p.add_argument("--anyway", action="store_true",
                   help=_("import even when some values are not Krug's: the rows holding them fail and are listed"))
    p.add_argument("--as", dest="as_user", help=_("the user the records are imported as (default: the first admin)"))
    p.add_argument("--background", action="store_true", help=_("queue it for `krug worker` instead"))
    p.add_argument("--resume", type=int, metavar="JOB", help=_("finish an import that was interrupted"))
    p.set_defaults(handler=import_file)

    commands.add_parser("manage", help=_("run a Django management command, e.g. krug manage createsuperuser"),
                        add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `krug` console script; returns the exit code (2 for bad input)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["manage"]:
        return manage(argv[1:])
    _setup_django()  # for the messages' translations; no command touches the database before it asks to
    from django.utils import translation

    _argparse_speaks()
    with translation.override(language()):
        return _run(argv)


def _argparse_speaks() -> None:
    """argparse's own words («usage:», «options:», «the following arguments are required») in the terminal's
    language like the rest: argparse looks them up through its module's `_` and `ngettext` when it writes them,
    and Django's catalogue has them (an English terminal reads argparse's words as they are)."""
    argparse._ = _
    argparse.ngettext = ngettext


def _run(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors; argparse already printed the message
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    try:
        return args.handler(args)
    except UsageError as exc:
        print(_("krug: error: %(message)s") % {"message": exc}, file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
