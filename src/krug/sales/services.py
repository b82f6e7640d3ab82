"""Operations on pipelines, stages, products and deals. A deal changes stage only through `move_deal`,
which checks the stage's requirements, closes or reopens the deal, and writes the stage history and the
timeline entry."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from krug.clients import timeline
from krug.clients.models import Company, Contact, TimelineEvent
from krug.clients.services import clean_text_fields, resolve_owner
from krug.core import audit, custom_fields, records
from krug.core.errors import Conflict, FieldErrors, Forbidden, ValidationFailed, VersionConflict
from krug.core.models import AuditEntry
from krug.core.permissions import Role, role_of
from krug.quality import normalize
from krug.sales.models import Deal, DealItem, Pipeline, Product, Stage, StageHistory

PIPELINE_TEXT = {"name": 120}
STAGE_TEXT = {"name": 120, "color": 16}
PRODUCT_TEXT = {"name": 300, "sku": 64, "unit": 16, "description": 5000}
DEAL_TEXT = {"title": 300, "source": 64, "loss_reason": 300, "description": 10000}
MAX_AMOUNT = Decimal("999999999999.99")
CURRENCY = re.compile(r"^[A-Z]{3}$")


class StageRequirementsMissing(ValidationFailed):
    """The deal lacks what the stage requires."""

    code = "stage_requirements"


def _require_admin(by) -> None:
    if role_of(by) != Role.ADMIN:
        raise Forbidden(_("Only an administrator may change pipelines, stages and products"))


def clean_money(data: dict, name: str, errors: FieldErrors, out: dict, *, allow_none: bool = False) -> None:
    if name not in data:
        return
    value = data[name]
    if value is None and allow_none:
        out[name] = None
        return
    try:
        number = Decimal(str(value).replace(" ", "").replace(",", ".")) if value is not None else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        errors.add(name, _("must be a number"))
    elif number < 0:
        errors.add(name, _("must not be negative"))
    elif number > MAX_AMOUNT:
        errors.add(name, _("is too large"))
    else:
        out[name] = number.quantize(Decimal("0.01"))


def _clean_currency(data: dict, errors: FieldErrors, out: dict) -> None:
    if "currency" not in data:
        return
    code = (data["currency"] or "").strip().upper()
    if not CURRENCY.match(code):
        errors.add("currency", _("must be a three-letter ISO 4217 code such as RUB"))
    out["currency"] = code


def _clean_percent(data: dict, name: str, errors: FieldErrors, out: dict, *, allow_none: bool = False) -> None:
    if name not in data:
        return
    value = data[name]
    if value is None and allow_none:
        out[name] = None
        return
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal(-1)
    if not number.is_finite() or not 0 <= number <= 100:
        errors.add(name, _("must be between 0 and 100"))
    else:
        out[name] = number


# ---- pipelines and stages ---------------------------------------------------------------------------------

def _standard_stages() -> list[dict]:
    return [
        {"name": _("New"), "probability": 10}, {"name": _("Qualification"), "probability": 25},
        {"name": _("Proposal sent"), "probability": 50}, {"name": _("Negotiation"), "probability": 75},
        {"name": _("Won"), "probability": 100, "kind": Stage.Kind.WON},
        {"name": _("Lost"), "probability": 0, "kind": Stage.Kind.LOST},
    ]


STANDARD_PIPELINE = gettext_noop("Sales")  # the standard pipeline's name before translation (`default_pipeline`)


@lru_cache(maxsize=1)  # the catalogues do not change while Krug runs; a deal import asks once a chunk
def standard_spellings() -> tuple[frozenset[str], tuple[frozenset[str], ...]]:
    """The standard pipeline's name and each standard stage's, in every language of the interface. They are
    made in the language of whoever first needs them, so a base whose pipeline an English terminal made still
    has «Переговоры» for a Russian file (`transfer.stage_values.Pipelines`)."""
    from django.utils import translation

    def spellings(make) -> list[frozenset[str]]:
        in_each_language = []
        for code, _label in settings.LANGUAGES:
            with translation.override(code):
                in_each_language.append(make())
        return [frozenset(names) for names in zip(*in_each_language, strict=True)]

    pipeline = spellings(lambda: [_(STANDARD_PIPELINE)])[0]
    return pipeline, tuple(spellings(lambda: [stage["name"] for stage in _standard_stages()]))


def _clean_stage(data: dict, errors: FieldErrors, *, current: Stage | None, prefix: str = "") -> dict:
    local = FieldErrors()
    out = clean_text_fields(data, STAGE_TEXT, local)
    if (current is None or "name" in data) and not out.get("name"):
        local.add("name", _("required"))
    if "probability" in data:
        probability = data["probability"]
        if not isinstance(probability, int) or isinstance(probability, bool) or not 0 <= probability <= 100:
            local.add("probability", _("must be a whole number from 0 to 100"))
        out["probability"] = probability
    if "kind" in data:
        if data["kind"] not in Stage.Kind.values:
            local.add("kind", _("must be one of %(v)s") % {"v": ", ".join(Stage.Kind.values)})
        out["kind"] = data["kind"]
    if "required_fields" in data:
        wanted = list(dict.fromkeys(data["required_fields"] or []))
        unknown = [f for f in wanted if f not in Stage.REQUIRABLE]
        if unknown:
            local.add("required_fields", _("unknown fields %(f)s; allowed: %(a)s") % {
                "f": ", ".join(map(str, unknown)), "a": ", ".join(Stage.REQUIRABLE)})
        out["required_fields"] = wanted
    if "position" in data and data["position"] is not None:
        out["position"] = data["position"]
    for field, messages in local.errors.items():
        for message in messages:
            errors.add(prefix + field, message)
    return out


def _check_stage_set(kinds: list[str], errors: FieldErrors, field: str = "stages") -> None:
    if Stage.Kind.OPEN not in kinds:
        errors.add(field, _("a pipeline needs at least one stage in progress"))


@transaction.atomic
def create_pipeline(by, data: dict[str, Any]) -> Pipeline:
    """A new pipeline with its stages in the given order (the standard set when none are given)."""
    _require_admin(by)
    errors = FieldErrors()
    fields = clean_text_fields(data, PIPELINE_TEXT, errors)
    if not fields.get("name"):
        errors.add("name", _("required"))
    stages_in = data.get("stages") or _standard_stages()
    stages = [_clean_stage(s, errors, current=None, prefix=f"stages.{i}.") for i, s in enumerate(stages_in)]
    _check_stage_set([s.get("kind", Stage.Kind.OPEN) for s in stages], errors)
    errors.raise_if_any()
    is_default = bool(data.get("is_default")) or not Pipeline.objects.alive().exists()
    position = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    if is_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    pipeline = records.create(Pipeline, {**fields, "is_default": is_default, "position": position}, by)
    for index, stage in enumerate(stages):
        records.create(Stage, {**stage, "pipeline": pipeline, "position": index + 1}, by)
    return pipeline


@transaction.atomic
def update_pipeline(by, pipeline: Pipeline, data: dict[str, Any], version: int | None = None) -> Pipeline:
    _require_admin(by)
    errors = FieldErrors()
    fields = clean_text_fields(data, PIPELINE_TEXT, errors)
    if "name" in data and not fields.get("name"):
        errors.add("name", _("required"))
    if "position" in data and data["position"] is not None:
        fields["position"] = data["position"]
    if "is_default" in data:
        if not data["is_default"] and pipeline.is_default:
            errors.add("is_default", _("make another pipeline the default instead"))
        fields["is_default"] = bool(data["is_default"])
    errors.raise_if_any()
    if fields.get("is_default"):
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    records.update(pipeline, fields, by, expected_version=version)
    return pipeline


@transaction.atomic
def delete_pipeline(pipeline: Pipeline, by) -> None:
    """Bin a pipeline that no live deal uses; the default one stays."""
    _require_admin(by)
    if pipeline.is_default:
        raise Conflict(_("The default pipeline cannot be deleted; make another one the default first"))
    in_use = Deal.objects.alive().filter(pipeline=pipeline).count()
    if in_use:
        raise Conflict(_("%(n)d deals are in this pipeline; move them first") % {"n": in_use})
    records.move_to_bin(pipeline, by)


def default_pipeline(by) -> Pipeline:
    """The pipeline new deals go to; a fresh installation gets the standard one on first use."""
    pipeline = Pipeline.objects.alive().order_by("-is_default", "position", "id").first()
    return pipeline or create_pipeline(_system_admin(by), {"name": _(STANDARD_PIPELINE), "is_default": True})


def _system_admin(by):
    """Creating the standard pipeline is an administrator's act even when a manager's first deal causes it."""
    if role_of(by) == Role.ADMIN:
        return by
    from krug.accounts.models import User

    admin = User.objects.filter(is_active=True, role=Role.ADMIN).order_by("id").first() or \
        User.objects.filter(is_active=True, is_superuser=True).order_by("id").first()
    if admin is None:
        raise Conflict(_("No pipeline exists yet; an administrator must create one"))
    return admin


def _live_stages(pipeline: Pipeline):
    return pipeline.stages.filter(deleted_at__isnull=True).order_by("position", "id")


def _renumber(pipeline: Pipeline, ordered: list[Stage]) -> None:
    for index, stage in enumerate(ordered, start=1):
        if stage.position != index:
            Stage.objects.filter(pk=stage.pk).update(position=index)
            stage.position = index


@transaction.atomic
def create_stage(by, data: dict[str, Any]) -> Stage:
    """A new stage in a pipeline, at `position` (1 = first) or at the end."""
    _require_admin(by)
    errors = FieldErrors()
    pipeline = Pipeline.objects.alive().filter(pk=data.get("pipeline_id")).first()
    if pipeline is None:
        errors.add("pipeline_id", _("no such pipeline"))
    fields = _clean_stage(data, errors, current=None)
    errors.raise_if_any()
    existing = list(_live_stages(pipeline))
    position = fields.pop("position", None)
    index = len(existing) if position is None else max(0, min(int(position) - 1, len(existing)))
    stage = records.create(Stage, {**fields, "pipeline": pipeline, "position": index + 1}, by)
    existing.insert(index, stage)
    _renumber(pipeline, existing)
    return stage


@transaction.atomic
def update_stage(by, stage: Stage, data: dict[str, Any], version: int | None = None) -> Stage:
    """Rename, re-weigh or move a stage; `position` reorders the others around it."""
    _require_admin(by)
    errors = FieldErrors()
    fields = _clean_stage(data, errors, current=stage)
    if "kind" in fields and fields["kind"] != Stage.Kind.OPEN and stage.kind == Stage.Kind.OPEN:
        others = _live_stages(stage.pipeline).exclude(pk=stage.pk).filter(kind=Stage.Kind.OPEN)
        if not others.exists():
            errors.add("kind", _("a pipeline needs at least one stage in progress"))
    errors.raise_if_any()
    position = fields.pop("position", None)
    records.update(stage, fields, by, expected_version=version)
    if position is not None:
        ordered = [s for s in _live_stages(stage.pipeline) if s.pk != stage.pk]
        ordered.insert(max(0, min(int(position) - 1, len(ordered))), stage)
        _renumber(stage.pipeline, ordered)
    return stage


@transaction.atomic
def reorder_stages(by, pipeline: Pipeline, stage_ids: list[int]) -> Pipeline:
    """Put the pipeline's stages in the given order; the list must name each live stage once."""
    _require_admin(by)
    stages = {s.pk: s for s in _live_stages(pipeline)}
    if sorted(stage_ids) != sorted(stages) or len(set(stage_ids)) != len(stage_ids):
        raise ValidationFailed.single("stage_ids", _("must list every stage of this pipeline exactly once"))
    _renumber(pipeline, [stages[pk] for pk in stage_ids])
    audit.record(AuditEntry.Action.UPDATE, pipeline, by, {"stage_order": [None, stage_ids]})
    records.touch(pipeline, by)
    return pipeline


