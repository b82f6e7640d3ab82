"""The set-based path for companies: a chunk's new companies are checked together and written with a handful
of statements (COPY on PostgreSQL), instead of some thirty queries a row.

It gives what the per-row path (`importer.import_row`, the services one company at a time) gives, which the
tests compare it with. It creates, and changes a company in the base that a row names by the job's key
(external id or INN) as `update_company` changes it, unless the name or INN changes (which re-keys the
company and its people). Every other row is handed to the per-row path, in its turn, so merges and those
changes stay the services' own:
- a row that names a company by the key created or changed by an earlier row of the chunk, or whose name or
  INN it changes;
- a row the duplicate check on entry could refuse: one with a company in the base, or made by an earlier row,
  that scores as a duplicate (`company_scan.compare`, the check's own scoring), among the same candidates
  the check reads: the holders of each of its keys, except a key held by more companies than `max_block`
  (`Known`, which follows the keys the chunk writes and re-reads those of a record the per-row path wrote).
A row that is created is cleaned as `create_company` cleans it and written as it writes it (row, match keys,
search key, audit entry, timeline event), with its external id. A row naming a company by an external id a
merge gave it (`ExternalKey.merged`) is merged into it (`importer.for_merge`), not an update by key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.activities.models import Note
from krug.clients import services as clients
from krug.clients.models import Company, TimelineEvent
from krug.core import audit, bulk, memo
from krug.core import changes as field_changes
from krug.core.errors import ValidationFailed
from krug.quality import duplicates, normalize
from krug.quality.company_scan import compare
from krug.quality.models import CompanyKey, QualitySettings
from krug.quality.scan import MatchRules
from krug.transfer import bulk_changes, bulk_contacts, importer
from krug.transfer.bulk_contacts import CREATED, FAILED, MERGED, SKIPPED, UPDATED, NewCompany, Row, batches

ENTITY = "companies"


@dataclass(eq=False)
class Known:
    """What the check on entry would read for a chunk's rows: who holds each of their keys (the companies in
    the base, and those the chunk creates, with negative provisional ids until written), and the fields of
    the live ones. A key more companies hold than `max_block` is one the check passes over (`common`)."""

    max_block: int = 50
    holders: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # key hash -> company ids
    common: set[int] = field(default_factory=set)  # hashes held by more than max_block companies
    unwritten: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # hash -> provisional ids
    hashes_of: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # company id -> its hashes
    companies: dict[int, tuple[str, str, str, str]] = field(default_factory=dict)  # id -> core, INN, KPP, city
    inns: set[str] = field(default_factory=set)  # INNs of the companies the chunk made (an `inn` key finds them)
    external: set[str] = field(default_factory=set)  # external ids that name a live company
    merged: set[str] = field(default_factory=set)  # those of the targets' external ids a merge gave them
    targets: dict[str, Company] = field(default_factory=dict)  # the base's companies by the key's value
    touched: set[int] = field(default_factory=set)  # companies the per-row path wrote in this chunk
    yours: set[int] = field(default_factory=set)  # which of the targets the user may change
    scores: dict[int, tuple[float, int]] = field(default_factory=dict)  # the last duplicates_of: pk -> its order
    stale: set[int] = field(default_factory=set)  # keys of companies renamed in memory, to read again once written
    rekeyed: set[int] = field(default_factory=set)  # those companies

    def hold(self, h: int, ids) -> None:
        """Who holds the key as the database has it (at most max_block + 1 of them), with the unwritten ones."""
        self.holders[h] = set(ids) | self.unwritten.get(h, set())
        for pk in self.holders[h]:
            self.hashes_of[pk].add(h)
        if len(self.holders[h]) > self.max_block:
            self.common.add(h)
        else:
            self.common.discard(h)

    def add(self, pk: int, fields: tuple[str, str, str, str, str], hashes) -> None:
        """A company the chunk creates (a provisional id) with its name, INN, KPP and city."""
        name, *rest = fields
        self.companies[pk] = (duplicates.company_skeleton(name), *rest)
        for h in hashes:
            self.unwritten[h].add(pk)
            self.hold(h, self.holders[h] - self.unwritten[h])

    def written(self, ids: dict[int, int]) -> None:
        """The unwritten companies got their ids (provisional: real)."""
        for h in self.unwritten:
            self.holders[h] = {ids.get(pk, pk) for pk in self.holders[h]}
        for provisional, pk in ids.items():
            self.companies[pk] = self.companies.pop(provisional)
            self.hashes_of[pk] = self.hashes_of.pop(provisional, set())
        self.unwritten.clear()

    def duplicates_of(self, fields: dict, hashes: list[int]) -> list[int]:
        """The companies the check on entry would call this one (its cleaned fields) a duplicate of."""
        ids = {pk for h in hashes if h not in self.common for pk in self.holders.get(h, ())}
        core, inn = duplicates.company_skeleton(fields.get("name")), fields.get("inn") or ""
        kpp, city = fields.get("kpp") or "", fields.get("city") or ""
        self.scores = {}
        for pk in sorted(ids & self.companies.keys()):
            score = compare(core, inn, kpp, city, *self.companies[pk])[0]
            if score >= duplicates.ENTRY_THRESHOLD:
                self.scores[pk] = (-score, pk)  # the order the check on entry gives its candidates
        return list(self.scores)

    def rekey(self, company: Company, before: tuple[str, str]) -> None:
        """The company's name or INN changed in memory (`before` is what they were): its fields are its new ones
        at once, its keys, old and new, are stale until written (`fresh`)."""
        self.companies[company.pk] = (duplicates.company_skeleton(company.name), company.inn or "",
                                      company.kpp or "", company.city or "")
        self.stale |= {h for keys in (duplicates.company_keys(*before), duplicates.company_keys(company.name,
                                                                                               company.inn))
                       for h in duplicates.key_hashes(sorted(keys))}
        self.rekeyed.add(company.pk)

    def fresh(self) -> None:
        """The renamed companies were written: who holds their keys, and their fields, as the database has them."""
        for pk in self.rekeyed:
            self.companies.pop(pk, None)
        stale, self.stale, self.rekeyed = self.stale, set(), set()
        self.read(stale)

    def read(self, hashes) -> None:
        """Who holds these keys in the database, and the fields of the live ones not known yet."""
        hashes = sorted(set(hashes))
        members = duplicates.key_members({str(h): h for h in hashes}, model=CompanyKey, limit=self.max_block + 1)
        for h in hashes:
            self.hold(h, members.get(str(h), ()))
        wanted = sorted({pk for h in hashes if h not in self.common for pk in self.holders[h]
                         if pk > 0 and pk not in self.companies})
        for batch in batches(wanted):
            for pk, *fields in Company.objects.alive().filter(pk__in_array=batch).values_list(
                    "pk", "name", "inn", "kpp", "city"):
                self.companies[pk] = (duplicates.company_skeleton(fields[0]), *fields[1:])


def import_chunk(ctx, chunk: list[tuple[int, list[str]]]) -> list[Row]:
    """Import a chunk of company rows; returns them with their outcomes. The caller's transaction holds it."""
    by, key = ctx.job.by, ctx.job.key
    with memo.scope():
        rows = bulk_contacts.prepare(ctx, chunk)
        known = Known(MatchRules.from_dict(QualitySettings.current().match_rules).max_block)
        _named_by_key(ctx, rows, known)
        refused: dict[int, ValidationFailed] = {}
        for index, row in enumerate(rows):
            if row.outcome:
                continue
            row.related["lines"] = importer.company_lines(row.data)
            try:
                row.fields = clients._clean_company(by, importer.described(row.data, row.related["lines"], None),
                                                    current=None)
            except ValidationFailed as exc:
                # kept without its traceback, which holds this frame and so the whole chunk: a cycle that only
                # a full collection frees, and an import runs with next to none (`core.bulk.fewer_collections`)
                refused[index] = exc.with_traceback(None)
                continue
            row.keys = frozenset(duplicates.company_keys(row.fields["name"], row.fields.get("inn")))
        known.read(h for row in rows if row.keys for h in _hashes(row))
        waiting: list[Row] = []
        for index, row in enumerate(rows):
            if row.outcome:
                continue
            if known.stale and known.stale.intersection(_hashes(row)):
                _create(ctx, waiting, known)  # it may be, or be like, a company renamed before it
                waiting = []
            inn = _key_inn(row) if key == "inn" else ""
            named = (key == "external_id" and row.external_id in known.external) or (inn and inn in known.inns)
            like = [] if named or index in refused else known.duplicates_of(row.fields, _hashes(row))
            target = known.targets.get(inn or row.external_id) if named else _merge_target(ctx, like, known)
            row.key_merge = bool(named and not inn and target is not None and row.external_id in known.merged)
            if target is not None and (named and target.pk in known.yours or not named) and _changed(
                    ctx, row, known, target, UPDATED if named and not row.key_merge else MERGED):
                waiting += [row] if "company" in row.related else []
                _remember(known, target.inn if key == "inn" else "", row.external_id)
                continue
            if named or like:
                # the rows before it are written first when it may be one of their companies, when they changed
                # a company (which it reads), or when it gives an external id one of them gives too (the later
                # row's record is the one the id keeps)
                if named or any(pk < 0 for pk in like) or any("company" in w.related for w in waiting) or (
                        row.external_id and any(w.external_id == row.external_id for w in waiting)):
                    _create(ctx, waiting, known)
                    waiting = []
                _hand_over(ctx, row, known)
            elif index in refused:
                row.fail(refused[index])
            else:
                waiting.append(row)
                row.related["provisional"] = provisional = -1 - len(known.companies)
                known.add(provisional, tuple(row.fields.get(f) or "" for f in ("name", "inn", "kpp", "city")),
                          _hashes(row))
                _remember(known, row.fields.get("inn", ""), row.external_id)
        _create(ctx, waiting, known)
    return rows


