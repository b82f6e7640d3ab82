"""The set-based path for contacts: a chunk of rows is read, cleaned and checked for duplicates together,
then written with a handful of statements (COPY on PostgreSQL) instead of some thirty queries per row.

It gives the same results as the per-row path (`importer.import_row`), which stays as the reference the
tests compare it with:
- every value goes through the services' own cleaning (`clients.services._clean_contact`), so the same
  normalisation and the same errors;
- duplicates are found by the scan's matcher (`quality.scan.find_duplicates`) over the chunk's rows and the
  base's candidates (same phone, same e-mail, a shared name key), fetched with one query per kind of key;
  a row that is someone already in the base, or someone an earlier row of the file already is, is merged
  into that record (new values and phones/e-mails/tags added, nothing removed);
- a row naming a record by the chosen key updates it, or is skipped when the record already holds its values;
  one naming it by an external id a merge gave it (`ExternalKey.merged`) is merged into it;
- companies are found by INN or name with one query per chunk, and the new ones created once, together.

What is written for each record is what the services write: the row, its phones, e-mails and tags, its
match keys and search key, an audit entry and a timeline event.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.activities.models import Note
from krug.clients import services as clients
from krug.clients.models import Company, Contact, ContactEmail, ContactPhone, Tag, TimelineEvent
from krug.core import audit, bulk, memo, permissions
from krug.core import changes as field_changes
from krug.core.errors import DomainError, ValidationFailed
from krug.core.models import AuditEntry
from krug.quality import duplicates, normalize
from krug.quality.models import CompanyKey, ContactKey, QualitySettings
from krug.quality.scan import ContactRow, MatchRules, find_duplicates, forget_names
from krug.transfer import importer, name_index
from krug.transfer.models import ExternalKey
from krug.transfer.rows import entry_text, to_data

CREATED, UPDATED, MERGED, SKIPPED, FAILED = "created", "updated", "merged", "skipped", "failed"
SCALARS = ("surname", "first_name", "patronymic", "position", "job_title", "company_id", "birthday", "city",
           "source", "client_type", "opt_out", "consent_at", "custom", "owner_id")
REKEYING = frozenset({"surname", "first_name", "company_id", "city"})  # what a contact's name keys are made of
_IN_BATCH = 20_000  # values per lookup (one array parameter)


@dataclass(eq=False)
class NewCompany:
    """A company the chunk creates once all its rows are decided (so a company nobody keeps is not made)."""

    name: str
    inn: str
    fields: dict
    cache_key: str  # its place in the run's `ctx.companies`
    id: int | None = None
    named_at: int = 0  # the file row that first names it: a row before it giving only the INN finds no company
    created_at: Any = None  # when it came to the business, if its row says (a company row's «Дата создания»)


@dataclass(eq=False)
class Card:
    """A contact as the chunk leaves it: one from the base (`before` holds it as it was) or a new one."""

    id: int | None
    fields: dict[str, Any]
    phones: list[dict]
    emails: list[dict]
    tags: list[str]
    before: dict | None = None
    changed: set[str] = field(default_factory=set)
    external_ids: list[str] = field(default_factory=list)
    merged_ids: set[str] = field(default_factory=set)  # those of them rows merged into it gave (ExternalKey.merged)
    keys: frozenset[str] | None = None  # its name keys, when known to be current
    created_at: Any = None  # a new one's «Дата создания», when its row gives one

    @property
    def new(self) -> bool:
        return self.before is None


@dataclass(eq=False)
class Row:
    number: int
    cells: list[str]
    data: dict = field(default_factory=dict)
    company: tuple[str, str] | None = None
    company_key: str = ""  # its place in the run's `ctx.companies` (`company_cache_key`), "" without a company
    external_id: str = ""
    outcome: str = ""
    errors: list[dict] = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    related: dict = field(default_factory=dict)
    key_target: int | None = None
    key_merge: bool = False  # it names its record by an external id a merge gave it: it is merged too
    partners: list[tuple[float, list[str], Any]] = field(default_factory=list)
    keys: frozenset[str] | None = None  # the name keys it was matched by
    notes: tuple[str, ...] = ()  # its comment columns' texts, each a note on its record's timeline
    unclean: DomainError | None = None  # why it cannot be a new record, when it may name one the chunk makes

    def fail(self, exc: DomainError) -> None:
        self.outcome = FAILED
        found = [{"field": f, "message": m} for f, ms in exc.errors.items() for m in ms]
        self.errors = found or [{"field": "", "message": exc.message}]


@dataclass(eq=False)
class Recent:
    """What a chunk writes, kept for the chunk after it: when the writer runs beside the reader (a pipelined
    run), the next chunk is read while this one may not be committed yet. Each read takes the database's
    answer and this one together, and a record here is taken as it is here (its state after the chunk)."""

    cards: dict[int, Card] = field(default_factory=dict)
    created: set[int] = field(default_factory=set)
    keys: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    phones: dict[str, list[tuple[int, bool]]] = field(default_factory=lambda: defaultdict(list))
    emails: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    external: dict[str, int] = field(default_factory=dict)
    merged: set[str] = field(default_factory=set)  # which of `external` are a merge's (ExternalKey.merged)
    company_inns: dict[str, int] = field(default_factory=dict)
    company_names: dict[str, int] = field(default_factory=dict)  # by name (duplicates.company_skeleton)
    notes: dict[int, set[str]] = field(default_factory=dict)  # the texts of the notes it put on each contact

    def remember(self, card: Card) -> None:
        self.cards[card.id] = card
        for phone in card.phones:
            self.phones[phone["number"]].append((card.id, phone.get("valid", True)))
        for email in card.emails:
            self.emails[email["email"].casefold()].append(card.id)


@dataclass(eq=False)
class Plan:
    """A decided chunk: the rows with their outcomes, the statements that write it, in order, and what it
    writes for the next chunk to see."""

    rows: list[Row]
    steps: list[tuple[Any, tuple, dict]] = field(default_factory=list)
    recent: Recent = field(default_factory=Recent)

    def add(self, step, *args, **kwargs) -> None:
        self.steps.append((step, args, kwargs))


@dataclass(eq=False)
class KeyRows:
    """Name-key rows to store, column by column (as `bulk.insert_bigints` takes them)."""

    keys: list[str] = field(default_factory=list)
    records: list[int] = field(default_factory=list)
    hashes: list[int] = field(default_factory=list)

    def add(self, record: int, keys) -> None:
        """The record's keys, hashed all at once by `hash` (a call per record was a fifth of their cost)."""
        self.keys += keys
        self.records += [record] * len(keys)

    def hash(self) -> None:
        self.hashes = _key_hashes(self.keys)

    def store(self, plan: Plan, model) -> None:
        """Write them in the order of their hashes: a chunk's 45,000 keys then go into the key table's
        b-tree page after page, not to 45,000 random places (at a million contacts, past the server's
        buffers)."""
        import numpy as np

        if len(self.hashes) != len(self.keys):
            self.hash()
        hashes = np.asarray(self.hashes, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")
        hashes, records = hashes[order].tolist(), np.asarray(self.records, dtype=np.int64)[order].tolist()
        plan.add(bulk.insert_bigints, model, ("hash", "record_id"), hashes, records)


def flush(plan: Plan) -> None:
    """Write a decided chunk; the caller's transaction holds it (with the failed rows and the checkpoint)."""
    for step, args, kwargs in plan.steps:
        step(*args, **kwargs)


def keep_first(found: dict, value, pk: int) -> None:
    """Keep the smallest id for a value, as the database's `ORDER BY id` would."""
    if value not in found or pk < found[value]:
        found[value] = pk


def batches(values: list) -> list[list]:
    return [values[i:i + _IN_BATCH] for i in range(0, len(values), _IN_BATCH)]


def named_by_external_id(entity: str, model, external_ids, *fields: str, merged: set[str] | None = None
                         ) -> dict[str, Any]:
    """The live records of `model` that external ids name (kept by an earlier import), by external id; with
    `fields`, only those are read. `merged` takes in those of the ids a merge gave (`ExternalKey.merged`)."""
    pairs: list[tuple[str, int]] = []
    for batch in batches(sorted(set(external_ids))):
        for external_id, pk, by_merge in ExternalKey.objects.filter(
                entity=entity, external_id__in_array=batch).values_list("external_id", "record_id", "merged"):
            pairs.append((external_id, pk))
            if by_merge and merged is not None:
                merged.add(external_id)
    records: dict[int, Any] = {}
    for batch in batches(sorted({pk for _e, pk in pairs})):
        alive = model.objects.alive().filter(pk__in_array=batch)
        records.update((r.pk, r) for r in (alive.only(*fields) if fields else alive))
    return {external_id: records[pk] for external_id, pk in pairs if pk in records}


# ---- companies ------------------------------------------------------------------------------------------

def company_of(ctx, row: Row):
    """The company a row names: its id, a NewCompany, the DomainError that refused it, or None."""
    ref = ctx.companies.get(row.company_key) if row.company_key else None
    if isinstance(ref, NewCompany) and ref.id is None and row.number < ref.named_at:
        return importer.no_company(ref.inn)  # as on the per-row path, where the row naming it comes later
    return ref


def resolve_companies(ctx, rows: list[Row], recent: Recent) -> None:
    """Find the companies the rows name (INN first, then the exact name), or plan their creation."""
    wanted: dict[str, tuple[str, str]] = {}
    named_at: dict[str, int] = {}
    owners: dict[str, dict] = {}  # the owner of the row that names a company, which a new one gets
    for row in rows:
        key = row.company_key
        if not key:
            continue
        name, known = row.company[0], ctx.companies.get(key)
        if known is not None and not (name and isinstance(known, importer.NoCompany)):
            continue  # found, made or refused already; but a company no row had named yet may be named now
        if key not in wanted or (name and not wanted[key][0]):
            wanted[key] = row.company
            if name:
                named_at[key] = row.number
                owners[key] = importer.company_owner(ctx.job.by, row.data)
    if not wanted:
        return
    visible = Company.objects.visible_to(ctx.job.by)
    by_inn: dict[str, int] = {}
    inns = sorted({normalize.phone_digits(inn) for _name, inn in wanted.values() if inn} - {""})
    for batch in batches(inns):
        for pk, inn in visible.filter(inn__in_array=batch).order_by("pk").values_list("pk", "inn"):
            by_inn.setdefault(inn, pk)
    by_name: dict[str, int] = {}
    names = {core for name, _inn in wanted.values() if (core := _core(name))}
    name_keys = sorted({duplicates.company_name_key(normalize.split_legal_form(name)[1])
                        for name, _inn in wanted.values() if name})
    candidate_ids: set[int] = set()
    for batch in batches(name_keys):
        candidate_ids |= duplicates.keyed_records(duplicates.COMPANY, batch)
    for batch in batches(sorted(candidate_ids)):
        for pk, name in visible.filter(pk__in_array=batch).order_by("pk").values_list("pk", "name"):
            key = duplicates.company_skeleton(name)
            if key in names:
                by_name.setdefault(key, pk)
    for inn, pk in recent.company_inns.items():
        keep_first(by_inn, inn, pk)
    for key, pk in recent.company_names.items():
        if key in names:
            keep_first(by_name, key, pk)
    unseen = importer.held_inns({normalize.phone_digits(inn) for _name, inn in wanted.values() if inn} - {""}
                                - by_inn.keys())
    for cache_key, (name, inn) in wanted.items():
        found = by_inn.get(normalize.phone_digits(inn)) if inn else None
        if found is None and inn and normalize.phone_digits(inn) in unseen:
            ctx.companies[cache_key] = importer.unseen_company(inn)
            continue
        if found is None and name:
            found = by_name.get(_core(name) or None)
        if found is not None:
            ctx.companies[cache_key] = found
            continue
        if not name:
            ctx.companies[cache_key] = importer.no_company(inn)
            continue
        try:
            fields = clients._clean_company(ctx.job.by, {"name": name, "inn": inn, **owners[cache_key]}, current=None)
        except ValidationFailed as exc:
            ctx.companies[cache_key] = ValidationFailed("company", errors={
                ("company_inn" if k == "inn" else "company"): v for k, v in exc.errors.items()})
            continue
        ctx.companies[cache_key] = NewCompany(fields["name"], fields.get("inn", ""), fields, cache_key,
                                              named_at=named_at[cache_key])


def _core(name: str) -> str:
    """What a row's company name is found by: its skeleton without the legal form it is written with, as the
    company is stored (`clients.services.with_legal_form`)."""
    return duplicates.company_skeleton(normalize.split_legal_form(name)[1])


def company_names(ctx, ids: set[int]) -> None:
    missing = sorted(i for i in ids if i not in ctx.company_names)
    for batch in batches(missing):
        ctx.company_names.update(Company.objects.filter(pk__in_array=batch).values_list("pk", "name"))


def _company_name(ctx, ref) -> str:
    if ref is None:
        return ""
    return ref.name if isinstance(ref, NewCompany) else ctx.company_names.get(ref, "")


def create_companies(ctx, companies: list[NewCompany], plan: Plan) -> None:
    if not companies:
        return
    by = ctx.job.by
    ids = bulk.take_ids(Company, len(companies))
    now = timezone.now()
    rows, entries, events, keys = [], [], [], KeyRows()
    company_type = ContentType.objects.get_for_model(Company)
    created = _("Company created: %(name)s")
    for pk, company in zip(ids, companies, strict=True):
        company.id = pk
        fields = {k: v for k, v in company.fields.items() if k != "owner"}
        owner = company.fields.get("owner")
        row = {**fields, "id": pk, "owner_id": getattr(owner, "pk", None), "created_by_id": by.pk,
               "updated_by_id": by.pk, "created_at": company.created_at or now, "updated_at": now,
               "search_key": clients.company_search_key(fields["name"], fields.get("inn"), fields.get("city"),
                                                        fields.get("address"))}
        rows.append(row)
        keys.add(pk, duplicates.company_keys(company.name, company.inn))
        changes = {name: [None, _plain(row.get(f"{name}_id" if name == "owner" else name))]
                   for name in Company.audited_fields}
        shown = str(Company(name=company.name, legal_form=fields.get("legal_form", "")))  # as its card names it
        entries.append(audit_row(company_type, pk, shown, AuditEntry.Action.CREATE, by.pk,
                              {k: v for k, v in changes.items() if v[1] not in _EMPTY}, now))
        events.append(event_row(TimelineEvent.Kind.CREATED, company_type, pk, by.pk, None, pk,
                             created % {"name": shown}, {}, company.created_at or now))
        ctx.company_names[pk] = company.name
        if company.inn:
            plan.recent.company_inns[company.inn] = pk
        if core := duplicates.company_skeleton(company.name):
            plan.recent.company_names[core] = pk
    plan.add(bulk.insert, Company, rows, with_ids=True)
    keys.store(plan, CompanyKey)
    plan.add(write_history, entries, events)
    for company in companies:  # not a walk over all of the run's companies, some 100,000 by its end
        ctx.companies[company.cache_key] = company.id


def audit_row(content_type, pk, title, action, by_id: int, changes, now) -> dict:
    return {"content_type_id": content_type.pk, "object_id": pk, "object_repr": str(title)[:300], "action": action,
            "user_id": by_id, "changes": changes, "at": now}


def event_row(kind, content_type, pk, by_id: int, contact_id, company_id, summary, data, now) -> dict:
    return {"kind": kind, "source_type_id": content_type.pk, "source_id": pk, "contact_id": contact_id,
            "company_id": company_id, "actor_id": by_id, "summary": summary[:500], "data": data,
            "at": now, "hidden": False, "deal_id": None}


def _plain(value):
    """audit.plain, quick for the plain values most fields hold."""
    return value if value is None or isinstance(value, (str, int)) else audit.plain(value)


def write_history(entries: list[dict], events: list[dict]) -> None:
    if entries:
        bulk.insert(AuditEntry, entries)
    if events:
        bulk.insert(TimelineEvent, events)


# ---- reading the rows ------------------------------------------------------------------------------------

def prepare(ctx, chunk: list[tuple[int, list[str]]]) -> list[Row]:
    rows = []
    for number, cells in chunk:
        row = Row(number, cells)
        rows.append(row)
        data, errors = to_data(ctx.job.entity, ctx.job.mapping, cells, ctx.owners, ctx.values)
        if errors:
            row.outcome = FAILED
            row.errors = importer.problems(ctx, data, errors)
            continue
        if not any(v for k, v in data.items() if k != "owner_id"):
            row.outcome = SKIPPED
            continue
        name, inn = data.pop("company", ""), data.pop("company_inn", "")
        if name or inn:
            row.company, row.company_key = (name, inn), importer.company_cache_key(name, inn)
        row.external_id = data.pop("external_id", "")
        if "notes" in data:  # written apart from the record (`_new_notes`), as the per-row path adds them
            row.notes = tuple(data.pop("notes"))
        data.pop(importer.KRUG_ID, None)  # a key only (the per-row path's, `importer._named`)
        row.data = data
    return rows


def _find_by_key(ctx, rows: list[Row], recent: Recent) -> None:
    """The base record each row names by the job's key (external id, e-mail or phone), if any."""
    key = ctx.job.key
    live = [r for r in rows if not r.outcome]
    if not key or not live:
        return
    visible = Contact.objects.visible_to(ctx.job.by)
    found: dict[str, int] = {}
    if key == "external_id":
        merged: set[str] = set()
        named = named_by_external_id("contacts", Contact, (r.external_id for r in live if r.external_id), "pk",
                                     merged=merged)
        found = {e: contact.pk for e, contact in named.items()}
        found.update(recent.external)
        merged = (merged - recent.external.keys()) | recent.merged
        for row in live:
            row.key_target = found.get(row.external_id)
            row.key_merge = row.key_target is not None and row.external_id in merged
        return
    values = {index: _named_values(key, row) for index, row in enumerate(live)}
    wanted = sorted({v for vs in values.values() for v in vs})
    for batch in batches(wanted):
        if key == "email":
            pairs = list(visible.filter(emails__email_key__in_array=batch).values_list("emails__email_key", "pk"))
        else:
            owners = duplicates.phone_owners(batch)
            seen = set(visible.filter(pk__in_array=sorted({pk for _n, pk in owners})).values_list("pk", flat=True))
            pairs = [(number, pk) for number, pk in owners if pk in seen]
        for value, pk in sorted(pairs, key=lambda pair: pair[1]):
            found.setdefault(value, pk)
    for value in wanted:
        for pk in recent.emails.get(value, ()) if key == "email" else (p for p, _v in recent.phones.get(value, ())):
            keep_first(found, value, pk)
    for index, vs in values.items():
        live[index].key_target = next((found[v] for v in vs if v in found), None)


def _named_values(key: str, row: Row) -> list[str]:
    """The values of the job's key a row names its record by, as `importer._find_contact` compares them."""
    if key == "external_id":
        return [row.external_id] if row.external_id else []
    if key == "email":
        return [entry_text(e, "email").strip().casefold() for e in row.data.get("emails", [])]
    numbers = []
    for raw in row.data.get("phones", []) if key == "phone" else ():
        try:
            numbers.append(normalize.phone(entry_text(raw, "number"))[0])
        except ValueError:
            continue
    return numbers


def _clean(ctx, rows: list[Row]) -> None:
    """Each new row cleaned as a create would clean it: the values the duplicate check compares. A row that
    would not make a record but names one by the job's key (`ID;Комментарий` without a name) waits for
    `_decide`: an earlier row of the chunk may make that record."""
    key = ctx.job.key
    for row in rows:
        if row.outcome or row.key_target is not None:
            continue
        ref = company_of(ctx, row)
        if isinstance(ref, DomainError):
            row.fail(ref)
            continue
        try:
            row.fields, row.related = clients._clean_contact(ctx.job.by, row.data, current=None)
        except ValidationFailed as exc:
            if key and _named_values(key, row):
                row.unclean = exc.with_traceback(None)  # its traceback would hold the chunk (bulk_companies)
            else:
                row.fail(exc)


# ---- duplicates ------------------------------------------------------------------------------------------

def _probe(ctx, row: Row, index: int) -> ContactRow:
    ref = company_of(ctx, row)
    f = row.fields
    return ContactRow(-(index + 1), f.get("surname") or "", f.get("first_name") or "", f.get("patronymic") or "",
                      _company_name(ctx, ref), f.get("city") or "",
                      tuple(p["number"] for p in row.related.get("phones", [])),
                      tuple(e["email"].casefold() for e in row.related.get("emails", [])))


def _match(ctx, rows: list[Row], recent: Recent) -> set[int]:
    """Fill each new row's `partners`: base contacts and earlier rows it probably is, best first. Returns the
    ids of the base contacts involved."""
    new = [(i, r) for i, r in enumerate(rows) if not r.outcome and r.key_target is None and r.unclean is None]
    if not new:
        return set()
    probes = {i: _probe(ctx, r, i) for i, r in new}
    kinds = {i: duplicates.contact_key_kinds(p.surname, p.first_name, p.company, p.city) for i, p in probes.items()}
    keys_of = {i: frozenset(at_company + in_city) for i, (at_company, in_city) in kinds.items()}
    for i, keys in keys_of.items():
        rows[i].keys = keys
    rules = MatchRules.from_dict(QualitySettings.current().match_rules)
    index, phone_index = ctx.name_index or None, ctx.phone_index or None  # see _indexes, in plan_chunk
    exact = [duplicates.exact_key(keys) for keys in keys_of.values()]
    if index is not None:
        holders, candidates = _names_in_memory(index, exact)
    else:
        holders, candidates = _names_from_database(ctx, keys_of, recent, rules)
    common = _common_names(exact, holders, rules.max_namesakes)
    # such a row's keys in its city cannot make a match (the matcher drops the name and city evidence of a
    # common name), so only its company's keys choose its namesakes: at a million contacts a quarter of the
    # rows are that common, and their neighbours in the city were a fifth of all candidates read
    ids = candidates({i: frozenset(filter(duplicates.is_company_key, keys)) if is_common else keys
                      for (i, keys), is_common in zip(keys_of.items(), common, strict=True)})
    phones = sorted({n for p in probes.values() for n in p.phones})
    emails = sorted({e for p in probes.values() for e in p.emails})
    if phone_index is not None:  # it holds what the chunk before wrote, too
        ids |= phone_index.records(_key_hashes(phones))
    else:
        for batch in batches(phones):
            ids |= {pk for _number, pk in duplicates.phone_owners(batch, valid=True)}
        ids |= {pk for n in phones for pk, valid in recent.phones.get(n, ()) if valid}
    for batch in batches(emails):
        ids |= set(ContactEmail.objects.filter(email_key__in_array=batch).values_list("contact_id", flat=True))
    ids |= {pk for e in emails for pk in recent.emails.get(e, ())}
    base = _base_rows(ctx, ids, recent)
    import numpy as np

    all_rows = list(probes.values()) + base
    flags = np.zeros(len(all_rows), dtype=bool)
    flags[:len(common)] = common
    involved = set()
    for pair in find_duplicates(all_rows, rules, common=flags, probes=len(probes), probe_keys=list(kinds.values())):
        indexes = sorted(-x - 1 for x in (pair.a, pair.b) if x < 0)
        if len(indexes) == 2:  # two rows: the later one is the earlier one
            rows[indexes[1]].partners.append((pair.score, pair.reasons, ("row", indexes[0])))
        elif len(indexes) == 1:  # a row and a base contact
            contact = max(pair.a, pair.b)
            rows[indexes[0]].partners.append((pair.score, pair.reasons, contact))
            involved.add(contact)
    for row in rows:
        row.partners.sort(key=lambda p: -p[0])
    return involved


def _common_names(exact_keys: list[str | None], holders, max_namesakes: int) -> list[bool]:
    """Per row (in order), whether its name is too common in its city to say who is who: counted in the base
    (`holders` of its whole-name key, `duplicates.exact_key`) and in the rows before it, as the per-row check
    would count it."""
    seen: dict[str, int] = defaultdict(int)
    common = []
    for exact in exact_keys:
        count = holders(exact) + seen[exact] + 1 if exact else 1
        if exact:
            seen[exact] += 1
        common.append(count > max_namesakes)
    return common


def _indexes(ctx) -> None:
    """Load the name keys and the phones in memory at a run's first chunk, and tell them what other users
    changed since the chunk before; one that gives up is False from then on (the database is asked)."""
    if ctx.watch is None:
        ctx.watch = name_index.Watch()
        for attribute, load in (("name_index", name_index.load), ("phone_index", name_index.load_phones)):
            if getattr(ctx, attribute) is None:  # not refused already
                try:
                    setattr(ctx, attribute, load())
                except name_index.GaveUp:
                    setattr(ctx, attribute, False)
    changed = ctx.watch.changed(ctx.job.by) if ctx.name_index or ctx.phone_index else []
    for attribute, held in (("name_index", name_index.name_keys_of), ("phone_index", name_index.phones_of)):
        if getattr(ctx, attribute):
            _guarded(ctx, attribute, lambda index, held=held: index.catch_up(changed, held))


def _guarded(ctx, attribute: str, work) -> None:
    """Do `work` with one of the indexes in memory (`ctx.<attribute>`); one that gives up is dropped."""
    try:
        work(getattr(ctx, attribute))
    except name_index.GaveUp:
        setattr(ctx, attribute, False)


def _names_in_memory(index: name_index.NameIndex, exact_keys: list[str | None]):
    """How many base contacts hold each row's whole-name key (`exact_keys`, the rows' in order), and what
    chooses the base contacts that share name keys with the rows (see `_match`)."""
    exact = sorted(set(exact_keys) - {None})
    counts = dict(zip(exact, index.count(_key_hashes(exact)).tolist(), strict=True))

    def candidates(chosen: dict[int, frozenset[str]]) -> set[int]:
        probes = [i for i, keys in chosen.items() for _key in keys]
        keys = [key for held in chosen.values() for key in held]
        return index.match(probes, keys, _key_hashes(keys))[0]

    return lambda key: counts[key], candidates


def _names_from_database(ctx, keys_of: dict[int, frozenset[str]], recent: Recent, rules: MatchRules):
    """As `_names_in_memory`, asking the database (with what the chunk before wrote, `recent`)."""
    wanted = {k for ks in keys_of.values() for k in ks}
    members = {k: ctx.common_keys[k] for k in wanted & ctx.common_keys.keys()}
    asked = list(wanted - members.keys())
    members.update(duplicates.key_members(dict(zip(asked, _key_hashes(asked), strict=True))))
    for key in (wanted & recent.keys.keys()) - ctx.common_keys.keys():
        members[key] = list(dict.fromkeys([*members.get(key, ()), *recent.keys[key]]))
    for key, found in members.items():
        if key not in ctx.common_keys and duplicates.settled(key, found, rules.max_namesakes):
            ctx.common_keys[key] = found[:duplicates.COMPANY_BLOCK_LIMIT + 1]

    def candidates(chosen: dict[int, frozenset[str]]) -> set[int]:
        ids: set[int] = set()
        for keys in chosen.values():
            ids |= duplicates.name_candidates(keys, members)
        return ids

    return lambda key: len(members.get(key, ())), candidates


def _base_rows(ctx, ids: set[int], recent: Recent) -> list[ContactRow]:
    if not ids:
        return []
    people, phones, emails = {}, defaultdict(list), defaultdict(list)
    out = []
    for pk in ids & recent.cards.keys():
        f, card = recent.cards[pk].fields, recent.cards[pk]
        out.append(ContactRow(pk, f.get("surname") or "", f.get("first_name") or "", f.get("patronymic") or "",
                              _company_name(ctx, f.get("company_id")), f.get("city") or "",
                              tuple(p["number"] for p in card.phones if p.get("valid", True)),
                              tuple(e["email"].casefold() for e in card.emails)))
    wanted = sorted(ids - recent.cards.keys())
    if connection.vendor == "postgresql":
        return out + [ContactRow(pk, s or "", f or "", p or "", c or "", t or "", tuple(ps), tuple(es))
                      for batch in batches(wanted) for pk, s, f, p, c, t, ps, es in _base_rows_at_once(batch)]
    for batch in batches(wanted):
        for row in Contact.objects.alive().filter(pk__in_array=batch).order_by("pk").values_list(
                "pk", "surname", "first_name", "patronymic", "company__name", "city"):
            people[row[0]] = row
        for pk, number in ContactPhone.objects.filter(contact_id__in_array=batch, valid=True).order_by().values_list(
                "contact_id", "number"):
            phones[pk].append(number)
        for pk, key in ContactEmail.objects.filter(contact_id__in_array=batch).order_by().values_list(
                "contact_id", "email_key"):
            emails[pk].append(key)
    return out + [ContactRow(pk, s or "", f or "", p or "", c or "", t or "", tuple(phones[pk]), tuple(emails[pk]))
                  for pk, s, f, p, c, t in people.values()]


def _base_rows_at_once(ids: list[int]) -> list[tuple]:
    """The candidates' names, valid phones and e-mails in one statement, the lists as arrays: three queries
    (the third and second sorting a chunk's 12,000 phones and 6,000 e-mails by position, for nothing) were 49
    s of the server's time at the million, and the reading thread waited for each."""
    contact, company = Contact._meta.db_table, Company._meta.db_table
    phone, email = ContactPhone._meta.db_table, ContactEmail._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.surname, c.first_name, c.patronymic, co.name, c.city, "
            f"ARRAY(SELECT p.number FROM {phone} p WHERE p.contact_id = c.id AND p.valid), "
            f"ARRAY(SELECT e.email_key FROM {email} e WHERE e.contact_id = c.id) "
            f"FROM {contact} c LEFT JOIN {company} co ON co.id = c.company_id "
            f"WHERE c.id IN (SELECT unnest(%s::bigint[])) AND c.deleted_at IS NULL ORDER BY c.id",
            [bulk.int_array(ids)])
        return cursor.fetchall()