@transaction.atomic
def delete_stage(stage: Stage, by) -> None:
    """Bin a stage no live deal is in; a pipeline keeps at least one stage in progress."""
    _require_admin(by)
    in_use = Deal.objects.alive().filter(stage=stage).count()
    if in_use:
        raise Conflict(_("%(n)d deals are in this stage; move them first") % {"n": in_use})
    live = _live_stages(stage.pipeline).exclude(pk=stage.pk)
    if stage.kind == Stage.Kind.OPEN and not live.filter(kind=Stage.Kind.OPEN).exists():
        raise Conflict(_("A pipeline needs at least one stage in progress"))
    records.move_to_bin(stage, by)
    _renumber(stage.pipeline, list(live))


# ---- products ---------------------------------------------------------------------------------------------

def _clean_product(data: dict, *, current: Product | None) -> dict:
    errors = FieldErrors()
    out = clean_text_fields(data, PRODUCT_TEXT, errors)
    if (current is None or "name" in data) and not out.get("name"):
        errors.add("name", _("required"))
    clean_money(data, "price", errors, out)
    _clean_currency(data, errors, out)
    _clean_percent(data, "vat_rate", errors, out, allow_none=True)
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    if current is None:
        out.setdefault("currency", settings.KRUG_DEFAULT_CURRENCY)
    errors.raise_if_any()
    return out


