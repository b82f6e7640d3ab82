"""The set-based path for deals: the new deals of a chunk are checked together and written with a handful of
statements (COPY on PostgreSQL), instead of some twenty queries a row.

It gives what the per-row path (`importer.import_row`, the sales services one deal at a time) gives, which
the tests compare it with:
- each row is cleaned and checked by the services' own code (`sales.services.new_deal_fields`): the same
  values, the same errors, the same stage requirements; only the lookups it makes (pipeline, stage, contact,
  company) are answered from what was fetched for the whole chunk (`ChunkLinks`);
- pipelines and stages are found by name once per chunk and name (through the user's stage choices for the
  row's pipeline, `importer.deal_stage`); contacts by e-mail, then phone, with one query per kind, and a row
  giving neither by its contact's full name, a few hundred names a query (`importer.named_contacts`): a name
  that fits no contact, or several, leaves the deal without one and the row with a warning; companies by INN
  or name as the contact import finds them, the new ones created once, together, and only when a deal that
  survives its checks names them;
- what is written for each deal is what `create_deal` writes: the row, its search key, its stage history,
  its audit entry and its timeline event, and the external id when the file gives one; a deal created won
  or lost closed, and entered its stage, on the day the row says (`importer.deal_closed_on`), and was created
  when the row says (`created_at`); a lost one without a reason has `importer.not_given()`.

A row that updates a deal the job's key names is changed here too, as `sales.update_deal` and `sales.move_deal`
change it (a move to a won or lost stage dated by the row, `sales.move_fields`); a second row naming the same
deal (or one an earlier row of the chunk created with the same external id) goes through the per-row path, in
its turn: the new deals before it are written first.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.clients.models import Company, Contact, TimelineEvent
from krug.core import audit, bulk, memo
from krug.core.errors import DomainError, FieldErrors
from krug.core.models import AuditEntry
from krug.quality import normalize
from krug.sales import services as sales
from krug.sales.models import Deal, DealItem, Pipeline, Stage, StageHistory
from krug.transfer import bulk_changes, bulk_contacts, importer, stage_values
from krug.transfer.bulk_contacts import SKIPPED, NewCompany, Row, batches

ENTITY = "deals"
WRITTEN = (bulk_contacts.CREATED, bulk_contacts.UPDATED, bulk_contacts.MERGED)


class ChunkLinks(sales.DealLinks):
    """The services' lookups, answered from what was fetched for the whole chunk (`_fetch`)."""

    def __init__(self, by) -> None:
        super().__init__(by)
        self.stages: dict[tuple, tuple] = {}
        self.open_stages: dict[int, object] = {}
        self.pipeline = None
        self.contacts: dict[int, Contact] = {}
        self.companies: dict[int, Company] = {}
        self.stage_of: dict[int, Stage] = {}  # by id: the stages of deals a chunk changes, and where they go
        self.with_items: set[int] = set()  # which of the deals a chunk changes have line items

    def stage(self, data, errors):
        key = (data.get("pipeline_id"), data.get("stage_id"))
        if key not in self.stages:  # the answer with its problems, so every row naming them is refused alike
            found = FieldErrors()
            self.stages[key] = (super().stage(data, found), found.errors)
        answer, problems = self.stages[key]
        for name, messages in problems.items():
            for message in messages:
                errors.add(name, message)
        return answer

    def default_pipeline(self):
        if self.pipeline is None:
            self.pipeline = super().default_pipeline()
        return self.pipeline

    def open_stage(self, pipeline):
        if pipeline.pk not in self.open_stages:
            self.open_stages[pipeline.pk] = super().open_stage(pipeline)
        return self.open_stages[pipeline.pk]

    def contact(self, pk):
        return self.contacts.get(pk)

    def has_items(self, deal):
        return deal.pk in self.with_items

    def company(self, pk):
        return self.companies.get(pk)


def import_chunk(ctx, chunk: list[tuple[int, list[str]]]) -> list[Row]:
    """Import a chunk of deal rows; returns them with their outcomes. The caller's transaction holds it.

    On a base with no pipeline yet, looking up a stage makes the standard one (`sales.default_pipeline`). The
    per-row path undoes that with each row that fails; here a chunk none of whose rows is written leaves none
    either."""
    fresh = not Pipeline.objects.alive().exists()
    savepoint = transaction.savepoint() if fresh else None
    rows = _import_chunk(ctx, chunk)
    if savepoint is not None:
        if any(row.outcome in WRITTEN for row in rows):
            transaction.savepoint_commit(savepoint)
        else:
            transaction.savepoint_rollback(savepoint)
    return rows


