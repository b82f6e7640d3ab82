"""Sales: pipelines with ordered stages, deals moving through them (with their stage history), and the
product catalogue with deal line items."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krug.core import permissions
from krug.core.models import OwnedModel, TrackedModel, binned_index


class Pipeline(TrackedModel):
    """A sales process (first sales, repeat sales, tenders...): an ordered set of stages."""

    name = models.CharField(_("name"), max_length=120)
    is_default = models.BooleanField(_("default"), default=False)
    position = models.PositiveIntegerField(default=0)

    access = permissions.REFERENCE
    audited_fields = ("name", "is_default", "position")

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Stage(TrackedModel):
    """One step of a pipeline. `won`/`lost` stages close the deal; `required_fields` must be filled
    before a deal may enter the stage."""

    class Kind(models.TextChoices):
        OPEN = "open", _("in progress")
        WON = "won", _("won")
        LOST = "lost", _("lost")

    #: deal fields a stage may require before a deal enters it
    REQUIRABLE = ("amount", "company", "contact", "expected_close", "items")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(_("probability, %"), default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.OPEN)
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    color = models.CharField(max_length=16, blank=True)

    access = permissions.REFERENCE
    audited_fields = ("name", "position", "probability", "kind", "required_fields", "color")

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN


class Product(TrackedModel):
    name = models.CharField(_("name"), max_length=300)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2, default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    vat_rate = models.DecimalField(_("VAT, %"), max_digits=5, decimal_places=2, null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    access = permissions.REFERENCE
    audited_fields = ("name", "sku", "price", "currency", "unit", "vat_rate", "description", "is_active")

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name


class Deal(OwnedModel):
    title = models.CharField(_("title"), max_length=300)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    stage_entered_at = models.DateTimeField(default=timezone.now)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    contact = models.ForeignKey("clients.Contact", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="deals")
    company = models.ForeignKey("clients.Company", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="deals")
    source = models.CharField(_("source"), max_length=64, blank=True)
    loss_reason = models.CharField(_("loss reason"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    custom = models.JSONField(default=dict, blank=True)
    search_key = models.CharField(max_length=400, editable=False, db_index=True)

    audited_fields = ("title", "amount", "currency", "pipeline", "stage", "expected_close", "closed_at", "contact",
                      "company", "source", "loss_reason", "description", "custom", "owner")

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [models.Index(fields=["owner", "-id"], name="deal_owner_idx"),
                   models.Index(fields=["stage", "-id"], name="deal_stage_idx"),
                   # the board's column, the latest to enter the stage first: without it each column sorted
                   # every deal of its stage (80-115 ms a column at a million contacts)
                   models.Index(fields=["stage", "-stage_entered_at", "-id"], name="deal_board_idx"),
                   models.Index(fields=["contact", "-id"], name="deal_contact_idx"),
                   models.Index(fields=["company", "-id"], name="deal_company_idx"),
                   binned_index("deal_binned_idx")]

    def __str__(self) -> str:
        return self.title


class StageHistory(models.Model):
    """A deal's stay in a stage: when it entered, when it left, who moved it."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_history")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["deal", "entered_at", "id"]
        indexes = [models.Index(fields=["deal", "entered_at"], name="stage_history_deal_idx")]


class DealItem(models.Model):
    """A product line of a deal; with items, the deal amount is their sum."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal(1))
    unit = models.CharField(max_length=16, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["deal", "position", "id"]

    @property
    def total(self) -> Decimal:
        gross = self.quantity * self.price
        return (gross * (100 - self.discount_percent) / 100).quantize(Decimal("0.01"))