@transaction.atomic
def create_product(by, data: dict[str, Any]) -> Product:
    """A catalogue item (administrators); its price is the default for new deal lines."""
    _require_admin(by)
    return records.create(Product, _clean_product(data, current=None), by)


@transaction.atomic
def update_product(by, product: Product, data: dict[str, Any], version: int | None = None) -> Product:
    _require_admin(by)
    records.update(product, _clean_product(data, current=product), by, expected_version=version)
    return product


# ---- deals ------------------------------------------------------------------------------------------------

def _clean_items(items, errors: FieldErrors) -> list[dict]:
    """Deal lines from [{product_id | name, quantity, price?, discount_percent?, unit?}]."""
    products = Product.objects.alive().in_bulk([i.get("product_id") for i in items if i.get("product_id")])
    out = []
    for index, item in enumerate(items):
        local = FieldErrors()
        line: dict[str, Any] = {}
        product = None
        if item.get("product_id") is not None:
            product = products.get(item["product_id"])
            if product is None:
                local.add("product_id", _("no such product"))
        name = normalize.tidy(item.get("name") or (product.name if product else ""), 300)
        if not name:
            local.add("name", _("a line needs a product or a name"))
        price_in = {"price": item["price"]} if item.get("price") is not None else {
            "price": product.price if product else None}
        if price_in["price"] is None:
            local.add("price", _("required for a line without a product"))
        else:
            clean_money(price_in, "price", local, line)
        clean_money({"quantity": item.get("quantity", 1)}, "quantity", local, line)
        if line.get("quantity") == 0:
            local.add("quantity", _("must be greater than zero"))
        _clean_percent({"discount_percent": item.get("discount_percent") or 0}, "discount_percent", local, line)
        for field, messages in local.errors.items():
            for message in messages:
                errors.add(f"items.{index}.{field}", message)
        if not local:
            unit = normalize.tidy(item.get("unit") or (product.unit if product else ""), 16)
            out.append({**line, "product": product, "name": name, "unit": unit})
    return out


