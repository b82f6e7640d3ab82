"""Duplicate check on entry: is the contact or company being written already in the base?

Candidates come from indexes only (same phone, same e-mail, same INN, or a shared blocking key of the
name, see quality.matching), then each is scored with the reasons it matched. The services call
`check_contact` / `check_company` before a write and `index_contact` / `index_companies` after it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import blake2b

from django.utils.translation import gettext as _

from krug.core.bulk import insert_bigints, int_array
from krug.core.errors import Conflict
from krug.quality.matching import person_keys, skeleton
from krug.quality.models import CompanyKey, ContactKey

CONTACT = "contact"
COMPANY = "company"
#: a candidate at or above this score (0–100) stops an entry until the user confirms
ENTRY_THRESHOLD = 85
#: a name this alike counts when a second fact (company, city) agrees
NAME_THRESHOLD = 88
MAX_CANDIDATES = 50

_LEGAL_FORMS = re.compile(
    r"\b(ооо|оао|зао|пао|ао|ип|нко|гуп|муп|фгуп|ано|тоо|llc|ltd|inc|gmbh|corp|co|"
    r"общество с ограниченной ответственностью|акционерное общество|индивидуальный предприниматель)\b")
_QUOTES = re.compile(r"[\"'«»“”„]")
_TOKENS = re.compile(r"\d+|[^\W\d_]+")


class DuplicateFound(Conflict):
    """The record matches one already in the base; send allow_duplicate=true to save it anyway."""

    code = "duplicate"


@dataclass
class Candidate:
    id: int
    title: str
    owner_id: int | None
    owner: str
    score: float
    reasons: list[str] = field(default_factory=list)
    visible: bool = True

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "owner_id": self.owner_id, "owner": self.owner,
                "score": round(self.score, 1), "reasons": self.reasons, "visible": self.visible}


@lru_cache(maxsize=200_000)
def company_skeleton(name: str | None) -> str:
    """A company name without its legal form, quotes and spelling differences: `ООО «Вектор»` = `Vektor LLC`."""
    text = _LEGAL_FORMS.sub(" ", _QUOTES.sub(" ", (name or "").casefold()))
    # numbers tell branches and schools apart ("Школа №5" is not "Школа №12"): they stay
    return "".join(f"#{token}" if token.isdigit() else skeleton(token) for token in _TOKENS.findall(text))


def company_name_key(name: str | None) -> str:
    """The key of a company's whole name (without legal form and quotes): the one an exact name shares."""
    return f"n:{company_skeleton(name)}"[:120]


def company_identity(name: str | None) -> str:
    """What a company name is told apart by when a contact, deal or lead names its company: the skeleton, so
    `ООО "Вектор Плюс"`, `ООО «Вектор Плюс»` and `Вектор Плюс` are one company (else the words as typed)."""
    return company_skeleton(name) or " ".join((name or "").casefold().split())


def company_keys(name: str | None, inn: str | None) -> set[str]:
    keys = {f"i:{inn}"} if inn else set()
    core = company_skeleton(name)
    if core:
        keys |= {company_name_key(name), f"p:{core[:5]}", f"s:{core[-5:]}"}
    return keys


#: where each kind of record keeps its blocking keys
KEY_MODELS = {CONTACT: ContactKey, COMPANY: CompanyKey}


def key_hash(key: str) -> int:
    """A blocking key as stored: 64 bits of its BLAKE2b, signed to fit a bigint. Two keys of a million-contact
    base share a hash with a chance of about 1 in 300,000, and then only add a candidate the matcher scores."""
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def key_hashes(keys: list[str]) -> list[int]:
    """`key_hash` of each key, the digests turned into numbers all at once."""
    import numpy as np

    digests = b"".join([blake2b(key.encode(), digest_size=8).digest() for key in keys])
    return np.frombuffer(digests, dtype=">i8").astype(np.int64).tolist()


def replace_keys(entity: str, keys_of: Mapping[int, Iterable[str]]) -> None:
    """Store these records' name keys in place of those they held: two statements for any number of records,
    the new keys written in the order of their hashes."""
    if not keys_of:
        return
    model = KEY_MODELS[entity]
    model.objects.filter(record_id__in_array=sorted(keys_of)).delete()
    keys = [(key, pk) for pk, held in keys_of.items() for key in set(held)]
    rows = sorted(set(zip(key_hashes([key for key, _pk in keys]), [pk for _key, pk in keys], strict=True)))
    insert_bigints(model, ("hash", "record_id"), [h for h, _pk in rows], [pk for _h, pk in rows])


