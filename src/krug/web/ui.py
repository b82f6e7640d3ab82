"""Small pieces every screen uses: turning a domain error into messages beside fields, reading a keyset
page for "load more", and the users a person may give records to."""

from __future__ import annotations

from django.http import HttpRequest

from krug.core.errors import DomainError
from krug.core.pagination import page


def field_errors(exc: DomainError) -> dict[str, list[str]]:
    """{field: [messages]} of a domain error; a message without a field goes under "form"."""
    if exc.errors:
        out: dict[str, list[str]] = {}
        for name, messages in exc.errors.items():  # phones.0 -> phones: the form has one box for the list
            out.setdefault(name.split(".")[0].removesuffix("_id"), []).extend(messages)
        return out
    return {"form": [exc.message]}


def keyset(request: HttpRequest, qs, order: str, limit: int = 50):
    """(rows, next cursor) for the page the request asks for."""
    return page(qs, order=order, cursor=request.GET.get("cursor") or None, limit=limit)


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