def _items_total(items: list[dict]) -> Decimal:
    return sum((DealItem(**i).total for i in items), Decimal(0)).quantize(Decimal("0.01"))


class DealLinks:
    """How a new deal's pipeline, stage, contact and company are found: a query each (one deal at a time), or,
    in a subclass, from what a set-based import fetched for thousands of rows at once (transfer.bulk_deals)."""

    def __init__(self, by) -> None:
        self.by = by

    def stage(self, data: dict, errors: FieldErrors) -> tuple[Pipeline | None, Stage | None]:
        return _resolve_stage(data, errors)

    def default_pipeline(self) -> Pipeline:
        return default_pipeline(self.by)

    def open_stage(self, pipeline: Pipeline) -> Stage | None:
        return _live_stages(pipeline).filter(kind=Stage.Kind.OPEN).first()

    def contact(self, pk: int) -> Contact | None:
        """The contact, if the user sees it (its company comes along)."""
        return Contact.objects.visible_to(self.by).select_related("company").filter(pk=pk).first()

    def company(self, pk: int) -> Company | None:
        return Company.objects.visible_to(self.by).filter(pk=pk).first()

    def has_items(self, deal: Deal) -> bool:
        return deal.items.exists()


def _clean_deal_links(links: DealLinks, data: dict, current: Deal | None, errors: FieldErrors, out: dict) -> None:
    if "contact_id" in data:
        out["contact"] = None
        if data["contact_id"] is not None:
            out["contact"] = links.contact(data["contact_id"])
            if out["contact"] is None:
                errors.add("contact_id", _("no such contact"))
    if "company_id" in data:
        out["company"] = None
        if data["company_id"] is not None:
            out["company"] = links.company(data["company_id"])
            if out["company"] is None:
                errors.add("company_id", _("no such company"))
    contact = out.get("contact")
    if contact is not None and "company_id" not in data and contact.company_id is not None \
            and (current is None or current.company_id is None):
        out["company"] = contact.company


