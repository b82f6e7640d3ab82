"""The administrator's screens: users and teams, pipelines and stages, custom fields, the recycle bin and
data quality (duplicates to merge, data health). Every change goes through the domain services."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from krug.core.errors import DomainError
from krug.core.permissions import Role, role_of


def admin_only(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if role_of(request.user) != Role.ADMIN:
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return wrapper


def _done(name: str, error: DomainError | None = None, **params):
    if error is not None:
        params["error"] = error.message
    query = f"?{urlencode(params)}" if params else ""
    from django.urls import reverse
    return redirect(reverse(f"administration:{name}") + query)


def _render(request, template: str, context: dict):
    return render(request, template, {"section": "settings", "error": request.GET.get("error", ""), **context})


@admin_only
def index(request):
    return redirect("administration:users")


# ---- users and teams ------------------------------------------------------------------------------------

@admin_only
def users(request):
    from krug.accounts.models import Team, User

    return _render(request, "administration/users.html", {
        "tab": "users", "users": User.objects.select_related("team").order_by("-is_active", "last_name"),
        "teams": Team.objects.select_related("head").order_by("name"), "roles": Role.choices})


@admin_only
@require_POST
def user_add(request):
    from krug.accounts import services
    from krug.accounts.models import Team

    post = request.POST
    team = Team.objects.filter(pk=post.get("team") or 0).first()
    try:
        with transaction.atomic():
            services.create_user(post.get("username", ""), role=post.get("role", Role.MANAGER), team=team,
                                 password=post.get("password") or None, first_name=post.get("first_name", ""),
                                 last_name=post.get("last_name", ""), email=post.get("email", ""))
    except DomainError as exc:
        return _done("users", exc)
    return _done("users")


@admin_only
@require_POST
def user_change(request, pk):
    from krug.accounts import services
    from krug.accounts.models import User

    user = User.objects.filter(pk=pk).first()
    post = request.POST
    data = {}
    if "role" in post:
        data["role"] = post["role"]
    if "team" in post:
        data["team_id"] = int(post["team"]) if post["team"].isdigit() else None
    if "active" in post:
        data["is_active"] = post["active"] == "1"
    try:
        with transaction.atomic():
            services.update_user(user, data)
    except DomainError as exc:
        return _done("users", exc)
    return _done("users")


@admin_only
@require_POST
def team_add(request):
    from krug.accounts import services

    try:
        with transaction.atomic():
            services.create_team(request.POST.get("name", ""),
                                 int(request.POST["head"]) if request.POST.get("head", "").isdigit() else None)
    except DomainError as exc:
        return _done("users", exc)
    return _done("users")


# ---- pipelines and stages -------------------------------------------------------------------------------

@admin_only
def pipelines(request):
    from django.db.models import Prefetch

    from krug.sales.models import Pipeline, Stage

    rows = Pipeline.objects.alive().prefetch_related(
        Prefetch("stages", queryset=Stage.objects.alive().order_by("position"))).order_by("position")
    return _render(request, "administration/pipelines.html", {
        "tab": "pipelines", "pipelines": rows, "kinds": Stage.Kind.choices, "requirable": Stage.REQUIRABLE})


@admin_only
@require_POST
def pipeline_add(request):
    from krug.sales import services

    try:
        with transaction.atomic():
            services.create_pipeline(request.user, {"name": request.POST.get("name", "")})
    except DomainError as exc:
        return _done("pipelines", exc)
    return _done("pipelines")


@admin_only
@require_POST
def stage_save(request, pk=None):
    from krug.sales import services
    from krug.sales.models import Stage

    post = request.POST
    data = {"name": post.get("name", ""), "kind": post.get("kind", "open"),
            "required_fields": post.getlist("required_fields")}
    try:
        data["probability"] = int(post.get("probability") or 0)
    except ValueError:
        data["probability"] = -1  # the service says what is wrong with it
    try:
        with transaction.atomic():
            if pk is None:
                services.create_stage(request.user, {**data, "pipeline_id": int(post.get("pipeline") or 0)})
            else:
                services.update_stage(request.user, Stage.objects.alive().get(pk=pk), data)
    except DomainError as exc:
        return _done("pipelines", exc)
    return _done("pipelines")


@admin_only
@require_POST
def stage_move(request, pk, direction):
    """Move a stage one place up or down (the keyboard alternative to dragging)."""
    from krug.sales import services
    from krug.sales.models import Stage

    stage = Stage.objects.alive().get(pk=pk)
    ids = list(Stage.objects.alive().filter(pipeline=stage.pipeline).order_by("position").values_list("pk", flat=True))
    index = ids.index(stage.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        with transaction.atomic():
            services.reorder_stages(request.user, stage.pipeline, ids)
    return _done("pipelines")


@admin_only
@require_POST
def stage_delete(request, pk):
    from krug.sales import services
    from krug.sales.models import Stage

    try:
        with transaction.atomic():
            services.delete_stage(Stage.objects.alive().get(pk=pk), request.user)
    except DomainError as exc:
        return _done("pipelines", exc)
    return _done("pipelines")


# ---- custom fields --------------------------------------------------------------------------------------

@admin_only
def fields(request):
    from krug.core import custom_fields
    from krug.core.models import CustomField

    return _render(request, "administration/fields.html", {
        "tab": "fields", "fields": CustomField.objects.all(), "types": CustomField.Type.choices,
        "entities": custom_fields.ENTITIES})


@admin_only
@require_POST
def field_add(request):
    from krug.core import custom_fields

    post = request.POST
    data = {"entity": post.get("entity", ""), "label": post.get("label", ""), "type": post.get("type", ""),
            "choices": [c for c in post.get("choices", "").split(",")], "required": post.get("required") == "1"}
    try:
        custom_fields.define_field(request.user, data)
    except DomainError as exc:
        return _done("fields", exc)
    return _done("fields")


# ---- recycle bin ----------------------------------------------------------------------------------------

@admin_only
def recycle_bin(request):
    from krug.core import permissions, registry

    entity = request.GET.get("entity") or "contacts"
    if entity not in registry.ENTITIES:
        entity = "contacts"
    model = registry.model_for(entity)
    rows = model.objects.visible_to(request.user, permissions.RESTORE, deleted=True).order_by("-deleted_at")[:100]
    return _render(request, "administration/bin.html", {"tab": "bin", "entity": entity, "rows": rows,
                                                        "entities": sorted(registry.ENTITIES)})


@admin_only
@require_POST
def bin_action(request, entity, pk, action):
    from krug.core import permissions, records, registry

    model = registry.model_for(entity)
    try:
        with transaction.atomic():
            if action == "restore":
                obj = records.get_for(request.user, model, pk, permissions.RESTORE, deleted=True)
                registry.restorer_for(entity)(obj, request.user)
            else:
                obj = records.get_for(request.user, model, pk, permissions.PURGE, deleted=True)
                records.purge(obj, request.user)
    except DomainError as exc:
        return redirect(f"/settings/bin/?{urlencode({'entity': entity, 'error': exc.message})}")
    return redirect(f"/settings/bin/?{urlencode({'entity': entity})}")


# ---- data quality ---------------------------------------------------------------------------------------

@admin_only
def quality(request):
    from krug.clients.models import Company, Contact
    from krug.quality import health
    from krug.quality.models import DuplicatePair, ScanRun

    entity = "company" if request.GET.get("entity") == "company" else "contact"
    model = Company if entity == "company" else Contact
    pairs = list(DuplicatePair.objects.filter(entity=entity, status="open").order_by("-score")[:50])
    found = model.objects.alive().in_bulk([x for p in pairs for x in (p.a_id, p.b_id)])
    pairs = [(p, found.get(p.a_id), found.get(p.b_id)) for p in pairs if p.a_id in found and p.b_id in found]
    figures = health.share(health.measure(Contact.objects.alive())[None])
    from krug.quality.models import QualitySettings

    return _render(request, "administration/quality.html", {
        "tab": "quality", "pairs": pairs, "health": figures, "entity": entity,
        "last_scan": ScanRun.objects.filter(entity=entity).order_by("-id").first(),
        "settings": QualitySettings.current(), "invalid_choices": QualitySettings.InvalidPhones.choices})


@admin_only
@require_POST
def quality_settings(request):
    from krug.core.errors import ValidationFailed
    from krug.quality import services
    from krug.quality.models import QualitySettings

    current = QualitySettings.current()
    raw = request.POST.get("auto_merge_above", "").strip().replace(",", ".")
    try:
        threshold = float(raw) if raw else None
        if threshold is not None and not 50 <= threshold <= 100:
            raise ValueError
    except ValueError:
        return _done("quality", ValidationFailed.single("auto_merge_above", _("a number from 50 to 100, or empty")))
    try:
        services.save_settings(request.user, current.match_rules, threshold, request.POST.get("invalid_phones"))
    except DomainError as exc:
        return _done("quality", exc)
    return _done("quality")


@admin_only
@require_POST
def quality_scan(request):
    from krug.quality import tasks

    entity = "company" if request.POST.get("entity") == "company" else "contact"
    with transaction.atomic():
        tasks.start_scan(request.user, entity=entity)
    return _done("quality", entity=entity)


@admin_only
@require_POST
def quality_merge(request, pk):
    from krug.clients.models import Company, Contact
    from krug.quality import merge
    from krug.quality.models import DuplicatePair

    pair = DuplicatePair.objects.get(pk=pk)
    model = Company if pair.entity == "company" else Contact
    try:
        if request.POST.get("dismiss"):
            DuplicatePair.objects.filter(pk=pk).update(status="dismissed", decided_by=request.user)
        else:
            survivor = int(request.POST.get("survivor") or pair.a_id)
            other = pair.b_id if survivor == pair.a_id else pair.a_id
            merge.merge(request.user, model, survivor, [other])
    except DomainError as exc:
        return _done("quality", exc, entity=pair.entity)
    return _done("quality", entity=pair.entity)


urlpatterns = [
    path("", index, name="index"),
    path("users/", users, name="users"),
    path("users/add/", user_add, name="user_add"),
    path("users/<int:pk>/", user_change, name="user_change"),
    path("teams/add/", team_add, name="team_add"),
    path("pipelines/", pipelines, name="pipelines"),
    path("pipelines/add/", pipeline_add, name="pipeline_add"),
    path("stages/add/", stage_save, name="stage_add"),
    path("stages/<int:pk>/", stage_save, name="stage_save"),
    path("stages/<int:pk>/move/<str:direction>/", stage_move, name="stage_move"),
    path("stages/<int:pk>/delete/", stage_delete, name="stage_delete"),
    path("fields/", fields, name="fields"),
    path("fields/add/", field_add, name="field_add"),
    path("bin/", recycle_bin, name="bin"),
    path("bin/<str:entity>/<int:pk>/<str:action>/", bin_action, name="bin_action"),
    path("quality/", quality, name="quality"),
    path("quality/scan/", quality_scan, name="quality_scan"),
    path("quality/settings/", quality_settings, name="quality_settings"),
    path("quality/pairs/<int:pk>/", quality_merge, name="quality_merge"),
]