def _merge_target(ctx, like: list[int], known: Known) -> Company | None:
    """The company the per-row path would merge a duplicate row into (`importer._duplicate_target`): the best
    scoring candidate its user may change, when all are in the base and none was written in this chunk by the
    per-row path (else the per-row path decides, and refuses with the candidates when there is none)."""
    if not like or any(pk < 0 or pk in known.touched for pk in like):
        return None
    yours = bulk_contacts.changeable(Company, ctx.job.by, like)
    for _score, pk in sorted(known.scores.get(pk, (0.0, pk)) for pk in like):
        if pk in yours:
            return Company.objects.alive().filter(pk=pk).first()
    return None


def _changed(ctx, row: Row, known: Known, existing: Company, outcome: str) -> bool:
    """Whether the row, naming a base company by the key (`outcome` UPDATED) or a duplicate of one (MERGED), is
    settled here: left as it is when the row would not change the company (`importer._import_company`'s
    update, read only: skipped, or merged), failed with what the update's cleaning refuses, or a change made
    to the company in memory as `update_company` makes it (`related["company"]`, `related["diff"]`), written
    with the chunk's new companies. A change of the name or INN (which re-keys the company and its people) is
    the per-row path's, as is a company a row of the chunk named already."""
    if existing.pk in known.touched:
        return False
    by = ctx.job.by
    try:
        data = importer.for_merge(row.data, lambda name: getattr(existing, name, None)) if outcome == MERGED \
            else row.data
        changes = clients.company_changes(by, existing, importer.described(data, row.related["lines"],
                                                                           existing.description))
        if "inn" in changes and ctx.job.key == "inn":  # which company a later row's INN names is the database's
            return False
        known.touched.add(existing.pk)
        fields = clients._clean_company(by, {**changes, "allow_duplicate": True}, current=existing) if changes \
            else {}
    except ValidationFailed as exc:
        row.fail(exc)
        return True
    if not changes:  # written all the same: the external id it gives goes to the company, in file order
        outcome = SKIPPED if outcome == UPDATED or row.key_merge else outcome
    before = (existing.name, existing.inn)
    row.related["diff"], row.related["outcome"] = bulk_changes.apply(existing, fields), outcome
    existing.search_key = clients._company_key(existing)
    row.related["company"] = existing
    if {"name", "inn"} & set(changes):
        known.rekey(existing, before)
    elif existing.pk in known.companies:  # the check on entry compares later rows with its new KPP and city
        known.companies[existing.pk] = (*known.companies[existing.pk][:2], existing.kpp or "", existing.city or "")
    return True


