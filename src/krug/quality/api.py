"""REST endpoints of data quality: the job-title dictionary."""

import datetime as dt

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from krug.core.api import ERRORS, Page
from krug.quality import cleanup, health, merge, services, titles
from krug.quality.models import DuplicatePair, Merge, QualitySettings, ScanRun, TitleSynonym

router = Router(tags=["data quality"])


class SynonymOut(Schema):
    id: int
    variant: str
    title: str


class SynonymIn(Schema):
    variant: str = Field(description="A way people write the title, e.g. `Founder & CEO`")
    title: str = Field(description="The standard title it means, e.g. `Генеральный директор`")


class SynonymPatch(Schema):
    variant: str | None = None
    title: str | None = None


class TitleCheckOut(Schema):
    position: str
    title: str = Field(description="The standard title, empty when none is close enough")


@router.get("/quality/titles", response={200: list[SynonymOut], **ERRORS}, operation_id="titles_list",
            summary="The job-title dictionary: each known spelling and its standard title")
def list_titles(request, title: str | None = None):
    qs = TitleSynonym.objects.all()
    return qs.filter(title=title) if title else qs


@router.get("/quality/titles/standard", response={200: TitleCheckOut, **ERRORS}, operation_id="titles_standard",
            summary="What standard title a typed position maps to")
def standard(request, position: str):
    return {"position": position, "title": titles.standard_title(position)}


@router.post("/quality/titles", response={201: SynonymOut, **ERRORS}, operation_id="titles_create",
             summary="Add a spelling of a title (administrators)")
def create_title(request, payload: SynonymIn):
    return Status(201, services.save_title_synonym(request.auth, payload.dict()))


@router.patch("/quality/titles/{int:pk}", response={200: SynonymOut, **ERRORS}, operation_id="titles_update",
              summary="Change a spelling or its standard title (administrators)")
def update_title(request, pk: int, payload: SynonymPatch):
    synonym = get_object_or_404(TitleSynonym, pk=pk)
    return services.save_title_synonym(request.auth, payload.dict(exclude_unset=True), synonym)


@router.delete("/quality/titles/{int:pk}", response={204: None, **ERRORS}, operation_id="titles_delete",
               summary="Remove a spelling (administrators)")
def delete_title(request, pk: int):
    services.delete_title_synonym(request.auth, get_object_or_404(TitleSynonym, pk=pk))
    return Status(204, None)


# ---- merging duplicates ---------------------------------------------------------------------------------

class MergeIn(Schema):
    survivor_id: int = Field(description="The record that stays")
    merged_ids: list[int] = Field(description="The records merged into it (they go to the recycle bin)")
    fields: dict[str, int] = Field({}, description="field -> id of the record whose value wins; by default the "
                                                    "survivor's value, or the first non-empty one")


class MergeOut(Schema):
    id: int
    entity: str
    survivor_id: int
    merged_ids: list[int]
    automatic: bool
    by_id: int | None
    at: dt.datetime
    undone_at: dt.datetime | None


def _merge(request, model, payload: MergeIn):
    return merge.merge(request.auth, model, payload.survivor_id, payload.merged_ids, payload.fields)


@router.post("/contacts/merge", response={200: MergeOut, **ERRORS}, operation_id="contacts_merge",
             summary="Merge duplicate contacts into one, field by field; deals, activities and history move along")
def merge_contacts(request, payload: MergeIn):
    from krug.clients.models import Contact

    return _merge(request, Contact, payload)


@router.post("/companies/merge", response={200: MergeOut, **ERRORS}, operation_id="companies_merge",
             summary="Merge duplicate companies into one, field by field; people, deals and history move along")
def merge_companies(request, payload: MergeIn):
    from krug.clients.models import Company

    return _merge(request, Company, payload)


@router.get("/quality/merges", response={200: list[MergeOut], **ERRORS}, operation_id="merges_list",
            summary="Recent merges of records you may change, newest first")
def list_merges(request, entity: str | None = None, survivor: int | None = None, limit: int = 50):
    qs = Merge.objects.order_by("-id")
    if entity:
        qs = qs.filter(entity=entity)
    if survivor is not None:
        qs = qs.filter(survivor_id=survivor)
    rows = list(qs[: min(max(limit, 1), 200)])
    allowed = _changeable_survivors(request.auth, rows)
    return [m for m in rows if (m.entity, m.survivor_id) in allowed]