# ---- the records in play ---------------------------------------------------------------------------------

def _load_cards(ids: set[int], recent: Recent) -> dict[int, Card]:
    cards: dict[int, Card] = {}
    for pk in ids & recent.cards.keys():
        card = recent.cards[pk]
        fields = dict(card.fields)
        if isinstance(fields.get("custom"), dict):
            fields["custom"] = dict(fields["custom"])
        cards[pk] = Card(pk, fields, [dict(p) for p in card.phones], [dict(e) for e in card.emails], list(card.tags))
    for batch in batches(sorted(ids - recent.cards.keys())):
        for values in Contact.objects.alive().filter(pk__in_array=batch).values("pk", "version", *SCALARS):
            pk = values.pop("pk")
            cards[pk] = Card(pk, values, [], [], [])
        for values in ContactPhone.objects.filter(contact_id__in_array=batch).values(
                "contact_id", "number", "extension", "raw", "valid", "kind"):
            card = cards.get(values.pop("contact_id"))
            if card:
                card.phones.append(values)
        for values in ContactEmail.objects.filter(contact_id__in_array=batch).values("contact_id", "email", "kind"):
            card = cards.get(values.pop("contact_id"))
            if card:
                card.emails.append(values)
        for pk, name in Contact.tags.through.objects.filter(contact_id__in_array=batch).values_list(
                "contact_id", "tag__name"):
            if pk in cards:
                cards[pk].tags.append(name)
    for card in cards.values():
        card.tags.sort()
        card.before = {"fields": dict(card.fields), "phones": [(p["number"], p["kind"]) for p in card.phones],
                       "emails": [(e["email"], e["kind"]) for e in card.emails], "tags": list(card.tags)}
    return cards


