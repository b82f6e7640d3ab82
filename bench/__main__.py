"""The benchmark suite: `python -m bench <scenario> [options]`; each scenario prints a table.

Scenarios: quality (duplicate scan: time, memory, precision/recall/F1 against planted truth); entry (the
duplicate check on entry: latency against a loaded base, on DATABASE_URL or a temporary SQLite); transfer
(import of a generated CSV against a bare COPY, and export, with peak memory); api (list page, board column,
search, card and task agenda latency against raw SQL with a loaded base); export (CSV and XLSX of a loaded
base); steps (an import's steps, thread by thread, with their elapsed and CPU seconds); changes (a second
import changing deals and companies by ID, on the per-row path against the set-based one).
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="scenario", required=True)
    quality = sub.add_parser("quality", help="duplicate scan on generated contacts with planted duplicates")
    quality.add_argument("--sizes", default="10000,100000", help="comma-separated contact counts")
    quality.add_argument("--seed", type=int, default=2026)
    quality.add_argument("--peer", action="store_true", help="also run Splink (DuckDB) on the same data")
    entry = sub.add_parser("entry", help="duplicate check on entry against a loaded base (uses DATABASE_URL)")
    entry.add_argument("--size", type=int, default=100_000)
    entry.add_argument("--seed", type=int, default=2026)
    transfer = sub.add_parser("transfer", help="import of a generated CSV (and bare COPY on PostgreSQL), export")
    transfer.add_argument("--size", type=int, default=10_000)
    transfer.add_argument("--seed", type=int, default=2026)
    transfer.add_argument("--deals", type=int, default=None, help="deals to import after (default: a third of --size)")
    transfer.add_argument("--named", type=int, default=None,
                          help="deals naming their contact by full name only (default: a tenth of --deals)")
    transfer.add_argument("--companies", type=int, default=None,
                          help="companies to import after (default: a tenth of --size)")
    transfer.add_argument("--repeat", type=int, default=1,
                          help="runs, each on a fresh base; the table gives the medians (default: 1)")
    latency = sub.add_parser("api", help="API latency (lists, search, card and timeline, task agenda) against raw "
                                         "SQL with a loaded base of contacts, deals and activities (uses DATABASE_URL)")
    latency.add_argument("--size", type=int, default=100_000)
    latency.add_argument("--seed", type=int, default=2026)
    latency.add_argument("--repeat", type=int, default=200)
    steps = sub.add_parser("steps", help="an import's steps per thread, in this process (uses DATABASE_URL)")
    steps.add_argument("--size", type=int, default=50_000)
    steps.add_argument("--seed", type=int, default=2026)
    changes = sub.add_parser("changes", help="a second import changing deals and companies by ID: per-row path "
                                            "against set-based (in this process, DATABASE_URL or SQLite)")
    changes.add_argument("--size", type=int, default=30_000)
    changes.add_argument("--seed", type=int, default=2026)
    changes.add_argument("--rows", type=int, default=2_000, help="rows of each changes file")
    changes.add_argument("--repeat", type=int, default=3)
    exporting = sub.add_parser("export", help="CSV and XLSX export of a base loaded straight into the tables")
    exporting.add_argument("--size", type=int, default=100_000)
    exporting.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.scenario == "quality":
        from bench import quality as scenario

        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
        print(scenario.table(scenario.run(sizes, args.seed, args.peer)))
    elif args.scenario == "entry":
        import os
        import tempfile

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krug.settings")
        # a base of its own, not the working copy's ./data (whose bench users a second run would meet again)
        os.environ.setdefault("KRUG_DATA", tempfile.mkdtemp(prefix="krug-bench-entry-data-"))
        django.setup()
        from bench import entry as scenario

        print(scenario.table(scenario.measure(args.size, args.seed)))
    elif args.scenario == "api":
        import os
        import tempfile

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krug.settings")
        # a base of its own, not the working copy's ./data (whose bench users a second run would meet again)
        os.environ.setdefault("KRUG_DATA", tempfile.mkdtemp(prefix="krug-bench-api-data-"))
        django.setup()
        from bench import api as scenario

        print(scenario.table(scenario.measure(args.size, args.seed, args.repeat)))
    elif args.scenario == "steps":
        import os
        import tempfile

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krug.settings")
        os.environ.setdefault("KRUG_DATA", tempfile.mkdtemp(prefix="krug-bench-steps-data-"))
        django.setup()
        from bench import steps as scenario

        print(scenario.table(scenario.measure(args.size, args.seed)))
    elif args.scenario == "changes":
        import os
        import tempfile

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krug.settings")
        os.environ.setdefault("KRUG_DATA", tempfile.mkdtemp(prefix="krug-bench-changes-data-"))
        django.setup()
        from bench import changes as scenario

        print(scenario.table(scenario.measure(args.size, args.seed, args.rows, args.repeat)))
    elif args.scenario == "transfer":
        if args.repeat < 1:
            parser.error("--repeat: at least 1 run")
        from bench import transfer as scenario

        print(scenario.table(scenario.run(args.size, args.seed, args.deals, args.companies, args.named,
                                          args.repeat)))
    elif args.scenario == "export":
        from bench import transfer as scenario

        print(scenario.table(scenario.run_export(args.size, args.seed)))


if __name__ == "__main__":
    main()
