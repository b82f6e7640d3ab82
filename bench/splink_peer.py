"""The established peer for the duplicate scan: Splink (DuckDB backend), on the same prepared rows.

It gets what Krug's scan gets (names as stored, the first phone in E.164, the first e-mail casefolded,
company and city), blocking on exact phone, e-mail, surname+city and surname+first name, the standard
name/e-mail comparisons, u by random sampling and m by expectation maximisation, then clusters the pairs at
a match probability of 0.9. Its time covers training, prediction and clustering, not loading the CSV.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
import time


def dedupe(rows) -> tuple[list[set[int]], float]:
    """(clusters of ids, seconds) for the scan's ContactRow list."""
    import duckdb
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    folder = tempfile.mkdtemp(prefix="krug-splink-")
    path = os.path.join(folder, "people.csv")
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["unique_id", "first_name", "surname", "patronymic", "phone", "email", "company", "city"])
        for r in rows:
            writer.writerow([r.id, r.first_name.lower() or None, r.surname.lower() or None,
                             r.patronymic.lower() or None, r.phones[0] if r.phones else None,
                             r.emails[0] if r.emails else None, r.company.lower() or None, r.city or None])
    con = duckdb.connect()
    con.execute(f"CREATE TABLE people AS SELECT * FROM read_csv('{path}', header=true, all_varchar=true)")
    con.execute("ALTER TABLE people ALTER unique_id TYPE BIGINT")
    db_api = DuckDBAPI(connection=con)
    people = db_api.register("people")
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("phone"), block_on("email"), block_on("surname", "city"), block_on("surname", "first_name")],
        comparisons=[
            cl.ForenameSurnameComparison("first_name", "surname"),
            cl.ExactMatch("patronymic"),
            cl.ExactMatch("phone"),
            cl.EmailComparison("email"),
            cl.ExactMatch("company"),
            cl.ExactMatch("city"),
        ],
    )
    started = time.perf_counter()
    linker = Linker(people, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("phone"), block_on("email")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname", "city"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    table = clusters.physical_name
    groups: dict[str, set[int]] = {}
    for unique_id, cluster_id in con.execute(f"SELECT unique_id, cluster_id FROM {table}").fetchall():
        groups.setdefault(str(cluster_id), set()).add(int(unique_id))
    elapsed = time.perf_counter() - started
    return [g for g in groups.values() if len(g) > 1], elapsed
