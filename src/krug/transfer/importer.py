"""Running an import: the rows of the file, chunk by chunk, through the same services as every other write.

Exactly once, even when the worker is killed: each chunk is one transaction that writes its rows, reports
its failed rows and moves the job's checkpoint (`done_rows`); the chunk first locks the job and checks the
checkpoint is where it started, so a second runner of the same job writes nothing twice. A restarted
worker resumes at the checkpoint.

What happens to a row:
- it names a record by the chosen key (external id, e-mail, phone, INN) → that record is **updated**, or
  **skipped** when it already holds these values (so re-running a file changes nothing);
- else it is created, unless it matches a record already in the base (or earlier in the file) the way the
  duplicate check on entry sees it: then it is **merged** into that record (new values and phones/e-mails
  added, nothing removed);
- a bad value **fails** the row with every problem named; the other rows go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from krug.core import bulk as core_bulk
from krug.core import memo
from krug.core.errors import DomainError, ValidationFailed
from krug.transfer import reading
from krug.transfer.models import ExternalKey, ImportJob, ImportRowError
from krug.transfer.rows import KIND_COLUMNS, Owners, entry_text, split_full_name, split_list, to_data

log = logging.getLogger(__name__)
CHUNK = 500
BULK_CHUNK = 5000  # rows per transaction on the set-based path (contacts)
CREATED, UPDATED, MERGED, SKIPPED, FAILED = "created", "updated", "merged", "skipped", "failed"


class Superseded(Exception):
    """Another runner moved the job's checkpoint: this one stops without writing."""


@dataclass
class Context:
    """What one run remembers across rows: owners by name, companies by INN or name."""

    job: ImportJob
    owners: Owners = field(default_factory=Owners)
    companies: dict[str, Any] = field(default_factory=dict)
    company_names: dict[int, str] = field(default_factory=dict)
    common_keys: dict[str, list[int]] = field(default_factory=dict)  # name keys too common to tell anyone apart
    name_index: Any = None  # the contacts' name keys in memory (transfer.name_index); False once it gave up
    phone_index: Any = None  # their valid phones, likewise
    watch: Any = None  # others' changes the two take in (name_index.Watch)
    bulk: bool = True
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # the user's value choices (transfer.values)
    stages: dict[int, dict[str, str]] = field(default_factory=dict)  # his stage choices by pipeline, likewise
    warnings: list[dict] = field(default_factory=list)  # the row's: imported, with a problem (`WARNING`)

    def __post_init__(self) -> None:
        from krug.transfer.stage_values import stage_choices
        from krug.transfer.values import substitutions

        self.values = self.values or substitutions(self.job)
        if self.job.entity == "deals":
            self.stages = self.stages or stage_choices(self.job)


# ---- finding what a row names ----------------------------------------------------------------------------

def _by_external_id(entity: str, model, external_id: str):
    key = ExternalKey.objects.filter(entity=entity, external_id=external_id).first()
    return model.objects.alive().filter(pk=key.record_id).first() if key else None


def merged_key(ctx: Context, external_id: str) -> bool:
    """Whether the row names its record by an external id a merge gave it (`ExternalKey.merged`): the row is
    then merged too, as the row that brought the id was, and overwrites nothing (re-running a file whose
    duplicate row was merged turned it into an update by key, writing the duplicate's values over the record)."""
    return bool(ctx.job.key == "external_id" and external_id and ExternalKey.objects.filter(
        entity=ctx.job.entity, external_id=external_id, merged=True).exists())


def keep_external_id(ctx: Context, external_id: str, record_id: int, outcome: str) -> None:
    """Point the row's external id at its record, merged (`ExternalKey.merged`) when the row was merged into it;
    a row skipped by the external id it names leaves the id as it was."""
    kept = outcome == SKIPPED and ctx.job.key == "external_id"
    ExternalKey.objects.update_or_create(entity=ctx.job.entity, external_id=external_id,
                                         defaults={"record_id": record_id} if kept else
                                         {"record_id": record_id, "merged": outcome == MERGED})


class NoCompany(ValidationFailed):
    """A row gives a company's INN alone, and no company has it (yet: a later row may name and create it)."""


def unseen_company(inn: str) -> ValidationFailed:
    """What a row gets that names, by INN, a company its user does not see (another team's): a second company
    with that INN would split the client in two, and the user may not link to the first."""
    return ValidationFailed.single("company_inn", _("the company with INN %(inn)s is another team's; ask its owner "
                                                    "or an administrator") % {"inn": inn})


def held_inns(inns) -> set[str]:
    """Which of these INNs a live company has, whoever sees it."""
    from krug.clients.models import Company

    return set(Company.objects.alive().filter(inn__in_array=sorted(inns)).values_list("inn", flat=True)) \
        if inns else set()


def no_company(inn: str) -> NoCompany:
    return NoCompany.single("company_inn", _("no company with INN %(inn)s, and no company name to create it")
                            % {"inn": inn})


def not_yours(key: str) -> ValidationFailed:
    """What a row gets that names, by the job's key, a record its user may not change (another manager's, or
    the common pool's for a manager): it is neither updated nor taken as a new record's key."""
    return ValidationFailed.single(key, _("names a record you may not change"))


def _yours(by, key: str, record):
    """The record a row names by the job's key, refused when its user may not change it."""
    from krug.core import permissions

    if record is not None and not permissions.can(by, permissions.CHANGE, record):
        raise not_yours(key)
    return record


def _find_contact(by, key: str, data: dict):
    from krug.clients.models import Contact
    from krug.quality import normalize

    if key == "external_id" and data.get("external_id"):
        return _by_external_id("contacts", Contact, data["external_id"])
    visible = Contact.objects.visible_to(by)
    if key == "email":
        for email in data.get("emails", []):
            found = visible.filter(emails__email_key=entry_text(email, "email").strip().casefold()).first()
            if found:
                return found
    if key == "phone":
        for raw in data.get("phones", []):
            try:
                number = normalize.phone(entry_text(raw, "number"))[0]
            except ValueError:
                continue
            found = visible.filter(phones__number=number).first()
            if found:
                return found
    return None


