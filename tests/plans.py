"""SQLite's query plan of a queryset, for tests that hold a screen's query to its index."""

from django.db import connection


def sqlite_plan(qs) -> str:
    """EXPLAIN QUERY PLAN of `qs`, its lines joined: which indexes SQLite reads and whether it sorts
    (`USE TEMP B-TREE`). SQLite's plan follows from the schema alone, so it is stable in a test."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " ".join(str(row[-1]) for row in cursor.fetchall())