def _clean_deal(by, data: dict, *, current: Deal | None,
                links: DealLinks | None = None) -> tuple[dict, list[dict] | None]:
    errors = FieldErrors()
    out = clean_text_fields(data, DEAL_TEXT, errors)
    if (current is None or "title" in data) and not out.get("title"):
        errors.add("title", _("required"))
    clean_money(data, "amount", errors, out)
    _clean_currency(data, errors, out)
    if "expected_close" in data:
        out["expected_close"] = data["expected_close"]
    links = links or DealLinks(by)
    _clean_deal_links(links, data, current, errors, out)
    custom_fields.clean_into("deal", data, current, errors, out)
    resolve_owner(by, data, errors, default_self=current is None, out=out)
    items = None
    if data.get("items") is not None:
        items = _clean_items(data["items"], errors)
    if not errors and items is not None and "amount" in out and items and out["amount"] != _items_total(items):
        errors.add("amount", _("a deal with line items costs the sum of its lines (%(sum)s)") % {
            "sum": _items_total(items)})
    if not errors and current is not None and items is None and "amount" in out \
            and links.has_items(current) and out["amount"] != current.amount:
        errors.add("amount", _("this deal's amount is the sum of its line items; change the lines instead"))
    for moved in ("stage_id", "pipeline_id"):
        if current is not None and moved in data:
            errors.add(moved, _("use the move action (POST /deals/{id}/move) to change the stage"))
    errors.raise_if_any()
    if items:
        out["amount"] = _items_total(items)
    return out, items


def _deal_key(deal: Deal) -> str:
    return deal_search_key(deal.title, deal.company.name if deal.company_id else "")


def deal_search_key(title: str, company_name: str) -> str:
    return normalize.search_key(title, company_name)