def _find_company(by, key: str, data: dict):
    from krug.clients.models import Company
    from krug.quality import normalize

    if key == "external_id" and data.get("external_id"):
        return _by_external_id("companies", Company, data["external_id"])
    if key == "inn" and data.get("inn"):
        try:
            inn = normalize.inn(data["inn"])
        except ValueError:
            return None
        return Company.objects.visible_to(by).filter(inn=inn).first()
    return None


def company_cache_key(name: str, inn: str) -> str:
    """Where a run remembers the company a row names: by its INN, else by its name's identity (without the legal
    form a company's name is written with, `normalize.split_legal_form`)."""
    from krug.quality.duplicates import company_identity
    from krug.quality.normalize import split_legal_form

    return f"i:{inn}" if inn else f"n:{company_identity(split_legal_form(name)[1])}"


def company_owner(by, data: dict) -> dict:
    """Who owns a company made for a row: the row's owner when the importing user may assign records to him
    (an administrator's import of a manager's clients made their companies the administrator's, which the
    manager then could not open), else whoever a new company's owner is by default."""
    from krug.clients.services import resolve_owner
    from krug.core.errors import FieldErrors

    if data.get("owner_id") is None:
        return {}
    errors, found = FieldErrors(), {}
    resolve_owner(by, data, errors, default_self=False, out=found)  # the services' own check of the owner
    return {} if errors else {"owner_id": data["owner_id"]}


def _company_for(ctx: Context, name: str, inn: str, data: dict) -> int:
    """The company a contact or deal row (`data`) names, found by INN or name, created once per file when it is
    new, with the row's owner. An INN only a company the user does not see has fails the row (`unseen_company`)."""
    from krug.clients import services
    from krug.clients.models import Company
    from krug.quality import normalize

    cache_key = company_cache_key(name, inn)
    known = ctx.companies.get(cache_key)
    if isinstance(known, DomainError) and not (isinstance(known, NoCompany) and name):
        # refused already, on the set-based path (but a row that names the company may create it); raised
        # without the tracebacks of its earlier raises, which each raise of a kept exception adds to
        raise known.with_traceback(None)
    if not isinstance(known, int):  # not looked for yet (or a company the set-based path did not create)
        by = ctx.job.by
        company = services.find_existing_company(by, inn=inn, name=name)
        if company is None:
            digits = normalize.phone_digits(inn)
            if digits and held_inns([digits]) and not Company.objects.visible_to(by).filter(inn=digits).exists():
                raise unseen_company(inn)
            if not name:
                raise no_company(inn)
            try:
                company = services.create_company(by, {"name": name, "inn": inn, "allow_duplicate": True,
                                                       **company_owner(by, data)})
            except ValidationFailed as exc:
                raise ValidationFailed("company", errors={
                    ("company_inn" if k == "inn" else "company"): v for k, v in exc.errors.items()}) from exc
        ctx.companies[cache_key] = company.pk
    return ctx.companies[cache_key]


# ---- one row ---------------------------------------------------------------------------------------------

def _union(current: list[str], new: list[str]) -> list[str]:
    return current + [item for item in new if item not in current]


def _phone_identity(text: str):
    from krug.quality import normalize

    try:
        number, extension = normalize.phone(text)
    except ValueError:
        return None
    return number, extension.casefold()


def _email_identity(text: str):
    from krug.quality import normalize

    try:
        return normalize.email(text).casefold()
    except ValueError:
        return None


def with_kinds(held: list[tuple[str, Any, str]], given: list, key: str, identity, default: str) -> list:
    """The record's phones or e-mails (`held`: text, identity, kind) followed by those of the row (`given`: texts,
    or entries with their kind, `rows.KIND_COLUMNS`) it lacks. One it has keeps its kind, unless his is only the
    default (`default`) and the row's column says a specific one (Bitrix24's «Рабочий телефон»)."""
    out = [{key: text, "kind": kind} for text, _same, kind in held]
    at = {same: index for index, (_text, same, _kind) in enumerate(held)}
    for item in given:
        kind = default if isinstance(item, str) else item.get("kind") or default
        same = identity(entry_text(item, key))
        if same is not None and same in at:
            if at[same] < len(held) and kind != default and out[at[same]]["kind"] == default:
                out[at[same]]["kind"] = kind
            continue
        if same is not None:
            at[same] = len(out)
        out.append(item)
    return out


def _contact_update(contact, data: dict) -> dict:
    """Row data as an update that adds phones, e-mails and tags rather than replacing them (`with_kinds`)."""
    from krug.clients.models import ContactEmail, ContactPhone

    update = dict(data)
    if "phones" in data:  # with their extensions, so a number given again with its extension is the same phone
        update["phones"] = with_kinds([(f"{p.number} доб. {p.extension}" if p.extension else p.number,
                                        (p.number, p.extension.casefold()), p.kind) for p in contact.phones.all()],
                                      data["phones"], "number", _phone_identity, ContactPhone.Kind.MOBILE)
    if "emails" in data:
        update["emails"] = with_kinds([(e.email, e.email_key, e.kind) for e in contact.emails.all()],
                                      data["emails"], "email", _email_identity, ContactEmail.Kind.WORK)
    if "tags" in data:
        update["tags"] = _union([t.name for t in contact.tags.all()], data["tags"])
    return update


_BLANK = (None, "", [], {}, False)  # a value a merge may fill in (a flag that is off may be turned on)
ADDED = frozenset({"phones", "emails", "tags"})  # what a merge adds to rather than fills in


def for_merge(data: dict, current: Callable[[str], Any]) -> dict:
    """A duplicate row's data as a merge takes it (`current(name)`: the record's value): a value only where the
    record has none, custom fields one by one, phones, e-mails and tags as given (they are added). A merge adds
    what the base lacks and never overwrites what is there: the row `Смирнов А.; Стажёр` merged into
    `Смирнов Алексей, Директор` leaves him so, and his owner stays his."""
    out = {}
    for name, value in data.items():
        if name == "custom":
            held = current("custom") or {}
            value = {k: v for k, v in (value or {}).items() if held.get(k) in _BLANK}
            if not value:
                continue
        elif name not in ADDED and current(name) not in _BLANK:
            continue
        out[name] = value
    return out