KEY_LENGTH = 120  # a name key is cut to this (some long names and company names would make it longer)


def contact_keys(surname: str | None, first_name: str | None, company: str | None,
                 city: str | None) -> frozenset[str]:
    """The name keys of a person at his company and in his city: a name alone never makes a duplicate, so
    keys carry the context that must agree too, which keeps each key shared by a handful of records."""
    at_company, in_city = contact_key_kinds(surname, first_name, company, city)
    return frozenset(at_company + in_city)


def contact_key_kinds(surname: str | None, first_name: str | None, company: str | None,
                      city: str | None) -> tuple[list[str], list[str]]:
    """`contact_keys`, those at his company apart from those in his city (what the duplicate scan blocks
    by, `scan.NAME_COMPANY` and `scan.NAME_CITY`, holds a key to)."""
    names = _person_keys(surname or "", first_name or "")
    company_context = f"@c{company_skeleton(company)}" if company and names else ""
    city_context = f"@t{city.casefold()}" if city and names else ""
    return ([(key + company_context)[:KEY_LENGTH] for key in names] if company_context else [],
            [(key + city_context)[:KEY_LENGTH] for key in names] if city_context else [])


@lru_cache(maxsize=20_000)  # first names and surnames repeat: an import asks for some ten thousand a minute
def _person_keys(surname: str, first_name: str) -> tuple[str, ...]:
    return tuple(person_keys(surname, first_name))


def index_contact(contact) -> None:
    """Store the contact's name keys (phones and e-mails have their own indexes)."""
    company = contact.company.name if contact.company_id else ""
    replace_keys(CONTACT, {contact.pk: contact_keys(contact.surname, contact.first_name, company, contact.city)})


def index_companies(companies: Iterable) -> None:
    """Store the companies' name keys (the INN is one of them)."""
    replace_keys(COMPANY, {company.pk: company_keys(company.name, company.inn) for company in companies})


def _company_candidates(keys: set[str], exclude: int | None) -> set[int]:
    """The companies sharing a key with the probe, all of them, except through a key so common that the scan
    does not compare within it either (more than its `max_block` companies hold it). A cap on the total
    instead lost real doubles in a large base: at 10,000 companies, 44 % of the file's repeats went in as new,
    their whole-name key crowded out by the five-letter prefix everyone shares."""
    from krug.quality.models import QualitySettings
    from krug.quality.scan import MatchRules

    max_block = MatchRules.from_dict(QualitySettings.current().match_rules).max_block
    members = key_members(keys, model=CompanyKey, limit=max_block + 1)
    ids = {pk for found in members.values() if len(found) <= max_block for pk in found}
    ids.discard(exclude)
    return ids


def keyed_records(entity: str, keys: Iterable[str]) -> set[int]:
    """Every record holding one of the keys (for precise keys: a company's whole name)."""
    hashes = sorted({key_hash(k) for k in keys})
    return set(KEY_MODELS[entity].objects.filter(hash__in_array=hashes).values_list("record_id", flat=True))


def _owner(record) -> tuple[int | None, str]:
    owner = record.owner
    return (owner.pk, owner.get_full_name() or owner.username) if owner else (None, "")


#: a name+city key shared by more contacts than this is too common to fetch candidates by
CITY_BLOCK_LIMIT = 20


#: a company key shared by more contacts than this is not compared pairwise anyway (the scan's max_block)
COMPANY_BLOCK_LIMIT = 50


def key_members(keys: Iterable[str] | Mapping[str, int], *, model=ContactKey,
                limit: int = COMPANY_BLOCK_LIMIT + 1) -> dict[str, list[int]]:
    """The records (contacts, or companies with `model=CompanyKey`) holding each key, at most `limit` per key:
    enough to tell a key too common to use without reading all of its members. `keys` may come with their
    hashes (key: hash)."""
    from django.db import connection

    hashed = keys if isinstance(keys, Mapping) else {key: key_hash(key) for key in keys}
    by_hash = {h: key for key, h in hashed.items()}
    if not by_hash:
        return {}
    hashes = sorted(by_hash)
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        # one row per key with its members as an array: a chunk's 35,000 keys bring some 170,000 members,
        # which as rows took three times the Python
        sql = (f"SELECT k.hash, ARRAY(SELECT record_id FROM {table} WHERE hash = k.hash LIMIT {limit}) "
               f"FROM unnest(%s::bigint[]) AS k(hash)")
        with connection.cursor() as cursor:
            cursor.execute(sql, [int_array(hashes)])
            return {by_hash[hashed]: found for hashed, found in cursor.fetchall() if found}
    sql = (f"SELECT hash, record_id FROM (SELECT hash, record_id, row_number() OVER (PARTITION BY hash) AS n "
           f"FROM {table} WHERE hash IN (SELECT value FROM json_each(%s))) WHERE n <= {limit}")
    members: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(hashes)])
        for hashed, record in cursor.fetchall():
            members.setdefault(by_hash[hashed], []).append(record)
    return members


