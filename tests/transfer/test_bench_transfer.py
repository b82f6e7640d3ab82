"""`bench transfer --repeat`: each scenario's runs become one row of medians, and an outcome that differs between
runs of the same seeded files is shown, not hidden by the first run's."""

from bench.transfer import medians, table


def _run(seconds, cpu, db_cpu, peak, note="создано 9"):
    return {"scenario": "krug import", "rows": 10, "seconds": seconds, "peak_mb": peak, "note": note, "cpu": cpu,
            "db_cpu": db_cpu}


def test_a_scenarios_runs_become_their_medians_and_the_highest_peak():
    row = medians([_run(3.0, 2.0, 1.0, 100), _run(1.0, 4.0, 3.0, 120), _run(2.0, 3.0, 2.0, 90)])
    assert (row["seconds"], row["cpu"], row["db_cpu"], row["peak_mb"]) == (2.0, 3.0, 2.0, 120)
    assert row["runs"] == [3.0, 1.0, 2.0] and row["note"] == "создано 9"
    sqlite = medians([_run(3.0, 2.0, None, 100), _run(1.0, 4.0, None, 120)])
    assert sqlite["db_cpu"] is None and sqlite["seconds"] == 2.0


def test_outcomes_that_differ_are_all_shown_and_the_table_gives_every_run():
    row = medians([_run(3.0, 2.0, 1.0, 100), _run(1.0, 4.0, 3.0, 120, note="создано 8"), _run(2.0, 3.0, 2.0, 90)])
    assert row["note"] == "создано 9 ≠ создано 8"
    row |= {"rows_per_s": 5.0, "vs_copy": 4.0}
    printed = table([row])
    assert printed.startswith("medians of 3 runs, each on a fresh base")
    assert "krug import | 10 | 2.0 | 3.0 / 1.0 / 2.0 | 5 | 4.0 | 120 | 3.0 | 2.0 | создано 9 ≠ создано 8" in printed
