"""One row of a file turned into the data a service takes: names split, lists split, dates and yes/no read,
owners and companies found. Problems are collected per field, so a failed row says everything at once."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils.translation import gettext as _

from krug.core.errors import FieldErrors

_LIST_SPLIT = re.compile(r"[,;\n]+")
_PATRONYMIC_END = ("вич", "вна", "ична", "инична", "оглы", "кызы", "vich", "vna", "ichna")
_YES = {"1", "да", "yes", "y", "true", "истина", "+", "x", "д"}
_NO = {"0", "нет", "no", "n", "false", "ложь", "-", "н", ""}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S")
_CLIENT_TYPES = {"new": "new", "новый": "new", "returning": "returning", "постоянный": "returning",
                 "повторный": "returning", "vip": "vip", "вип": "vip", "key": "key", "key account": "key",
                 "ключевой": "key", "ключевой клиент": "key", "partner": "partner", "партнер": "partner",
                 "партнёр": "partner", "supplier": "supplier", "поставщик": "supplier"}


def split_full_name(text: str) -> dict[str, str]:
    """`Иванов Иван Иванович` → surname, first name, patronymic; `John Smith` → first name, surname;
    `Иван Иванович Иванов` (patronymic in the middle) is recognised too."""
    parts = text.split()
    if not parts:
        return {}
    if len(parts) == 1:
        return {"surname": parts[0]}
    cyrillic = bool(re.search(r"[а-яё]", text, re.I))
    if len(parts) >= 3:
        if parts[1].casefold().endswith(_PATRONYMIC_END):  # Имя Отчество Фамилия
            return {"first_name": parts[0], "patronymic": parts[1], "surname": " ".join(parts[2:])}
        return {"surname": parts[0], "first_name": parts[1], "patronymic": " ".join(parts[2:])}
    if cyrillic:
        return {"surname": parts[0], "first_name": parts[1]}
    return {"first_name": parts[0], "surname": parts[1]}


def split_list(text: str) -> list[str]:
    return [item.strip() for item in _LIST_SPLIT.split(text or "") if item.strip()]


def parse_date(text: str) -> dt.date:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(_("%(raw)s is not a date; write it as 31.12.2026 or 2026-12-31") % {"raw": text})


def parse_yes_no(text: str) -> bool:
    value = text.strip().casefold()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(_("%(raw)s is not yes or no") % {"raw": text})


def parse_amount(text: str) -> str:
    cleaned = re.sub(r"[\s\u00a0₽$€]|руб\.?|rub", "", text.strip(), flags=re.I).replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        raise ValueError(_("%(raw)s is not an amount") % {"raw": text})
    return cleaned


class Owners:
    """Finds the owner a row names (login, e-mail or full name), remembering the answers for the whole file."""

    def __init__(self) -> None:
        self._cache: dict[str, int | None] = {}

    def find(self, text: str) -> int | None:
        from django.db.models import Q

        from krug.accounts.models import User

        key = " ".join(text.casefold().split())
        if key not in self._cache:
            users = User.objects.filter(is_active=True)
            found = users.filter(Q(username__iexact=text.strip()) | Q(email__iexact=text.strip())).first()
            if found is None:
                for user in users:
                    names = {" ".join(f"{user.last_name} {user.first_name}".casefold().split()),
                             " ".join(f"{user.first_name} {user.last_name}".casefold().split())}
                    if key in names:
                        found = user
                        break
            self._cache[key] = found.pk if found else None
        return self._cache[key]


def to_data(entity: str, mapping: list[str], row: list[str], owners: Owners) -> tuple[dict[str, Any], FieldErrors]:
    """The service data of one row (only the columns that have a value) and the problems found on the way."""
    errors = FieldErrors()
    data: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    for name, raw in zip(mapping, row, strict=False):
        value = (raw or "").strip()
        if not name or not value:
            continue
        if name in ("phone", "email", "tags") and entity in ("contacts",):
            lists.setdefault({"phone": "phones", "email": "emails", "tags": "tags"}[name], []).extend(
                split_list(value))
            continue
        if name == "full_name":
            for part, text in split_full_name(value).items():
                data.setdefault(part, text)
            continue
        if name.startswith("cf."):
            data.setdefault("custom", {})[name[3:]] = value
            continue
        if name == "owner":
            owner = owners.find(value)
            if owner is None:
                errors.add("owner", _("no active user %(name)s") % {"name": value})
            data["owner_id"] = owner
            continue
        try:
            if name in ("birthday", "founded", "expected_close"):
                data[name] = parse_date(value)
            elif name == "opt_out":
                data[name] = parse_yes_no(value)
            elif name == "amount":
                data[name] = parse_amount(value)
            elif name == "client_type":
                data[name] = _CLIENT_TYPES.get(value.casefold(), value)
            else:
                data[name] = value
        except ValueError as exc:
            errors.add(name, str(exc))
    data.update(lists)
    return data, errors