def _hashes(row: Row) -> list[int]:
    return duplicates.key_hashes(sorted(row.keys or ()))


def _key_inn(row: Row) -> str:
    """The row's INN as the `inn` key compares it ("" when it has none, or a wrong one)."""
    try:
        return normalize.inn(row.data["inn"]) if row.data.get("inn") else ""
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
            ENTITY, Company, (r.external_id for r in live if r.external_id), merged=known.merged)
        known.external |= set(known.targets)
    elif ctx.job.key == "inn":
        wanted = sorted({inn for inn in map(_key_inn, live) if inn})
        visible = Company.objects.visible_to(ctx.job.by)
        for batch in batches(wanted):
            for company in visible.filter(inn__in_array=batch).order_by("pk"):
                known.targets.setdefault(company.inn, company)  # the first, as `.first()` finds it
        known.inns |= set(known.targets)
    known.yours = bulk_contacts.changeable(Company, ctx.job.by, {c.pk for c in known.targets.values()})


def _hand_over(ctx, row: Row, known: Known) -> None:
    """The per-row path for this row; what it wrote (a new company, or one it merged into, maybe renamed) is
    read again, with every key it held before and holds now."""
    row.outcome, row.errors, record_id = importer.import_one(ctx, row.cells)
    if record_id is None:
        return
    known.touched.add(record_id)
    known.companies.pop(record_id, None)
    now = set(CompanyKey.objects.filter(record_id=record_id).values_list("hash", flat=True))
    known.read(now | known.hashes_of.pop(record_id, set()))
    inn = Company.objects.filter(pk=record_id).values_list("inn", flat=True).first() if ctx.job.key == "inn" else ""
    _remember(known, inn or "", row.external_id)