def _duplicate_target(by, model, exc: DomainError):
    """The record a DuplicateFound points at, when the importing user may change it."""
    from krug.core import permissions

    candidates = exc.extra.get("candidates", [])
    for candidate in candidates:
        if candidate.get("visible"):
            found = model.objects.alive().filter(pk=candidate["id"]).first()
            if found is not None and permissions.can(by, permissions.CHANGE, found):
                return found
    raise duplicate_refused(model._meta.verbose_name, candidates[0]["reasons"] if candidates else [])


def duplicate_refused(entity_label, reasons) -> DomainError:
    """What a row gets that is a duplicate of records its user may not change (another manager's), so it is
    neither merged nor created: said for a person importing a file, not for an API client."""
    from krug.quality.duplicates import DuplicateFound, reason_labels

    return DuplicateFound(_("This %(entity)s is already in the base (%(why)s) as a record you may not change; "
                            "ask its owner or an administrator to merge them.")
                          % {"entity": entity_label, "why": ", ".join(reason_labels(reasons))})


def held_notes(model, ids, texts) -> dict[int, set[str]]:
    """Which of these texts each of the records (contacts or companies, by id) holds among its notes: a contact's
    are those on him, a company's those on it and none of its people. Notes in the bin count (one deleted does
    not come back with the next run)."""
    from krug.activities.models import Note

    holder = "contact_id" if model._meta.model_name == "contact" else "company_id"
    notes = Note.objects.filter(text__in_array=sorted(set(texts)))
    if holder == "company_id":
        notes = notes.filter(contact__isnull=True)
    found: dict[int, set[str]] = {}
    for pk, text in notes.filter(**{f"{holder}__in_array": sorted(ids)}).values_list(holder, "text"):
        found.setdefault(pk, set()).add(text)
    return found


def add_notes(by, record, texts: list[str]) -> bool:
    """Put a row's comments (its note columns) on the record's timeline, each a note by the importing user and
    owned by the record's owner (`activities.services.add_past_note`); a text the record holds already is not
    added again, so a re-run adds nothing. Whether a note was added."""
    from krug.activities import services as activities

    if not texts:
        return False
    held = held_notes(type(record), [record.pk], texts).get(record.pk, set())
    contact = record._meta.model_name == "contact"
    added = False
    for text in texts:
        if text not in held:
            held.add(text)
            activities.add_past_note(by, text, owner_id=record.owner_id, contact_id=record.pk if contact else None,
                                     company_id=record.company_id if contact else record.pk)
            added = True
    return added


def _import_contact(ctx: Context, data: dict, named=None) -> tuple[str, int]:
    from krug.clients import services
    from krug.clients.models import Contact
    from krug.quality.duplicates import DuplicateFound

    by, key = ctx.job.by, ctx.job.key
    notes = data.pop("notes", [])
    created_at = data.pop("created_at", None)  # a new record's only: an update or a merge keeps the record's
    name, inn = data.pop("company", ""), data.pop("company_inn", "")
    if name or inn:
        data["company_id"] = _kept_company(named, name, inn) or _company_for(ctx, name, inn, data)
    external_id = data.pop("external_id", "")
    existing = named or (_yours(by, key, _find_contact(by, key, {**data, "external_id": external_id})) if key
                         else None)
    by_merge = existing is not None and named is None and merged_key(ctx, external_id)
    outcome = MERGED if by_merge else UPDATED
    if existing is None:
        try:
            contact = services.create_contact(by, data, created_at=created_at)
            add_notes(by, contact, notes)
            return CREATED, contact.pk
        except DuplicateFound as exc:
            existing, outcome = _duplicate_target(by, Contact, exc), MERGED
    return _into(by, existing, data, notes, outcome, by_merge,
                 changes_of=lambda d: services.contact_changes(by, existing, _contact_update(existing, d)),
                 update=lambda changes: services.update_contact(by, existing, changes))


def _import_company(ctx: Context, data: dict, named=None) -> tuple[str, int]:
    from krug.clients import services
    from krug.clients.models import Company
    from krug.quality.duplicates import DuplicateFound

    by, key = ctx.job.by, ctx.job.key
    external_id = data.pop("external_id", "")
    notes = data.pop("notes", [])
    created_at = data.pop("created_at", None)  # a new record's only: an update or a merge keeps the record's
    lines = company_lines(data)
    existing = named or (_yours(by, key, _find_company(by, key, {**data, "external_id": external_id})) if key
                         else None)
    by_merge = existing is not None and named is None and merged_key(ctx, external_id)
    outcome = MERGED if by_merge else UPDATED
    if existing is None:
        try:
            company = services.create_company(by, described(data, lines, None), created_at=created_at)
            add_notes(by, company, notes)
            return CREATED, company.pk
        except DuplicateFound as exc:
            existing, outcome = _duplicate_target(by, Company, exc), MERGED
    return _into(by, existing, data, notes, outcome, by_merge,
                 changes_of=lambda d: services.company_changes(by, existing, described(d, lines, existing.description)),
                 update=lambda changes: services.update_company(by, existing, changes))


def company_lines(data: dict) -> list[str]:
    """A company row's cell of several phones or e-mails, as Bitrix24 exports them («+7 (495) 123-45-67, +7 (495)
    765-43-21»; a company has one of each): the first valid one stays the company's, the others (normalised) are
    the lines of its description this returns («Другие телефоны: +74957654321»). A cell of one, or of none
    valid, is left as it is, for the services to take or refuse."""
    from krug.quality import normalize

    def phone(text: str) -> str:
        number, extension = normalize.phone(text)
        return f"{number} {_('ext.')} {extension}" if extension else number

    lines = []
    for name, clean, label in (("phone", phone, _("Other phones")), ("email", normalize.email, _("Other e-mails"))):
        items = split_list(data.get(name) or "")
        if len(items) < 2 or _valid(clean, data[name]):
            continue
        cleaned = [_valid(clean, item) for item in items]
        first = next((index for index, value in enumerate(cleaned) if value), None)
        if first is None:
            continue
        data[name] = items[first]
        others = [value or normalize.tidy(item) for item, value in zip(items, cleaned, strict=True)]
        others = [value for value in dict.fromkeys(others) if value != cleaned[first]]
        if others:
            lines.append(f"{label}: {', '.join(others)}")
    return lines


def _valid(clean, text: str) -> str:
    """`clean(text)`, or "" when it refuses it."""
    try:
        return clean(text)
    except ValueError:
        return ""