def _apply(ctx, card: Card, row: Row, company_ref, *, merge: bool) -> bool:
    """Add a row's values to a record the way an update does (lists grow, nothing is removed), or a merge does
    (`importer.for_merge`: only what the record lacks); whether anything changed. A bad value raises
    ValidationFailed and changes nothing."""
    current = SimpleNamespace(surname=card.fields.get("surname") or "", first_name=card.fields.get("first_name") or "",
                              patronymic=card.fields.get("patronymic") or "", custom=card.fields.get("custom") or {})
    data = importer.for_merge(row.data, card.fields.get) if merge else row.data
    fields, related = clients._clean_contact(ctx.job.by, data, current=current)
    changed = False
    values = {("owner_id" if k == "owner" else k): (getattr(v, "pk", None) if k == "owner" else v)
              for k, v in fields.items()}
    if row.company and not (merge and card.fields.get("company_id")):
        values["company_id"] = company_ref
    for name, value in values.items():
        if name == "custom":
            value = {**(card.fields.get("custom") or {}), **value}
        if card.fields.get(name) != value:
            card.fields[name] = value
            card.changed.add(name)
            changed = True
    numbers = {(p["number"], p["extension"]): p for p in card.phones}
    for phone in related.get("phones", []):
        held = numbers.get((phone["number"], phone["extension"]))
        if held is None:
            card.phones.append(phone)
            numbers[(phone["number"], phone["extension"])] = phone
        elif not _kind_told(held, phone["kind"], ContactPhone.Kind.MOBILE):
            continue
        card.changed.add("phones")
        changed = True
    addresses = {e["email"].casefold(): e for e in card.emails}
    for email in related.get("emails", []):
        held = addresses.get(email["email"].casefold())
        if held is None:
            card.emails.append(email)
            addresses[email["email"].casefold()] = email
        elif not _kind_told(held, email["kind"], ContactEmail.Kind.WORK):
            continue
        card.changed.add("emails")
        changed = True
    tag_keys = {normalize.search_key(t) for t in card.tags}
    for tag in related.get("tags", []):
        if normalize.search_key(tag) not in tag_keys:
            card.tags.append(tag)
            tag_keys.add(normalize.search_key(tag))
            card.changed.add("tags")
            changed = True
    return changed


