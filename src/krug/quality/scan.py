"""The full duplicate scan: every contact against the ones it could be, with blocking.

Each record emits blocking keys (each phone, each e-mail, and its name keys combined with its company or
its city); records sharing a key form a block and only pairs inside a block are scored. Keys are hashed
into a numpy array and sorted, so a million records cost seconds and a few hundred megabytes. A shared
phone or e-mail counts only when the names do not clearly differ (switchboards and info@ addresses are
shared by colleagues); a similar name counts only with the same company or city. An administrator tunes
the rules (`MatchRules`): which evidence is used, its weight, and the threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from krug.quality.duplicates import contact_key_kinds
from krug.quality.matching import skeleton


class ContactRow(NamedTuple):
    """What the scan needs of a contact: normalised phones (E.164) and casefolded e-mails."""

    id: int
    surname: str
    first_name: str
    patronymic: str
    company: str
    city: str
    phones: tuple[str, ...]
    emails: tuple[str, ...]


@dataclass
class MatchRules:
    """The administrator's knobs. Weights are the score (0–100) a piece of evidence gives at best."""

    threshold: float = 85.0
    use_phone: bool = True
    use_email: bool = True
    use_name: bool = True
    weight_phone: float = 100.0
    weight_email: float = 100.0
    weight_name_company: float = 97.0
    weight_name_city: float = 92.0
    name_similarity: float = 88.0  # how alike names must be to count as one person's
    shared_contact_min_name: float = 80.0  # below this name similarity a shared phone/e-mail is a colleague's
    patronymic_penalty: float = 30.0
    max_block: int = 50  # a key shared by more records than this is too common to compare pairwise
    max_namesakes: int = 2  # a name+city match needs the name to be this rare in the city

    @classmethod
    def from_dict(cls, data: dict | None) -> MatchRules:
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Pair:
    a: int
    b: int
    score: float
    reasons: list[str] = field(default_factory=list)


@lru_cache(maxsize=500_000)
def _name(surname: str, first_name: str) -> str:
    return " ".join(skeleton(p) for p in (surname, first_name) if p)


@lru_cache(maxsize=100_000)
def _patronymic(text: str) -> str:
    return skeleton(text)


def forget_names() -> None:
    """Empty the name caches (a long-running import calls this between chunks to keep its memory flat)."""
    for cached in (_name, _patronymic):
        cached.cache_clear()


PHONE, EMAIL, NAME_COMPANY, NAME_CITY = range(4)
REASONS = {PHONE: ["phone"], EMAIL: ["email"], NAME_COMPANY: ["name", "company"], NAME_CITY: ["name", "city"]}


def _block_keys(row: ContactRow, rules: MatchRules,
                name_keys: tuple[list[str], list[str]] | None = None) -> list[tuple[int, list[str]]]:
    """The row's blocking keys, kind by kind (a list per kind: a million rows have some twenty million keys,
    and a generator of single keys cost a third of finding the candidate pairs). Its name keys are the
    stored ones (`duplicates.contact_key_kinds`); `name_keys` are they when the caller has them already."""
    out = []
    if rules.use_phone and row.phones:
        out.append((PHONE, ["p" + p for p in row.phones]))
    if rules.use_email and row.emails:
        out.append((EMAIL, ["e" + e for e in row.emails]))
    if rules.use_name:
        if name_keys is None:
            name_keys = contact_key_kinds(row.surname, row.first_name, row.company, row.city)
        if name_keys[0]:
            out.append((NAME_COMPANY, name_keys[0]))
        if name_keys[1]:
            out.append((NAME_CITY, name_keys[1]))
    return out


def namesakes(rows: Sequence[ContactRow]) -> np.ndarray:
    """Per row, how many rows have exactly its name in its city (itself included): a name shared by several
    people of a city says little about who is who, as term-frequency weighting in record linkage has it."""
    hashes = np.asarray([hash((_name(*sorted((r.surname, r.first_name))), r.city.casefold())) for r in rows],
                        dtype=np.int64)
    _unique, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    return counts[inverse]