def described(data: dict, lines: list[str], current: str | None) -> dict:
    """A company row's data with its `company_lines` in the description: the one it gives, else the company's
    (`current`; None for a new one). A line of the same label the description holds takes the values it lacks,
    so a re-run adds nothing."""
    if not lines:
        return data
    kept = (data["description"] if "description" in data else current or "").splitlines()
    for line in lines:
        label, _sep, values = line.partition(": ")
        at = next((index for index, held in enumerate(kept) if held.startswith(f"{label}: ")), None)
        if at is None:
            kept.append(line)
            continue
        held = kept[at][len(label) + 2:].split(", ")
        kept[at] = f"{label}: {', '.join([*held, *(v for v in values.split(', ') if v not in held)])}"
    return {**data, "description": "\n".join(kept)}


def _into(by, existing, data: dict, notes: list[str], outcome: str, by_merge: bool, *, changes_of,
          update) -> tuple[str, int]:
    """A contact or company row applied to the record it names or is a duplicate of: a merge (`outcome`
    MERGED, also when named by a merge's external id, `by_merge`) fills in only what the record lacks; a new
    note is a change, one held already is not."""
    if outcome == MERGED:
        data = for_merge(data, lambda name: getattr(existing, name, None))
    changes = changes_of(data)
    if changes:
        update({**changes, "allow_duplicate": True})
    if not add_notes(by, existing, notes) and not changes:
        return (MERGED if outcome == MERGED and not by_merge else SKIPPED), existing.pk
    return outcome, existing.pk


LEAD_SOURCES = {"сайт": "site", "website": "site", "site": "site", "форма": "form", "веб форма": "form",
                "web form": "form", "form": "form", "звонок": "call", "телефон": "call", "call": "call",
                "phone": "call", "email": "email", "e-mail": "email", "почта": "email", "мессенджер": "messenger",
                "telegram": "messenger", "whatsapp": "messenger", "messenger": "messenger",
                "соцсети": "social", "социальные сети": "social", "social": "social", "рекомендация": "referral",
                "referral": "referral", "выставка": "exhibition", "exhibition": "exhibition", "другое": "other",
                "other": "other"}


def _source_labels() -> dict[str, str]:
    """Each lead source's own label in every language of the interface (what Krug's export writes) -> its value."""
    from krug.clients.models import Lead

    found = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            found.update((str(label).casefold(), value) for value, label in Lead.Source.choices)
    return found


def lead_source(text: str) -> str:
    """A lead's source as a file may spell it (`Сайт`, `Веб-форма`, Krug's own labels) -> its value; anything
    else stays as it is (and fails as the services refuse it)."""
    folded = text.strip().casefold()
    return LEAD_SOURCES.get(folded) or memo.remembered("lead_source_labels", _source_labels).get(folded, text)


def _lead_source(data: dict) -> None:
    if data.get("source"):
        data["source"] = lead_source(data["source"])
    else:
        data["source"] = "import"


def _find_lead(by, key: str, data: dict):
    from krug.clients.models import Lead
    from krug.quality import normalize

    if key == "external_id" and data.get("external_id"):
        return _by_external_id("leads", Lead, data["external_id"])
    visible = Lead.objects.visible_to(by)
    if key == "email" and data.get("email"):
        return visible.filter(email__iexact=data["email"].strip()).first()
    if key == "phone" and data.get("phone"):
        try:
            return visible.filter(phone=normalize.phone(data["phone"])[0]).first()
        except ValueError:
            return None
    return None


def lead_defaults(data: dict) -> None:
    """A lead row's source as a known channel ("import" when it gives none) and a title when it has none."""
    _lead_source(data)
    if not data.get("title"):
        who = " ".join(filter(None, [data.get("surname"), data.get("first_name")])) or data.get("company_name", "")
        data["title"] = _("Request from %(who)s") % {"who": who} if who else _("Request")


def _import_lead(ctx: Context, data: dict, named=None) -> tuple[str, int]:
    from krug.clients import services

    by, key = ctx.job.by, ctx.job.key
    external_id = data.pop("external_id", "")
    created_at = data.pop("created_at", None)  # a new lead's only: an update keeps the lead's
    lead_defaults(data)
    existing = named or (_yours(by, key, _find_lead(by, key, {**data, "external_id": external_id})) if key
                         else None)
    if existing is None:
        return CREATED, services.create_lead(by, data, created_at=created_at).pk
    changes = changed_values(existing, data, leaving=("source",))
    if not changes:
        return SKIPPED, existing.pk
    services.update_lead(by, existing, changes)
    return UPDATED, existing.pk


def _as_stored(name: str, value):
    """A row's text as the services store it, where they rewrite it: a lead's `8 (916) 555-12-34` is held as
    `+79165551234`, its `Ivan@X.RU` as `Ivan@x.ru`; the text itself when it would not be stored at all."""
    from krug.quality import normalize

    rewrite = {"phone": lambda raw: normalize.phone(raw)[0], "email": normalize.email, "inn": normalize.inn,
               "surname": normalize.person_name, "first_name": normalize.person_name,
               "patronymic": normalize.person_name}.get(name)
    if rewrite is None or not isinstance(value, str) or not value:
        return value
    try:
        return rewrite(value)
    except ValueError:
        return value


def _same(record, name: str, value) -> bool:
    """Whether the record already holds the value a row gives (numbers compared as numbers, text as stored)."""
    from decimal import Decimal, InvalidOperation

    current = getattr(record, name, None)
    value = _as_stored(name, value)
    if isinstance(current, Decimal):
        try:
            return current == Decimal(str(value))
        except InvalidOperation:
            return False
    return current == value or str(current) == str(value)


def changed_values(record, data: dict, *, leaving: tuple[str, ...] = ()) -> dict:
    """The part of a row's data the record it names does not hold yet (`_same`), but the fields `leaving`."""
    return {k: v for k, v in data.items() if k not in leaving and not _same(record, k, v)}


