"""The contacts' name keys as an import consults them: held in memory, so a chunk's 45,000 lookups and the
choice of candidates are a few numpy operations instead of a database round trip and a Python loop over every
holder of every key (at 300,000 rows: 8 s of the database's time, 5 of Python's, and 10 s the reading
thread waited). A second index holds the contacts' valid phones the same way, a number's hash as its key
(`load_phones`), for the candidates that share a phone.

The database's key table (`quality.ContactKey`) stays the truth and is still written chunk by chunk, so the
entry check of everyone else sees the import's contacts as it goes; this index only answers the import's own
questions. It starts as a copy of that table, learns the keys each chunk writes before the chunk is even
committed (as `bulk_contacts.Recent` does for the database path), and picks up, between chunks, the contacts
other users created or changed (by their `updated_at`). When it would grow past `MAX_ENTRIES`, or meets a
record it cannot pack, it gives up and the import asks the database again: it is an accelerator, never needed
for a correct answer.

Each key a record holds is one unsigned 64-bit number: the top 40 bits of the key's stored hash, then the
record as 24 bits counted from `offset`. Sorted, the holders of a key are one run of numbers, found by two
binary searches. 40 bits tell a million-contact base's five million keys apart but for some ten pairs, which
then only add a candidate that the matcher scores (the stored 64-bit hashes have the same property). The numbers
live in a few sorted runs that merge as they grow (each at most `MAX_RUN`), so adding a chunk never re-sorts
the whole. A record whose keys are replaced (renamed, moved to another company or city) is listed, and its
keys now are kept apart, in one sorted array; its first numbers stay in the runs and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from itertools import islice

import numpy as np
from django.db.models import Q
from django.utils import timezone

from krug.quality import duplicates

SLOT_BITS = 24
SLOT_MASK = np.uint64((1 << SLOT_BITS) - 1)
_SHIFT = np.uint64(SLOT_BITS)
#: numbers held at most (8 bytes each): 128 MB, some 1.4 million contacts' keys
MAX_ENTRIES = 16_000_000
#: a run is not merged past this many numbers, so a merge never copies more than 16 MB
MAX_RUN = 2_000_000
#: a key with more numbers than this is too common to read its holders one by one (see `holders`)
GATHER = 128
#: another user's change is looked for this long before the last look (a transaction commits after it stamps)
CATCH_UP_MARGIN = timedelta(seconds=30)


class GaveUp(Exception):
    """The index cannot hold what it was given; the import asks the database instead."""


def _top(hashes: Sequence[int]) -> np.ndarray:
    """The top 40 bits of each stored (signed 64-bit) key hash."""
    return np.asarray(hashes, dtype=np.int64).view(np.uint64) >> _SHIFT


def _spread(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions starts[i], starts[i] + 1, … (counts[i] of them) for every i, one after the other."""
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array: numpy 2's `np.unique` hashes integers first, and took
    8 to 12 times as long as a sort for 50,000 to 1,000,000 of them (120 ms against 20 for 300,000)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two sorted runs as one, in linear time (b's numbers placed among a's, not a new sort)."""
    at = np.searchsorted(a, b) + np.arange(len(b))
    out = np.empty(len(a) + len(b), dtype=np.uint64)
    keep = np.ones(len(out), dtype=bool)
    keep[at] = False
    out[at] = b
    out[keep] = a
    return out


class NameIndex:
    def __init__(self, offset: int | None = None, *, gather: int | None = None) -> None:
        """`offset`: the smallest record id to be held (else the first one given); `gather`: see `holders`."""
        self.gather = GATHER if gather is None else gather
        self.runs: list[np.ndarray] = []
        self.offset = offset
        self.size = 0
        self.replaced = np.empty(0, dtype=np.uint64)  # slots of records whose keys were replaced, sorted
        self.current = np.empty(0, dtype=np.uint64)  # those records' numbers now, sorted

    # ---- what goes in ----------------------------------------------------------------------------------

    def _pack(self, records: Sequence[int], hashes: Sequence[int]) -> np.ndarray:
        ids = np.asarray(records, dtype=np.int64)
        if self.offset is None:
            self.offset = int(ids.min())
        slots = ids - self.offset
        if slots.min() < 0 or slots.max() >= int(SLOT_MASK):
            raise GaveUp(f"record outside the index's window of {1 << SLOT_BITS:,} ids")
        return (_top(hashes) << _SHIFT) | slots.astype(np.uint64)

    def add(self, records: Sequence[int], hashes: Sequence[int], *, replacing: Sequence[int] = ()) -> None:
        """Record that `records[i]` holds the key hashed `hashes[i]`; the records in `replacing` hold
        exactly these keys from now on (what they held before no longer counts)."""
        numbers = np.sort(self._pack(records, hashes)) if len(records) else np.empty(0, dtype=np.uint64)
        if len(replacing):
            if self.offset is None:
                self.offset = min(replacing)
            slots = _distinct(self._pack(replacing, [0] * len(replacing)) & SLOT_MASK)
            theirs = np.isin(numbers & SLOT_MASK, slots)
            kept = self.current[~np.isin(self.current & SLOT_MASK, slots)]
            self.current = _merge(kept, _distinct(numbers[theirs]))
            self.replaced = _distinct(np.concatenate([self.replaced, slots]))
            numbers = numbers[~theirs]
        if not len(numbers):
            return
        if self.size + len(numbers) > MAX_ENTRIES:
            raise GaveUp(f"more than {MAX_ENTRIES:,} name keys")
        self.runs.append(numbers)
        self.size += len(numbers)
        while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]) \
                and len(self.runs[-2]) + len(self.runs[-1]) <= MAX_RUN:
            last = self.runs.pop()
            self.runs[-1] = _merge(self.runs[-1], last)

    # ---- what comes out --------------------------------------------------------------------------------

    def holders(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the sorted, distinct 40-bit keys `hashes`: (first, count) of each key's holders in the returned
        slots, which are grouped by key in the keys' order, each holder once. A key with more than `GATHER`
        numbers is not read holder by holder: its count is that number, more than any key may have to count.
        It would take some eighty of its holders renamed away for it to be fewer; the database path takes
        the same liberty: a key it found too common stays so for the rest of a run (`duplicates.settled`)."""
        low, high = hashes << _SHIFT, (hashes << _SHIFT) | SLOT_MASK
        runs = [*self.runs, self.current]  # the first keys of each record, then the replaced records' keys now
        spans = [(np.searchsorted(run, low), np.searchsorted(run, high, side="right")) for run in runs]
        raw = sum((ends - starts for starts, ends in spans), np.zeros(len(hashes), dtype=np.int64))
        read = raw <= self.gather
        found = []
        for n, (run, (starts, ends)) in enumerate(zip(runs, spans, strict=True)):
            counts = np.where(read, ends - starts, 0)
            if not counts.any():
                continue
            numbers = run[_spread(starts, counts)]
            if n < len(self.runs) and len(self.replaced):  # a replaced record's first keys no longer count
                numbers = numbers[~np.isin(numbers & SLOT_MASK, self.replaced)]
            found.append(numbers)
        numbers = _distinct(np.concatenate(found)) if found else np.empty(0, dtype=np.uint64)
        counts = np.bincount(np.searchsorted(hashes, numbers >> _SHIFT), minlength=len(hashes))
        firsts = np.cumsum(counts) - counts
        return firsts, np.where(read, counts, raw), (numbers & SLOT_MASK).astype(np.int64)

    def match(self, probes: Sequence[int], keys: Sequence[str], hashes: Sequence[int]) -> tuple[set[int], np.ndarray]:
        """For (probe, key, its hash) triples: the records the probes should be compared with, as
        `duplicates.name_candidates` picks them (sharing a whole-name or company key, or two keys; a key held
        by more than `duplicates.block_limit` counts for nothing), and how many records hold each key."""
        if not len(hashes):
            return set(), np.zeros(0, dtype=np.int64)
        at_company = np.fromiter(("@c" in key for key in keys), dtype=bool, count=len(keys))
        strong = at_company | np.fromiter((key.startswith("n:") for key in keys), dtype=bool, count=len(keys))
        limits = np.where(at_company, duplicates.COMPANY_BLOCK_LIMIT, duplicates.CITY_BLOCK_LIMIT)
        tops, which = np.unique(_top(hashes), return_inverse=True)
        firsts, counts, slots = self.holders(tops)
        held = counts[which]
        usable = held <= limits
        take = np.where(usable, held, 0)
        if not take.any():
            return set(), held
        member = slots[_spread(firsts[which], take)]
        probe = np.repeat(np.asarray(probes, dtype=np.int64), take)
        pair = (probe << SLOT_BITS) | member
        codes, shared = np.unique(pair, return_counts=True)
        chosen = codes[shared >= 2]
        strong_pairs = pair[np.repeat(strong, take)]
        picked = _distinct(np.concatenate([chosen, strong_pairs]) & int(SLOT_MASK))
        return set((picked + self.offset).tolist()), held

    def count(self, hashes: Sequence[int]) -> np.ndarray:
        """How many records hold each key (over `GATHER`: at least that many, see `holders`)."""
        if not len(hashes):
            return np.zeros(0, dtype=np.int64)
        tops, which = np.unique(_top(hashes), return_inverse=True)
        return self.holders(tops)[1][which]

    def records(self, hashes: Sequence[int]) -> set[int]:
        """Every record holding one of the keys (an index made with a `gather` no key reaches)."""
        if not len(hashes):
            return set()
        _firsts, _counts, slots = self.holders(_distinct(_top(hashes)))
        return set((_distinct(slots) + self.offset).tolist())

    # ---- keeping up with the base ----------------------------------------------------------------------

    def catch_up(self, ids: list[int], held: Callable[[list[int]], list[tuple[int, int]]]) -> None:
        """Take in what the contacts `ids` (changed by someone else, see `Watch`) hold now: `held` gives their
        (record, key hash) pairs. The index then answers as the database would."""
        if ids:
            pairs = held(ids)
            self.add([r for r, _h in pairs], [h for _r, h in pairs], replacing=ids)