def _kind_told(held: dict, kind: str, default: str) -> bool:
    """Give a phone or e-mail the record has the kind a row's column says, when his is only the default (as
    `importer.with_kinds` does on the per-row path); whether it did."""
    if kind == default or held["kind"] != default:
        return False
    held["kind"] = kind
    return True


def _new_card(row: Row, company_ref) -> Card:
    fields = {("owner_id" if k == "owner" else k): (getattr(v, "pk", None) if k == "owner" else v)
              for k, v in row.fields.items()}
    fields["company_id"] = company_ref
    return Card(None, fields, list(row.related.get("phones", [])), list(row.related.get("emails", [])),
                list(row.related.get("tags", [])), keys=row.keys, created_at=row.data.get("created_at"))


def _key_values(key: str, card: Card) -> list[str]:
    if key == "email":
        return [e["email"].casefold() for e in card.emails]
    if key == "phone":
        return [p["number"] for p in card.phones]
    if key == "external_id":
        return list(card.external_ids)
    return []


def _decide(ctx, rows: list[Row], cards: dict[int, Card], changeable: set[int], noted: list) -> list[Card]:
    """Walk the rows in file order: each creates a record, updates or merges into one, or fails. A row with
    notes goes to `noted` with its record's company and owner as it leaves them (the note's)."""
    key = ctx.job.key
    made: list[Card] = []
    by_row: dict[int, Card] = {}
    by_key: dict[str, Card] = {}
    for index, row in enumerate(rows):
        if row.outcome:
            continue
        ref = company_of(ctx, row)
        if isinstance(ref, DomainError):
            row.fail(ref)
            continue
        target, outcome = None, UPDATED
        if row.key_target is not None:
            if row.key_target not in changeable:
                row.fail(importer.not_yours(key))
                continue
            target = cards.get(row.key_target)
        elif key:
            if key == "external_id" or row.unclean is not None:
                wanted = _named_values(key, row)
            elif key == "email":
                wanted = [e["email"].casefold() for e in row.related.get("emails", [])]
            else:
                wanted = [p["number"] for p in row.related.get("phones", []) if p.get("valid", True)]
            target = next((by_key[v] for v in wanted if v in by_key), None)
            row.key_merge = key == "external_id" and target is not None and row.external_id in target.merged_ids
            if target is None and row.unclean is not None:  # no earlier row made it: a new record, refused
                row.fail(row.unclean)
                continue
        if target is None and row.partners:
            outcome = MERGED
            for _score, _reasons, partner in row.partners:
                if isinstance(partner, tuple):
                    target = by_row.get(partner[1])
                elif partner in changeable:
                    target = cards.get(partner)
                if target is not None:
                    break
            if target is None:
                row.fail(_refusal(row))
                continue
        try:
            if target is None:
                card = _new_card(row, ref)
                made.append(card)
                row.outcome = CREATED
            else:
                card = target
                merge = outcome == MERGED or row.key_merge
                changed = _apply(ctx, card, row, ref, merge=merge)
                row.outcome = (MERGED if merge else UPDATED) if changed or outcome == MERGED else SKIPPED
        except ValidationFailed as exc:
            row.fail(exc)
            continue
        by_row[index] = card
        if row.notes:
            noted.append((row, card, card.fields.get("company_id"), card.fields.get("owner_id")))
        if row.external_id and row.external_id not in card.external_ids:
            card.external_ids.append(row.external_id)
        if row.external_id and (row.outcome == MERGED or row.key_merge):  # as `importer.keep_external_id`
            card.merged_ids.add(row.external_id)
        elif row.external_id:
            card.merged_ids.discard(row.external_id)
        for value in _key_values(key, card) if key else ():
            by_key.setdefault(value, card)
    return made


