"""REST endpoints of data quality: the job-title dictionary."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from krug.core.api import ERRORS
from krug.quality import merge, services, titles
from krug.quality.models import Merge, TitleSynonym

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