class Watch:
    """The contacts someone other than the import's user created or changed since the last look."""

    def __init__(self) -> None:
        self.since = timezone.now()

    def changed(self, by) -> list[int]:
        from krug.clients.models import Contact

        now = timezone.now()
        # "someone else" spelt as ranges: PostgreSQL then reads the user's index for them, which finds none
        # during an import into a quiet base, instead of the import's own 30 seconds of rows one by one
        # (26 ms a chunk at a million contacts); when others have changed many, it scans the time as before
        others = Q(updated_by_id__lt=by.pk) | Q(updated_by_id__gt=by.pk) | Q(updated_by_id__isnull=True)
        ids = sorted(Contact.objects.filter(others, updated_at__gte=self.since - CATCH_UP_MARGIN)
                     .values_list("pk", flat=True))
        self.since = now
        return ids


def name_keys_of(ids: list[int]) -> list[tuple[int, int]]:
    from krug.quality.models import ContactKey

    return list(ContactKey.objects.filter(record_id__in_array=ids).values_list("record_id", "hash"))


def phones_of(ids: list[int]) -> list[tuple[int, int]]:
    """(contact, hash of the number) of the contacts' valid phones: those the duplicate check compares."""
    from krug.clients.models import ContactPhone

    return [(pk, duplicates.key_hash(number)) for pk, number in
            ContactPhone.objects.filter(contact_id__in_array=ids, valid=True).values_list("contact_id", "number")]