def block_limit(key: str) -> int:
    """How many contacts may share a name key before it is too common to fetch candidates by (the import's
    keys in memory, `transfer.name_index`, apply the same rule to arrays)."""
    return COMPANY_BLOCK_LIMIT if is_company_key(key) else CITY_BLOCK_LIMIT


def name_candidates(keys: Iterable[str], members: dict[str, list[int]]) -> set[int]:
    """The contacts a probe with these name keys should be compared with: those sharing its whole-name key or
    a key at its company, or two of its keys. One shared prefix or suffix key in a city alone is mostly
    people who merely sound alike (`…анов|…ей` in Moscow); a typo leaves a real double at least two."""
    shared: dict[int, int] = {}
    strong: set[int] = set()
    for key in keys:
        found = members.get(key, ())
        if len(found) > block_limit(key):
            continue  # too common to tell anyone apart
        for record in found:
            shared[record] = shared.get(record, 0) + 1
            if key.startswith("n:") or is_company_key(key):
                strong.add(record)
    return strong | {record for record, count in shared.items() if count >= 2}


def settled(key: str, members: list[int], max_namesakes: int) -> bool:
    """Whether a name key has so many members that more of them cannot change what it decides: it is too
    common to fetch candidates by (`name_candidates`) and, as a whole-name key, too common for a name+city
    match (`max_namesakes`). A long import stops asking the base about such a key (the base only grows)."""
    namesakes = max_namesakes if exact_key([key]) else 0
    # key_members reads at most COMPANY_BLOCK_LIMIT + 1 members, so a larger count is never seen anyway
    return len(members) > min(max(block_limit(key), namesakes), COMPANY_BLOCK_LIMIT)


def is_company_key(key: str) -> bool:
    """A name key at the contact's company (the others are in his city)."""
    return "@c" in key


def is_exact_key(key: str) -> bool:
    return key.startswith("n:") and "@t" in key


def exact_key(keys: Iterable[str]) -> str | None:
    """The whole-name key in the city: how many contacts have it tells how common the name is there."""
    for key in keys:  # is_exact_key, inline: an import asks this twice a row of its ten keys
        if key.startswith("n:") and "@t" in key:
            return key
    return None


def phone_owners(numbers: list[str], *, valid: bool | None = None, limit: int | None = None) -> list[tuple[str, int]]:
    """(number, contact id) for each stored phone with one of the numbers. On PostgreSQL the match is written
    as `BETWEEN n AND n`, which only the b-tree on the number serves: pg_trgm's index on it answers `=` too,
    and for thousands of numbers the planner, misjudging its cost, probed it once per number (a chunk of
    5,000 rows: 50 s instead of 20 ms)."""
    if not numbers:
        return []
    from django.db import connection

    from krug.clients.models import ContactPhone

    if connection.vendor != "postgresql":
        rows = ContactPhone.objects.filter(number__in_array=numbers)
        if valid is not None:
            rows = rows.filter(valid=valid)
        return list(rows.order_by().values_list("number", "contact_id")[:limit])
    table = ContactPhone._meta.db_table
    sql = (f"SELECT p.number, p.contact_id FROM unnest(%s::text[]) AS k(n) "
           f"JOIN {table} AS p ON p.number BETWEEN k.n AND k.n")
    params: list = [numbers]
    if valid is not None:
        sql += " WHERE p.valid = %s"
        params.append(valid)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _contact_candidates(probe: dict, exclude: int | None) -> tuple[set[int], int]:
    """(candidate ids, how many contacts of the probe's city have exactly its name) from the indexes."""
    from krug.clients.models import ContactEmail

    keys = contact_keys(probe.get("surname"), probe.get("first_name"), probe.get("company_name"), probe.get("city"))
    members = key_members(keys)
    namesakes = len(members.get(exact_key(keys) or "", ())) + 1
    ids = name_candidates(keys, members)
    phones = set(probe.get("phones") or [])
    emails = {e.casefold() for e in probe.get("emails") or []}
    if phones:
        ids |= {pk for _number, pk in phone_owners(sorted(phones), valid=True, limit=50)}
    if emails:
        ids |= set(ContactEmail.objects.filter(email_key__in=emails).values_list("contact_id", flat=True)[:50])
    ids.discard(exclude)
    ids.discard(None)
    return ids, namesakes