def _settle(card: Card) -> set[str]:
    """The fields a record from the base holds changed once its chunk's rows are decided: a field a row set and
    a later one set back is none (two rows of one ID, or a duplicate's row updating by key, gave an empty
    «Changed: owner, position», owner 5 → 5, and a new version on every re-run)."""
    before = card.before["fields"] if card.before else {}
    card.changed -= {name for name in card.changed if name in SCALARS and card.fields.get(name) == before.get(name)}
    return card.changed


def _refusal(row: Row) -> DomainError:
    """Why a row whose doubles its user may not change fails: the reasons of the best of them that is a record,
    as the check on entry names them (an earlier row of the file that failed is none: it wrote nothing)."""
    _score, reasons, _partner = next((p for p in row.partners if not isinstance(p[2], tuple)), row.partners[0])
    return importer.duplicate_refused(Contact._meta.verbose_name, reasons)


# ---- writing ---------------------------------------------------------------------------------------------

def _tag_ids(names: set[str]) -> dict[str, int]:
    """Tag id by key, creating the tags that do not exist yet."""
    keys = {normalize.search_key(n): n for n in names}
    found = dict(Tag.objects.filter(key__in=list(keys)).values_list("key", "pk")) if keys else {}
    missing = [{"name": name, "key": key} for key, name in keys.items() if key not in found]
    if missing:
        Tag.objects.bulk_create([Tag(**m) for m in missing], ignore_conflicts=True)
        found = dict(Tag.objects.filter(key__in=list(keys)).values_list("key", "pk"))
    return found