def _changeable_survivors(user, rows: list[Merge]) -> set[tuple[str, int]]:
    """(entity, id) of the merges' survivors the user may change: one query per entity."""
    from krug.clients.models import Company, Contact
    from krug.core import permissions

    allowed = set()
    for entity, model in (("contact", Contact), ("company", Company)):
        ids = [m.survivor_id for m in rows if m.entity == entity]
        if ids:
            found = model.objects.visible_to(user, permissions.CHANGE).filter(pk__in=ids).values_list("pk", flat=True)
            allowed |= {(entity, pk) for pk in found}
    return allowed


@router.post("/quality/merges/{int:pk}/undo", response={204: None, **ERRORS}, operation_id="merges_undo",
             summary="Undo a merge: the merged records come back with everything that was moved")
def undo_merge(request, pk: int):
    record = get_object_or_404(Merge, pk=pk)
    merge.undo(request.auth, record)
    return Status(204, None)


# ---- full scans and the pairs they find ---------------------------------------------------------------

class ScanOut(Schema):
    id: int
    entity: str
    status: str
    stage: str
    done: int
    total: int
    percent: int
    records: int
    found: int
    merged: int
    rules: dict
    error: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_percent(obj) -> int:
        if obj.status == "done":
            return 100
        return int(100 * obj.done / obj.total) if obj.total else 0


class ScanIn(Schema):
    rules: dict = Field({}, description="Override the saved match rules for this run (see GET /quality/settings)")
    entity: str = Field("contact", description="contact or company")


class PairOut(Schema):
    id: int
    entity: str
    a_id: int
    a_title: str
    b_id: int
    b_title: str
    score: float
    reasons: list[str]
    status: str
    found_at: dt.datetime


class SettingsIO(Schema):
    match_rules: dict = Field(description="threshold, use_phone/use_email/use_name, weight_*, name_similarity, "
                                          "shared_contact_min_name, patronymic_penalty, max_block, max_namesakes")
    auto_merge_above: float | None = Field(None, ge=50, le=100,
                                           description="Merge pairs scoring at least this automatically; null = off")
    invalid_phones: str = Field("reject", description="reject: an invalid phone is a field error; keep: it is "
                                                      "stored as typed, flagged valid=false and listed by the "
                                                      "cleanup rule invalid_phone")


def _contact_model():
    from krug.clients.models import Contact
    return Contact


def _company_model():
    from krug.clients.models import Company
    return Company


ENTITY_MODELS = {"contact": _contact_model, "company": _company_model}


def _require_head(user) -> None:
    from krug.core.errors import Forbidden
    from krug.core.permissions import Role, role_of

    if role_of(user) not in (Role.ADMIN, Role.HEAD):
        raise Forbidden("Only heads and administrators run full scans")


@router.post("/quality/scans", response={202: ScanOut, **ERRORS}, operation_id="scans_start",
             summary="Start a full duplicate scan of contacts or companies in the background (heads and admins)")
