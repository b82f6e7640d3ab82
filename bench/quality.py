"""Benchmark of the duplicate scan on generated data with planted duplicates of known truth.

    python -m bench quality [--sizes 10000,100000,1000000] [--seed 2026]

Each size runs in its own process (so peak memory is that size's); prints a table of scan time, peak
memory, and precision / recall / F1 against the planted truth, overall, on the corruption kinds the
matcher was tuned on, and on the held-out kinds it never saw during tuning.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from itertools import combinations

from bench.people import HELD_OUT_KINDS, TUNING_KINDS, Person, generate


def prepare(people: list[Person]):
    """People as the database holds them: phones in E.164, e-mails casefolded (what normalisation does on
    every write), in the scan's row shape."""
    from krug.quality import normalize
    from krug.quality.scan import ContactRow

    rows = []
    for p in people:
        phones = []
        for raw in p.phones:
            try:
                phones.append(normalize.phone(raw)[0])
            except ValueError:
                pass
        rows.append(ContactRow(p.id, p.surname, p.first_name, p.patronymic, p.company, p.city, tuple(phones),
                               tuple(e.casefold() for e in p.emails)))
    return rows


def _pairs_of(groups) -> set[tuple[int, int]]:
    out = set()
    for group in groups:
        out.update(combinations(sorted(group), 2))
    return out


def _prf(predicted: set, truth: set, relevant: set | None = None) -> tuple[float, float, float]:
    """Precision over `predicted`, recall over `relevant` (default: all of `truth`)."""
    relevant = truth if relevant is None else relevant
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = len(predicted & relevant) / len(relevant) if relevant else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _scores(predicted: set, truth: set, kind: dict) -> dict:
    result = {"all": _prf(predicted, truth)}
    for label, kinds in (("tuned", TUNING_KINDS), ("held_out", HELD_OUT_KINDS)):
        touching = {pr for pr in predicted if kind[pr[0]] in kinds or kind[pr[1]] in kinds}
        relevant = {pr for pr in truth if kind[pr[0]] in kinds or kind[pr[1]] in kinds}
        result[label] = _prf(touching, truth, relevant)
    return result


def measure(size: int, seed: int, peer: bool = False) -> dict:
    from krug.quality.scan import clusters, find_duplicates

    people = generate(size, seed)
    started = time.perf_counter()
    rows = prepare(people)
    prepared = time.perf_counter() - started
    started = time.perf_counter()
    pairs = find_duplicates(rows)
    predicted = _pairs_of(clusters(pairs))
    scan = time.perf_counter() - started
    by_cluster: dict[int, list[int]] = {}
    kind = {}
    for p in people:
        by_cluster.setdefault(p.cluster, []).append(p.id)
        kind[p.id] = p.corruption
    truth = _pairs_of(g for g in by_cluster.values() if len(g) > 1)
    result = {"size": size, "prepare_s": prepared, "scan_s": scan,
              "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "true_pairs": len(truth), "found_pairs": len(predicted)}
    result.update(_scores(predicted, truth, kind))
    if peer:
        from bench.splink_peer import dedupe

        groups, seconds = dedupe(rows)
        result["peer"] = {"scan_s": seconds, **_scores(_pairs_of(groups), truth, kind)}
        result["peak_mb_with_peer"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run(sizes: list[int], seed: int, peer: bool = False) -> list[dict]:
    results = []
    for size in sizes:
        out = subprocess.run([sys.executable, "-m", "bench.quality", "--one", str(size), str(seed), str(int(peer))],
                             check=True, capture_output=True, text=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def table(results: list[dict]) -> str:
    head = ["contacts", "engine", "scan s", "peak MB", "true pairs", "P", "R", "F1", "F1 tuned", "F1 held-out"]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in results:
        engines = [("Krug", r, r["peak_mb"])]
        if "peer" in r:
            engines.append(("Splink", r["peer"], r["peak_mb_with_peer"]))
        for name, e, peak in engines:
            p, rc, f1 = e["all"]
            lines.append(" | ".join([f"{r['size']:,}", name, f"{e['scan_s']:.1f}", f"{peak:.0f}",
                                     f"{r['true_pairs']:,}", f"{p:.3f}", f"{rc:.3f}", f"{f1:.3f}",
                                     f"{e['tuned'][2]:.3f}", f"{e['held_out'][2]:.3f}"]))
        if "peer" in r:
            lines.append(f"{r['size']:,} | Splink/Krug | time ×{r['peer']['scan_s'] / r['scan_s']:.2f} | | | | | "
                         f"F1 {r['peer']['all'][2] - r['all'][2]:+.3f} | | ")
    return "\n".join(lines)


if __name__ == "__main__" and sys.argv[1:2] == ["--one"]:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krug.settings")
    django.setup()
    print(json.dumps(measure(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:5] == ["1"])))