def _write_tags(links: list[tuple[int, str]]) -> None:
    if not links:
        return
    ids = _tag_ids({name for _pk, name in links})
    bulk.insert(Contact.tags.through, [{"contact_id": pk, "tag_id": ids[normalize.search_key(name)]}
                                       for pk, name in links])


def _search_key(ctx, card: Card) -> str:
    f = card.fields
    return clients.contact_search_key(f.get("surname"), f.get("first_name"), f.get("patronymic"),
                                      _company_name(ctx, f.get("company_id")))


def _title(card: Card) -> str:
    f = card.fields
    return " ".join(filter(None, (f.get("surname"), f.get("first_name"), f.get("patronymic")))) or f"#{card.id}"


def _audited() -> list[tuple[str, str]]:
    """(audited field, the attribute holding its value in a card's fields)."""
    return [(name, f"{name}_id" if name in ("company", "owner") else name) for name in Contact.audited_fields]


_EMPTY = (None, "", [], {})  # values a created record's audit entry leaves out


def _build(ctx, made: list[Card], changed: list[Card], plan: Plan, notes: list) -> None:
    """Turn the chunk's new and changed records, and the notes the rows put on them (`_new_notes`), into the
    statements that write them (`plan.steps`), and remember what they write for the next chunk (`plan.recent`)."""
    by, now, recent = ctx.job.by, timezone.now(), plan.recent
    companies: dict[int, NewCompany] = {}
    for card in made + changed:
        ref = card.fields.get("company_id")
        if isinstance(ref, NewCompany) and ref.id is None:
            companies.setdefault(id(ref), ref)
    create_companies(ctx, list(companies.values()), plan)
    for card in made + changed:
        ref = card.fields.get("company_id")
        if isinstance(ref, NewCompany):
            card.fields["company_id"] = ref.id
    company_names(ctx, {c.fields["company_id"] for c in made + changed if c.fields.get("company_id")})
    contact_type = ContentType.objects.get_for_model(Contact)
    # translated once a chunk: Django's gettext takes some 8 µs a call, 5% of building the rows
    created, changed_fields = _("Contact created: %(name)s"), _("Changed: %(fields)s")
    phones, emails, tags, entries, events, keys = [], [], [], [], [], KeyRows()
    kinds: list[tuple] = []  # (model, contact, number or e-mail, extension, kind) of those whose kind a row told
    for card, pk in zip(made, bulk.take_ids(Contact, len(made)), strict=True):
        card.id = pk
    rows_out = []
    audited, by_id = _audited(), by.pk
    for card in made:
        f, pk = card.fields, card.id
        title = _title(card)
        rows_out.append({**f, "id": pk, "version": 1, "created_by_id": by_id, "updated_by_id": by_id,
                         "created_at": card.created_at or now, "updated_at": now,
                         "search_key": _search_key(ctx, card)})
        if card.phones:
            phones += [_phone_row(pk, i, p) for i, p in enumerate(card.phones)]
        if card.emails:
            emails += [_email_row(pk, i, e) for i, e in enumerate(card.emails)]
        if card.tags:
            tags += [(pk, t) for t in card.tags]
        keys.add(pk, _match_keys(ctx, card))
        changes = {name: [None, _plain(value)] for name, attribute in audited
                   if (value := f.get(attribute)) not in _EMPTY}
        if card.phones:
            changes["phones"] = [[], [p["number"] for p in card.phones]]
        if card.emails:
            changes["emails"] = [[], [e["email"] for e in card.emails]]
        if card.tags:
            changes["tags"] = [[], sorted(card.tags)]
        entries.append(audit_row(contact_type, pk, title, AuditEntry.Action.CREATE, by_id, changes, now))
        events.append(event_row(TimelineEvent.Kind.CREATED, contact_type, pk, by_id, pk, f.get("company_id"),
                             created % {"name": title}, {}, card.created_at or now))
        recent.created.add(pk)
    if rows_out:
        plan.add(bulk.insert, Contact, rows_out, with_ids=True)
    rekeyed = []
    grouped: dict[tuple[str, ...], list[list]] = defaultdict(list)
    for card in changed:
        columns = tuple(sorted(n for n in card.changed if n in SCALARS))
        grouped[columns].append([*(card.fields[n] for n in columns), _search_key(ctx, card), now, by.pk, card.id])
        old = card.before
        diff = {n: [_plain(old["fields"].get(n)), _plain(card.fields.get(n))] for n in columns}
        if "phones" in card.changed:
            phones += [_phone_row(card.id, i, p) for i, p in enumerate(card.phones) if i >= len(old["phones"])]
            kinds += [(ContactPhone, card.id, p["number"], p["extension"], p["kind"])
                      for p, (_number, kind) in zip(card.phones, old["phones"], strict=False) if p["kind"] != kind]
            diff["phones"] = clients.listed_change(old["phones"], [(p["number"], p["kind"]) for p in card.phones])
        if "emails" in card.changed:
            emails += [_email_row(card.id, i, e) for i, e in enumerate(card.emails) if i >= len(old["emails"])]
            kinds += [(ContactEmail, card.id, e["email"], "", e["kind"])
                      for e, (_email, kind) in zip(card.emails, old["emails"], strict=False) if e["kind"] != kind]
            diff["emails"] = clients.listed_change(old["emails"], [(e["email"], e["kind"]) for e in card.emails])
        if "tags" in card.changed:
            tags += [(card.id, t) for t in card.tags if t not in old["tags"]]
            diff["tags"] = [old["tags"], sorted(card.tags)]
        if REKEYING & card.changed:
            rekeyed.append(card.id)
            keys.add(card.id, _match_keys(ctx, card))
        names = {"company_id": "company", "owner_id": "owner"}
        diff = {names.get(k, k): v for k, v in diff.items()}
        entries.append(audit_row(contact_type, card.id, _title(card), AuditEntry.Action.UPDATE, by_id, diff, now))
        summary = changed_fields % {"fields": field_changes.summary(Contact, diff)}
        events.append(event_row(TimelineEvent.Kind.CHANGED, contact_type, card.id, by_id, card.id,
                             card.fields.get("company_id"), summary, diff, now))
    for columns, values in grouped.items():
        plan.add(bulk.update, Contact, [*columns, "search_key", "updated_at", "updated_by_id"], values, bump="version")
    for batch in batches(rekeyed):
        plan.add(_drop_keys, batch)
    keys.hash()
    if ctx.name_index:
        _guarded(ctx, "name_index", lambda index: index.add(keys.records, keys.hashes, replacing=rekeyed))
    if not ctx.name_index:  # the next chunk asks the database, which may not have these keys yet
        for card in made + [card for card in changed if REKEYING & card.changed]:
            for key in _match_keys(ctx, card):
                recent.keys[key].append(card.id)
    if ctx.phone_index:
        rephoned = [card for card in changed if "phones" in card.changed]
        numbers = [(card.id, p["number"]) for card in made + rephoned for p in card.phones if p.get("valid", True)]
        _guarded(ctx, "phone_index", lambda index: index.add(
            [pk for pk, _n in numbers], _key_hashes([n for _pk, n in numbers]),
            replacing=[card.id for card in rephoned]))
    plan.add(bulk.insert, ContactPhone, phones)
    plan.add(bulk.insert, ContactEmail, emails)
    if kinds:
        plan.add(_write_kinds, kinds)
    plan.add(_write_tags, tags)
    keys.store(plan, ContactKey)
    if notes:
        plan.add(bulk.insert, Note, note_rows(by_id, [(card.id, *rest) for card, *rest in notes], now, entries,
                                              events), with_ids=True)
        for card, text, _company, _owner in notes:
            recent.notes.setdefault(card.id, set()).add(text)
    plan.add(write_history, entries, events)
    for card in made + changed:
        recent.remember(card)


