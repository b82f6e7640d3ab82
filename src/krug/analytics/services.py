"""The head's dashboard figures, each through the permission door and one aggregate query."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q, Sum


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def deals_by_stage(user, pipeline) -> list[dict]:
    from krug.sales.models import Deal, Stage

    deals = Deal.objects.visible_to(user).filter(pipeline=pipeline)
    totals = {r["stage"]: r for r in deals.values("stage").annotate(n=Count("id"), total=Sum("amount")).order_by()}
    rows = []
    for stage in Stage.objects.alive().filter(pipeline=pipeline).order_by("position"):
        row = totals.get(stage.pk, {"n": 0, "total": None})
        rows.append({"stage": stage, "count": row["n"], "amount": row["total"] or Decimal(0)})
    top = max((r["amount"] for r in rows), default=Decimal(0)) or Decimal(1)
    for r in rows:
        r["share"] = int(100 * r["amount"] / top)
    return rows


def won(user, first: dt.date, last: dt.date) -> dict:
    from krug.sales.models import Deal

    qs = Deal.objects.visible_to(user).filter(stage__kind="won", closed_at__date__gte=first, closed_at__date__lte=last)
    row = qs.aggregate(n=Count("id"), total=Sum("amount"))
    return {"count": row["n"], "amount": row["total"] or Decimal(0), "first": first, "last": last}


def change(now: Decimal, before: Decimal) -> int | None:
    """Percent change, None when there is nothing to compare with."""
    return None if not before else int(round(100 * (now - before) / before))


def overdue_by_manager(user, now: dt.datetime) -> list[dict]:
    """Overdue tasks of each manager `user` answers for (himself; his team for a head; everyone for an
    administrator) and of the unowned pool, through the door as every figure. Tasks colleagues own on his
    clients count on their own managers' dashboards: asking the door of each of them (EXISTS of its client)
    read all 300,000 overdue tasks a manager may see at a million contacts, 1.3 s, where his owners' tasks are
    read from the agenda index (owner, state, due_at)."""
    from krug.accounts.models import User
    from krug.activities.models import Task
    from krug.core.permissions import Role, role_of

    overdue = Task.objects.visible_to(user).filter(Task.overdue_q(now))
    role = role_of(user)
    if role != Role.ADMIN:
        owners = [user.pk]
        if role == Role.HEAD:
            owners += User.objects.filter(team__head=user).values_list("pk", flat=True)
        overdue = overdue.filter(Q(owner__in=owners) | Q(owner__isnull=True))
    rows = overdue.values("owner").annotate(n=Count("id")).order_by("-n")
    names = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=[r["owner"] for r in rows])}
    return [{"owner_id": r["owner"], "name": names.get(r["owner"], "—"), "count": r["n"]} for r in rows]


def leads_by_source(user, first: dt.date) -> list[dict]:
    from krug.clients.models import Lead

    rows = (Lead.objects.visible_to(user).filter(created_at__date__gte=first).values("source").annotate(n=Count("id"))
            .order_by("-n"))
    labels = dict(Lead.Source.choices)
    return [{"source": r["source"], "label": labels.get(r["source"], r["source"]), "count": r["n"]} for r in rows]


def closing(user, first: dt.date, last: dt.date) -> dict:
    from krug.sales.models import Deal

    qs = Deal.objects.visible_to(user).filter(stage__kind="open", expected_close__gte=first, expected_close__lte=last)
    row = qs.aggregate(n=Count("id"), total=Sum("amount"))
    return {"count": row["n"], "amount": row["total"] or Decimal(0)}