def _import_chunk(ctx, chunk: list[tuple[int, list[str]]]) -> list[Row]:
    with memo.scope():
        rows = bulk_contacts.prepare(ctx, chunk)
        targets = _targets(ctx, rows)
        yours = bulk_contacts.changeable(Deal, ctx.job.by, {deal.pk for deal in targets.values()})
        links = ChunkLinks(ctx.job.by)
        live = [r for r in rows if not r.outcome]
        for row in live:
            row.related = {"pipeline": row.data.pop("pipeline", ""), "stage": row.data.pop("stage", ""),
                           "email": row.data.pop("contact_email", ""), "phone": row.data.pop("contact_phone", ""),
                           "name": row.data.pop("contact_name", ""), "created_at": row.data.pop("created_at", None),
                           "closed_on": importer.deal_closed_on(row.data)}
        _find_contacts(ctx, live, links)
        bulk_contacts.resolve_companies(ctx, [r for r in live if not r.outcome], bulk_contacts.Recent())
        waiting: list[Row] = []
        created_here: set[str] = set()
        touched: set[int] = set()  # deals a row of this chunk named: a later row naming one takes the per-row path
        for row in rows:
            if row.outcome:
                continue
            if row.external_id and (row.external_id in targets or row.external_id in created_here):
                deal = targets.get(row.external_id)
                if deal is not None and deal.pk in yours and deal.pk not in touched:
                    touched.add(deal.pk)
                    row.related["deal"] = deal  # changed, or skipped, with the rows before and after it
                    waiting.append(row)
                    continue
                _create(ctx, waiting, links)  # the rows before it first, as the file orders them
                waiting = []
                row.outcome, row.errors, record = importer.import_one(ctx, row.cells)
                touched.add(record or 0)
                continue
            waiting.append(row)
            if row.external_id and ctx.job.key == "external_id":
                created_here.add(row.external_id)
        _create(ctx, waiting, links)
        for key, ref in list(ctx.companies.items()):  # a company only failed rows named is not made (yet)
            if isinstance(ref, NewCompany) and ref.id is None:
                del ctx.companies[key]
    return rows


def _targets(ctx, rows: list[Row]) -> dict[str, Deal]:
    """The live deals the rows' external ids name, when the job updates by external id."""
    if ctx.job.key != "external_id":
        return {}
    return bulk_contacts.named_by_external_id(
        ENTITY, Deal, (r.external_id for r in rows if not r.outcome and r.external_id))


def _create(ctx, rows: list[Row], links: ChunkLinks) -> None:
    """Check the rows, as new deals or as updates of the deal they name (`related["deal"]`), and write those
    that pass."""
    if not rows:
        return
    by = ctx.job.by
    stand_ins = _fetch_companies(ctx, rows, links)
    _fetch_stages(rows, links)
    _contacts_by_name(ctx, rows, links)
    now = timezone.now()
    for row in rows:
        ref = bulk_contacts.company_of(ctx, row)
        if isinstance(ref, DomainError):
            row.fail(ref)
            continue
        if ref is not None:
            row.data["company_id"] = ref if isinstance(ref, int) else stand_ins[id(ref)].pk
        try:
            if "deal" in row.related:
                _change(by, row, links, now)
            else:
                if reason := importer.entering_reason(row.related["target"], row.data.get("loss_reason", "")):
                    row.data["loss_reason"] = reason
                row.fields, _items, row.related["stage"] = sales.new_deal_fields(
                    by, row.data, links, now, closed_on=row.related["closed_on"],
                    created_at=row.related["created_at"])
        except DomainError as exc:
            row.fail(exc)
    _write(ctx, [r for r in rows if not r.outcome], stand_ins, now)


def _change(by, row: Row, links: ChunkLinks, now) -> None:
    """What `importer._import_deal` does to the deal a row names (`sales.update_deal`, then `sales.move_deal`
    when the stage differs), done to the deal in memory: the audit diffs and the move are kept in
    `row.related["change"]` for `_write_changes`; a row that would change nothing is skipped; a refusal
    raises, as the services refuse."""
    deal = row.related["deal"]
    data = dict(row.data)
    stage_id = data.pop("stage_id", None)
    data.pop("pipeline_id", None)
    changes = importer.changed_values(deal, data)
    if not changes and stage_id in (None, deal.stage_id):
        row.outcome = SKIPPED  # what the per-row path finds too, without its queries
        return
    updated: dict = {}
    if changes:
        fields, _items = sales._clean_deal(by, changes, current=deal, links=links)
        updated = bulk_changes.apply(deal, fields)
    move = None
    if stage_id and stage_id != deal.stage_id:
        stage, previous = links.stage_of[stage_id], links.stage_of[deal.stage_id]
        reason = importer.entering_reason(stage, deal.loss_reason)
        sales._check_requirements(deal, stage, loss_reason=reason)
        fields = sales.move_fields(deal, stage, reason, now, row.related["closed_on"])
        move = (previous, stage, bulk_changes.apply(deal, fields), fields["stage_entered_at"], reason)
    row.related["change"] = (updated, move)


