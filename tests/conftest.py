"""Shared test fixtures: a small organisation (admin, a head with two managers, another team's manager)
and an API client that speaks as any of them with a bearer token."""

from __future__ import annotations

import json

import pytest


class ApiClient:
    """Thin JSON client over Django's test client, authenticated by bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, data=None, **params):
        url = path if path.startswith("/api/") else f"/api/v1{path}"
        fn = getattr(self.client, method)
        if method in ("get", "delete") and data is None:
            response = fn(url, params or None, **self.headers)
        else:
            response = fn(url, json.dumps(data, default=str), content_type="application/json", **self.headers)
        response.body = response.json() if response.content and response["Content-Type"].startswith(
            "application/json") else None
        return response

    def get(self, path, **params):
        return self._call("get", path, **params)

    def post(self, path, data=None):
        return self._call("post", path, data if data is not None else {})

    def patch(self, path, data):
        return self._call("patch", path, data)

    def put(self, path, data):
        return self._call("put", path, data)

    def delete(self, path):
        return self._call("delete", path)


class Org:
    """The cast of every permission test."""

    def __init__(self):
        from krug.accounts import services
        from krug.core.permissions import Role

        self.team = services.get_or_create_team("Продажи Москва")
        self.other_team = services.get_or_create_team("Продажи Казань")
        self.admin = services.create_user("admin", role=Role.ADMIN, first_name="Анна", last_name="Админова")
        self.head = services.create_user("head", role=Role.HEAD, team=self.team, first_name="Олег",
                                         last_name="Руководов")
        self.manager = services.create_user("manager", role=Role.MANAGER, team=self.team, first_name="Иван",
                                            last_name="Продавцов")
        self.colleague = services.create_user("colleague", role=Role.MANAGER, team=self.team,
                                              first_name="Пётр", last_name="Коллегин")
        self.outsider = services.create_user("outsider", role=Role.MANAGER, team=self.other_team,
                                             first_name="Рустам", last_name="Казанский")
        self.other_head = services.create_user("other_head", role=Role.HEAD, team=self.other_team)
        self.tokens = {name: services.issue_token(getattr(self, name))
                       for name in ("admin", "head", "manager", "colleague", "outsider", "other_head")}


@pytest.fixture(autouse=True)
def english_unless_asked(settings):
    """Tests read messages in English: requests without Accept-Language and service calls outside a request
    use English here (Krug's own default is Russian; the tests that check Russian ask for it)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def org(db):
    return Org()


@pytest.fixture
def api_as(client, org):
    """api_as('manager').get('/contacts') — call the API as one of the org's users."""

    def make(name: str | None) -> ApiClient:
        return ApiClient(client, org.tokens[name] if name else None)

    return make
