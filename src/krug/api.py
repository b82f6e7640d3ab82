"""The REST API assembly: authentication, error answers, and each app's router under /api/v1/."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from krug.accounts.services import user_for_token
from krug.core.errors import DomainError


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` with a token made by `krug user add` or the settings page."""

    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session cookie (with Django's CSRF check on unsafe methods)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


api = NinjaAPI(
    title="Krug CRM API",
    version="1",
    description=(
        "Clients, deals and activities of Krug CRM. Authenticate with `Authorization: Bearer <token>` "
        "(make one with `krug user add`) or the browser session. Lists are paged by cursor: pass the "
        "`next_cursor` of one page as `cursor` to get the next. Custom fields filter as `cf.<key>=value` "
        "and, for numbers and dates, `cf.<key>.gte|lte|gt|lt=value`. Updates carry the `version` you "
        "read; a stale one answers 409 and writes nothing. Errors answer "
        "`{detail, code, errors: [{field, message}]}`."
    ),
    auth=[BearerToken(), SessionAuth(csrf=True)],
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    items = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload", "params")]
        items.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in items) or "invalid request"
    return api.create_response(request, {"detail": detail, "code": "validation_failed", "errors": items},
                               status=422)


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return api.create_response(request, {"detail": "Authentication required", "code": "unauthorized"},
                               status=401)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(request, {"detail": str(exc), "code": "error"}, status=exc.status_code)


def _mount() -> None:
    from krug.accounts.api import router as accounts_router
    from krug.activities.api import routers as activity_routers
    from krug.clients.api import companies, contacts, leads, search
    from krug.core.api import generic_router
    from krug.core.custom_fields_api import router as custom_fields_router
    from krug.quality.api import router as quality_router
    from krug.sales.api import routers as sales_routers
    from krug.transfer.api import router as transfer_router

    api.add_router("/companies", companies)
    api.add_router("/contacts", contacts)
    api.add_router("/leads", leads)
    api.add_router("/search", search)
    for prefix, router in sales_routers:
        api.add_router(prefix, router)
    for prefix, router in activity_routers:
        api.add_router(prefix, router)
    api.add_router("/", accounts_router)
    api.add_router("/", custom_fields_router)
    api.add_router("/", quality_router)
    api.add_router("/", transfer_router)
    api.add_router("/", generic_router)


_mount()