def start_scan(request, payload: ScanIn):
    from django.db import transaction

    from krug.quality import tasks

    _require_head(request.auth)
    if payload.entity not in ENTITY_MODELS:
        from krug.core.errors import ValidationFailed
        raise ValidationFailed.single("entity", "must be contact or company")
    if payload.rules:
        from krug.quality.scan import MatchRules

        unknown = set(payload.rules) - set(MatchRules.__dataclass_fields__)
        if unknown:
            from krug.core.errors import ValidationFailed
            raise ValidationFailed.single("rules", f"unknown rules: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        run = tasks.start_scan(request.auth, rules=payload.rules, entity=payload.entity)
    return Status(202, ScanRun.objects.get(pk=run.pk))


@router.get("/quality/scans/{int:pk}", response={200: ScanOut, **ERRORS}, operation_id="scans_get",
            summary="A scan's progress and result")
def get_scan(request, pk: int):
    _require_head(request.auth)
    return get_object_or_404(ScanRun, pk=pk)


@router.get("/quality/duplicates", response={200: list[PairOut], **ERRORS}, operation_id="duplicates_list",
            summary="Probable duplicates found by scans, best first, both of which you may see")
def list_duplicates(request, status: str = "open", entity: str = "contact", limit: int = Query(50, ge=1, le=200)):
    if entity not in ENTITY_MODELS:
        from krug.core.errors import ValidationFailed
        raise ValidationFailed.single("entity", "must be contact or company")
    model = ENTITY_MODELS[entity]()
    visible = model.objects.visible_to(request.auth)
    # EXISTS per pair, not `IN (every record he sees)`: see permissions.AttachedPolicy
    pairs = list(DuplicatePair.objects.filter(entity=entity, status=status)
                 .filter(Exists(visible.filter(pk=OuterRef("a_id"))), Exists(visible.filter(pk=OuterRef("b_id"))))
                 .order_by("-score", "id")[:limit])
    names = {c.pk: str(c) for c in model.objects.filter(pk__in=[x for p in pairs for x in (p.a_id, p.b_id)])}
    return [{"id": p.id, "entity": p.entity, "a_id": p.a_id, "a_title": names.get(p.a_id, ""), "b_id": p.b_id,
             "b_title": names.get(p.b_id, ""), "score": p.score, "reasons": p.reasons, "status": p.status,
             "found_at": p.found_at} for p in pairs]


@router.post("/quality/duplicates/{int:pk}/dismiss", response={204: None, **ERRORS},
             operation_id="duplicates_dismiss", summary="Mark a pair as two different people; scans keep it so")
def dismiss_duplicate(request, pk: int):
    from krug.core import permissions

    pair = get_object_or_404(DuplicatePair, pk=pk)
    model = ENTITY_MODELS[pair.entity]()
    changeable = model.objects.visible_to(request.auth, permissions.CHANGE).filter(pk__in=[pair.a_id, pair.b_id])
    if changeable.count() != 2:
        get_object_or_404(model.objects.visible_to(request.auth), pk=pair.a_id)
        from krug.core.errors import Forbidden
        raise Forbidden("You may not change both contacts of this pair")
    DuplicatePair.objects.filter(pk=pk).update(status=DuplicatePair.Status.DISMISSED, decided_by=request.auth)
    return Status(204, None)


@router.get("/quality/settings", response={200: SettingsIO, **ERRORS}, operation_id="quality_settings_get",
            summary="Match rules and automatic merging")
def get_settings(request):
    from krug.quality.scan import MatchRules

    current = QualitySettings.current()
    return {"match_rules": MatchRules.from_dict(current.match_rules).as_dict(),
            "auto_merge_above": current.auto_merge_above, "invalid_phones": current.invalid_phones}


@router.put("/quality/settings", response={200: SettingsIO, **ERRORS}, operation_id="quality_settings_put",
            summary="Tune the match rules and automatic merging (administrators)")
def put_settings(request, payload: SettingsIO):
    services.save_settings(request.auth, payload.match_rules, payload.auto_merge_above, payload.invalid_phones)
    return get_settings(request)


# ---- cleanup candidates and data health ---------------------------------------------------------------

class RuleOut(Schema):
    key: str
    label: str
    help: str


class CleanupItemOut(Schema):
    id: int
    title: str
    owner_id: int | None
    reasons: list[str]


class HealthOut(Schema):
    date: dt.date | None = Field(description="The snapshot's day; null when computed live")
    scope: str = Field(description="all, team or own")
    total: int
    clean: int
    clean_share: float
    duplicates_open: int
    completeness: dict[str, int]
    completeness_share: dict[str, float]
    flagged: dict[str, int]


class HealthPointOut(Schema):
    date: dt.date
    total: int
    clean: int
    duplicates_open: int


@router.get("/quality/cleanup/rules", response={200: list[RuleOut], **ERRORS}, operation_id="cleanup_rules",
            summary="The reasons a contact is listed as a cleanup candidate")
def cleanup_rules(request):
    return [{"key": r.key, "label": str(r.label), "help": str(r.help)} for r in cleanup.RULES]


@router.get("/quality/cleanup", response={200: Page[CleanupItemOut], **ERRORS}, operation_id="cleanup_list",
            summary="Contacts you may see that a cleanup rule flags, with every reason that applies")
def cleanup_list(request, reason: str, cursor: str | None = None, limit: int = Query(50, ge=1, le=200)):
    from krug.core.errors import ValidationFailed
    from krug.core.pagination import page

    if reason not in cleanup.RULE_KEYS:
        raise ValidationFailed.single("reason", "must be one of " + ", ".join(cleanup.RULE_KEYS))
    rows, next_cursor = page(cleanup.candidates(request.auth, reason), order="-id", cursor=cursor, limit=limit)
    reasons = cleanup.reasons_for([c.pk for c in rows])
    return {"items": [{"id": c.pk, "title": c.full_name, "owner_id": c.owner_id, "reasons": reasons[c.pk]}
                      for c in rows], "next_cursor": next_cursor}


@router.get("/quality/health", response={200: HealthOut, **ERRORS}, operation_id="quality_health",
            summary="Data health of the contacts you answer for: today's snapshot, or live with live=true")
def data_health(request, live: bool = False):
    result = health.report(request.auth, live=live)
    return {"date": result["date"], "scope": result["scope"], **result["total"]}


@router.get("/quality/health/history", response={200: list[HealthPointOut], **ERRORS},
            operation_id="quality_health_history", summary="Daily snapshots of the data health you answer for")
def health_history(request, days: int = Query(90, ge=1, le=730)):
    return health.history(request.auth, days)