def _fetch_stages(rows: list[Row], links: ChunkLinks) -> None:
    """The stages (with their pipelines) the deals to change are in and are moved to, and which of those deals
    have line items, for `_change`."""
    changed = sorted(r.related["deal"].pk for r in rows if "deal" in r.related)
    for batch in batches(changed):
        links.with_items.update(DealItem.objects.filter(deal_id__in_array=batch).values_list("deal_id", flat=True))
    wanted = {pk for r in rows if "deal" in r.related for pk in (r.related["deal"].stage_id, r.data.get("stage_id"))}
    wanted = sorted(pk for pk in wanted - set(links.stage_of) if pk)
    for batch in batches(wanted):
        links.stage_of.update((s.pk, s) for s in Stage.objects.select_related("pipeline").filter(pk__in_array=batch))


def _find_contacts(ctx, rows: list[Row], links: ChunkLinks) -> None:
    """Each row's contact by its e-mail, else its phone (the smallest id the user sees, as the per-row path
    takes), and its pipeline and stage by name; a row naming one that is not there fails, naming them all."""
    emails = sorted({r.related["email"].casefold() for r in rows if r.related["email"]})
    numbers: dict[str, str] = {}
    for row in rows:
        phone = row.related["phone"]
        if phone and phone not in numbers:
            try:
                numbers[phone] = normalize.phone(phone)[0]
            except ValueError:
                numbers[phone] = ""
    visible = Contact.objects.visible_to(ctx.job.by)
    by_email: dict[str, int] = {}
    for batch in batches(emails):
        for key, pk in visible.filter(emails__email_key__in_array=batch).values_list("emails__email_key", "pk"):
            bulk_contacts.keep_first(by_email, key, pk)
    by_number: dict[str, int] = {}
    for batch in batches(sorted(set(numbers.values()) - {""})):
        for number, pk in visible.filter(phones__number__in_array=batch).values_list("phones__number", "pk"):
            bulk_contacts.keep_first(by_number, number, pk)
    stages: dict[tuple[str, str], tuple] = {}
    if any(row.related["stage"] for row in rows):
        sales.default_pipeline(ctx.job.by)  # made on first use, as `importer.deal_stage` makes it
    known = stage_values.Pipelines()
    for row in rows:
        names = (row.related["pipeline"], row.related["stage"])
        if names not in stages:
            stages[names] = importer.deal_stage(ctx.job.by, *names, ctx.stages, known)
        found, problems, row.related["target"] = stages[names]
        row.data.update(found)
        problems = dict(problems)
        email, phone = row.related["email"], row.related["phone"]
        if email or phone:
            pk = by_email.get(email.casefold()) if email else None
            if pk is None and phone:
                pk = by_number.get(numbers[phone])
            if pk is None:
                problems.update(importer.no_contact(email, phone))
            else:
                row.data["contact_id"] = pk
        if problems:
            row.fail(importer.refused(problems))
    wanted = sorted({r.data["contact_id"] for r in rows if not r.outcome and "contact_id" in r.data})
    for batch in batches(wanted):
        links.contacts.update((c.pk, c) for c in visible.select_related("company").filter(pk__in_array=batch))


def _contacts_by_name(ctx, rows: list[Row], links: ChunkLinks) -> None:
    """The contact of each row giving his full name but no e-mail or phone, as the per-row path picks him
    (`importer.named_contacts`, `importer.chosen_contact`: the deal's own, else the only one at the deal's
    company, else the only one), the rows' names looked for together; a row it cannot tell gets its warning
    (`importer.unlinked_contact`) and its deal no contact."""
    named = [r for r in rows if r.related["name"] and not (r.related["email"] or r.related["phone"])]
    if not named:
        return
    found = importer.named_contacts(ctx.job.by, [r.related["name"] for r in named])
    for row in named:
        deal, ref = row.related.get("deal"), bulk_contacts.company_of(ctx, row)
        company_id = ref if isinstance(ref, int) else deal.company_id if deal is not None and ref is None else None
        pk, count = importer.chosen_contact(found[row.related["name"]], company_id,
                                            deal.contact_id if deal is not None else None)
        if pk is None:
            row.errors = [importer.unlinked_contact(row.related["name"], count, created=deal is None)]
        else:
            row.data["contact_id"] = pk
    wanted = sorted({r.data["contact_id"] for r in named if "contact_id" in r.data} - set(links.contacts))
    visible = Contact.objects.visible_to(ctx.job.by).select_related("company")
    for batch in batches(wanted):
        links.contacts.update((c.pk, c) for c in visible.filter(pk__in_array=batch))


