"""The name keys an import holds in memory answer as the database path does (`duplicates.key_members` and
`name_candidates`), keep up with keys replaced and with other users' contacts, and give way to the database
when they would grow too large."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krug.clients import services as clients
from krug.clients.models import Contact
from krug.quality import duplicates
from krug.quality.models import ContactKey
from krug.transfer import bulk_contacts, importer, name_index, services
from krug.transfer.models import ImportJob

# few keys over many records, so some are held by more than the 20 or 50 a key may have and still count; at
# most 61 records, whose first and current keys stay under name_index.GATHER numbers a key
KEYS = [f"{kind}:{name}{context}" for kind in ("n", "p") for name in ("ivan", "petr")
        for context in ("@tмосква", "@cвектор")] + ["s:anov|iv@tказань"]
key_sets = st.frozensets(st.sampled_from(KEYS), max_size=4)


def _expected(holding: dict[int, frozenset[str]], probes: list[frozenset[str]]):
    members: dict[str, list[int]] = {}
    for record, keys in sorted(holding.items()):
        for key in keys:
            members.setdefault(key, []).append(record)
    ids: set[int] = set()
    for keys in probes:
        ids |= duplicates.name_candidates(keys, members)
    counts = [len(members.get(key, ())) for keys in probes for key in sorted(keys)]
    return ids, counts


def _ask(index: name_index.NameIndex, probes: list[frozenset[str]]):
    pairs = [(i, key) for i, keys in enumerate(probes) for key in sorted(keys)]
    ids, held = index.match([i for i, _k in pairs], [k for _i, k in pairs], [duplicates.key_hash(k) for _i, k in pairs])
    return ids, [int(n) for n in held]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.tuples(st.integers(0, 60), key_sets), max_size=40), min_size=1, max_size=6),
       probes=st.lists(key_sets, min_size=1, max_size=8), base=st.integers(1, 10**12))
def test_the_index_picks_the_candidates_the_database_path_picks(batches, probes, base, monkeypatch):
    monkeypatch.setattr(name_index, "MAX_RUN", 64)  # runs merge and stay apart within a few batches
    index = name_index.NameIndex(base)
    holding: dict[int, frozenset[str]] = {}
    for batch in batches:
        new = {base + n: keys for n, keys in batch}  # a record appears once a batch, with all its keys
        replacing = [r for r in new if r in holding]
        records = [r for r, keys in new.items() for _k in keys]
        hashes = [duplicates.key_hash(k) for keys in new.values() for k in keys]
        index.add(records, hashes, replacing=replacing)
        holding.update(new)
    assert _ask(index, probes) == _expected(holding, probes)
    wanted = {key for keys in probes for key in keys}
    assert index.records([duplicates.key_hash(k) for k in wanted]) == {
        record for record, keys in holding.items() if keys & wanted}


def test_the_index_gives_up_past_its_window_and_its_size(monkeypatch):
    index = name_index.NameIndex()
    index.add([5, 6], [1, 2])
    with pytest.raises(name_index.GaveUp):
        index.add([4], [3])  # before the first record it was given
    with pytest.raises(name_index.GaveUp):
        index.add([5 + (1 << name_index.SLOT_BITS)], [3])
    monkeypatch.setattr(name_index, "MAX_ENTRIES", 3)
    with pytest.raises(name_index.GaveUp):
        index.add([7, 8], [3, 4])


def test_a_full_64_bit_hash_and_a_large_id_come_back(monkeypatch):
    index = name_index.NameIndex()
    big = 9_000_000_000
    index.add([big, big + 1], [-(2**63), 2**63 - 1])
    assert index.match([0, 1], ["n:a@tx", "n:b@tx"], [-(2**63), 2**63 - 1])[0] == {big, big + 1}


def _job(org, tmp_path, text: str) -> importer.Context:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    with path.open("rb") as stream:
        job = services.upload(org.admin, "contacts", path.name, stream)
    return importer.Context(ImportJob.objects.get(pk=job.pk))


def test_an_import_holds_the_base_and_its_own_keys_in_memory(org, tmp_path):
    clients.create_contact(org.admin, {"surname": "Соколов", "first_name": "Пётр", "city": "Тверь"})
    ctx = _job(org, tmp_path, "ФИО;Город\nСоколов Пётр;Тверь\nВоронина Анна;Омск\nВоронина Анна;Омск\n")
    bulk_contacts.import_chunk(ctx, [(2, ["Соколов Пётр", "Тверь"]), (3, ["Воронина Анна", "Омск"])])
    assert ctx.name_index, "the keys stayed in memory"
    rows = bulk_contacts.import_chunk(ctx, [(4, ["Воронина Анна", "Омск"])])
    assert rows[0].outcome == bulk_contacts.MERGED  # the row before, known to the index before any lookup
    assert Contact.objects.count() == 2
    assert ctx.name_index.size == ContactKey.objects.count() > 0


def test_a_contact_someone_else_enters_during_the_import_is_matched_by_name(org, tmp_path):
    ctx = _job(org, tmp_path, "ФИО;Город\nЛебедев Олег;Псков\nЛебедев Олег;Псков\n")
    bulk_contacts.import_chunk(ctx, [(2, ["Кузнецова Мария", "Псков"])])
    assert ctx.name_index
    clients.create_contact(org.manager, {"surname": "Лебедев", "first_name": "Олег", "city": "Псков"})
    rows = bulk_contacts.import_chunk(ctx, [(3, ["Лебедев Олег", "Псков"])])
    assert rows[0].outcome in (bulk_contacts.MERGED, bulk_contacts.FAILED)  # merged, or refused if not his
    assert Contact.objects.filter(surname="Лебедев").count() == 1


def test_an_index_that_gives_up_mid_run_leaves_the_database_to_answer(org, tmp_path, monkeypatch):
    ctx = _job(org, tmp_path, "ФИО;Город\nЖуков Иван;Сочи\nЖуков Иван;Сочи\n")
    bulk_contacts.import_chunk(ctx, [(2, ["Жуков Иван", "Сочи"])])
    assert ctx.name_index
    monkeypatch.setattr(name_index, "MAX_ENTRIES", ctx.name_index.size)
    bulk_contacts.import_chunk(ctx, [(3, ["Орлов Ян", "Сочи"])])
    assert ctx.name_index is False
    rows = bulk_contacts.import_chunk(ctx, [(4, ["Жуков Иван", "Сочи"])])
    assert rows[0].outcome == bulk_contacts.MERGED
    assert Contact.objects.filter(surname="Жуков").count() == 1


def test_an_index_giving_up_between_chunks_waits_for_the_chunk_before_to_be_written(org, tmp_path, monkeypatch):
    """The chunk before told its keys to the index alone: a pipelined run's writer may not have committed
    them, so the database is asked only once it has (`settle`)."""
    ctx = _job(org, tmp_path, "ФИО;Город\nЖуков Иван;Сочи\nЖуков Иван;Сочи\n")
    first = bulk_contacts.plan_chunk(ctx, [(2, ["Жуков Иван", "Сочи"])])
    assert ctx.name_index and not first.recent.keys  # not kept for the database path while the index answers

    def give_up(*_args):
        raise name_index.GaveUp("full")

    monkeypatch.setattr(name_index.NameIndex, "catch_up", give_up)
    written = []
    second = bulk_contacts.plan_chunk(ctx, [(3, ["Жуков Иван", "Сочи"])], first.recent,
                                      settle=lambda: written.append(bulk_contacts.flush(first)))
    assert ctx.name_index is False and written
    assert second.rows[0].outcome == bulk_contacts.MERGED


def test_a_key_held_by_more_than_can_count_is_not_read_holder_by_holder(monkeypatch):
    monkeypatch.setattr(name_index, "GATHER", 60)
    index = name_index.NameIndex(1)
    crowded, rare = duplicates.key_hash("p:ivan@tмосква"), duplicates.key_hash("n:ivan|petr@tмосква")
    index.add(range(1, 62), [crowded] * 61)
    index.add([100, 101], [rare, rare])
    ids, held = index.match([0, 0], ["p:ivan@tмосква", "n:ivan|petr@tмосква"], [crowded, rare])
    assert ids == {100, 101} and held.tolist() == [61, 2]


def test_a_phone_someone_else_enters_during_the_import_is_matched(org, tmp_path):
    ctx = _job(org, tmp_path, "ФИО;Телефон\nКузнецова Мария;+7 916 000-00-01\n")
    bulk_contacts.import_chunk(ctx, [(2, ["Кузнецова Мария", "+7 916 000-00-01"])])
    assert ctx.phone_index
    clients.create_contact(org.manager, {"surname": "Белов", "first_name": "Ян", "phones": ["+7 916 000-00-02"]})
    rows = bulk_contacts.import_chunk(ctx, [(3, ["Белов Ян", "8 (916) 000-00-02"]),
                                            (4, ["Кузнецова Мария", "+79160000001"])])
    assert [r.outcome for r in rows][1] == bulk_contacts.MERGED  # the import's own earlier row, by phone
    assert rows[0].partners, "the other user's contact was a candidate, found by its phone"
    assert Contact.objects.filter(surname="Белов").count() == 1


def test_the_indexes_load_at_a_runs_first_chunk_even_without_a_new_row(org, tmp_path):
    """A chunk that only updates records (by the job's key) still writes keys: were the indexes loaded at the
    first chunk with new rows instead, a pipelined run would load them while that write is uncommitted."""
    clients.create_contact(org.admin, {"surname": "Титов", "first_name": "Лев", "city": "Тула",
                                       "emails": ["titov@example.ru"]})
    ctx = _job(org, tmp_path, "ФИО;Email;Город\nТитов Лев;titov@example.ru;Калуга\n")
    ImportJob.objects.filter(pk=ctx.job.pk).update(key="email")
    ctx.job.refresh_from_db()
    rows = bulk_contacts.import_chunk(ctx, [(2, ["Титов Лев", "titov@example.ru", "Калуга"])])
    assert rows[0].outcome == bulk_contacts.UPDATED
    assert ctx.name_index, "loaded at the first chunk"
    assert len(ctx.name_index.replaced) == 1  # the move to Kaluga replaced its keys in memory as well
