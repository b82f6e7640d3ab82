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
        f_phone=Exists(ContactPhone.objects.filter(contact=OuterRef("pk"), valid=True)),
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


# ---- what one user sees: the API and the page ask the same questions ------------------------------------

def scope_of(user) -> tuple[str, list[int] | None]:
    """('all', None) for an admin, ('team', owner ids) for a head, ('own', [his id]) for a manager."""
    from krug.accounts.models import User
    from krug.core.permissions import Role, role_of

    role = role_of(user)
    if role == Role.ADMIN:
        return "all", None
    if role == Role.HEAD:
        return "team", list(User.objects.filter(Q(team__head=user) | Q(pk=user.pk)).values_list("pk", flat=True))
    return "own", [user.pk]


def _summed(rows) -> dict:
    total: dict = {"total": 0, "clean": 0, "duplicates_open": 0, "completeness": {f: 0 for f in FIELDS},
                   "flagged": {k: 0 for k in cleanup.RULE_KEYS}}
    for row in rows:
        for name in ("total", "clean", "duplicates_open"):
            total[name] += row[name]
        for part in ("completeness", "flagged"):
            for key, n in row[part].items():
                total[part][key] = total[part].get(key, 0) + n
    return total


def _snapshot_row(s: HealthSnapshot) -> dict:
    return {"total": s.total, "clean": s.clean, "duplicates_open": s.duplicates_open,
            "completeness": s.completeness, "flagged": s.flagged}


def report(user, *, live: bool = False) -> dict:
    """The data health `user` answers for: today's snapshot when there is one (else computed live), in
    total and per manager: {'date', 'scope', 'total': figures with shares, 'per_owner': {owner id: ...}}."""
    from krug.clients.models import Contact

    scope, owners = scope_of(user)
    today = timezone.localdate()
    snapshots = list(HealthSnapshot.objects.filter(date=today)) if not live else []
    if snapshots:
        per_owner = {s.owner_id: _snapshot_row(s) for s in snapshots if s.owner_id is not None}
        whole = next((_snapshot_row(s) for s in snapshots if s.owner_id is None), None)
        date = today
    else:
        contacts = Contact.objects.visible_to(user)
        if owners is not None:
            contacts = contacts.filter(owner__in=owners)
        figures = measure(contacts)
        whole = figures.pop(None)
        per_owner, date = figures, None
    if owners is not None:
        per_owner = {o: f for o, f in per_owner.items() if o in owners}
        whole = _summed(per_owner.values())
    return {"date": date, "scope": scope, "total": share(whole or _summed([])),
            "per_owner": {o: share(f) for o, f in per_owner.items()}}


def history(user, days: int = 90) -> list[dict]:
    """Daily points (date, total, clean, duplicates_open) of what `user` answers for, oldest first."""
    _scope, owners = scope_of(user)
    since = timezone.localdate() - dt.timedelta(days=days)
    snapshots = HealthSnapshot.objects.filter(date__gte=since)
    snapshots = snapshots.filter(owner__isnull=True) if owners is None else snapshots.filter(owner__in=owners)
    by_day: dict[dt.date, list] = {}
    for s in snapshots.order_by("date"):
        by_day.setdefault(s.date, []).append(_snapshot_row(s))
    points = []
    for day, rows in by_day.items():
        summed = _summed(rows)
        points.append({"date": day, "total": summed["total"], "clean": summed["clean"],
                       "duplicates_open": summed["duplicates_open"]})
    return points
