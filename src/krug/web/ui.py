"""Small pieces every screen uses: turning a domain error into messages beside fields, reading a keyset
page for "load more", and the users a person may give records to."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import BadRequest
from django.http import HttpRequest

from krug.core.errors import DomainError, ValidationFailed
from krug.core.pagination import page

#: counts shown on screens stop here and show "N+": an exact count of millions is not worth it
COUNT_CAP = 10_000


def field_errors(exc: DomainError) -> dict[str, list[str]]:
    """{field: [messages]} of a domain error; a message without a field goes under "form"."""
    if exc.errors:
        out: dict[str, list[str]] = {}
        for name, messages in exc.errors.items():  # phones.0 -> phones: the form has one box for the list
            out.setdefault(name.split(".")[0].removesuffix("_id"), []).extend(messages)
        return out
    return {"form": [exc.message]}


def keyset(request: HttpRequest, qs, order: str, limit: int = 50):
    """(rows, next cursor) for the page the request asks for; a cursor that is not ours is a bad request."""
    with cursor_errors_are_bad_requests():
        return page(qs, order=order, cursor=request.GET.get("cursor") or None, limit=limit)


@contextmanager
def cursor_errors_are_bad_requests():
    """A cursor that is not ours (edited, truncated, from another list) is the request's fault: a 400 saying
    so, not a 500."""
    try:
        yield
    except ValidationFailed as exc:
        raise BadRequest(exc.message) from exc


def capped_count(queryset, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, more): counts at most `cap` rows, so a big base costs no more than a small one."""
    found = queryset.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


def assignable_users(user):
    """Active users `user` may make responsible for a record (himself, his team for a head, all for admins)."""
    from krug.accounts.models import User
    from krug.core.permissions import Role, role_of

    users = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
    role = role_of(user)
    if role == Role.ADMIN:
        return users
    if role == Role.HEAD:
        return users.filter(team__head=user) | users.filter(pk=user.pk)
    return users.filter(pk=user.pk)


def querystring(request: HttpRequest, **changes) -> str:
    """The current query string with some parameters changed (None removes one)."""
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


LIST_CONTROLS = {"order", "cursor", "view"}


def saved_views_context(request: HttpRequest, entity: str) -> dict:
    """The saved-views bar of a list: the user's views, which one is open, and whether filters are set."""
    from krug.accounts import services

    current = request.GET.get("view", "")
    return {"entity": entity, "saved_views": services.views_for(request.user, entity),
            "current_view": int(current) if current.isdigit() else None,
            "has_filters": any(v for k, v in request.GET.items() if k not in LIST_CONTROLS)}


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` field of a form when it points inside this site, else the fallback."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return fallback


def custom_filters(request: HttpRequest, entity: str) -> list[dict]:
    """The administrator's custom fields of `entity` as filter inputs with their current values
    (`cf.<key>` for equality, `cf.<key>.gte` / `.lte` for number and date ranges)."""
    from krug.core import custom_fields

    fields = []
    for field in custom_fields.definitions(entity).values():
        name = f"{custom_fields.FILTER_PREFIX}{field.key}"
        fields.append({"name": name, "label": field.label, "type": field.type, "choices": field.choices,
                       "value": request.GET.get(name, ""), "gte": request.GET.get(f"{name}.gte", ""),
                       "lte": request.GET.get(f"{name}.lte", "")})
    return fields


def sort_headers(request: HttpRequest, current: str, fields: tuple[str, ...]) -> dict[str, dict]:
    """For each sortable column: the link that sorts by it (ascending first, then descending) and its state
    ('ascending', 'descending' or '' for aria-sort)."""
    headers = {}
    for name in fields:
        state = "ascending" if current == name else "descending" if current == f"-{name}" else ""
        target = f"-{name}" if state == "ascending" else name
        headers[name] = {"url": "?" + querystring(request, order=target, cursor=None), "state": state}
    return headers
