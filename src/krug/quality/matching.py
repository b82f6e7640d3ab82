"""Comparing people across scripts and spellings: the building blocks of duplicate detection.

Names are compared as *skeletons*: transliterated to Latin (anyascii), casefolded, with the spellings
that transliteration systems disagree on folded together (Юлия = Yulia = Iulia, Наталья = Natalia,
Щербаков = Shcherbakov = Sherbakov), so Cyrillic and Latin records of one person meet. Blocking keys are
short strings two records of one person are very likely to share even with a typo or the name order
swapped; only records sharing a key are scored, which keeps a check at a million contacts cheap.
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz import fuzz

# applied in order to the transliterated, casefolded text
_FOLDS = [
    (re.compile(r"[^a-z]+"), ""),
    (re.compile(r"shch|sch"), "sh"),
    (re.compile(r"iy|yi|ij|yj"), "i"),
    (re.compile(r"ya|ja|ia"), "ia"),
    (re.compile(r"yu|ju|iu"), "iu"),
    (re.compile(r"ye|je"), "e"),
    (re.compile(r"yo|jo"), "e"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"ks"), "x"),
    (re.compile(r"ts|tz"), "c"),
    (re.compile(r"zh"), "j"),
    (re.compile(r"w"), "v"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"y"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
]


@lru_cache(maxsize=100_000)  # names repeat: a base of a million people has far fewer distinct ones
def skeleton(text: str | None) -> str:
    """The comparable form of a name: Latin letters with transliteration variants folded together."""
    folded = anyascii(text or "").casefold()
    for pattern, replacement in _FOLDS:
        folded = pattern.sub(replacement, folded)
    return folded


def person_keys(surname: str | None, first_name: str | None) -> set[str]:
    """Blocking keys of a person: whole names (order-free), and prefix/suffix keys that survive one typo
    late or early in either name."""
    s, f = skeleton(surname), skeleton(first_name)
    if not s and not f:
        return set()
    if not s or not f:
        return {f"n:{s or f}"}
    a, b = sorted((s, f))
    return {f"n:{a}|{b}",
            f"p:{s[:4]}|{f[:2]}", f"p:{f[:4]}|{s[:2]}",
            f"s:{s[-4:]}|{f[-2:]}", f"s:{f[-4:]}|{s[-2:]}"}


def name_similarity(a: tuple[str, str, str], b: tuple[str, str, str]) -> float:
    """0..100: how alike two (surname, first name, patronymic) are, across scripts, typos and name order.
    Different patronymics, when both are known, cost a lot: they are different people."""
    sa, sb = (" ".join(skeleton(p) for p in person[:2] if p) for person in (a, b))
    if not sa or not sb:
        return 0.0
    score = fuzz.token_sort_ratio(sa, sb)
    pa, pb = skeleton(a[2]), skeleton(b[2])
    if pa and pb and fuzz.ratio(pa, pb) < 80:
        score -= 30
    return max(score, 0.0)