def _create(ctx, rows: list[Row], known: Known) -> None:
    """Write the rows: new companies, as `create_company` writes them, and the changes `_changed` made, as
    `update_company` writes them."""
    if not rows:
        return
    written = rows
    _write_changes(ctx, [r for r in rows if "company" in r.related])
    rows = [r for r in rows if "company" not in r.related]
    news = [NewCompany(r.fields["name"], r.fields.get("inn", ""), r.fields,
                       importer.company_cache_key(r.fields["name"], r.fields.get("inn", "")),
                       created_at=r.data.get("created_at")) for r in rows]
    plan = bulk_contacts.Plan(rows=[])
    bulk_contacts.create_companies(ctx, news, plan)
    bulk_contacts.flush(plan)
    for row, company in zip(rows, news, strict=True):
        row.outcome = CREATED
        row.related["pk"] = company.id
    _write_notes(ctx, written)
    bulk_contacts.external_keys(bulk_changes.external_ids(written), ENTITY, _merged_ids(written))
    known.written({row.related["provisional"]: company.id for row, company in zip(rows, news, strict=True)})
    if known.rekeyed:
        known.fresh()


def _merged_ids(rows: list[Row]) -> set[str]:
    """The external ids of the written rows that go to their company as a merge's (`ExternalKey.merged`): those
    of rows merged into it, in file order as `bulk_changes.external_ids` (`importer.keep_external_id`)."""
    merged: set[str] = set()
    for row in rows:
        if row.external_id and row.outcome and row.outcome != FAILED:
            if row.outcome == MERGED or row.key_merge:
                merged.add(row.external_id)
            else:
                merged.discard(row.external_id)
    return merged


def _write_notes(ctx, rows: list[Row]) -> None:
    """The notes the written rows put on their companies, as `importer.add_notes` adds them (a text the company
    holds already is not added again; a row that changed nothing else but added a note updated it), with their
    audit entries and timeline events."""
    noted = [r for r in rows if r.notes and r.outcome != FAILED]
    if not noted:
        return
    by = ctx.job.by
    changed = {r.related["company"].pk for r in noted if "company" in r.related}
    held = importer.held_notes(Company, changed, {t for r in noted for t in r.notes}) if changed else {}
    notes = []
    for row in noted:
        pk, company = row.related["pk"], row.related.get("company")
        owner = company.owner_id if company is not None else getattr(row.fields.get("owner"), "pk", None)
        bulk_contacts.add_new_notes(row, held.setdefault(pk, set()),
                                    lambda text, pk=pk, owner=owner: notes.append((None, text, pk, owner)))
    if notes:
        now, entries, events = timezone.now(), [], []
        bulk.insert(Note, bulk_contacts.note_rows(by.pk, notes, now, entries, events), with_ids=True)
        bulk_contacts.write_history(entries, events)


def _write_changes(ctx, rows: list[Row]) -> None:
    """The companies the rows changed, with an audit entry and a timeline event for each that changed."""
    if not rows:
        return
    by, now = ctx.job.by, timezone.now()
    company_type = ContentType.objects.get_for_model(Company)
    entries = bulk_changes.write(Company, [(r.related["company"], r.related["diff"]) for r in rows
                                           if r.related["diff"]], by, now)
    rekeyed = [r for r in rows if {"name", "inn"} & set(r.related["diff"])]  # as `update_company` re-keys
    duplicates.index_companies([r.related["company"] for r in rekeyed])
    clients.refresh_people_keys([r.related["company"] for r in rekeyed if "name" in r.related["diff"]])
    events = []
    for row in rows:
        company, diff = row.related["company"], row.related["diff"]
        row.outcome, row.related["pk"] = row.related["outcome"], company.pk
        if diff:
            summary = _("Changed: %(fields)s") % {"fields": field_changes.summary(Company, diff)}
            events.append(bulk_contacts.event_row(TimelineEvent.Kind.CHANGED, company_type, company.pk, by.pk, None,
                                               company.pk, summary, audit.plain(diff), now))
    bulk_contacts.write_history(entries, events)