def _fetch_companies(ctx, rows: list[Row], links: ChunkLinks) -> dict[int, Company]:
    """The companies the rows name, as the services' lookups see them: those in the base the user sees, and an
    unsaved stand-in with a provisional id (negative) for each one to be created."""
    refs = [bulk_contacts.company_of(ctx, r) for r in rows]
    wanted = sorted({ref for ref in refs if isinstance(ref, int)})
    for batch in batches(wanted):
        links.companies.update((c.pk, c) for c in Company.objects.visible_to(ctx.job.by).filter(pk__in_array=batch))
    stand_ins: dict[int, Company] = {}
    for ref in refs:
        if isinstance(ref, NewCompany) and id(ref) not in stand_ins:
            provisional = -1 - len(stand_ins)
            stand_ins[id(ref)] = links.companies[provisional] = Company(pk=provisional, name=ref.name, inn=ref.inn)
    return stand_ins


def _write(ctx, rows: list[Row], stand_ins: dict[int, Company], now) -> None:
    """The new companies the rows name, then the new deals and the changed ones, with their history."""
    if not rows:
        return
    plan = bulk_contacts.Plan(rows=[])
    news = {id(ref): ref for ref in (bulk_contacts.company_of(ctx, r) for r in rows) if isinstance(ref, NewCompany)}
    bulk_contacts.create_companies(ctx, list(news.values()), plan)
    bulk_contacts.flush(plan)
    real = {stand_ins[key].pk: ref.id for key, ref in news.items()}
    _write_new(ctx, [r for r in rows if "deal" not in r.related], real, now)
    _write_changes(ctx, [r for r in rows if "deal" in r.related], real, now)


def _write_new(ctx, rows: list[Row], real: dict[int, int], now) -> None:
    """The new deals with their stage history, audit entries, timeline events and external ids, as
    `create_deal` writes them."""
    if not rows:
        return
    by = ctx.job.by
    deal_type = ContentType.objects.get_for_model(Deal)
    deals, history, entries, events, external = [], [], [], [], {}
    for row, pk in zip(rows, bulk.take_ids(Deal, len(rows)), strict=True):
        fields, stage = row.fields, row.related["stage"]
        company = fields.get("company")
        if company is not None and company.pk < 0:
            company = Company(pk=real[company.pk], name=company.name)
            fields["company"] = company
        deal = Deal(pk=pk, **fields, created_by=by, updated_by=by, updated_at=now)  # created_at: in `fields`
        deal.search_key = sales.deal_search_key(deal.title, company.name if company is not None else "")
        deals.append({f.attname: getattr(deal, f.attname) for f in Deal._meta.concrete_fields})
        history.append({"deal_id": pk, "stage_id": stage.pk, "entered_at": deal.stage_entered_at, "left_at": None,
                        "moved_by_id": by.pk})
        changes = {k: [None, v] for k, v in audit.snapshot(deal, Deal.audited_fields).items()
                   if v not in (None, "", [], {})}
        entries.append(bulk_contacts.audit_row(deal_type, pk, deal, AuditEntry.Action.CREATE, by.pk, changes, now))
        company_id = deal.company_id  # as add_event fills it in: the contact's company
        if company_id is None and deal.contact_id is not None:
            company_id = fields["contact"].company_id
        if deal.contact_id is not None or company_id is not None:
            summary, data = sales.created_event(deal, stage)
            events.append(bulk_contacts.event_row(TimelineEvent.Kind.DEAL, deal_type, pk, by.pk, deal.contact_id,
                                               company_id, summary, audit.plain(data), now)
                          | {"deal_id": pk, "at": deal.created_at})
        if row.external_id:
            external[row.external_id] = pk
        row.outcome = bulk_contacts.CREATED
    bulk.insert(Deal, deals, with_ids=True)
    bulk.insert(StageHistory, history)
    bulk_contacts.write_history(entries, events)
    bulk_contacts.external_keys(external, ENTITY)