def deal_stage(by, pipeline_name: str, stage_name: str, chosen: dict[int, dict[str, str]] | None = None,
               known=None) -> tuple[dict, dict[str, list[str]], Any]:
    """What a deal row's pipeline and stage names point at: (`stage_id` or `pipeline_id` for its data, the
    problems by column, the stage or None). Names are compared as the value page compares them, in the
    pipelines `known` (`stage_values.Pipelines`, read now unless given); `chosen`: the user's stage choices by pipeline
    (`stage_values.stage_choices`), what the stage value becomes in the pipeline it is looked for in."""
    from krug.sales import services
    from krug.transfer.stage_values import Pipelines
    from krug.transfer.values import norm

    found: dict[str, int] = {}
    problems: dict[str, list[str]] = {}
    if stage_name and known is None:
        services.default_pipeline(by)  # made on first use: its stages must exist to be found by name
    known = known or Pipelines()
    pipeline = known.named(pipeline_name) if pipeline_name else None
    if pipeline_name and pipeline is None:
        problems["pipeline"] = [_("no pipeline named %(name)s") % {"name": pipeline_name}]
    home = known.home(pipeline, stage_name) if stage_name else pipeline
    wanted = (chosen or {}).get(home.pk, {}).get(norm(stage_name), stage_name) if stage_name and home else ""
    if not wanted:  # none, or chosen "as if the cell were empty": the pipeline's first stage
        if home is not None:
            found["pipeline_id"] = home.pk
        return found, problems, None
    stage = known.stage(home, wanted)
    elsewhere = [] if stage is not None or pipeline is None else [p.name for p in known.having(wanted)]
    if elsewhere:  # in other pipelines: the row is told which, and which it asked for
        problems["stage"] = [services.stage_elsewhere(wanted.strip(), elsewhere, pipeline.name)]
    elif stage is None:
        problems["stage"] = [_("no stage named %(name)s") % {"name": wanted}]
    else:
        found["stage_id"] = stage.pk
    return found, problems, stage


def not_given() -> str:
    """The loss reason of a deal an import puts into a lost stage without one (an old CRM's export often has
    none): said so, rather than refusing the deal or inventing a reason."""
    return _("Not given (import)")


def deal_closed_on(data: dict):
    """The day a deal row says it closed, taken out of its data: its «Дата закрытия» (`closed_at`), else its
    expected close when that is past. Only a deal created, or moved to, a won or lost stage keeps it
    (`sales.new_deal_fields`, `sales.move_deal`): an open one, and a deal staying in its stage, ignore it."""
    closed_on = data.pop("closed_at", None)
    expected = data.get("expected_close")
    if closed_on is None and expected is not None and expected < timezone.localdate():
        closed_on = expected
    return closed_on


def no_contact(email: str, phone: str) -> dict[str, list[str]]:
    """The problem of a deal row whose contact is not in the base."""
    return {"contact_email" if email else "contact_phone": [
        _("no contact with %(value)s in the base; import the contacts first") % {"value": email or phone}]}