def _missing_requirements(deal: Deal, stage: Stage, *, loss_reason: str,
                          has_items: bool | None) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    message = _("required to enter the stage «%(stage)s»") % {"stage": stage.name}
    checks = {"amount": lambda: deal.amount and deal.amount > 0, "company": lambda: deal.company_id,
              "contact": lambda: deal.contact_id, "expected_close": lambda: deal.expected_close,
              "items": lambda: has_items if has_items is not None else deal.items.exists()}
    for name in stage.required_fields:
        if name in checks and not checks[name]():
            missing[name] = [message]
    if stage.kind == Stage.Kind.LOST and not loss_reason:
        missing["loss_reason"] = [_("say why the deal was lost")]
    return missing


def _check_requirements(deal: Deal, stage: Stage, *, loss_reason: str, has_items: bool | None = None) -> None:
    missing = _missing_requirements(deal, stage, loss_reason=loss_reason, has_items=has_items)
    if missing:
        first = next(iter(missing))
        raise StageRequirementsMissing(_("The deal cannot enter «%(stage)s»: %(field)s is missing") % {
            "stage": stage.name, "field": first}, errors=missing, extra={"stage_id": stage.pk})


def stage_elsewhere(stage: str, found: list[str], asked: str) -> str:
    """What a deal gets that names a pipeline and a stage of other pipelines (`found`, their names): both named,
    so the user sees where the stage is, not only that it is not where he looked."""
    if len(found) == 1:
        return _("stage «%(stage)s» is in pipeline «%(found)s», not in «%(asked)s»") % {
            "stage": stage, "found": found[0], "asked": asked}
    return _("stage «%(stage)s» is in pipelines %(found)s, not in «%(asked)s»") % {
        "stage": stage, "found": ", ".join(f"«{name}»" for name in found), "asked": asked}


def _resolve_stage(data: dict, errors: FieldErrors) -> tuple[Pipeline | None, Stage | None]:
    pipeline = None
    if data.get("pipeline_id") is not None:
        pipeline = Pipeline.objects.alive().filter(pk=data["pipeline_id"]).first()
        if pipeline is None:
            errors.add("pipeline_id", _("no such pipeline"))
            return None, None
    stage = None
    if data.get("stage_id") is not None:
        stage = Stage.objects.alive().filter(pk=data["stage_id"], pipeline__deleted_at__isnull=True).first()
        if stage is None:
            errors.add("stage_id", _("no such stage"))
        elif pipeline is not None and stage.pipeline_id != pipeline.pk:
            errors.add("stage_id", stage_elsewhere(stage.name, [stage.pipeline.name], pipeline.name))
        else:
            pipeline = stage.pipeline
    return pipeline, stage


def closing_time(closed_on: dt.date | None, now: dt.datetime) -> dt.datetime:
    """When a deal created closed was closed: midday (site time) of `closed_on`, the day an import says it
    closed, but never later than `now`; `now` without a day."""
    if closed_on is None:
        return now
    return min(dt.datetime.combine(closed_on, dt.time(12), tzinfo=timezone.get_default_timezone()), now)


def new_deal_fields(by, data: dict[str, Any], links: DealLinks, now, *, closed_on: dt.date | None = None,
                    created_at: dt.datetime | None = None) -> tuple[dict, list[dict] | None, Stage]:
    """A new deal's cleaned fields, line items and stage, checked against the stage's requirements; refuses
    with every problem named. Nothing is written. The deal was created at `created_at` (an imported deal's, when
    the old CRM made it), else now, and entered an open stage then; a deal created in a won or lost stage
    entered it and closed on `closed_on` (`closing_time`), else now, but not before its `created_at`."""
    errors = FieldErrors()
    pipeline, stage = links.stage(data, errors)
    errors.raise_if_any()
    fields, items = _clean_deal(by, data, current=None, links=links)
    pipeline = pipeline or links.default_pipeline()
    stage = stage or links.open_stage(pipeline)
    if stage is None:
        raise ValidationFailed.single("pipeline_id", _("this pipeline has no stage in progress"))
    fields.setdefault("currency", settings.KRUG_DEFAULT_CURRENCY)
    created = min(created_at, now) if created_at is not None else now
    entered = closing_time(closed_on, now) if stage.is_closed else created
    if created_at is not None:  # an old deal closed after it was made; one made now (by Krug) closed when it did
        entered = max(entered, created)
    fields.update(pipeline=pipeline, stage=stage, stage_entered_at=entered,
                  closed_at=entered if stage.is_closed else None, created_at=created)
    _check_requirements(Deal(**fields), stage, loss_reason=fields.get("loss_reason", ""), has_items=bool(items))
    return fields, items, stage


