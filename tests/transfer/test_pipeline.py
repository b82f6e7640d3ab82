"""A pipelined import (PostgreSQL: the next chunk is read and decided while the writer commits the one before)
gives what the per-row path gives, even when every chunk is read before the one before it is committed, and
stays exactly once when the writer dies. These tests commit for real: the writer has its own connection."""

from collections import defaultdict, deque
from pathlib import Path

import pytest
from bench.people import generate
from django.db import connection

from krug.clients.models import Contact
from krug.transfer import bulk_contacts, importer, services
from krug.transfer.models import ImportJob
from tests.transfer.test_bulk import _csv, _outcome, _state

pytestmark = pytest.mark.django_db(transaction=True)


def _next_chunk_copies(people, chunk: int):
    """Originals in order, each planted copy about a chunk after its original: the copy is read while the
    original's chunk may still be being written."""
    copies = defaultdict(list)
    for p in people:
        if p.corruption:
            copies[p.cluster].append(p)
    out, later = [], deque()
    for p in (p for p in people if not p.corruption):
        out.append(p)
        later.extend((len(out) + chunk + 3, c) for c in copies.pop(p.cluster, ()))
        while later and later[0][0] <= len(out):
            out.append(later.popleft()[1])
    return out + [c for _at, c in later]


def _import(org, path: Path, chunk: int, bulk: bool, key: str = "", by: str = "admin") -> ImportJob:
    with path.open("rb") as stream:
        job = services.upload(getattr(org, by), "contacts", path.name, stream)
    services.configure(getattr(org, by), job, key=key)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    return importer.run(job.pk, chunk_size=chunk, bulk=bulk)


@pytest.fixture
def slow_writer(monkeypatch):
    """The writer takes its time, so each chunk is decided before the one before it is committed; counts the
    chunks the writer thread wrote."""
    import threading
    import time

    real, written = bulk_contacts.flush, []

    def flush(plan):
        time.sleep(0.05)
        written.append(threading.current_thread().name)
        real(plan)

    monkeypatch.setattr(bulk_contacts, "flush", flush)
    return written


def _wipe():
    from krug.clients.models import Company
    from krug.quality.models import CompanyKey, ContactKey

    Contact.objects.all().delete()
    Company.objects.all().delete()
    ContactKey.objects.all().delete()
    CompanyKey.objects.all().delete()


@pytest.mark.parametrize("by", ["admin", "manager"])  # may change everything; must ask about each record
def test_a_pipelined_run_gives_what_the_per_row_path_gives(org, tmp_path, slow_writer, by):
    people = _next_chunk_copies(generate(240, seed=11), 25)
    path = _csv(tmp_path, people, "all.csv")
    results = {}
    for bulk in (False, True):
        _wipe()
        jobs = [_import(org, path, 25, bulk, by=by), _import(org, path, 25, bulk, key="email", by=by)]
        results[bulk] = ([_outcome(j) for j in jobs], _state())
    per_row, pipelined = results[False], results[True]
    assert pipelined == per_row
    created, _updated, merged, _skipped, failed = pipelined[0][0]
    assert merged > 10 and created > 0 and failed == 0
    assert pipelined[0][1][0] == 0  # the second run, by e-mail, creates nobody again
    on_writer = [name for name in slow_writer if name.startswith("krug-import-writer")]
    if connection.vendor == "postgresql":
        assert len(on_writer) == len(slow_writer) >= 20  # every chunk of both runs went through the writer
    else:
        assert not on_writer  # SQLite: one connection, so the chunks are written in turn


def test_a_writer_killed_mid_chunk_resumes_and_writes_each_good_row_exactly_once(org, tmp_path, monkeypatch):
    lines = [f"Человеков{n};+7 912 000-{n // 100:02d}-{n % 100:02d};person{n}@example.ru;;;;;" for n in range(11)]
    lines[7] = "Плохой;1;;;;;;"
    path = tmp_path / "base.csv"
    path.write_text("ФИО;Телефон;E-mail;Компания;ИНН;Должность;Город;Теги\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")
    real, calls = bulk_contacts.write_history, {"n": 0}

    def dies(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the third chunk's transaction dies after its contacts are inserted
        return real(*args)

    monkeypatch.setattr(bulk_contacts, "write_history", dies)
    with pytest.raises(KeyboardInterrupt):
        _import(org, path, 4, True)
    job = ImportJob.objects.get()
    assert job.done_rows == 8 and job.status == "running"
    assert Contact.objects.count() == 7
    monkeypatch.setattr(bulk_contacts, "write_history", real)
    job = importer.run(job.pk, chunk_size=4)
    assert (job.status, job.done_rows, job.created, job.failed) == ("done", 11, 10, 1)
    assert sorted(Contact.objects.values_list("surname", flat=True)) == sorted(
        f"Человеков{n}" for n in range(11) if n != 7)