def _new_notes(noted: list, recent: Recent) -> list[tuple[Card, str, Any, int | None]]:
    """The notes the rows add (`noted`, from `_decide`), as `importer.add_notes` adds them: a text the contact
    holds already (in the base, written by the chunk before, or given by an earlier row) is not added again. A
    row that left its record as it was but for a new note updated it; one whose notes were all held is
    skipped still. One query for the chunk, and none without a comment column."""
    base = {card.id for _row, card, _company, _owner in noted if not card.new}
    found = importer.held_notes(Contact, base, {t for row, *_rest in noted for t in row.notes}) if base else {}
    held: dict[Card, set[str]] = {}
    out = []
    for row, card, company, owner in noted:
        if card not in held:
            held[card] = set() if card.new else found.get(card.id, set()) | recent.notes.get(card.id, set())
        add_new_notes(row, held[card], lambda text, card=card, company=company, owner=owner: out.append(
            (card, text, company, owner)))
    return out


def add_new_notes(row, held: set[str], add) -> None:
    """`add` each of the row's notes its record does not hold yet (`held`, which takes them in); a row that left
    its record as it was but for a new note updated it (or merged into it, named by a merge's external id)."""
    added = False
    for text in row.notes:
        if text not in held:
            held.add(text)
            add(text)
            added = True
    if added and row.outcome == SKIPPED:
        row.outcome = MERGED if row.key_merge else UPDATED


