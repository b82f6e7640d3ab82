"""Full duplicate scan of companies: the same INN, or a very similar name (legal form, quotes and
transliteration ignored, numbers kept) in the same city, with no conflicting INN.

Blocking uses the entry check's keys (INN, the name skeleton, its first and last five letters), so the
scan finds exactly what the entry check would have refused, and a block that grows past `max_block`
(a name everyone shares) is skipped rather than compared pair by pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz

from krug.quality.scan import Pair

NAME_SIMILARITY = 92
NAME_WEIGHT = 0.95


@dataclass(frozen=True)
class CompanyRow:
    id: int
    name: str
    inn: str
    kpp: str
    city: str


def company_rows() -> list[CompanyRow]:
    """Every live company as the scan needs it, in one streaming query."""
    from krug.clients.models import Company

    fields = ("id", "name", "inn", "kpp", "city")
    return [CompanyRow(*row) for row in Company.objects.alive().order_by().values_list(*fields)
            .iterator(chunk_size=20_000)]


def compare(a_core: str, a_inn: str, a_kpp: str, a_city: str, b_core: str, b_inn: str, b_kpp: str,
            b_city: str) -> tuple[float, list[str]]:
    """(score 0..100, reasons) for two companies; shared by the entry check and the full scan."""
    if a_inn and a_inn == b_inn and a_kpp and b_kpp and a_kpp != b_kpp:
        return 0.0, []  # one INN, another KPP: a branch of the same company, not a duplicate card
    reasons, score = [], 0.0
    if a_inn and a_inn == b_inn:
        reasons, score = ["inn"], 100.0
    inn_differs = a_inn and b_inn and a_inn != b_inn
    same_city = not a_city or not b_city or a_city.casefold() == b_city.casefold()
    if a_core and b_core and not inn_differs and same_city:
        similarity = fuzz.ratio(a_core, b_core)
        if similarity >= NAME_SIMILARITY:
            reasons.append("name")
            score = max(score, similarity * NAME_WEIGHT)
    return score, reasons


def find_company_duplicates(rows: list[CompanyRow], *, threshold: float = 85.0, max_block: int = 300,
                            progress: Callable[[int, int], None] | None = None) -> list[Pair]:
    from krug.quality.duplicates import company_keys, company_skeleton

    cores = [company_skeleton(r.name) for r in rows]
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        for key in company_keys(row.name, row.inn):
            blocks[key].append(index)
    seen: set[tuple[int, int]] = set()
    pairs: list[Pair] = []
    members = [m for m in blocks.values() if 1 < len(m) <= max_block]
    for done, block in enumerate(members, 1):
        for i, left in enumerate(block):
            a = rows[left]
            for right in block[i + 1:]:
                b = rows[right]
                key = (min(a.id, b.id), max(a.id, b.id))
                if key in seen:
                    continue
                seen.add(key)
                score, reasons = compare(cores[left], a.inn, a.kpp, a.city, cores[right], b.inn, b.kpp, b.city)
                if score >= threshold:
                    pairs.append(Pair(key[0], key[1], round(score, 1), reasons))
        if progress and (done % 2000 == 0 or done == len(members)):
            progress(done, len(members))
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))
