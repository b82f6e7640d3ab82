"""The benchmark suite: `python -m bench <scenario> [options]`; each scenario prints a table.

Scenarios: quality (duplicate scan: time, memory, precision/recall/F1 against planted truth).
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="scenario", required=True)
    quality = sub.add_parser("quality", help="duplicate scan on generated contacts with planted duplicates")
    quality.add_argument("--sizes", default="10000,100000", help="comma-separated contact counts")
    quality.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.scenario == "quality":
        from bench import quality as scenario

        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
        print(scenario.table(scenario.run(sizes, args.seed)))


if __name__ == "__main__":
    main()
