"""The lookups an import leans on: phones found only through the b-tree, name keys too common to ask about
again, and bulk work with rare garbage collection."""

import gc

import pytest
from django.db import connection, transaction

from krug.core import bulk
from krug.quality import duplicates
from tests import factories


def test_phone_owners_finds_numbers_with_their_validity_and_limit(org):
    a = factories.contact(org.manager, surname="Первов", phones=["+7 912 345-67-89"])
    b = factories.contact(org.manager, surname="Второв", phones=["+7 912 345-67-89", "+7 495 123-45-67"])
    found = duplicates.phone_owners(["+79123456789", "+74951234567", "+79990000000"])
    assert sorted(found) == sorted([("+79123456789", a.pk), ("+79123456789", b.pk), ("+74951234567", b.pk)])
    assert duplicates.phone_owners(["+79123456789"], valid=False) == []
    assert len(duplicates.phone_owners(["+79123456789", "+74951234567"], valid=True, limit=2)) == 2
    assert duplicates.phone_owners([]) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_phone_owners_cannot_be_served_by_the_trigram_index(org):
    """pg_trgm's index answers `=` too, and the planner probed it once per number (50 s a chunk). Even with the
    b-tree gone and sequential scans discouraged, the lookup must not use it."""
    from django.test.utils import CaptureQueriesContext

    factories.contact(org.manager, phones=["+7 912 345-67-89"])
    with CaptureQueriesContext(connection) as queries:
        duplicates.phone_owners(["+79123456789"], valid=True)
    sql = queries.captured_queries[-1]["sql"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP INDEX contactphone_number_idx")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN SELECT contact_id FROM clients_contactphone WHERE number = '+79123456789'")
        equality = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    assert "contactphone_number_trgm" in equality  # what `=` would have used
    assert "contactphone_number_trgm" not in plan


def test_a_name_key_is_settled_once_more_members_cannot_change_a_decision():
    company, city = "p:ivan|iv@cvektor", "p:ivan|iv@tмосква"
    exact = "n:ivan|ivanov@tмосква"
    assert not duplicates.settled(company, list(range(50)), 2)
    assert duplicates.settled(company, list(range(51)), 2)
    assert not duplicates.settled(city, list(range(20)), 2)
    assert duplicates.settled(city, list(range(21)), 2)
    # a whole-name key in a city also counts namesakes: with a generous rule it settles later, at most at the
    # 51 members the lookup reads
    assert not duplicates.settled(exact, list(range(30)), 30)
    assert duplicates.settled(exact, list(range(31)), 30)
    assert duplicates.settled(exact, list(range(51)), 500)
    assert duplicates.settled(city, list(range(21)), 500)  # the namesakes rule is only the exact key's


def test_an_import_does_not_ask_the_base_again_about_a_settled_key(org, tmp_path, monkeypatch):
    from krug.transfer import bulk_contacts, importer, services
    from krug.transfer.models import ImportJob

    path = tmp_path / "two.csv"
    path.write_text("ФИО;Город\nИванов Иван;Москва\nИванов Иван Петрович;Москва\n", encoding="utf-8")
    with path.open("rb") as stream:
        job = services.upload(org.admin, "contacts", path.name, stream)
    ctx = importer.Context(ImportJob.objects.get(pk=job.pk))
    ctx.name_index = False  # the database path (the one a base too large for the keys in memory takes)
    keys = duplicates.contact_keys("Иванов", "Иван", "", "Москва")
    crowded = next(k for k in keys if k.startswith("s:"))
    asked: list[set[str]] = []
    real = duplicates.key_members

    def key_members(wanted):
        wanted = set(wanted)
        asked.append(wanted)
        found = real(wanted)
        if crowded in wanted:
            found[crowded] = list(range(10_000, 10_021))  # 21 namesakes in Moscow: too common
        return found

    monkeypatch.setattr(duplicates, "key_members", key_members)
    bulk_contacts.import_chunk(ctx, [(2, ["Иванов Иван", "Москва"])])
    bulk_contacts.import_chunk(ctx, [(3, ["Иванов Иван Петрович", "Москва"])])
    assert crowded in asked[0] and crowded in ctx.common_keys
    assert crowded not in asked[1] and keys - {crowded} <= asked[1] | set(ctx.common_keys)


def test_bulk_work_collects_garbage_rarely_and_puts_the_collector_back():
    before = gc.get_threshold()
    with bulk.fewer_collections():
        assert gc.get_threshold()[0] > before[0]
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), bulk.fewer_collections():
        raise RuntimeError("a failed import")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_stored_form_of_a_name_key_never_changes():
    """Keys are stored hashed: a change of the hash would leave every stored key unfindable, so it is pinned,
    and the migration that hashed an existing base's keys hashes them the same way."""
    import importlib

    migration = importlib.import_module("krug.quality.migrations.0008_key_hashes")
    assert duplicates.key_hash("n:ivanov|ivan@tмосква") == -6659770819861709569
    assert duplicates.key_hash("i:7707083893") == 8866876292387307167
    for key in ("n:ivanov|ivan@tмосква", "p:ivan|iv@c#5vektor", "", "s:" + "я" * 200):
        assert migration._hash(key) == duplicates.key_hash(key)
        assert -2**63 <= duplicates.key_hash(key) < 2**63  # fits a bigint
    keys = ["n:ivanov|ivan@tмосква", "i:7707083893", "", "s:" + "я" * 200]
    assert duplicates.key_hashes(keys) == [duplicates.key_hash(key) for key in keys]  # the batch form agrees
    assert duplicates.key_hashes([]) == []


@pytest.mark.django_db
def test_name_key_members_come_back_per_key_with_at_most_the_limit(org):
    from krug.quality.models import ContactKey

    common, rare = "n:ivanov|ivan@tмосква", "n:rare|name@tтверь"
    limit = duplicates.COMPANY_BLOCK_LIMIT + 1
    ContactKey.objects.bulk_create(
        [ContactKey(hash=duplicates.key_hash(common), record_id=i) for i in range(1, limit + 10)]
        + [ContactKey(hash=duplicates.key_hash(rare), record_id=7)])
    members = duplicates.key_members([common, rare, "n:nobody|here@tомск"])
    assert set(members) == {common, rare}  # a key nobody holds is absent
    assert members[rare] == [7]
    assert len(members[common]) == limit and set(members[common]) <= set(range(1, limit + 10))


@pytest.mark.django_db
def test_whole_number_rows_are_stored_exactly_column_by_column(org):
    """The name keys go to PostgreSQL as one binary COPY: every 64-bit value, negative and extreme ones too,
    comes back as sent, in the right column; anything but bigint columns is refused, not garbled."""
    from krug.quality.models import CompanyKey, ContactKey

    hashes = [-2**63, -1, 0, 1, 2**63 - 1, duplicates.key_hash("n:ivanov|ivan@tмосква")]
    records = [7, 2**40, 3, 2**31, 11, 5]
    assert bulk.insert_bigints(ContactKey, ("hash", "record_id"), hashes, records) == len(hashes)
    assert bulk.insert_bigints(ContactKey, ("hash", "record_id"), [], []) == 0
    assert sorted(ContactKey.objects.values_list("hash", "record_id")) == sorted(zip(hashes, records, strict=True))
    assert not CompanyKey.objects.exists()
    from krug.clients.models import Tag

    with pytest.raises(ValueError, match="bigint"):
        bulk.insert_bigints(Tag, ("name",), ["x"])
    with pytest.raises(ValueError, match="bigint"):
        bulk.insert_bigints(ContactKey, ("hash", "record_id"), [1])
