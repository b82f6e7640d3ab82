"""The shell of the UI: signing in and out, and the home page with the user's own numbers."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from krug.activities.models import Task
from krug.activities.services import soonest_due
from krug.clients.models import Company, Contact
from krug.core.permissions import Role, role_of
from krug.sales.models import Deal, Stage
from krug.web import ui

NEXT_TASKS = 6
OVERDUE_TASKS = 3


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def _stat(key: str, queryset) -> dict:
    count, more = ui.capped_count(queryset)
    return {"key": key, "count": count, "more": more}


def home_numbers(user, now) -> list[dict]:
    """What the home page counts, each through the permission door. A manager counts his own overdue
    tasks; a head and an admin, every overdue task they oversee."""
    tasks = Task.objects.visible_to(user)
    if role_of(user) == Role.MANAGER:
        tasks = tasks.filter(owner=user)
    return [
        _stat("contacts", Contact.objects.visible_to(user)),
        _stat("companies", Company.objects.visible_to(user)),
        _stat("open_deals", Deal.objects.visible_to(user).filter(stage__kind=Stage.Kind.OPEN)),
        _stat("overdue_tasks", tasks.filter(Task.overdue_q(now))),
    ]


def _my_pending_tasks(user):
    return (Task.objects.visible_to(user).filter(owner=user, state__in=Task.PENDING)
            .select_related("contact", "company", "deal"))


def next_tasks(user, now, limit: int = NEXT_TASKS) -> list[Task]:
    """The user's own tasks still ahead, the soonest first (undated ones last)."""
    pending = _my_pending_tasks(user)
    dated = soonest_due(pending.filter(due_at__gte=now), limit)
    return dated + list(pending.filter(due_at__isnull=True).order_by("id")[:limit - len(dated)])


def overdue_tasks(user, now, limit: int = OVERDUE_TASKS) -> list[Task]:
    """The user's own overdue tasks, the longest overdue first."""
    return soonest_due(_my_pending_tasks(user).filter(Task.overdue_q(now)), limit)


def _part_of_day(now) -> str:
    hour = timezone.localtime(now).hour
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 18:
        return "afternoon"
    return "evening"


@login_required
def home(request):
    now = timezone.now()
    context = {
        "stats": {s["key"]: s for s in home_numbers(request.user, now)},
        "tasks": next_tasks(request.user, now),
        "overdue": overdue_tasks(request.user, now),
        "role": role_of(request.user),
        "part_of_day": _part_of_day(now),
        "now": now,
    }
    return render(request, "web/home.html", context)


@login_required
def soon(request, **kwargs):
    """Stands in for a screen until it is built."""
    return render(request, "web/soon.html", {})


@login_required
def search(request):
    """Global search: instant results under the top-bar box (htmx) or a full page on Enter."""
    from krug.clients.search import search as find

    query = request.GET.get("q", "")
    instant = request.headers.get("HX-Request") == "true"
    hits = find(request.user, query, 8 if instant else 30) if query.strip() else []
    template = "web/_search_results.html" if instant else "web/search.html"
    return render(request, template, {"hits": hits, "q": query})


def notifications_for(user, now) -> dict:
    """The bell: the user's overdue tasks, tasks due today and meetings starting within the hour."""
    from krug.activities.models import Meeting

    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    pending = Task.objects.visible_to(user).filter(owner=user, state__in=Task.PENDING)
    overdue = soonest_due(pending.filter(due_at__lt=now), 10)
    today = soonest_due(pending.filter(due_at__gte=now, due_at__lte=end_of_day), 10)
    soon = list(Meeting.objects.visible_to(user).filter(owner=user, starts_at__gte=now,
                                                        starts_at__lte=now + dt.timedelta(hours=1))[:5])
    return {"overdue": overdue, "today": today, "soon": soon, "count": len(overdue) + len(today) + len(soon)}


@login_required
def notifications(request):
    return render(request, "web/_bell.html", {"bell": notifications_for(request.user, timezone.now())})


@login_required
@require_POST
def view_save(request, entity):
    from django.contrib import messages
    from django.http import QueryDict

    from krug.accounts import services
    from krug.core.errors import DomainError

    query = QueryDict(request.POST.get("query", ""))
    back = f"/clients/{entity}/" if entity in ("contacts", "companies", "leads") else "/deals/list/"
    try:
        view = services.save_view(request.user, entity, request.POST.get("name", ""), query)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(f"{back}?{query.urlencode()}")
    messages.success(request, _("The view “%(name)s” is saved.") % {"name": view.name})
    return redirect(f"{back}?{view.query}&view={view.pk}" if view.query else f"{back}?view={view.pk}")


@login_required
@require_POST
def view_delete(request, pk):
    from krug.accounts import services
    from krug.core.errors import NotFound

    try:
        services.delete_view(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return redirect(ui.safe_next(request, "/"))