def candidate_pairs(rows: Sequence[ContactRow], rules: MatchRules, probes: int | None = None,
                    probe_keys: Sequence[tuple[list[str], list[str]]] | None = None) -> dict[int, np.ndarray]:
    """Per kind of evidence, the unique (i, j) index pairs (i < j) of rows sharing such a key in a block of
    acceptable size; with `probes`, only the pairs involving one of the first `probes` rows, whose name keys
    `probe_keys` may give (`duplicates.contact_key_kinds` of each)."""
    hashes: list[int] = []
    owners: list[int] = []
    kinds: list[int] = []
    for index, row in enumerate(rows[:probes]):
        for kind, keys in _block_keys(row, rules, probe_keys[index] if probe_keys is not None else None):
            hashes += map(hash, keys)
            owners += [index] * len(keys)
            kinds += [kind] * len(keys)
    if probes is not None:  # the other rows matter only through the keys they share with a probe
        wanted = set(hashes)
        for index, row in enumerate(rows[probes:], probes):
            for kind, keys in _block_keys(row, rules):
                shared = [hashed for hashed in map(hash, keys) if hashed in wanted]
                if shared:
                    hashes += shared
                    owners += [index] * len(shared)
                    kinds += [kind] * len(shared)
    result: dict[int, np.ndarray] = {}
    if not hashes:
        return result
    keys = np.asarray(hashes, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    members = np.asarray(owners, dtype=np.int64)[order]
    key_kinds = np.asarray(kinds, dtype=np.int8)[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    for kind in REASONS:
        chunks = []
        for size in range(2, rules.max_block + 1):
            block_starts = starts[(sizes == size) & (key_kinds[starts] == kind)]
            if not len(block_starts):
                continue
            blocks = members[block_starts[:, None] + np.arange(size)]
            i, j = np.triu_indices(size, k=1)
            chunks.append(np.stack([blocks[:, i].ravel(), blocks[:, j].ravel()], axis=1))
        if chunks:
            pairs = np.concatenate(chunks)
            pairs.sort(axis=1)
            pairs = pairs[pairs[:, 0] != pairs[:, 1]]
            if probes is not None:
                pairs = pairs[pairs[:, 0] < probes]
            if len(pairs):
                result[kind] = np.unique(pairs, axis=0)
    return result


def _similarities(rows: Sequence[ContactRow], pairs: np.ndarray, rules: MatchRules,
                  loose: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(name similarity 0..100 with the patronymic penalty, whether either name is missing) per pair, computed
    in rapidfuzz's C code over both cores. `loose` lets a name that lacks a part match the full one
    (`Кузнецов` and `Кузнецов Павел`): enough to tell a colleague sharing a phone from the same person."""
    names = [_name(r.surname, r.first_name) for r in rows]
    left, right = pairs[:, 0].tolist(), pairs[:, 1].tolist()
    a, b = [names[i] for i in left], [names[j] for j in right]
    scorer = fuzz.token_set_ratio if loose else fuzz.token_sort_ratio
    similarity = process.cpdist(a, b, scorer=scorer, workers=-1).astype(np.float32)
    missing = np.array([not x or not y for x, y in zip(a, b, strict=True)], dtype=bool)
    pa = [_patronymic(rows[i].patronymic) for i in left]
    pb = [_patronymic(rows[j].patronymic) for j in right]
    both = np.array([bool(x and y) for x, y in zip(pa, pb, strict=True)], dtype=bool)
    if both.any():
        differ = process.cpdist(pa, pb, scorer=fuzz.ratio, workers=-1) < 80
        similarity = np.where(both & differ, np.maximum(similarity - rules.patronymic_penalty, 0), similarity)
    return similarity, missing


def _conflicting(a: ContactRow, b: ContactRow) -> bool:
    """Two records whose phones and e-mails are all different are two people, however alike the names."""
    return bool(a.phones and b.phones and not set(a.phones) & set(b.phones)
                and a.emails and b.emails and not set(a.emails) & set(b.emails))


def _accepted(rows, kind: int, pairs: np.ndarray, similarity: np.ndarray, missing: np.ndarray,
              rules: MatchRules, common: np.ndarray) -> Iterable[tuple[int, int, float]]:
    if kind in (PHONE, EMAIL):
        weight = rules.weight_phone if kind == PHONE else rules.weight_email
        keep = missing | (similarity >= rules.shared_contact_min_name)
        for i, j in pairs[keep].tolist():
            yield i, j, weight
        return
    weight = rules.weight_name_company if kind == NAME_COMPANY else rules.weight_name_city
    keep = np.flatnonzero(similarity >= rules.name_similarity)
    for n in keep.tolist():
        i, j = int(pairs[n, 0]), int(pairs[n, 1])
        a, b = rows[i], rows[j]
        if kind == NAME_CITY and ((a.company and b.company) or common[i] or common[j]):
            continue  # namesakes at two companies, or a name many people of the city share: not enough
        if not _conflicting(a, b):
            yield i, j, float(similarity[n]) * weight / 100


def find_duplicates(rows: Sequence[ContactRow], rules: MatchRules | None = None,
                    progress: Callable[[int, int], None] | None = None, common: np.ndarray | None = None,
                    probes: int | None = None,
                    probe_keys: Sequence[tuple[list[str], list[str]]] | None = None) -> list[Pair]:
    """Every pair of rows that is probably one person, with its score and reasons. `common` marks rows whose
    name is too common in their city to match on name and city (counted over `rows` when not given).
    `probes`: only pairs involving one of the first `probes` rows are wanted (the rest are their candidates,
    which need not be compared with each other), and `probe_keys` their name keys when the caller has them."""
    rules = rules or MatchRules()
    candidates = candidate_pairs(rows, rules, probes, probe_keys)
    if common is None:
        common = namesakes(rows) > rules.max_namesakes if NAME_CITY in candidates else np.zeros(len(rows), bool)
    found: dict[tuple[int, int], Pair] = {}
    total = len(candidates)
    for step, (kind, pairs) in enumerate(candidates.items()):
        similarity, missing = _similarities(rows, pairs, rules, loose=kind in (PHONE, EMAIL))
        for i, j, score in _accepted(rows, kind, pairs, similarity, missing, rules, common):
            if score < rules.threshold:
                continue
            pair = found.get((i, j))
            if pair is None:
                found[(i, j)] = Pair(rows[i].id, rows[j].id, round(score, 1), list(REASONS[kind]))
            else:
                pair.score = max(pair.score, round(score, 1))
                pair.reasons += [r for r in REASONS[kind] if r not in pair.reasons]
        if progress:
            progress(step + 1, total)
    return list(found.values())


def clusters(pairs: Iterable[Pair]) -> list[set[int]]:
    """Groups of ids joined by matched pairs (transitively): each group is one person."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        ra, rb = root(pair.a), root(pair.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for x in parent:
        groups.setdefault(root(x), set()).add(x)
    return [g for g in groups.values() if len(g) > 1]
