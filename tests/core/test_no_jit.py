"""PostgreSQL runs Krug's queries without JIT: the permission filter's subqueries count in a plan's cost even when
a row's owner decides, and compiling such a plan took over a second of a request that needs 30 ms."""

from django.db import connection

from krug import settings


def test_postgresql_connections_have_no_jit(db):
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_options_the_url_gives_come_after_and_win(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://krug@db.example/krug?options=-c%20jit%3Don")
    assert settings._databases()["default"]["OPTIONS"]["options"] == "-c jit=off -c jit=on"
    monkeypatch.setenv("DATABASE_URL", "postgresql://krug@db.example/krug")
    assert settings._databases()["default"]["OPTIONS"]["options"] == "-c jit=off"