def _load(rows, hashed: bool, gather: int | None) -> NameIndex:
    """An index of `rows` ((record, key hash or value to hash) pairs of a queryset in record order), read a
    batch at a time (a server-side cursor on PostgreSQL: a client-side one held all 2.5 million key rows of a
    300,000-contact base at once, some 100 MB)."""
    from krug.clients.models import Contact

    if rows.count() > MAX_ENTRIES // 2:
        raise GaveUp(f"the base holds too many rows in {rows.model._meta.db_table}")
    # counted from the first contact, with or without keys: any of them may gain keys in a merge
    first = Contact.objects.order_by("pk").values_list("pk", flat=True).first()
    index = NameIndex(first, gather=gather)
    stream = rows.iterator(chunk_size=50_000)
    while batch := list(islice(stream, 200_000)):
        records, values = zip(*batch, strict=True)
        index.add(records, [duplicates.key_hash(v) for v in values] if hashed else values)
    return index


def load() -> NameIndex:
    """The contacts' name keys as the database's key table holds them now; GaveUp when that is more than the
    index may hold."""
    from krug.quality.models import ContactKey

    return _load(ContactKey.objects.order_by("record_id").values_list("record_id", "hash"), False, None)


def load_phones() -> NameIndex:
    """The contacts' valid phones, by the hash of the number, every holder of a number counted."""
    from krug.clients.models import ContactPhone

    return _load(ContactPhone.objects.filter(valid=True).order_by("contact_id").values_list("contact_id", "number"),
                 True, MAX_ENTRIES)
