"""Data health: how much of the base is clean and complete, per manager and in total, with a daily snapshot
so the trend shows. One grouped query computes every figure."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from krug.quality import cleanup
from krug.quality.models import DuplicatePair, HealthSnapshot

#: the fields whose completeness is measured
FIELDS = ("phone", "email", "company", "position", "city", "owner")


def _annotated(contacts, now):
    from krug.clients.models import ContactEmail, ContactPhone

    pairs = DuplicatePair.objects.filter(entity="contact", status=DuplicatePair.Status.OPEN)
    return contacts.annotate(
        f_phone=Exists(ContactPhone.objects.filter(contact=OuterRef("pk"))),
        f_email=Exists(ContactEmail.objects.filter(contact=OuterRef("pk"))),
        in_pair=Exists(pairs.filter(a_id=OuterRef("pk"))) | Exists(pairs.filter(b_id=OuterRef("pk"))),
        **{f"r_{key}": _as_expression(Q(cleanup.rule_filter(key, now))) for key in cleanup.RULE_KEYS},
    )


def _as_expression(q: Q):
    from django.db.models import BooleanField, ExpressionWrapper

    return ExpressionWrapper(q, output_field=BooleanField())


def measure(contacts, now: dt.datetime | None = None) -> dict[int | None, dict]:
    """{owner id: figures} for the given contacts, plus None: the figures of all of them."""
    now = now or timezone.now()
    clean = (Q(f_phone=True) | Q(f_email=True)) & Q(owner__isnull=False) & Q(r_fake=False) & Q(in_pair=False)
    counts = {"total": Count("pk"), "clean": Count("pk", filter=clean),
              "duplicates_open": Count("pk", filter=Q(in_pair=True)),
              "c_phone": Count("pk", filter=Q(f_phone=True)), "c_email": Count("pk", filter=Q(f_email=True)),
              "c_company": Count("pk", filter=Q(company__isnull=False)),
              "c_position": Count("pk", filter=~Q(position="")), "c_city": Count("pk", filter=~Q(city="")),
              "c_owner": Count("pk", filter=Q(owner__isnull=False)),
              **{f"k_{key}": Count("pk", filter=Q(**{f"r_{key}": True})) for key in cleanup.RULE_KEYS}}
    rows = _annotated(contacts.order_by(), now).values("owner").annotate(**counts).order_by()
    result: dict[int | None, dict] = {}
    total = {name: 0 for name in counts}
    for row in rows:
        for name in counts:
            total[name] += row[name]
        if row["owner"] is not None:
            result[row["owner"]] = _shape(row)
    result[None] = _shape(total)
    return result


def _shape(row: dict) -> dict:
    return {"total": row["total"], "clean": row["clean"], "duplicates_open": row["duplicates_open"],
            "completeness": {f: row[f"c_{f}"] for f in FIELDS},
            "flagged": {k: row[f"k_{k}"] for k in cleanup.RULE_KEYS}}


def share(figures: dict) -> dict:
    """Figures with the shares (0..1) a report shows."""
    total = figures["total"] or 1
    return {**figures, "clean_share": round(figures["clean"] / total, 4),
            "completeness_share": {f: round(n / total, 4) for f, n in figures["completeness"].items()}}


@transaction.atomic
def take_snapshot(day: dt.date | None = None) -> int:
    """Store today's figures for the whole base and each manager (replacing today's if taken already)."""
    from krug.clients.models import Contact

    day = day or timezone.localdate()
    figures = measure(Contact.objects.alive())
    HealthSnapshot.objects.filter(date=day).delete()
    HealthSnapshot.objects.bulk_create(
        HealthSnapshot(date=day, owner_id=owner, total=f["total"], clean=f["clean"],
                       duplicates_open=f["duplicates_open"], completeness=f["completeness"], flagged=f["flagged"])
        for owner, f in figures.items())
    return len(figures)
