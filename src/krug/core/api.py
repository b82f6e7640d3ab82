"""API building blocks shared by every app: error bodies, cursor pages, the CRUD route set, and the
generic history / recycle-bin / sharing endpoints."""


import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import transaction
from django.db.models import QuerySet
from ninja import Query, Router, Schema, Status
from pydantic import Field, model_validator

from krug.core import audit, changes, permissions, records, registry
from krug.core.errors import ValidationFailed
from krug.core.models import Share
from krug.core.pagination import page

T = TypeVar("T")


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    code: str
    errors: list[ErrorItem] = []


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null at the end")


VERSION_HELP = "The version you loaded; a stale one answers 409"


class Out(Schema):
    """An answer whose rows may come as dicts (a list page read with `.values()`): pydantic validates a dict
    itself, in its compiled code. Ninja wraps every input in a getter that looks each field up in Python and
    runs the schema's resolvers; for a page of 50 contacts that took 7 of the 8 ms of validating it. Model
    instances, and schemas with resolvers, still go through ninja."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values, handler, info):
        if isinstance(values, dict) and not cls._ninja_resolvers:
            return handler(values)
        return super()._run_root_validator(values, handler, info)


class RecordOut(Out):
    """What every tracked record answers with besides its own fields."""

    created_at: dt.datetime
    updated_at: dt.datetime
    created_by_id: int | None
    updated_by_id: int | None
    version: int


class OwnedOut(RecordOut):
    owner_id: int | None


class PatchIn(Schema):
    """Every partial update may carry the version the client loaded (optimistic locking)."""

    version: int | None = Field(None, description=VERSION_HELP)


class ListParams(Schema):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
    order: str = Field("-id", description="Sort field, `-` for descending")
    owner: int | None = Field(None, description="Owner user id")
    team: int | None = Field(None, description="Team id of the owner")
    updated_since: dt.datetime | None = Field(None, description="Only records changed at or after this time")
    created_from: dt.date | None = None
    created_to: dt.date | None = None


def common_filters(qs: QuerySet, params: ListParams, *, owner_field: str = "owner") -> QuerySet:
    return filter_present(qs, **{owner_field: params.owner, f"{owner_field}__team": params.team},
                          updated_at__gte=params.updated_since, created_at__date__gte=params.created_from,
                          created_at__date__lte=params.created_to)


def filter_present(qs: QuerySet, **lookups) -> QuerySet:
    """Apply the lookups whose value was given (not None, not empty): the usual shape of list filters."""
    given = {k: v for k, v in lookups.items() if v is not None and v != [] and v != ""}
    return qs.filter(**given) if given else qs


@dataclass
class Resource:
    """Everything the CRUD route set needs to know about one entity."""

    slug: str
    model: type
    out: type[Schema]
    create_in: type[Schema]
    update_in: type[Schema]
    create: Callable[[Any, dict], Any]
    update: Callable[[Any, Any, dict, int | None], Any]
    filters: type[Schema] = ListParams
    apply_filters: Callable[[QuerySet, Any, Any], QuerySet] = lambda qs, params, request: qs
    list_queryset: Callable[[QuerySet], QuerySet] = lambda qs: qs
    # what `out` reads, from the rows `list_queryset` yields (a page, or one record): there, three queries
    # for a page's phones, e-mails and tags instead of Django's prefetch (which builds a manager per record)
    rows: Callable[[list], list] = lambda rows: rows
    orders: tuple[str, ...] = ("id", "created_at", "updated_at")
    delete: Callable[[Any, Any], None] = field(default=records.move_to_bin)
    owner_field: str = "owner"


def load(resource: Resource, request, pk: int, action: str = permissions.VIEW):
    return records.get_for(request.auth, resource.model, pk, action)


def _one(res: Resource, pk: int):
    return res.rows([res.list_queryset(res.model.objects.filter(pk=pk)).get()])[0]


def add_crud_routes(router: Router, res: Resource) -> None:
    """list / create / read / update / delete for one entity, all through its services and the one
    permission door."""
    name = res.slug.replace("-", "_")
    filters_schema = res.filters

    @router.get("", response={200: Page[res.out], **ERRORS}, operation_id=f"{name}_list",
                summary=f"List {res.slug}")
    def list_records(request, params: Query[filters_schema]):  # type: ignore[valid-type]
        if params.order.lstrip("-") not in res.orders:
            raise ValidationFailed.single("order", f"must be one of {', '.join(res.orders)}, optionally with -")
        qs = res.model.objects.visible_to(request.auth)
        qs = common_filters(qs, params, owner_field=res.owner_field)
        qs = res.apply_filters(qs, params, request)
        rows, next_cursor = page(res.list_queryset(qs), order=params.order, cursor=params.cursor,
                                 limit=params.limit)
        return {"items": res.rows(rows), "next_cursor": next_cursor}

    @router.post("", response={201: res.out, **ERRORS}, operation_id=f"{name}_create",
                 summary=f"Create one of {res.slug}")
    def create_record(request, payload: res.create_in):  # type: ignore[valid-type]
        with transaction.atomic():
            obj = res.create(request.auth, payload.dict(exclude_unset=True))
        return Status(201, _one(res, obj.pk))

    @router.get("/{int:pk}", response={200: res.out, **ERRORS}, operation_id=f"{name}_get",
                summary=f"Read one of {res.slug}")
    def get_record(request, pk: int):
        load(res, request, pk)
        return _one(res, pk)

    @router.patch("/{int:pk}", response={200: res.out, **ERRORS}, operation_id=f"{name}_update",
                  summary=f"Update one of {res.slug}; send `version` to be protected from lost updates")
    def update_record(request, pk: int, payload: res.update_in):  # type: ignore[valid-type]
        data = payload.dict(exclude_unset=True)
        version = data.pop("version", None)
        with transaction.atomic():
            obj = load(res, request, pk, permissions.CHANGE)
            res.update(request.auth, obj, data, version)
        return _one(res, pk)

    @router.delete("/{int:pk}", response={204: None, **ERRORS}, operation_id=f"{name}_delete",
                   summary=f"Move one of {res.slug} to the recycle bin (heads and admins)")
    def delete_record(request, pk: int):
        with transaction.atomic():
            obj = load(res, request, pk, permissions.DELETE)
            res.delete(obj, request.auth)
        return Status(204, None)


# ---- generic endpoints over every registered entity --------------------------------------------------

generic_router = Router(tags=["history, recycle bin, sharing"])


class FieldChangeOut(Out):
    field: str = Field(description="The field's key, as in `changes` (a custom field's as `custom.<key>`)")
    label: str = Field(description="The field's label, in the language of the request")
    old: str = Field(description="The old value as people read it: a choice by its label, a user or a record by "
                                 "name, a date as a date, «—» for none")
    new: str = Field(description="The new value, in the same words")


class AuditOut(Schema):
    id: int
    action: str
    at: dt.datetime
    user_id: int | None
    user: str | None
    changes: dict[str, Any] = Field(description="{field: [old, new]} as stored: keys and raw values")
    fields: list[FieldChangeOut] = Field(description="The same changes in words, field by field")


class BinItemOut(Schema):
    entity: str
    id: int
    title: str
    deleted_at: dt.datetime
    deleted_by_id: int | None


class ShareIn(Schema):
    user_id: int


@generic_router.get("/{entity}/{int:pk}/history", response={200: Page[AuditOut], **ERRORS},
                    operation_id="history", summary="Audit trail of one record: who, when, old -> new")
def record_history(request, entity: str, pk: int, cursor: str | None = None,
                   limit: int = Query(50, ge=1, le=200)):
    model = registry.model_for(entity)
    obj = model.objects.filter(pk=pk).first()
    if obj is None or not permissions.can(request.auth, permissions.VIEW, obj):
        # binned records stay readable by those who may restore them
        obj = records.get_for(request.auth, model, pk, permissions.RESTORE, deleted=True)
    rows, next_cursor = page(audit.history(obj), order="-id", cursor=cursor, limit=limit)
    described = changes.describe(model, [e.changes for e in rows])
    items = [{"id": e.id, "action": e.action, "at": e.at, "user_id": e.user_id,
              "user": e.user.get_full_name() or e.user.username if e.user else None,
              "changes": e.changes, "fields": [vars(c) for c in fields]} for e, fields in zip(rows, described,
                                                                                              strict=True)]
    return {"items": items, "next_cursor": next_cursor}


@generic_router.get("/recycle-bin", response={200: Page[BinItemOut], **ERRORS}, operation_id="bin_list",
                    summary="Records moved to the recycle bin that you may restore")
def bin_list(request, entity: str, cursor: str | None = None, limit: int = Query(50, ge=1, le=200)):
    model = registry.model_for(entity)
    qs = model.objects.visible_to(request.auth, permissions.RESTORE, deleted=True)
    rows, next_cursor = page(qs, order="-id", cursor=cursor, limit=limit)
    items = [{"entity": entity, "id": o.pk, "title": str(o), "deleted_at": o.deleted_at,
              "deleted_by_id": o.deleted_by_id} for o in rows]
    return {"items": items, "next_cursor": next_cursor}


@generic_router.post("/recycle-bin/{entity}/{int:pk}/restore", response={204: None, **ERRORS},
                     operation_id="bin_restore", summary="Restore a record from the recycle bin")
def bin_restore(request, entity: str, pk: int):
    model = registry.model_for(entity)
    with transaction.atomic():
        obj = records.get_for(request.auth, model, pk, permissions.RESTORE, deleted=True)
        registry.restorer_for(entity)(obj, request.auth)
    return Status(204, None)


@generic_router.delete("/recycle-bin/{entity}/{int:pk}", response={204: None, **ERRORS},
                       operation_id="bin_purge", summary="Delete a binned record for good (admins only)")
def bin_purge(request, entity: str, pk: int):
    model = registry.model_for(entity)
    with transaction.atomic():
        obj = records.get_for(request.auth, model, pk, permissions.PURGE, deleted=True)
        records.purge(obj, request.auth)
    return Status(204, None)


@generic_router.post("/{entity}/{int:pk}/shares", response={204: None, **ERRORS}, operation_id="share_add",
                     summary="Share a record with a colleague: he may then see and edit it")
def share_add(request, entity: str, pk: int, payload: ShareIn):
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    model = registry.model_for(entity)
    with transaction.atomic():
        obj = records.get_for(request.auth, model, pk, permissions.CHANGE)
        user = get_user_model().objects.filter(pk=payload.user_id, is_active=True).first()
        if user is None:
            raise ValidationFailed.single("user_id", "no such active user")
        Share.objects.get_or_create(content_type=ContentType.objects.get_for_model(model), object_id=pk,
                                    user=user, defaults={"created_by": request.auth})
        audit.record("share", obj, request.auth, {"shared_with": [None, user.pk]})
    return Status(204, None)
