"""The set-based path for companies: a chunk's new companies are checked together and written with a handful
of statements (COPY on PostgreSQL), instead of some thirty queries a row.

It gives what the per-row path (`importer.import_row`, the services one company at a time) gives, which the
tests compare it with. The path only ever *creates*; every other row is handed to the per-row path, in its
turn, so updates and merges stay the services' own:
- a row that names a company by the job's key (external id or INN), in the base or created by an earlier row;
- a row the duplicate check on entry could refuse: one with a company in the base, or made by an earlier row,
  that scores as a duplicate (`company_scan.compare`, the check's own scoring). The per-row check leaves out
  a key held by more companies than the scan compares (`max_block`); this path scores every holder, so a row
  it creates is one the per-row check would create too, and a row it hands over is checked again there.
A row that is created is cleaned as `create_company` cleans it and written as it writes it (row, match keys,
search key, audit entry, timeline event), with its external id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from krug.clients import services as clients
from krug.clients.models import Company
from krug.core import memo
from krug.core.errors import ValidationFailed
from krug.quality import duplicates, normalize
from krug.quality.company_scan import NAME_SIMILARITY, compare
from krug.quality.models import CompanyKey
from krug.transfer import bulk_contacts, importer
from krug.transfer.bulk_contacts import CREATED, SKIPPED, NewCompany, Row, _batches

ENTITY = "companies"
_SCORED_ONE_BY_ONE = 64  # more candidates than this are narrowed by name in one rapidfuzz call first


@dataclass(eq=False)
class Known:
    """The companies a chunk's rows may be: those holding one of their keys in the base (alive), and those the
    chunk creates (negative, provisional ids until written)."""

    holders: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # key hash -> company ids
    companies: dict[int, tuple[str, str, str, str]] = field(default_factory=dict)  # id -> core, INN, KPP, city
    inns: set[str] = field(default_factory=set)  # INNs of the companies the chunk made (an `inn` key finds them)
    external: set[str] = field(default_factory=set)  # external ids that name a live company
    targets: dict[str, Company] = field(default_factory=dict)  # the base's companies by the key's value
    touched: set[int] = field(default_factory=set)  # companies the per-row path wrote in this chunk

    def add(self, pk: int, name: str, inn: str, kpp: str, city: str, hashes) -> None:
        self.companies[pk] = (duplicates.company_skeleton(name), inn, kpp, city)
        for h in hashes:
            self.holders[h].add(pk)

    def duplicates_of(self, fields: dict, hashes: list[int]) -> list[int]:
        """The known companies the check on entry would call this one (its cleaned fields) a duplicate of."""
        ids = set().union(*(self.holders.get(h, ()) for h in hashes)) & self.companies.keys()
        if not ids:
            return []
        core, inn = duplicates.company_skeleton(fields.get("name")), fields.get("inn") or ""
        kpp, city = fields.get("kpp") or "", fields.get("city") or ""
        if len(ids) > _SCORED_ONE_BY_ONE:  # only the same INN or a name this close can score as a duplicate
            chosen = sorted(ids)
            close = process.extract(core, [self.companies[i][0] for i in chosen], scorer=fuzz.ratio,
                                    score_cutoff=NAME_SIMILARITY, limit=None)
            ids = {chosen[index] for _name, _score, index in close}
            ids |= {i for i in chosen if inn and self.companies[i][1] == inn}
        return [pk for pk in sorted(ids)
                if compare(core, inn, kpp, city, *self.companies[pk])[0] >= duplicates.ENTRY_THRESHOLD]


def import_chunk(ctx, chunk: list[tuple[int, list[str]]]) -> list[Row]:
    """Import a chunk of company rows; returns them with their outcomes. The caller's transaction holds it."""
    by, key = ctx.job.by, ctx.job.key
    with memo.scope():
        rows = bulk_contacts._prepare(ctx, chunk)
        known = Known()
        _named_by_key(ctx, rows, known)
        refused: dict[int, ValidationFailed] = {}
        for index, row in enumerate(rows):
            if row.outcome:
                continue
            try:
                row.fields = clients._clean_company(by, row.data, current=None)
            except ValidationFailed as exc:
                refused[index] = exc
                continue
            row.keys = frozenset(duplicates.company_keys(row.fields["name"], row.fields.get("inn")))
        _fetch(rows, known)
        waiting: list[Row] = []
        for index, row in enumerate(rows):
            if row.outcome:
                continue
            inn = _key_inn(row) if key == "inn" else ""
            named = (key == "external_id" and row.external_id in known.external) or (inn and inn in known.inns)
            like = [] if named or index in refused else known.duplicates_of(row.fields, _hashes(row))
            if named and _skipped(ctx, row, known, inn or row.external_id):
                continue
            if named or like:
                if named or any(pk < 0 for pk in like):
                    _create(ctx, waiting, known)
                    waiting = []
                _hand_over(ctx, row, known)
            elif index in refused:
                row.fail(refused[index])
            else:
                waiting.append(row)
                provisional = -1 - len(known.companies)
                known.add(provisional, row.fields["name"], row.fields.get("inn", ""), row.fields.get("kpp", ""),
                          row.fields.get("city", ""), _hashes(row))
                _remember(known, row.fields.get("inn", ""), row.external_id)
        _create(ctx, waiting, known)
    return rows


