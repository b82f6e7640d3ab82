"""API schemas of pipelines, stages, products and deals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from krug.core.api import ListParams, OwnedOut, PatchIn, RecordOut

REQUIRABLE_HELP = "Deal fields that must be filled before a deal enters: amount, company, contact, " \
                  "expected_close, items"


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    position: int
    probability: int
    kind: str = Field(description="open, won or lost")
    required_fields: list[str]
    color: str
    version: int


class StageNested(Schema):
    name: str
    probability: int = 0
    kind: str = "open"
    required_fields: list[str] = Field([], description=REQUIRABLE_HELP)
    color: str = ""


class StageIn(StageNested):
    pipeline_id: int
    position: int | None = Field(None, ge=1, description="1 = first; at the end when empty")


class StagePatch(PatchIn):
    name: str | None = None
    probability: int | None = None
    kind: str | None = None
    required_fields: list[str] | None = Field(None, description=REQUIRABLE_HELP)
    color: str | None = None
    position: int | None = Field(None, ge=1, description="Move the stage here; the others shift")


class StageFilters(ListParams):
    pipeline: int | None = None


class PipelineOut(RecordOut):
    id: int
    name: str
    is_default: bool
    position: int
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj) -> list:
        return list(obj.stages.all())


class PipelineIn(Schema):
    name: str
    is_default: bool = False
    stages: list[StageNested] = Field([], description="In order; the standard stages when empty")


class PipelinePatch(PatchIn):
    name: str | None = None
    is_default: bool | None = None
    position: int | None = None


class StageOrderIn(Schema):
    stage_ids: list[int] = Field(description="Every stage of the pipeline, in the new order")


class BoardColumnOut(Schema):
    stage_id: int
    name: str
    kind: str
    probability: int
    count: int
    amount: Decimal
    weighted_amount: Decimal


class ProductOut(RecordOut):
    id: int
    name: str
    sku: str
    price: Decimal
    currency: str
    unit: str
    vat_rate: Decimal | None
    description: str
    is_active: bool


class ProductIn(Schema):
    name: str
    sku: str = ""
    price: Decimal = Decimal(0)
    currency: str | None = Field(None, description="ISO 4217; the installation's currency when empty")
    unit: str = ""
    vat_rate: Decimal | None = None
    description: str = ""
    is_active: bool = True


class ProductPatch(PatchIn):
    name: str | None = None
    sku: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    unit: str | None = None
    vat_rate: Decimal | None = None
    description: str | None = None
    is_active: bool | None = None


class ProductFilters(ListParams):
    q: str | None = Field(None, description="Name or SKU contains")
    active: bool | None = None


class ItemIn(Schema):
    product_id: int | None = None
    name: str | None = Field(None, description="The product's name when empty")
    quantity: Decimal = Decimal(1)
    unit: str | None = None
    price: Decimal | None = Field(None, description="The product's price when empty")
    discount_percent: Decimal = Decimal(0)


class ItemOut(Schema):
    id: int
    product_id: int | None
    name: str
    quantity: Decimal
    unit: str
    price: Decimal
    discount_percent: Decimal
    total: Decimal


class DealOut(OwnedOut):
    id: int
    title: str
    amount: Decimal
    currency: str
    weighted_amount: Decimal = Field(description="Amount × the stage's probability")
    pipeline_id: int
    stage_id: int
    stage_name: str
    stage_kind: str
    probability: int
    stage_entered_at: dt.datetime
    expected_close: dt.date | None
    closed_at: dt.datetime | None
    contact_id: int | None
    contact_name: str | None = None
    company_id: int | None
    company_name: str | None = None
    source: str
    loss_reason: str
    description: str
    custom: dict[str, Any]
    items: list[ItemOut]

    @staticmethod
    def resolve_stage_name(obj) -> str:
        return obj.stage.name

    @staticmethod
    def resolve_stage_kind(obj) -> str:
        return obj.stage.kind

    @staticmethod
    def resolve_probability(obj) -> int:
        return obj.stage.probability

    @staticmethod
    def resolve_weighted_amount(obj) -> Decimal:
        return (obj.amount * obj.stage.probability / 100).quantize(Decimal("0.01"))

    @staticmethod
    def resolve_contact_name(obj) -> str | None:
        return str(obj.contact) if obj.contact_id else None

    @staticmethod
    def resolve_company_name(obj) -> str | None:
        return str(obj.company) if obj.company_id else None

    @staticmethod
    def resolve_items(obj) -> list:
        return list(obj.items.all())


class DealIn(Schema):
    title: str
    amount: Decimal | None = Field(None, description="The sum of the lines when items are given")
    currency: str | None = Field(None, description="ISO 4217; the installation's currency when empty")
    pipeline_id: int | None = Field(None, description="The default pipeline when empty")
    stage_id: int | None = Field(None, description="The pipeline's first stage when empty")
    expected_close: dt.date | None = None
    contact_id: int | None = None
    company_id: int | None = Field(None, description="The contact's company when empty")
    source: str = ""
    loss_reason: str = ""
    description: str = ""
    custom: dict[str, Any] = {}
    items: list[ItemIn] = []
    owner_id: int | None = Field(None, description="Responsible user; defaults to you")


class DealPatch(PatchIn):
    model_config = ConfigDict(extra="forbid")  # a stage sent here must not be silently ignored: use move

    title: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    expected_close: dt.date | None = None
    contact_id: int | None = None
    company_id: int | None = None
    source: str | None = None
    description: str | None = None
    custom: dict[str, Any] | None = None
    items: list[ItemIn] | None = Field(None, description="Replaces the lines; the amount becomes their sum")
    owner_id: int | None = None


class DealFilters(ListParams):
    q: str | None = Field(None, description="Title or company contains")
    pipeline: int | None = None
    stage: list[int] | None = None
    status: str | None = Field(None, description="open, won or lost")
    contact: int | None = None
    company: int | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    expected_close_from: dt.date | None = None
    expected_close_to: dt.date | None = None
    closed_from: dt.date | None = None
    closed_to: dt.date | None = None


class MoveIn(PatchIn):
    stage_id: int
    loss_reason: str = Field("", description="Required when the stage is a lost one")


class StageStayOut(Schema):
    stage_id: int
    stage: str
    kind: str
    entered_at: dt.datetime
    left_at: dt.datetime | None
    seconds: int = Field(description="Time spent in the stage (until now while it is the current one)")
    moved_by_id: int | None
    moved_by: str | None