def created_event(deal: Deal, stage: Stage) -> tuple[str, dict]:
    """The summary and data of a new deal's timeline event."""
    return (_("Deal created: %(title)s") % {"title": deal.title},
            {"amount": deal.amount, "currency": deal.currency, "stage": stage.name})


@transaction.atomic
def create_deal(by, data: dict[str, Any], *, closed_on: dt.date | None = None,
                created_at: dt.datetime | None = None) -> Deal:
    """A new deal in its pipeline's first stage (or the given one), with its line items, on the timeline;
    `closed_on`: the day a deal created won or lost closed, `created_at`: when the old CRM made it (an
    import's), see `new_deal_fields`."""
    fields, items, stage = new_deal_fields(by, data, DealLinks(by), timezone.now(), closed_on=closed_on,
                                           created_at=created_at)
    deal = records.create(Deal, fields, by)
    if items:
        _write_items(deal, items)
        audit.record(AuditEntry.Action.UPDATE, deal, by, {"items": [[], _items_audit(items)]})
    Deal.objects.filter(pk=deal.pk).update(search_key=_deal_key(deal))
    StageHistory.objects.create(deal=deal, stage=stage, entered_at=deal.stage_entered_at, moved_by=by)
    summary, event = created_event(deal, stage)
    timeline.add_event(TimelineEvent.Kind.DEAL, deal, by=by, contact=deal.contact_id, company=deal.company_id,
                       deal_id=deal.pk, summary=summary, data=event, at=deal.created_at)
    return deal


def _items_audit(items: list[dict]) -> list[str]:
    return [f"{i['name']} × {i['quantity'].normalize()} @ {i['price']}" for i in items]


def _write_items(deal: Deal, items: list[dict]) -> None:
    deal.items.all().delete()
    DealItem.objects.bulk_create(DealItem(deal=deal, position=i, **item) for i, item in enumerate(items))


@transaction.atomic
def update_deal(by, deal: Deal, data: dict[str, Any], version: int | None = None) -> Deal:
    """Change a deal's fields (not its stage: see move_deal); `items` replaces the lines and the amount."""
    fields, items = _clean_deal(by, data, current=deal)
    if items is not None:
        fields["amount"] = _items_total(items) if items else fields.get("amount", deal.amount)
    changes = records.update(deal, fields, by, expected_version=version)
    if items is not None:
        before = [f"{i.name} × {i.quantity.normalize()} @ {i.price}" for i in deal.items.all()]
        _write_items(deal, items)
        after = _items_audit(items)
        if before != after:
            if not changes:
                records.touch(deal, by)
            audit.record(AuditEntry.Action.UPDATE, deal, by, {"items": [before, after]})
            changes["items"] = [before, after]
    Deal.objects.filter(pk=deal.pk).update(search_key=_deal_key(deal))
    if changes:
        timeline.add_event(TimelineEvent.Kind.CHANGED, deal, by=by, contact=deal.contact_id,
                           company=deal.company_id, deal_id=deal.pk, data=changes,
                           summary=_("Deal «%(title)s» changed: %(fields)s") % {
                               "title": deal.title, "fields": ", ".join(sorted(changes))})
    return deal


