"""`bench transfer --repeat`: each scenario's runs become one row of medians, and an outcome that differs between
runs of the same seeded files is shown, not hidden by the first run's."""

import pytest
from bench.transfer import medians, table
from django.db import connection


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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a COPY into PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_what_an_import_wrote_is_copied_into_twins_with_its_indexes_and_the_twins_go(org):
    from bench.transfer import copy_written, table_rows
    from psycopg.conninfo import make_conninfo

    from tests import factories

    params = connection.get_connection_params()
    url = make_conninfo(**{key: params[key] for key in ("dbname", "user", "password", "host", "port")
                           if params.get(key)})
    before = table_rows(url)
    for n in range(3):
        factories.contact(org.manager, surname=f"Копия{n}", phones=[f"+7916555010{n}"])
    seconds, rows, tables = copy_written(url, before)
    grown = {name for name, count in table_rows(url).items() if count > before.get(name, 0)}
    assert {"clients_contact", "clients_contactphone"} <= grown and tables == len(grown)
    assert seconds > 0 and rows >= sum(table_rows(url)[name] for name in ("clients_contact", "clients_contactphone"))
    assert not any(name.startswith("bench_twin_") for name in table_rows(url))