def _write_changes(ctx, rows: list[Row], real: dict[int, int], now) -> None:
    """The changed deals, as `sales.update_deal` and `sales.move_deal` write them: the fields with the version
    (one step for each), the search key, an audit entry and a timeline event for each, and for a move the
    stage history, dated when the deal entered its stage (`sales.move_fields`)."""
    if not rows:
        return
    by = ctx.job.by
    deal_type = ContentType.objects.get_for_model(Deal)
    companies_of = _companies_of([r.related["deal"] for r in rows])
    bulk_contacts.company_names(ctx, {r.related["deal"].company_id for r in rows} - {None})
    grouped: dict[tuple[tuple[str, ...], bool], list[list]] = defaultdict(list)
    entries, events, history = [], [], []
    moved: dict = defaultdict(list)  # when they entered their new stage -> the deals
    for row in rows:
        deal, (updated, move) = row.related["deal"], row.related["change"]
        name = ctx.company_names.get(deal.company_id, "")
        if deal.company_id is not None and deal.company_id < 0:
            name = deal.company.name
            deal.company = Company(pk=real[deal.company_id], name=name)
            for diff in (updated, move[2] if move else {}):
                if "company" in diff:
                    diff["company"][1] = deal.company_id
        company_id = deal.company_id if deal.company_id is not None else companies_of.get(deal.pk)
        deal.search_key = sales.deal_search_key(deal.title, name)
        changed = [d for d in (updated, move[2] if move else None) if d]
        deal.version += len(changed)
        moves = ["stage_entered_at"] if move else []  # not audited, so in no diff
        columns = tuple(sorted({Deal._meta.get_field(n).attname for d in changed for n in [*d, *moves]}))
        grouped[columns, bool(changed)].append([*(getattr(deal, c) for c in columns), deal.search_key,
                                                *((deal.version, now, by.pk) if changed else ()), deal.pk])
        if updated:
            entries.append(bulk_contacts.audit_row(deal_type, deal.pk, deal, AuditEntry.Action.UPDATE, by.pk,
                                                audit.plain(updated), now))
            if deal.contact_id is not None or company_id is not None:
                summary = _("Deal «%(title)s» changed: %(fields)s") % {"title": deal.title,
                                                                       "fields": ", ".join(sorted(updated))}
                events.append(bulk_contacts.event_row(TimelineEvent.Kind.CHANGED, deal_type, deal.pk, by.pk,
                                                   deal.contact_id, company_id, summary, audit.plain(updated), now)
                              | {"deal_id": deal.pk})
        if move:
            previous, stage, diff, entered, reason = move
            entries.append(bulk_contacts.audit_row(deal_type, deal.pk, deal, AuditEntry.Action.UPDATE, by.pk,
                                                audit.plain(diff), now))
            moved[entered].append(deal.pk)
            history.append({"deal_id": deal.pk, "stage_id": stage.pk, "entered_at": entered, "left_at": None,
                            "moved_by_id": by.pk})
            if deal.contact_id is not None or company_id is not None:
                summary, data = sales.moved_event(deal, previous, stage, reason)
                events.append(bulk_contacts.event_row(TimelineEvent.Kind.STAGE, deal_type, deal.pk, by.pk,
                                                   deal.contact_id, company_id, summary, audit.plain(data), now)
                              | {"deal_id": deal.pk, "at": entered})
        row.outcome = bulk_contacts.UPDATED
    for (columns, stamped), rows_of in grouped.items():
        stamps = ("version", "updated_at", "updated_by_id") if stamped else ()
        bulk.update(Deal, [*columns, "search_key", *stamps], rows_of)
    for entered, deals in moved.items():  # the stays they leave end when they enter the next
        for batch in batches(sorted(deals)):
            StageHistory.objects.filter(deal_id__in_array=batch, left_at__isnull=True).update(left_at=entered)
    bulk.insert(StageHistory, history)
    bulk_contacts.write_history(entries, events)


def _companies_of(deals: list[Deal]) -> dict[int, int]:
    """The company of each deal's contact, by deal, for the deals without a company of their own: the company
    `timeline.add_event` puts their events on."""
    contacts = {d.pk: d.contact_id for d in deals if d.company_id is None and d.contact_id is not None}
    found: dict[int, int] = {}
    for batch in batches(sorted(set(contacts.values()))):
        found.update(Contact.objects.filter(pk__in_array=batch, company__isnull=False)
                     .values_list("pk", "company_id"))
    return {deal: found[contact] for deal, contact in contacts.items() if contact in found}