def move_fields(deal: Deal, stage: Stage, loss_reason: str, now, closed_on: dt.date | None = None) -> dict:
    """What a move to `stage` sets on the deal. A won or lost stage closes it: now (a deal closed already keeps
    its day), or on `closed_on`, the day an import says it closed (`closing_time`), though never before it
    entered the stage it leaves; the deal enters the stage then."""
    entered = now
    if closed_on is not None and stage.is_closed:
        entered = max(closing_time(closed_on, now), deal.stage_entered_at or now)
    closed = entered if closed_on is not None else (deal.closed_at or now)
    return {"stage": stage, "pipeline": stage.pipeline, "stage_entered_at": entered,
            "closed_at": closed if stage.is_closed else None,
            "loss_reason": loss_reason if stage.kind == Stage.Kind.LOST else ""}


@transaction.atomic
def move_deal(by, deal: Deal, stage_id: int, *, loss_reason: str = "", version: int | None = None,
              closed_on: dt.date | None = None) -> Deal:
    """Move a deal to a stage (of its pipeline or another one), checking what the stage requires:
    a lost stage needs a reason, a won or lost one closes the deal, an open one reopens it. `closed_on`, for
    imports only: the day the file says a deal moved to a won or lost stage closed (`move_fields`); its stage
    history and timeline entry are dated so too."""
    stage = Stage.objects.alive().filter(pk=stage_id, pipeline__deleted_at__isnull=True).select_related(
        "pipeline").first()
    if stage is None:
        raise ValidationFailed.single("stage_id", _("no such stage"))
    if version is not None and version != deal.version:
        raise VersionConflict(extra={"current_version": deal.version})
    if stage.pk == deal.stage_id:
        return deal
    loss_reason = normalize.tidy(loss_reason, 300)
    _check_requirements(deal, stage, loss_reason=loss_reason)
    previous = deal.stage
    fields = move_fields(deal, stage, loss_reason, timezone.now(), closed_on)
    entered = fields["stage_entered_at"]
    records.update(deal, fields, by, expected_version=deal.version)
    StageHistory.objects.filter(deal=deal, left_at__isnull=True).update(left_at=entered)
    StageHistory.objects.create(deal=deal, stage=stage, entered_at=entered, moved_by=by)
    summary, data = moved_event(deal, previous, stage, loss_reason)
    timeline.add_event(TimelineEvent.Kind.STAGE, deal, by=by, contact=deal.contact_id, company=deal.company_id,
                       deal_id=deal.pk, summary=summary, data=data, at=entered)
    return deal


def moved_event(deal: Deal, previous: Stage, stage: Stage, loss_reason: str) -> tuple[str, dict]:
    """The summary and data of the timeline event of a deal's move from one stage to another."""
    summary = _("Deal «%(title)s»: %(old)s → %(new)s") % {"title": deal.title, "old": previous.name,
                                                           "new": stage.name}
    if stage.kind == Stage.Kind.LOST:
        summary += " (" + loss_reason + ")"
    return summary, {"from": previous.name, "to": stage.name, "kind": stage.kind, "loss_reason": loss_reason,
                     "amount": deal.amount}


@transaction.atomic
def delete_deal(deal: Deal, by) -> None:
    """To the recycle bin; its own timeline entries hide with it (activities on it stay on the client)."""
    records.move_to_bin(deal, by)
    timeline.set_hidden(deal, True)


@transaction.atomic
def restore_deal(deal: Deal, by) -> None:
    records.restore(deal, by)
    timeline.set_hidden(deal, False)


def stage_history(deal: Deal) -> list[dict]:
    """The deal's stays in stages, oldest first, with how long each lasted."""
    now = timezone.now()
    rows = StageHistory.objects.filter(deal=deal).select_related("stage", "moved_by").order_by("entered_at", "id")
    return [{"stage_id": h.stage_id, "stage": h.stage.name, "kind": h.stage.kind, "entered_at": h.entered_at,
             "left_at": h.left_at, "seconds": int(((h.left_at or now) - h.entered_at).total_seconds()),
             "moved_by_id": h.moved_by_id, "moved_by": (h.moved_by.get_full_name() or h.moved_by.username)
             if h.moved_by else None} for h in rows]
