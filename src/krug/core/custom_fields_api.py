"""Administrators define custom fields per entity here, without code."""

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from krug.core.api import ERRORS
from krug.core.errors import FieldErrors, Forbidden, NotFound
from krug.core.models import CustomField
from krug.core.permissions import Role, role_of

router = Router(tags=["custom fields"])
ENTITIES = ("company", "contact", "lead", "deal")


class CustomFieldOut(Schema):
    id: int
    entity: str
    key: str
    label: str
    type: str
    choices: list
    required: bool
    position: int


class CustomFieldIn(Schema):
    entity: str = Field(..., description=f"One of {', '.join(ENTITIES)}")
    key: str | None = Field(None, description="Made from the label when empty; used in `custom` and filters")
    label: str
    type: str = Field(..., description="text, number, date, choice or boolean")
    choices: list[str] = []
    required: bool = False
    position: int = 0


class CustomFieldPatch(Schema):
    label: str | None = None
    choices: list[str] | None = None
    required: bool | None = None
    position: int | None = None


def _admin(request) -> None:
    if role_of(request.auth) != Role.ADMIN:
        raise Forbidden(_("Only administrators define custom fields"))


def _check(errors: FieldErrors, type_: str, choices: list[str]) -> None:
    if type_ == CustomField.Type.CHOICE and not choices:
        errors.add("choices", _("a choice field needs at least one choice"))
    if len(set(choices)) != len(choices):
        errors.add("choices", _("choices repeat"))


@router.get("/custom-fields", response={200: list[CustomFieldOut], **ERRORS}, operation_id="custom_fields_list")
def list_fields(request, entity: str | None = None):
    qs = CustomField.objects.all()
    return qs.filter(entity=entity) if entity else qs


@router.post("/custom-fields", response={201: CustomFieldOut, **ERRORS}, operation_id="custom_fields_create")
def create_field(request, payload: CustomFieldIn):
    _admin(request)
    errors = FieldErrors()
    if payload.entity not in ENTITIES:
        errors.add("entity", _("must be one of %(v)s") % {"v": ", ".join(ENTITIES)})
    if payload.type not in CustomField.Type.values:
        errors.add("type", _("must be one of %(v)s") % {"v": ", ".join(CustomField.Type.values)})
    label = payload.label.strip()
    if not label:
        errors.add("label", _("required"))
    from anyascii import anyascii

    key = slugify(anyascii(payload.key or label)).replace("-", "_")[:64]
    if not key:
        errors.add("key", _("required"))
    elif CustomField.objects.filter(entity=payload.entity, key=key).exists():
        errors.add("key", _("a field with this key exists"))
    _check(errors, payload.type, payload.choices)
    errors.raise_if_any()
    with transaction.atomic():
        field = CustomField.objects.create(entity=payload.entity, key=key, label=label, type=payload.type,
                                           choices=payload.choices, required=payload.required,
                                           position=payload.position)
    return Status(201, field)


@router.patch("/custom-fields/{int:pk}", response={200: CustomFieldOut, **ERRORS},
              operation_id="custom_fields_update")
def update_field(request, pk: int, payload: CustomFieldPatch):
    _admin(request)
    field = CustomField.objects.filter(pk=pk).first()
    if field is None:
        raise NotFound(_("No such custom field"))
    data = payload.dict(exclude_unset=True)
    errors = FieldErrors()
    _check(errors, field.type, data.get("choices", field.choices))
    errors.raise_if_any()
    for name, value in data.items():
        setattr(field, name, value.strip() if isinstance(value, str) else value)
    field.save()
    return field


@router.delete("/custom-fields/{int:pk}", response={204: None, **ERRORS}, operation_id="custom_fields_delete")
def delete_field(request, pk: int):
    """Removes the definition; values already stored stay in the records' history."""
    _admin(request)
    deleted, _n = CustomField.objects.filter(pk=pk).delete()
    if not deleted:
        raise NotFound(_("No such custom field"))
    return Status(204, None)
