"""`core.api.Out`: dict rows are validated by pydantic itself; records and schemas with resolvers still go
through ninja's getter."""

import pytest
from ninja.schema import DjangoGetter
from pydantic import ValidationError

from krug.core.api import Out


class Row(Out):
    id: int
    name: str
    tags: list[str] = []


class Titled(Out):
    id: int
    title: str

    @staticmethod
    def resolve_title(obj) -> str:
        return f"#{obj['id'] if isinstance(obj, dict) else obj.id}"


class Record:
    id = 7
    name = "Вектор"


def test_a_dict_is_validated_without_ninjas_getter(monkeypatch):
    def refuse(*args):
        raise AssertionError("ninja's getter was used for a dict")
    monkeypatch.setattr(DjangoGetter, "__init__", refuse)
    assert Row.model_validate({"id": "3", "name": "Альфа"}).model_dump() == {"id": 3, "name": "Альфа", "tags": []}
    with pytest.raises(ValidationError) as error:
        Row.model_validate({"id": "x", "name": "Альфа"})
    assert error.value.errors()[0]["loc"] == ("id",)


def test_records_and_resolvers_still_go_through_ninja():
    assert Row.model_validate(Record()).model_dump() == {"id": 7, "name": "Вектор", "tags": []}
    assert Titled.model_validate({"id": 5, "title": "ignored"}).title == "#5"
