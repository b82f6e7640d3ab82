"""Job titles to one standard title through an editable synonym dictionary (Russian and English defaults),
tolerant of small typos ("CEOn") by fuzzy matching against the known variants."""

from __future__ import annotations

import re
import time

from rapidfuzz import fuzz, process

from krug.quality.normalize import tidy

#: standard title -> the ways people write it; loaded into TitleSynonym by a migration, then edited by admins
DEFAULTS: dict[str, list[str]] = {
    "Генеральный директор": [
        "Генеральный директор", "Ген. директор", "Гендиректор", "Генеральный", "ГД",
        "Главный исполнительный директор", "Исполнительный директор", "Директор", "Руководитель организации",
        "CEO", "Chief Executive Officer", "Founder & CEO", "Founder and CEO", "Co-founder & CEO",
        "General Director", "General Manager", "Managing Director", "Executive Director", "Director"],
    "Коммерческий директор": ["Коммерческий директор", "Комдир", "Директор по продажам", "CCO",
                              "Chief Commercial Officer", "Commercial Director", "Sales Director", "Head of Sales",
                              "VP Sales", "VP of Sales"],
    "Финансовый директор": ["Финансовый директор", "Финдир", "CFO", "Chief Financial Officer", "Finance Director"],
    "Технический директор": ["Технический директор", "Техдир", "CTO", "Chief Technology Officer",
                             "Chief Technical Officer", "Technical Director"],
    "Операционный директор": ["Операционный директор", "COO", "Chief Operating Officer", "Operations Director"],
    "Директор по маркетингу": ["Директор по маркетингу", "Маркетинг-директор", "CMO", "Chief Marketing Officer",
                               "Marketing Director", "Head of Marketing"],
    "ИТ-директор": ["ИТ-директор", "IT-директор", "Директор по ИТ", "CIO", "Chief Information Officer",
                    "IT Director", "Head of IT"],
    "Главный бухгалтер": ["Главный бухгалтер", "Главбух", "Гл. бухгалтер", "Chief Accountant"],
    "Бухгалтер": ["Бухгалтер", "Accountant"],
    "Юрист": ["Юрист", "Юрисконсульт", "Lawyer", "Legal Counsel", "General Counsel"],
    "Руководитель отдела продаж": ["Руководитель отдела продаж", "РОП", "Начальник отдела продаж",
                                   "Sales Manager Head", "Head of Sales Department"],
    "Менеджер по продажам": ["Менеджер по продажам", "Sales Manager", "Account Manager", "Sales Representative",
                             "Менеджер по работе с клиентами"],
    "Менеджер по закупкам": ["Менеджер по закупкам", "Закупщик", "Специалист по закупкам", "Buyer",
                             "Purchasing Manager", "Procurement Manager"],
    "Начальник отдела снабжения": ["Начальник отдела снабжения", "Руководитель отдела закупок",
                                   "Head of Procurement", "Procurement Director"],
    "Офис-менеджер": ["Офис-менеджер", "Office Manager"],
    "Секретарь": ["Секретарь", "Помощник руководителя", "Ассистент руководителя", "Secretary",
                  "Personal Assistant", "Executive Assistant"],
    "Главный инженер": ["Главный инженер", "Chief Engineer"],
    "Инженер": ["Инженер", "Engineer"],
    "Руководитель отдела кадров": ["Руководитель отдела кадров", "HR-директор", "Директор по персоналу",
                                   "HR Director", "Head of HR", "CHRO"],
    "Собственник": ["Собственник", "Владелец", "Учредитель", "Owner", "Founder", "Co-founder"],
    "Индивидуальный предприниматель": ["Индивидуальный предприниматель", "ИП"],
}

#: how close (0–100, rapidfuzz ratio) a typed title must be to a known variant to count as it
FUZZY_CUTOFF = 85
#: how long one process trusts its copy of the dictionary before re-reading it
CACHE_SECONDS = 60

_NOT_WORD = re.compile(r"[^\w&+]+")
_cache: tuple[float, dict[str, str]] | None = None


def title_key(text: str | None) -> str:
    """Casefolded words of a title, punctuation out, ё as е, `and` as `&`: the form variants are compared in."""
    words = _NOT_WORD.sub(" ", tidy(text).casefold().replace("ё", "е")).split()
    return " ".join("&" if w in ("and", "и") else w for w in words)


def _dictionary() -> dict[str, str]:
    global _cache
    if _cache is None or time.monotonic() - _cache[0] > CACHE_SECONDS:
        from krug.quality.models import TitleSynonym

        _cache = (time.monotonic(), dict(TitleSynonym.objects.values_list("key", "title")))
    return _cache[1]


def forget_dictionary() -> None:
    """Drop this process's copy after an edit, so the next write sees it."""
    global _cache
    _cache = None


def standard_title(position: str | None) -> str:
    """The standard title for what was typed, or "" when nothing in the dictionary is close enough."""
    key = title_key(position)
    if not key:
        return ""
    dictionary = _dictionary()
    if key in dictionary:
        return dictionary[key]
    found = process.extractOne(key, dictionary.keys(), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    return dictionary[found[0]] if found else ""


def default_rows() -> list[tuple[str, str, str]]:
    """(variant, key, title) of the shipped dictionary, one row per distinct key."""
    rows, seen = [], set()
    for title, variants in DEFAULTS.items():
        for variant in variants:
            key = title_key(variant)
            if key not in seen:
                seen.add(key)
                rows.append((variant, key, title))
    return rows