def _skipped(ctx, row: Row, known: Known, value: str) -> bool:
    """Whether the row names a base company by the key and would leave it as it is (`importer._import_company`'s
    update, read only): then it is skipped here, or failed with what the update's cleaning refuses."""
    existing = known.targets.get(value)
    if existing is None or existing.pk in known.touched:
        return False
    try:
        changes = clients.company_changes(ctx.job.by, existing, row.data)
    except ValidationFailed as exc:
        row.fail(exc)
        return True
    if changes:
        return False
    row.outcome = SKIPPED
    return True


def _hashes(row: Row) -> list[int]:
    return duplicates.key_hashes(sorted(row.keys or ()))


def _key_inn(row: Row) -> str:
    try:
        return normalize.inn(row.data.get("inn") or "") if row.data.get("inn") else ""
    except ValueError:
        return ""


def _remember(known: Known, inn: str, external_id: str) -> None:
    if inn:
        known.inns.add(inn)
    if external_id:
        known.external.add(external_id)


def _named_by_key(ctx, rows: list[Row], known: Known) -> None:
    """The external ids (or INNs) of the job's key that name a company in the base."""
    live = [r for r in rows if not r.outcome]
    if ctx.job.key == "external_id":
        known.targets = bulk_contacts.named_by_external_id(
            ENTITY, Company, (r.external_id for r in live if r.external_id))
        known.external |= set(known.targets)
    elif ctx.job.key == "inn":
        wanted = sorted({inn for inn in map(_key_inn, live) if inn})
        visible = Company.objects.visible_to(ctx.job.by)
        for batch in _batches(wanted):
            for company in visible.filter(inn__in_array=batch).order_by("pk"):
                known.targets.setdefault(company.inn, company)  # the first, as `.first()` finds it
        known.inns |= set(known.targets)


def _fetch(rows: list[Row], known: Known) -> None:
    """Every live company in the base holding one of the rows' keys."""
    hashes = sorted({h for row in rows if row.keys for h in _hashes(row)})
    pairs: list[tuple[int, int]] = []
    for batch in _batches(hashes):
        pairs += CompanyKey.objects.filter(hash__in_array=batch).values_list("hash", "record_id")
    by_company: dict[int, list[int]] = defaultdict(list)
    for h, pk in pairs:
        by_company[pk].append(h)
    for batch in _batches(sorted(by_company)):
        for pk, name, inn, kpp, city in Company.objects.alive().filter(pk__in_array=batch).values_list(
                "pk", "name", "inn", "kpp", "city"):
            known.add(pk, name, inn, kpp, city, by_company[pk])


def _hand_over(ctx, row: Row, known: Known) -> None:
    """The per-row path for this row; what it wrote joins what the chunk knows."""
    row.outcome, row.errors, record_id = importer.import_one(ctx, row.cells)
    if record_id is None:
        return
    known.touched.add(record_id)
    company = Company.objects.alive().filter(pk=record_id).values_list("name", "inn", "kpp", "city").first()
    if company is not None:
        hashes = CompanyKey.objects.filter(record_id=record_id).values_list("hash", flat=True)
        known.add(record_id, *company, hashes)
        _remember(known, company[1] if ctx.job.key == "inn" else "", row.external_id)


def _create(ctx, rows: list[Row], known: Known) -> None:
    """Write the rows as new companies, as `create_company` writes them."""
    if not rows:
        return
    news = [NewCompany(r.fields["name"], r.fields.get("inn", ""), r.fields,
                       bulk_contacts._company_key(r.fields["name"], r.fields.get("inn", ""))) for r in rows]
    plan = bulk_contacts.Plan(rows=[])
    bulk_contacts._create_companies(ctx, news, plan)
    bulk_contacts.flush(plan)
    external = {}
    for row, company in zip(rows, news, strict=True):
        row.outcome = CREATED
        if row.external_id:
            external[row.external_id] = company.id
    bulk_contacts.external_keys(external, ENTITY)
