"""Writing many rows at once: COPY on PostgreSQL, one prepared INSERT for all rows on SQLite.

For set-based paths (imports) that have already validated and normalised every value the way the services
do: these functions write, they do not check. Ids can be taken up front so that related rows (phones, audit
entries, timeline events) can point at records in the same statement batch.
"""

from __future__ import annotations

import gc
import json
import operator
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from django.db import connection, models
from django.db.models import Lookup


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage rarely during bulk work. Python's collector runs every 700 allocations and each
    full pass walks the whole heap; an import allocates millions of short-lived objects and spent a quarter of
    its CPU there (50,000 rows: 15.0 s of Python, 10.9 s with this). What is alive when the work starts
    (Django, the loaded modules) is frozen out of the passes; the thresholds come back afterwards."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def take_ids(model, count: int) -> list[int]:
    """`count` fresh primary keys for `model`, reserved so nobody else gets them. Call inside the transaction
    that inserts them (on SQLite the transaction's write lock is what keeps them ours)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{model._meta.db_table}', 'id')) "
                           "FROM generate_series(1, %s)", [count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {_table(model)}")
        start = cursor.fetchone()[0] + 1
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [model._meta.db_table])
        row = cursor.fetchone()
        if row and row[0] >= start:
            start = row[0] + 1
        return list(range(start, start + count))


_MISSING = object()


def _default(field: models.Field) -> Any:
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, (models.CharField, models.TextField)):
        return ""
    return _MISSING


def insert(model, rows: Iterable[dict[str, Any]], *, with_ids: bool = False) -> int:
    """Insert `rows` (dicts by attname: `contact_id`, not `contact`); absent fields get their defaults.
    `with_ids`: the rows carry their `id` (taken with `take_ids`)."""
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    defaults = {f.attname: _default(f) for f in fields}
    names = [f.attname for f in fields]
    # one C call per row, not a loop over the fields (itemgetter of one name gives the value, not a tuple)
    pick = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))

    def values(row: dict) -> tuple:
        try:
            return pick(row)  # a row that names every column (most do) is not copied over the defaults
        except KeyError:
            pass
        out = pick({**defaults, **row})
        if _MISSING in out:
            missing = next(f for f, v in zip(fields, out, strict=True) if v is _MISSING)
            raise ValueError(f"{model.__name__}.{missing.name} needs a value")
        return out

    return _write(model, fields, (values(row) for row in rows))


def _write(model, fields: list, rows: Iterable[Sequence[Any]]) -> int:
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
            with cursor.cursor.copy(f"COPY {_table(model)} ({quoted}) FROM STDIN") as copy:
                write = copy.write_row
                if not json_at:
                    for row in rows:
                        write(row)
                        count += 1
                    return count
                for row in rows:
                    row = list(row)
                    for i in json_at:
                        row[i] = _json_text(row[i])
                    write(row)
                    count += 1
            return count
        sql = f"INSERT INTO {_table(model)} ({quoted}) VALUES ({', '.join('%s' for _ in fields)})"
        batch = []
        for row in rows:
            batch.append([f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)])
            count += 1
            if len(batch) == 2000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    return count


def _json_text(value: Any) -> str:
    """A JSON column's value as the text COPY sends (the server parses it as jsonb). orjson, not psycopg's
    `Jsonb` wrapper and dumper around `json.dumps`: an import writes three JSON values a row (the audit's
    changes, the timeline's data, the custom fields), and an audit entry's changes took 14 µs with the
    standard library, 2 with orjson. What orjson refuses (keys that are not text, numbers over 64 bits) goes
    the standard way."""
    if type(value) is dict and not value:
        return "{}"
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def insert_bigints(model, columns: Sequence[str], *values: Sequence[int]) -> int:
    """Insert rows of whole numbers given column by column (one sequence of ints per column, all of one
    length): the quick way for narrow tables written by the million (the name keys). On PostgreSQL the rows go
    as one binary COPY built by numpy: 2.7 million key rows took 4 s of Python one row at a time."""
    fields = [model._meta.get_field(name) for name in columns]
    wrong = [f.name for f in fields if f.get_internal_type() not in ("BigIntegerField", "BigAutoField")]
    if wrong or len(values) != len(columns):
        raise ValueError(f"insert_bigints needs one sequence per bigint column, not {wrong or len(values)}")
    count = len(values[0])
    if not count:
        return 0
    if connection.vendor != "postgresql":
        return _write(model, fields, zip(*values, strict=True))
    import numpy as np

    # binary COPY: a signature, flags and an extension length, then per row the number of fields and, per
    # field, its length and its big-endian value; a -1 ends the data
    layout = [("fields", ">i2")]
    for i in range(len(columns)):
        layout += [(f"length{i}", ">i4"), (f"value{i}", ">i8")]
    rows = np.empty(count, dtype=np.dtype(layout))
    rows["fields"] = len(columns)
    for i, column in enumerate(values):
        rows[f"length{i}"] = 8
        rows[f"value{i}"] = np.asarray(column, dtype=np.int64)
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {_table(model)} ({quoted}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8) + rows.tobytes() + b"\xff\xff")
    return count


def update(model, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, bump: str | None = None) -> None:
    """Set `columns` (attnames) of many records: each row is the new values in that order, then the id.
    `bump` names a counter column to increase by one (the version)."""
    fields = [model._meta.get_field(name) for name in columns]
    sets = [f"{connection.ops.quote_name(f.column)} = %s" for f in fields]
    if bump:
        column = connection.ops.quote_name(bump)
        sets.append(f"{column} = {column} + 1")
    sql = f"UPDATE {_table(model)} SET {', '.join(sets)} WHERE id = %s"
    prepared = [[*(f.get_db_prep_save(v, connection) for f, v in zip(fields, row[:-1], strict=True)), row[-1]]
                for row in rows]
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)


def int_array(values: Sequence[int]) -> str:
    """Whole numbers as a PostgreSQL array literal, to send with a `::bigint[]` cast: psycopg adapts a list
    one element at a time in Python (40,000 ids: 46 ms against 15 ms for this literal)."""
    return "{" + ",".join(map(str, values)) + "}"


class InArray(Lookup):
    """`field__in_array=[...]`: like `__in`, with the values sent as one parameter (an array on PostgreSQL,
    a JSON list on SQLite), so a lookup of thousands of keys is one short statement, not thousands of
    placeholders to send and plan."""

    lookup_name = "in_array"
    prepare_rhs = False
    can_use_none_as_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            # typed (psycopg may send whole numbers as numeric[], which no bigint index serves), and as a set
            # to join rather than `= ANY`: for thousands of values the planner may take the trigram index
            # for an ANY, which costs seconds; unnest makes it one index probe per value
            if values and all(type(v) is int for v in values):
                return f"{lhs} IN (SELECT unnest(%s::bigint[]))", [*lhs_params, int_array(values)]
            return f"{lhs} IN (SELECT unnest(%s::text[]))", [*lhs_params, values]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values)]


models.Field.register_lookup(InArray)
models.ForeignObject.register_lookup(InArray)
