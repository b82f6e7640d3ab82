"""Administrators define custom fields per entity here, without code."""

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from krug.core import custom_fields
from krug.core.api import ERRORS
from krug.core.errors import FieldErrors, Forbidden, NotFound
from krug.core.models import CustomField

router = Router(tags=["custom fields"])
ENTITIES = custom_fields.ENTITIES


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
    if not custom_fields.may_define(request.auth):
        raise Forbidden(_("Only administrators define custom fields"))


@router.get("/custom-fields", response={200: list[CustomFieldOut], **ERRORS}, operation_id="custom_fields_list")
def list_fields(request, entity: str | None = None):
    qs = CustomField.objects.all()
    return qs.filter(entity=entity) if entity else qs


@router.post("/custom-fields", response={201: CustomFieldOut, **ERRORS}, operation_id="custom_fields_create")
def create_field(request, payload: CustomFieldIn):
    return Status(201, custom_fields.define_field(request.auth, payload.dict()))


@router.patch("/custom-fields/{int:pk}", response={200: CustomFieldOut, **ERRORS},
              operation_id="custom_fields_update")
def update_field(request, pk: int, payload: CustomFieldPatch):
    _admin(request)
    field = CustomField.objects.filter(pk=pk).first()
    if field is None:
        raise NotFound(_("No such custom field"))
    data = payload.dict(exclude_unset=True)
    errors = FieldErrors()
    custom_fields.check_choices(errors, field.type, data.get("choices", field.choices))
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