def note_rows(by_id: int, notes: list[tuple[int, str, Any, int | None]], now, entries: list, events: list) -> list:
    """The rows of new notes (contact id or None, text, company, owner: a NewCompany stands for its id), as
    `activities.services.add_past_note` writes them, with their audit entries and timeline events added to
    `entries` and `events`."""
    note_type = ContentType.objects.get_for_model(Note)
    summary = _("Note: %(text)s")  # translated once, as in `_build`
    rows = []
    for pk, (contact_id, text, company, owner_id) in zip(bulk.take_ids(Note, len(notes)), notes, strict=True):
        company_id = company.id if isinstance(company, NewCompany) else company
        rows.append({"id": pk, "text": text, "owner_id": owner_id, "contact_id": contact_id, "company_id": company_id,
                     "deal_id": None, "created_by_id": by_id, "updated_by_id": by_id, "created_at": now,
                     "updated_at": now, "version": 1, "deleted_at": None, "deleted_by_id": None})
        changes = {"text": [None, text], "owner": [None, owner_id], "contact": [None, contact_id],
                   "company": [None, company_id]}
        entries.append(audit_row(note_type, pk, text.splitlines()[0][:80], AuditEntry.Action.CREATE, by_id,
                                 {k: v for k, v in changes.items() if v[1] is not None}, now))  # as Note.__str__
        events.append(event_row(TimelineEvent.Kind.NOTE, note_type, pk, by_id, contact_id, company_id,
                                summary % {"text": normalize.tidy(text, 200)}, {}, now))
    return rows


def _write_kinds(kinds: list[tuple]) -> None:
    """The kinds rows gave phones and e-mails the records had (`_kind_told`): a statement each, as only a row whose
    column says a kind where the record had the default changes one."""
    for model, contact_id, value, extension, kind in kinds:
        rows = model.objects.filter(contact_id=contact_id)
        if model is ContactPhone:
            rows = rows.filter(number=value, extension=extension)
        else:
            rows = rows.filter(email_key=value.casefold())
        rows.update(kind=kind)


def _drop_keys(ids: list[int]) -> None:
    ContactKey.objects.filter(record_id__in_array=ids).delete()


def external_keys(pairs: dict[str, int], entity: str = "contacts", merged=frozenset()) -> None:
    """Point each external id at its record (a re-import may move one to the record it was merged into; one
    that named a deleted record is taken over); those in `merged` came with a row merged into it."""
    if not pairs:
        return
    for batch in batches(sorted(pairs)):
        ExternalKey.objects.filter(entity=entity, external_id__in_array=batch).delete()
    bulk.insert(ExternalKey, [{"entity": entity, "external_id": e, "record_id": pk, "merged": e in merged}
                              for e, pk in pairs.items()])


def _phone_row(contact_id: int, position: int, phone: dict) -> dict:
    return {"contact_id": contact_id, "position": position, "number": phone["number"],
            "extension": phone.get("extension", ""), "raw": phone.get("raw", ""), "valid": phone.get("valid", True),
            "kind": phone.get("kind", ContactPhone.Kind.MOBILE)}


def _email_row(contact_id: int, position: int, email: dict) -> dict:
    return {"contact_id": contact_id, "position": position, "email": email["email"],
            "email_key": email["email"].casefold(), "kind": email.get("kind", ContactEmail.Kind.WORK), "bounced": False}


def _key_hashes(keys) -> list[int]:
    """The stored form of each key, computed once a chunk: a chunk hashes its 40,000 keys to look them up,
    then most of them again to store them."""
    known = memo.remembered(_KEY_HASHES, dict)
    missing = list({key: None for key in keys if key not in known})
    if missing:
        known.update(zip(missing, duplicates.key_hashes(missing), strict=True))
    return [known[key] for key in keys]


_KEY_HASHES = "bulk_contacts.key_hashes"


def _match_keys(ctx, card: Card) -> frozenset[str]:
    """The card's name keys: those its row was matched with when it is new and so unchanged since, else
    computed again."""
    f = card.fields
    if card.keys is None or REKEYING & card.changed:
        card.keys = duplicates.contact_keys(f.get("surname"), f.get("first_name"),
                                            _company_name(ctx, f.get("company_id")), f.get("city"))
    return card.keys


# ---- one chunk -------------------------------------------------------------------------------------------

def plan_chunk(ctx, chunk: list[tuple[int, list[str]]], recent: Recent | None = None,
               settle=lambda: None) -> Plan:
    """Read and decide a chunk of contact rows. `recent` is what the chunk before wrote, when it may not be
    committed yet; `settle` waits until it is (for the one question only the database can answer)."""
    recent = recent or Recent()
    with memo.scope():
        # first of all: a run's first chunk loads them before anything of the run is written, and every
        # chunk writes its keys into them, new rows or not
        indexed = bool(ctx.name_index)
        _indexes(ctx)
        if indexed and not ctx.name_index:  # given up: the chunk before told its keys to it alone (`_build`),
            settle()  # so the database is asked once it has them
        rows = prepare(ctx, chunk)
        plan = Plan(rows)
        _find_by_key(ctx, rows, recent)
        resolve_companies(ctx, rows, recent)
        refs = (ctx.companies.get(row.company_key) for row in rows if row.company_key)
        company_names(ctx, {ref for ref in refs if isinstance(ref, int)})  # not all the run's 100,000
        _clean(ctx, rows)
        involved = _match(ctx, rows, recent)
        in_play = involved | {r.key_target for r in rows if r.key_target is not None}
        cards = _load_cards(in_play, recent)
        changeable = _changeable(ctx, in_play, recent, settle)
        noted: list[tuple[Row, Card, Any, int | None]] = []
        made = _decide(ctx, rows, cards, changeable, noted)
        changed = [c for c in cards.values() if _settle(c)]
        _build(ctx, made, changed, plan, _new_notes(noted, recent) if noted else [])
        pairs = {e: c.id for c in [*made, *cards.values()] for e in c.external_ids}
        merged = {e for c in [*made, *cards.values()] for e in c.merged_ids if pairs.get(e) == c.id}
        plan.add(external_keys, pairs, merged=merged)
        plan.recent.external.update(pairs)
        plan.recent.merged |= merged
        for card in cards.values():
            if card.external_ids and not card.changed:
                plan.recent.remember(card)
    forget_names()  # the matcher's name caches are sized for a full scan; a long import keeps them small
    return plan


def _changeable(ctx, ids: set[int], recent: Recent, settle) -> set[int]:
    """Which of the base contacts a row matched or names by the job's key its user may change."""
    found = changeable(Contact, ctx.job.by, ids)
    unseen = sorted((ids & recent.created) - found)
    if unseen and permissions.unrestricted(Contact, ctx.job.by, permissions.CHANGE):
        return found | set(unseen)  # made by the chunk before, so alive, and this user may change them all
    if unseen:  # made by the chunk before, which is still being written: ask once it is
        settle()
        found |= set(Contact.objects.filter(pk__in_array=unseen).visible_to(ctx.job.by, permissions.CHANGE)
                     .values_list("pk", flat=True))
    return found


def changeable(model, by, ids) -> set[int]:
    """Which of the records of `model` (by id) the user may change."""
    found: set[int] = set()
    for batch in batches(sorted(ids)):
        found |= set(model.objects.filter(pk__in_array=batch).visible_to(by, permissions.CHANGE)
                     .values_list("pk", flat=True))
    return found


def import_chunk(ctx, chunk: list[tuple[int, list[str]]]) -> list[Row]:
    """Decide and write a chunk of contact rows; the caller's transaction holds it all."""
    plan = plan_chunk(ctx, chunk)
    flush(plan)
    return plan.rows