def check_contact(by, probe: dict, *, exclude: int | None = None) -> list[Candidate]:
    """Contacts the probe (surname, first_name, patronymic, phones [E.164], emails, company_name, city)
    probably is, best first, each with why it matched: the full scan's rules (quality.scan), applied to the
    probe and the few contacts the indexes bring."""
    import numpy as np

    from krug.clients.models import Contact
    from krug.quality.models import QualitySettings
    from krug.quality.scan import ContactRow, MatchRules, find_duplicates

    ids, namesakes = _contact_candidates(probe, exclude)
    if not ids:
        return []
    contacts = {c.pk: c for c in Contact.objects.alive().filter(pk__in=ids).select_related("company", "owner")
                .prefetch_related("phones", "emails")[:MAX_CANDIDATES]}
    rules = MatchRules.from_dict(QualitySettings.current().match_rules)
    rows = [ContactRow(0, probe.get("surname") or "", probe.get("first_name") or "", probe.get("patronymic") or "",
                       probe.get("company_name") or "", probe.get("city") or "", tuple(probe.get("phones") or ()),
                       tuple(e.casefold() for e in probe.get("emails") or ()))]
    rows += [ContactRow(c.pk, c.surname, c.first_name, c.patronymic, c.company.name if c.company_id else "", c.city,
                        tuple(p.number for p in c.phones.all() if p.valid), tuple(e.email_key for e in c.emails.all()))
             for c in contacts.values()]
    common = np.zeros(len(rows), dtype=bool)
    common[0] = namesakes > rules.max_namesakes  # the base's count, not these few rows'
    visible = set(Contact.objects.visible_to(by).filter(pk__in=contacts).values_list("pk", flat=True))
    found = []
    for pair in find_duplicates(rows, rules, common=common, probes=1):  # the probe and a candidate
        contact = contacts[pair.b or pair.a]
        owner_id, owner = _owner(contact)
        found.append(Candidate(contact.pk, contact.full_name, owner_id, owner, pair.score, pair.reasons,
                               contact.pk in visible))
    return sorted(found, key=lambda c: -c.score)


def check_company(by, probe: dict, *, exclude: int | None = None) -> list[Candidate]:
    """Companies the probe (name, inn, city) probably is: same INN, or a very similar name in the same city."""
    from krug.clients.models import Company

    ids = _company_candidates(company_keys(probe.get("name"), probe.get("inn")), exclude)
    if not ids:
        return []
    from krug.quality.company_scan import compare

    core = company_skeleton(probe.get("name"))
    scored = {}
    for pk, name, inn, kpp, city in Company.objects.alive().filter(pk__in_array=sorted(ids)).values_list(
            "pk", "name", "inn", "kpp", "city"):
        score, reasons = compare(core, probe.get("inn") or "", probe.get("kpp") or "", probe.get("city") or "",
                                 company_skeleton(name), inn, kpp, city)
        if score >= ENTRY_THRESHOLD:
            scored[pk] = (score, reasons)
    if not scored:
        return []
    visible = set(Company.objects.visible_to(by).filter(pk__in=scored).values_list("pk", flat=True))
    found = []
    for company in Company.objects.filter(pk__in=scored).select_related("owner"):
        score, reasons = scored[company.pk]
        owner_id, owner = _owner(company)
        found.append(Candidate(company.pk, str(company), owner_id, owner, score, reasons, company.pk in visible))
    return sorted(found, key=lambda c: (-c.score, c.id))


def reason_labels(reasons) -> list[str]:
    """What each reason a candidate matched for says to a user (`phone` -> "same phone")."""
    labels = {"phone": _("same phone"), "email": _("same e-mail"), "inn": _("same INN"), "name": _("similar name"),
              "company": _("same company"), "city": _("same city")}
    return [labels.get(reason, reason) for reason in reasons]


def refuse_if_duplicates(candidates: list[Candidate], entity_label: str) -> None:
    if candidates:
        best = candidates[0]
        raise DuplicateFound(
            _("This %(entity)s looks like one already in the base: %(title)s (%(why)s). Send allow_duplicate=true "
              "to save it anyway.") % {"entity": entity_label, "title": best.title, "why": ", ".join(best.reasons)},
            extra={"candidates": [c.as_dict() for c in candidates[:10]]})