def refused(problems: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed(next(iter(problems.values()))[0], errors=problems)


def _kept_company(named, name: str, inn: str) -> int | None:
    """The company a record named by its Krug ID keeps when its row names it still: by its name (as
    `company_identity` compares names) and INN. An unchanged round trip keeps its links, where a second company
    of the same name (another city's branch) would otherwise be found first."""
    from krug.quality import normalize
    from krug.quality.duplicates import company_identity

    company = named.company if named is not None and named.company_id else None
    if company is None or (inn and normalize.phone_digits(inn) != company.inn) or (
            name and company_identity(normalize.split_legal_form(name)[1]) != company_identity(company.name)):
        return None
    return company.pk


def _kept_contact(named, email: str, phone: str, name: str = ""):
    """The contact a deal named by its Krug ID keeps when its row still gives his e-mail or phone (another
    contact may share an office phone), or, without those, his name (a namesake may be another's)."""
    from krug.quality import normalize

    contact = named.contact if named is not None and named.contact_id else None
    if contact is None:
        return None
    if name and not email and not phone:
        return contact if same_person(person_named(name), person(contact.surname, contact.first_name,
                                                                  contact.patronymic)) else None
    if email and email.strip().casefold() in {e.email_key for e in contact.emails.all()}:
        return contact
    try:
        number = normalize.phone(phone)[0] if phone and not email else None
    except ValueError:
        return None
    return contact if number and number in {p.number for p in contact.phones.all()} else None


WARNING = "warning"  # a problem marked so did not fail its row: it was imported without what the problem names
NAMES_A_QUERY = 200  # contacts' names looked for in one query (each a condition of it)


def person(surname: str | None, first_name: str | None, patronymic: str | None) -> tuple[str, str]:
    """A person as a deal row's contact is compared: his whole-name key as the duplicate check makes it
    (`matching.person_keys`: case, ё and е, script and the order of the names aside) and his patronymic's
    skeleton."""
    from krug.quality.matching import person_keys, skeleton

    return next((key for key in person_keys(surname, first_name) if key.startswith("n:")), ""), skeleton(patronymic)


def person_named(name: str) -> tuple[str, str]:
    """`person` of a full name as a file writes it («Смирнов Андрей Петрович», «Андрей Смирнов», «Лариса
    Ивановна Громова»)."""
    parts = split_full_name(name)
    return person(parts.get("surname"), parts.get("first_name"), parts.get("patronymic"))


def same_person(given: tuple[str, str], contact: tuple[str, str]) -> bool:
    """Whether a contact (`person`) is the one a deal row names: the same whole name, and the same patronymic
    unless one of the two lacks it («Смирнов Андрей» is «Смирнов Андрей Петрович», not «… Иванович»)."""
    return bool(given[0]) and given[0] == contact[0] and (not given[1] or not contact[1] or given[1] == contact[1])


def named_contacts(by, names) -> dict[str, list[tuple[int, int | None]]]:
    """For each full name deal rows give, the contacts the user sees who are that person (`same_person`), as
    (id, company id) in id order. They are looked for by how their search key begins (his names in either
    order, `clients.services.contact_search_key`; `clients.filters.key_starts`, on an index), and a Cyrillic
    name also by each of its names in Latin letters, then compared across scripts and spellings (`person`:
    «Петров Сергей» is «Petrov Sergey»); `NAMES_A_QUERY` names a query."""
    from anyascii import anyascii
    from django.db.models import Q

    from krug.clients.filters import key_starts
    from krug.clients.models import Contact
    from krug.quality import normalize

    names = sorted(set(names))
    prefixes = set()
    for name in names:
        parts = split_full_name(name)
        surname, first_name = parts.get("surname", ""), parts.get("first_name", "")
        prefixes |= {normalize.search_key(surname, first_name), normalize.search_key(first_name, surname)} - {""}
        for part in (surname, first_name):  # a contact written in Latin letters («Petrov Sergey»), by either name
            latin = normalize.search_key(anyascii(part))
            if latin and latin != normalize.search_key(part):
                prefixes.add(latin + " ")
    ordered, holders = sorted(prefixes), {}
    visible = Contact.objects.visible_to(by)
    for at in range(0, len(ordered), NAMES_A_QUERY):
        wanted = Q()
        for prefix in ordered[at:at + NAMES_A_QUERY]:
            wanted |= key_starts("search_key", prefix)
        for pk, *names_of, company_id in visible.filter(wanted).values_list(
                "pk", "surname", "first_name", "patronymic", "company_id"):
            key, patronymic = person(*names_of)
            holders.setdefault(key, {})[pk] = (patronymic, company_id)
    found = {}
    for name in names:
        given = person_named(name)
        found[name] = sorted((pk, company_id) for pk, (patronymic, company_id) in holders.get(given[0], {}).items()
                             if same_person(given, (given[0], patronymic)))
    return found


def chosen_contact(found: list[tuple[int, int | None]], company_id: int | None,
                   current_id: int | None) -> tuple[int | None, int]:
    """Of the contacts a deal row's name fits (`named_contacts`), the one it means, or None, with how many it
    could not tell apart: the deal's own contact when he is one of them, else the only one of the deal's
    company when there are some, else the only one."""
    ids = [pk for pk, _company in found]
    if current_id is not None and current_id in ids:
        return current_id, 1
    at_company = [pk for pk, company in found if company_id is not None and company == company_id]
    among = at_company or ids
    return (among[0] if len(among) == 1 else None), len(among)


def unlinked_contact(name: str, count: int, *, created: bool) -> dict:
    """The warning of a deal row whose contact's name fits no contact, or several that nothing tells apart: the
    deal is imported all the same, without that contact."""
    from django.utils.translation import ngettext

    why = (ngettext("%(n)d contact with this name", "%(n)d contacts with this name", count) % {"n": count}
           if count else _("no contact with this name"))
    then = _("the deal was created without a contact") if created else _("the deal's contact was not changed")
    return {"field": "contact_name", WARNING: True,
            "message": _("contact «%(name)s» — %(why)s, %(then)s") % {"name": name, "why": why, "then": then}}


def _contact_by_name(ctx: Context, data: dict, name: str, named, existing) -> None:
    """A deal row's contact by his full name, when it gives no e-mail or phone: the deal's own when it still
    fits (`_kept_contact`), else the one `chosen_contact` picks among those it fits, preferring the deal's
    company; when there is none, the row gets a warning (`unlinked_contact`) and its deal no contact."""
    kept = _kept_contact(named, "", "", name)
    if kept is not None:
        data["contact_id"] = kept.pk
        return
    company_id = data.get("company_id", existing.company_id if existing is not None else None)
    pk, count = chosen_contact(named_contacts(ctx.job.by, [name])[name], company_id,
                               existing.contact_id if existing is not None else None)
    if pk is None:
        ctx.warnings.append(unlinked_contact(name, count, created=existing is None))
    else:
        data["contact_id"] = pk


def entering_reason(stage, given: str) -> str:
    """The loss reason a deal an import puts into `stage` enters it with: in a lost stage the one given, else
    `not_given()`; in another, none."""
    from krug.sales.models import Stage

    return (given or not_given()) if stage is not None and stage.kind == Stage.Kind.LOST else ""


def _import_deal(ctx: Context, data: dict, named=None) -> tuple[str, int]:
    from krug.clients.models import Contact
    from krug.quality import normalize
    from krug.sales import services
    from krug.sales.models import Deal

    by, key = ctx.job.by, ctx.job.key
    external_id = data.pop("external_id", "")
    closed_on = deal_closed_on(data)
    created_at = data.pop("created_at", None)  # a new deal's only: an update keeps the deal's
    found, problems, stage = deal_stage(by, data.pop("pipeline", ""), data.pop("stage", ""), ctx.stages)
    data.update(found)
    name, inn = data.pop("company", ""), data.pop("company_inn", "")
    email, phone = data.pop("contact_email", ""), data.pop("contact_phone", "")
    contact_name = data.pop("contact_name", "")
    if email or phone:
        visible = Contact.objects.visible_to(by)
        contact = _kept_contact(named, email, phone)
        if contact is None and email:
            contact = visible.filter(emails__email_key=email.casefold()).first()
        if contact is None and phone:
            try:
                contact = visible.filter(phones__number=normalize.phone(phone)[0]).first()
            except ValueError:
                contact = None
        if contact is None:
            problems.update(no_contact(email, phone))
        else:
            data["contact_id"] = contact.pk
    if problems:
        raise refused(problems)
    if name or inn:
        data["company_id"] = _kept_company(named, name, inn) or _company_for(ctx, name, inn, data)
    existing = named or (_yours(by, key, _by_external_id("deals", Deal, external_id))
                         if key == "external_id" and external_id else None)
    if contact_name and not (email or phone):
        _contact_by_name(ctx, data, contact_name, named, existing)
    if existing is None:
        if reason := entering_reason(stage, data.get("loss_reason", "")):
            data["loss_reason"] = reason
        return CREATED, services.create_deal(by, data, closed_on=closed_on, created_at=created_at).pk
    stage_id = data.pop("stage_id", None)
    data.pop("pipeline_id", None)
    changes = changed_values(existing, data)
    outcome = SKIPPED
    if changes:
        services.update_deal(by, existing, changes)
        outcome = UPDATED
    if stage_id and stage_id != existing.stage_id:
        services.move_deal(by, existing, stage_id, loss_reason=entering_reason(stage, existing.loss_reason),
                           closed_on=closed_on)
        outcome = UPDATED
    return outcome, existing.pk


IMPORTERS: dict[str, Callable[..., tuple[str, int]]] = {
    "contacts": _import_contact,
    "companies": _import_company,
    "leads": _import_lead,
    "deals": _import_deal,
}


KRUG_ID = "krug_id"  # the key of a file Krug exported: each row names its record by Krug's own id


def _named(ctx: Context, krug_id: int):
    """The record a row names by its Krug ID, when the user may change it; a Krug ID names a record or fails
    (a row without one is a new record)."""
    record = entity_model(ctx.job.entity).objects.visible_to(ctx.job.by).filter(pk=krug_id).first()  # or unseen
    if record is None:
        raise ValidationFailed.single(KRUG_ID, _("no record with Krug ID %(id)s") % {"id": krug_id})
    return _yours(ctx.job.by, KRUG_ID, record)


ENTITY_MODELS = {"contacts": "clients.Contact", "companies": "clients.Company", "leads": "clients.Lead",
                 "deals": "sales.Deal"}


def entity_model(entity: str):
    """The model of the records an import of `entity` writes (`contacts` → Contact)."""
    from django.apps import apps

    return apps.get_model(*ENTITY_MODELS[entity].split("."))


def import_row(ctx: Context, row: list[str]) -> tuple[str, list[dict]]:
    """(outcome, errors) of one row; the row's writes happen in the caller's transaction."""
    outcome, errors, _record = import_one(ctx, row)
    return outcome, errors


def problems(ctx: Context, data: dict, errors) -> list[dict]:
    """Every problem of a row whose values could not all be read (`to_data`'s `errors`): those, and what the
    services' cleaning finds in the other values it gave, so the row names at once all there is to fix (a bad
    owner and date, then a bad phone and e-mail, came one after the other). A field the row does not give is
    asked for only when the row makes a new record, not when it names one by the key (`_names_a_record`): a
    new contact without a name and with a bad owner was told of the owner, then of the name."""
    from krug.clients import services as clients
    from krug.sales import services as sales

    found = {field: list(messages) for field, messages in errors.errors.items()}
    check = {"contacts": lambda by, d: clients._clean_contact(by, d, current=None),
             "companies": lambda by, d: clients._clean_company(by, d, current=None),
             "leads": lambda by, d: clients._clean_lead(by, d, current=None),
             "deals": lambda by, d: sales._clean_deal(by, d, current=None)}.get(ctx.job.entity)
    given = {k: v for k, v in data.items() if k not in found and k not in ("company", "company_inn", "external_id",
                                                                          "notes", KRUG_ID)}
    if "owner" in found:
        given.pop("owner_id", None)
    if ctx.job.entity == "companies":
        company_lines(given)
    if ctx.job.entity == "leads":  # a lead's title and source as the import gives them (it lacks neither)
        lead_defaults(given)
    if check is not None:
        try:
            check(ctx.job.by, given)
        except ValidationFailed as exc:
            lacking = {}
            for field, messages in exc.errors.items():
                if field not in found:
                    (found if _gives(given, field) else lacking)[field] = list(messages)
            if lacking and not _names_a_record(ctx, data):
                found.update(lacking)
    return [{"field": f, "message": m} for f, ms in found.items() for m in ms]


def _gives(given: dict, field: str) -> bool:
    """Whether an error's field (`phones.0`, `custom.budget`, `phone_work`) is about a value the row gives."""
    head, _dot, rest = field.partition(".")
    if head == "custom":
        return rest.split(".")[0] in (given.get("custom") or {})
    return head in given or field in KIND_COLUMNS


def _names_a_record(ctx: Context, data: dict) -> bool:
    """Whether a row names a record already in the base by the job's key: it then need not give what only a new
    record needs (a name, a required custom field)."""
    from krug.sales.models import Deal

    by, key = ctx.job.by, ctx.job.key
    if not key:
        return False
    if key == KRUG_ID:
        return bool(data.get(KRUG_ID))
    if ctx.job.entity == "deals":
        return bool(data.get("external_id")) and _by_external_id("deals", Deal, data["external_id"]) is not None
    find = {"contacts": _find_contact, "companies": _find_company, "leads": _find_lead}[ctx.job.entity]
    return find(by, key, data) is not None


def import_one(ctx: Context, row: list[str]) -> tuple[str, list[dict], int | None]:
    """`import_row`, with the id of the record the row created or changed (None when it failed). The errors of
    a row that did not fail are its warnings (`WARNING`)."""
    data, errors = to_data(ctx.job.entity, ctx.job.mapping, row, ctx.owners, ctx.values)
    if errors:
        return FAILED, problems(ctx, data, errors), None
    if not any(v for k, v in data.items() if k != "owner_id"):
        return SKIPPED, [], None
    external_id = data.get("external_id", "")
    krug_id = data.pop("krug_id", None)
    known_companies = dict(ctx.companies)
    ctx.warnings = []
    try:
        with transaction.atomic():  # a savepoint: a failing row leaves nothing behind
            named = _named(ctx, krug_id) if krug_id and ctx.job.key == KRUG_ID else None
            outcome, record_id = IMPORTERS[ctx.job.entity](ctx, data, named)
            if external_id:
                keep_external_id(ctx, external_id, record_id, outcome)
    except DomainError as exc:
        ctx.companies = known_companies  # a company this row created is gone with the savepoint
        found = [{"field": f, "message": m} for f, ms in exc.errors.items() for m in ms]
        return FAILED, found or [{"field": "", "message": exc.message}], None
    return outcome, ctx.warnings, record_id


# ---- the job ---------------------------------------------------------------------------------------------

def data_rows(job: ImportJob):
    """(row number in the file, cells) of every data row, the header (the first non-empty row) skipped."""
    fmt = reading.TableFormat(**job.format)
    seen_header = False
    for number, cells in enumerate(reading.rows(Path(job.path), fmt), start=1):
        if not seen_header:
            seen_header = any(cells)
            continue
        yield number, cells


def _commit_chunk(job_id: int, start: int, chunk: list[tuple[int, list[str]]], ctx: Context, plan=None) -> None:
    """Write a chunk, its failed rows (and those imported with a warning) and the checkpoint in one transaction.
    `plan`: the chunk already read and decided (a pipelined run), to be written only."""
    counts = {CREATED: 0, UPDATED: 0, MERGED: 0, SKIPPED: 0, FAILED: 0}
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.done_rows != start or job.status != ImportJob.Status.RUNNING:
            raise Superseded
        failures = []
        if ctx.bulk:
            from krug.transfer import bulk_companies, bulk_contacts, bulk_deals, bulk_leads

            if job.entity != "contacts":
                module = {"companies": bulk_companies, "deals": bulk_deals, "leads": bulk_leads}[job.entity]
                rows = module.import_chunk(ctx, chunk)
            else:
                if plan is None:
                    plan = bulk_contacts.plan_chunk(ctx, chunk)
                bulk_contacts.flush(plan)
                rows = plan.rows
            for row in rows:
                counts[row.outcome] += 1
                if row.errors:  # a failed row's problems, or the warnings of a row imported
                    failures.append(ImportRowError(job=job, row=row.number, values=row.cells, errors=row.errors))
        else:
            with memo.scope():
                for number, cells in chunk:
                    outcome, errors = import_row(ctx, cells)
                    counts[outcome] += 1
                    if errors:
                        failures.append(ImportRowError(job=job, row=number, values=cells, errors=errors))
        ImportRowError.objects.bulk_create(failures)
        ImportJob.objects.filter(pk=job_id).update(
            done_rows=F("done_rows") + len(chunk), created=F("created") + counts[CREATED],
            updated=F("updated") + counts[UPDATED], merged=F("merged") + counts[MERGED],
            skipped=F("skipped") + counts[SKIPPED], failed=F("failed") + counts[FAILED],
            heartbeat_at=timezone.now())


def count_rows(job: ImportJob) -> int:
    return sum(1 for _ in data_rows(job))


class Writer:
    """Commits chunks on its own thread (and database connection), one at a time, while the caller reads and
    decides the next one: Python's work and the database's then overlap on two cores. A chunk is handed over
    only once the one before is committed, and a failure in the writer comes back at the next hand-over."""

    def __init__(self) -> None:
        # the thread speaks the run's language: a chunk that falls back to the per-row path reports its rows in it
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="krug-import-writer",
                                       initializer=translation.activate,
                                       initargs=(translation.get_language() or settings.LANGUAGE_CODE,))
        self.pending: Future | None = None

    def settle(self) -> None:
        """Wait for the chunk being written; raise what it raised."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def submit(self, *args) -> None:
        self.settle()
        self.pending = self.pool.submit(_commit_chunk, *args)

    def close(self) -> None:
        try:
            self.settle()
        finally:
            self.pool.submit(connections.close_all).result()
            self.pool.shutdown()


def _pipelined(ctx: Context) -> bool:
    """Read the next chunk while the writer commits this one: contacts on the set-based path, on PostgreSQL
    (ids are taken from sequences outside the writer's transaction), when the run owns its transactions (an
    enclosing one would hide its data from the writer's connection)."""
    return (ctx.bulk and ctx.job.entity == "contacts" and connection.vendor == "postgresql"
            and not connection.in_atomic_block)


def _run_pipelined(job_id: int, ctx: Context, start: int, chunk_size: int,
                   progress: Callable[[ImportJob], None] | None) -> None:
    from krug.transfer import bulk_contacts

    writer = Writer()
    recent = None
    try:
        for first, chunk in _chunks(ctx.job, start, chunk_size):
            plan = bulk_contacts.plan_chunk(ctx, chunk, recent, settle=writer.settle)
            writer.submit(job_id, first, chunk, ctx, plan)
            recent = plan.recent
            if progress:
                progress(ImportJob.objects.get(pk=job_id))
    finally:
        writer.close()


def _chunks(job: ImportJob, start: int, size: int):
    """(index of the first row, rows) of each chunk from the checkpoint `start` on."""
    chunk: list[tuple[int, list[str]]] = []
    for index, row in enumerate(data_rows(job)):
        if index < start:
            continue
        chunk.append(row)
        if len(chunk) == size:
            yield start, chunk
            start, chunk = start + len(chunk), []
    if chunk:
        yield start, chunk


def run(job_id: int, *, progress: Callable[[ImportJob], None] | None = None,
        chunk_size: int | None = None, bulk: bool = True) -> ImportJob:
    """Run (or resume) an import to its end; safe to call again after a crash or from a second worker. Its rows'
    problems and the words it writes («Другие телефоны: …») are in the language of the user who uploaded the file
    (`ImportJob.language`), not the worker's."""
    language = ImportJob.objects.filter(pk=job_id).values_list("language", flat=True).first()
    with core_bulk.fewer_collections(), translation.override(language) if language else nullcontext():
        return _run(job_id, progress, chunk_size, bulk)


def _run(job_id: int, progress: Callable[[ImportJob], None] | None, chunk_size: int | None,
         bulk: bool) -> ImportJob:
    job = ImportJob.objects.select_related("by").get(pk=job_id)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.CANCELLED, ImportJob.Status.FAILED):
        return job
    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.RUNNING, heartbeat_at=timezone.now(),
                                               started_at=job.started_at or timezone.now())
    job.refresh_from_db()
    try:
        if job.total_rows is None:
            ImportJob.objects.filter(pk=job_id).update(total_rows=count_rows(job))
        bulk = bulk and job.key != KRUG_ID  # a file of Krug's own records, edited: the per-row path
        ctx = Context(job, bulk=bulk)
        chunk_size = chunk_size or (BULK_CHUNK if bulk else CHUNK)
        start = job.done_rows
        if _pipelined(ctx):
            _run_pipelined(job_id, ctx, start, chunk_size, progress)
            return _finish(job_id)
        for first, chunk in _chunks(job, start, chunk_size):
            _commit_chunk(job_id, first, chunk, ctx)
            if progress:
                progress(ImportJob.objects.get(pk=job_id))
    except Superseded:
        log.info("import %s: another runner has it", job_id)
        return ImportJob.objects.get(pk=job_id)
    except reading.FileProblem as exc:
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, error=exc.message,
                                                   finished_at=timezone.now())
        return ImportJob.objects.get(pk=job_id)
    return _finish(job_id)


def _finish(job_id: int) -> ImportJob:
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now())
    return ImportJob.objects.get(pk=job_id)


def get_job(by, job_id: int) -> ImportJob:
    from krug.transfer.services import own_job

    return own_job(ImportJob, by, job_id, _("no such import"))
