"""REST endpoints of sales: pipelines and stages, products, deals (with move, stage history, board)."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Prefetch, Q, Sum
from ninja import Query, Router

from krug.core import permissions, records
from krug.core.api import ERRORS, Resource, add_crud_routes, filter_present
from krug.sales import schemas, services
from krug.sales.models import Deal, Pipeline, Product, Stage

# ---- pipelines and stages ---------------------------------------------------------------------------------


def _pipeline_rows(qs):
    return qs.prefetch_related(Prefetch("stages", queryset=Stage.objects.alive().order_by("position", "id")))


pipelines = Router(tags=["pipelines and stages"])
add_crud_routes(pipelines, Resource(
    slug="pipelines", model=Pipeline, out=schemas.PipelineOut, create_in=schemas.PipelineIn,
    update_in=schemas.PipelinePatch, create=services.create_pipeline, update=services.update_pipeline,
    delete=services.delete_pipeline, list_queryset=_pipeline_rows, owner_field="created_by",
    orders=("id", "position", "name"),
))


@pipelines.put("/{int:pk}/stage-order", response={200: schemas.PipelineOut, **ERRORS},
               operation_id="pipelines_reorder_stages", summary="Put the pipeline's stages in a new order")
def reorder_stages(request, pk: int, payload: schemas.StageOrderIn):
    with transaction.atomic():
        pipeline = records.get_for(request.auth, Pipeline, pk, permissions.CHANGE)
        services.reorder_stages(request.auth, pipeline, payload.stage_ids)
    return _pipeline_rows(Pipeline.objects.filter(pk=pk)).get()


@pipelines.get("/{int:pk}/board", response={200: list[schemas.BoardColumnOut], **ERRORS},
               operation_id="pipelines_board",
               summary="Per stage: the number of deals you may see, their amount and the weighted amount")
def board(request, pk: int, owner: int | None = None, team: int | None = None):
    pipeline = records.get_for(request.auth, Pipeline, pk)
    deals = Deal.objects.visible_to(request.auth).filter(pipeline=pipeline)
    if owner is not None:
        deals = deals.filter(owner=owner)
    if team is not None:
        deals = deals.filter(owner__team=team)
    totals = {row["stage"]: row for row in deals.values("stage").annotate(n=Count("id"), total=Sum("amount"))}
    columns = []
    for stage in Stage.objects.alive().filter(pipeline=pipeline).order_by("position", "id"):
        row = totals.get(stage.pk, {"n": 0, "total": Decimal(0)})
        amount = row["total"] or Decimal(0)
        columns.append({"stage_id": stage.pk, "name": stage.name, "kind": stage.kind,
                        "probability": stage.probability, "count": row["n"], "amount": amount,
                        "weighted_amount": (amount * stage.probability / 100).quantize(Decimal("0.01"))})
    return columns


def _filter_stages(qs, params, request):
    return filter_present(qs.filter(pipeline__deleted_at__isnull=True), pipeline=params.pipeline)


stages = Router(tags=["pipelines and stages"])
add_crud_routes(stages, Resource(
    slug="stages", model=Stage, out=schemas.StageOut, create_in=schemas.StageIn, update_in=schemas.StagePatch,
    filters=schemas.StageFilters, create=services.create_stage, update=services.update_stage,
    delete=services.delete_stage, apply_filters=_filter_stages, owner_field="created_by",
    orders=("id", "position"),
))


# ---- products ---------------------------------------------------------------------------------------------

def _filter_products(qs, params, request):
    if params.q:
        q = params.q.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(name__icontains=q.capitalize()) | Q(sku__icontains=q))
    return filter_present(qs, is_active=params.active)


products = Router(tags=["products"])
add_crud_routes(products, Resource(
    slug="products", model=Product, out=schemas.ProductOut, create_in=schemas.ProductIn,
    update_in=schemas.ProductPatch, filters=schemas.ProductFilters, create=services.create_product,
    update=services.update_product, apply_filters=_filter_products, owner_field="created_by",
    orders=("id", "name", "price", "updated_at"),
))


# ---- deals ------------------------------------------------------------------------------------------------

def _filter_deals(qs, params, request):
    from krug.sales import filters

    return filters.deals(qs, request.GET, with_common=False)


def _deal_rows(qs):
    return qs.select_related("stage", "contact", "company").prefetch_related("items")


deals = Router(tags=["deals"])
add_crud_routes(deals, Resource(
    slug="deals", model=Deal, out=schemas.DealOut, create_in=schemas.DealIn, update_in=schemas.DealPatch,
    filters=schemas.DealFilters, create=services.create_deal, update=services.update_deal,
    delete=services.delete_deal, apply_filters=_filter_deals, list_queryset=_deal_rows,
    orders=("id", "created_at", "updated_at", "amount", "expected_close", "stage_entered_at"),
))


@deals.post("/{int:pk}/move", response={200: schemas.DealOut, **ERRORS}, operation_id="deals_move",
            summary="Move a deal to a stage, checking the stage's requirements and recording the history")
def move_deal(request, pk: int, payload: schemas.MoveIn):
    with transaction.atomic():
        deal = records.get_for(request.auth, Deal, pk, permissions.CHANGE)
        services.move_deal(request.auth, deal, payload.stage_id, loss_reason=payload.loss_reason,
                           version=payload.version)
    return _deal_rows(Deal.objects.filter(pk=pk)).get()


@deals.get("/{int:pk}/stage-history", response={200: list[schemas.StageStayOut], **ERRORS},
           operation_id="deals_stage_history", summary="The stages the deal went through, with entered/left times")
def deal_stage_history(request, pk: int):
    return services.stage_history(records.get_for(request.auth, Deal, pk))


@deals.put("/{int:pk}/items", response={200: schemas.DealOut, **ERRORS}, operation_id="deals_set_items",
           summary="Replace the deal's line items; the amount becomes their sum")
def set_items(request, pk: int, items: list[schemas.ItemIn], version: int | None = Query(None)):
    with transaction.atomic():
        deal = records.get_for(request.auth, Deal, pk, permissions.CHANGE)
        services.update_deal(request.auth, deal, {"items": [i.dict() for i in items]}, version)
    return _deal_rows(Deal.objects.filter(pk=pk)).get()


routers = [("/pipelines", pipelines), ("/stages", stages), ("/products", products), ("/deals", deals)]
