"""REST endpoints of data quality: the job-title dictionary."""

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from krug.core.api import ERRORS
from krug.quality import services, titles
from krug.quality.models import TitleSynonym

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
