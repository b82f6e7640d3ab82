"""One row of a file turned into the data a service takes: names split, lists split, dates and yes/no read,
owners and companies found. Problems are collected per field, so a failed row says everything at once."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
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
                 "партнёр": "partner", "supplier": "supplier", "поставщик": "supplier",
                 # Bitrix24's own types, plural: «Клиенты» and «Другое» are left to the user's choice (transfer.values)
                 "партнеры": "partner", "партнёры": "partner", "поставщики": "supplier", "partners": "partner",
                 "suppliers": "supplier"}


def parse_client_type(text: str) -> str:
    """A client type as a file may spell it (`Постоянный`, `VIP`) -> its value; anything else stays as it is
    (and fails as the services refuse it)."""
    return _CLIENT_TYPES.get(text.strip().casefold(), text)


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


def parse_day(text: str) -> dt.date:
    """A date, or the day of a date and time (`01.09.2026 14:05`, as amoCRM's and Krug's own exports write a
    deal's close)."""
    try:
        return parse_date(text)
    except ValueError:
        if len(text.split()) != 2:
            raise
        return parse_date(text.split()[0])


#: currencies as other CRMs and people write them (Bitrix24: «Российский рубль», «Доллар США») -> ISO 4217
_CURRENCIES = {
    "RUB": ("рубль", "рубли", "рублей", "российский рубль", "руб", "р", "₽", "rur", "rub", "russian ruble",
            "russian rouble", "ruble", "rouble"),
    "USD": ("доллар", "доллар сша", "доллары сша", "долл", "$", "us$", "usd", "us dollar", "dollar"),
    "EUR": ("евро", "€", "eur", "euro"),
    "CNY": ("юань", "китайский юань", "юань жэньминьби", "¥", "cny", "rmb", "yuan", "chinese yuan"),
    "KZT": ("тенге", "казахстанский тенге", "₸", "kzt", "tenge"),
    "BYN": ("белорусский рубль", "бел руб", "byn", "byr", "belarusian ruble"),
}
CURRENCY_CODES = tuple(_CURRENCIES)
_CURRENCY_NAMES = {name: code for code, names in _CURRENCIES.items() for name in names}


def parse_currency(text: str) -> str:
    """A currency as a file names it (`Российский рубль`, `руб.`, `₽`, `usd`) -> its ISO 4217 code; another
    three Latin letters are taken as a code, anything else is refused, naming it."""
    key = " ".join(text.casefold().replace("ё", "е").replace(".", " ").split())
    if key in _CURRENCY_NAMES:
        return _CURRENCY_NAMES[key]
    if re.fullmatch(r"[a-z]{3}", key):
        return key.upper()
    raise ValueError(_("%(raw)s is not a currency; write its ISO 4217 code, such as RUB") % {"raw": text})


_MOMENT_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%y %H:%M", "%d.%m.%y")


def parse_created_at(text: str) -> dt.datetime:
    """When a record came to the business, as another CRM's «Дата создания» gives it: `15.03.2021`,
    `15.03.2021 10:22`, `15.03.2021 10:22:11`, or ISO 8601 (`2021-03-15T10:22:11+03:00`, as a spreadsheet's date
    cell is read). A time without a zone is the site's (`TIME_ZONE`), a day alone its midnight. A moment after now
    is refused: the record cannot have come from the future (a day and month swapped, a wrong year)."""
    from django.utils import timezone

    cleaned = " ".join(text.split())
    moment = None
    for fmt in _MOMENT_FORMATS:
        try:
            moment = dt.datetime.strptime(cleaned, fmt)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = dt.datetime.fromisoformat(cleaned)
        except ValueError:
            raise ValueError(_("%(raw)s is not a date and time; write it as 15.03.2021 10:22 or 2021-03-15 10:22")
                             % {"raw": text}) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    if moment > timezone.now():
        raise ValueError(_("%(raw)s is in the future; a record is created at the latest now") % {"raw": text})
    return moment


def parse_krug_id(text: str) -> int:
    """A record's own id, as Krug's export writes it (a spreadsheet may show it as `1 234` or `1234.0`)."""
    cleaned = re.sub(r"[\s\u00a0]", "", text)
    if not re.fullmatch(r"\d+(\.0+)?", cleaned) or int(float(cleaned)) == 0:
        raise ValueError(_("%(raw)s is not a Krug ID") % {"raw": text})
    return int(float(cleaned))


class Owners:
    """Finds the owner a row names (login, e-mail or full name, in any case), among the active users read once
    for the whole file: the value page asked the database three times for each of a file's 300 owners."""

    def __init__(self) -> None:
        self._found: dict[str, int] | None = None
        self.usernames: dict[int, str] = {}

    def find(self, text: str) -> int | None:
        if self._found is None:
            self._found = self._read()
        return self._found.get(" ".join(text.casefold().split()))

    def _read(self) -> dict[str, int]:
        """Each active user's full name either way round, then e-mail, then login (what wins when two users'
        differ only there), in id order: the first user of a name keeps it."""
        from krug.accounts.models import User

        found: dict[str, int] = {}
        users = list(User.objects.filter(is_active=True).order_by("pk")
                     .values_list("pk", "username", "email", "first_name", "last_name"))
        for pk, _username, _email, first_name, last_name in users:
            for name in (f"{last_name} {first_name}", f"{first_name} {last_name}"):
                if key := " ".join(name.casefold().split()):
                    found.setdefault(key, pk)
        for pk, username, email, _first, _last in users:
            found.update({key: pk for key in (email.casefold(), username.casefold()) if key})
        self.usernames = {pk: username for pk, username, *_rest in users}
        return found


_LISTS = {"phone": "phones", "email": "emails", "tags": "tags"}  # columns a contact takes several of
#: a contact's phone and e-mail columns that say the kind of what they hold (Bitrix24's «Рабочий телефон», amoCRM's
#: «Личный email»): column -> (list, the entry's key, kind). Their entries name the column they came from, so a bad
#: one's error names it too (`clients.services._clean_entries`, `mapping.field_label`).
KIND_COLUMNS = {"phone_work": ("phones", "number", "work"), "phone_mobile": ("phones", "number", "mobile"),
                "phone_home": ("phones", "number", "home"), "email_work": ("emails", "email", "work"),
                "email_personal": ("emails", "email", "personal")}
_PARSERS = {"birthday": parse_date, "founded": parse_date, "expected_close": parse_date, "opt_out": parse_yes_no,
            "amount": parse_amount, "krug_id": parse_krug_id, "currency": parse_currency, "closed_at": parse_day,
            "client_type": parse_client_type, "created_at": parse_created_at}
_PLAIN, _LIST, _FULL_NAME, _CUSTOM, _OWNER, _PARSED, _NOTE, _KIND = range(8)
_ESCAPED = ("=", "+", "-", "@")  # what `export.csv_safe` puts a `'` before


def _note_max() -> int:
    from krug.activities.services import NOTE_MAX

    return NOTE_MAX


@lru_cache(maxsize=256)
def _columns(entity: str, mapping: tuple[str, ...]) -> tuple[tuple[int, str, int], ...]:
    """(position, field, what to do with it) for each mapped column: decided once per file, not per cell."""
    out = []
    for position, name in enumerate(mapping):
        if not name:
            continue
        if name in _LISTS and entity == "contacts":
            out.append((position, _LISTS[name], _LIST))
        elif name in KIND_COLUMNS and entity == "contacts":
            out.append((position, name, _KIND))
        elif name == "full_name":
            out.append((position, name, _FULL_NAME))
        elif name.startswith("cf."):
            out.append((position, name[3:], _CUSTOM))
        elif name == "owner":
            out.append((position, name, _OWNER))
        elif name == "note":  # each comment column's cell a note of its own, in the columns' order
            out.append((position, "notes", _NOTE))
        else:
            out.append((position, name, _PARSED if name in _PARSERS else _PLAIN))
    return tuple(out)


def to_data(entity: str, mapping: list[str], row: list[str], owners: Owners,
            values: dict[str, dict[str, str]] | None = None) -> tuple[dict[str, Any], FieldErrors]:
    """The service data of one row (only the columns that have a value) and the problems found on the way.
    `values`: what the user chose a value column's values become (`transfer.values.substitutions`)."""
    errors = FieldErrors()
    data: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    length = len(row)
    for position, name, kind in _columns(entity, tuple(mapping)):
        if position >= length:
            break
        value = (row[position] or "").strip()
        if not value:
            continue
        if value[0] == "'" and value[1:2] in _ESCAPED:  # a formula-like cell as Krug's CSV escapes it
            value = value[1:]
        if values and name in values:
            value = values[name].get(" ".join(value.split()).casefold(), value)  # keyed as `values.norm` keys it
            if not value:  # chosen "as if the cell were empty"
                continue
        if kind == _PLAIN:
            data[name] = value
        elif kind == _LIST:
            lists.setdefault(name, []).extend(split_list(value))
        elif kind == _KIND:
            field, key, entry_kind = KIND_COLUMNS[name]
            lists.setdefault(field, []).extend({key: item, "kind": entry_kind, "column": name}
                                               for item in split_list(value))
        elif kind == _FULL_NAME:
            for part, text in split_full_name(value).items():
                data.setdefault(part, text)
        elif kind == _CUSTOM:
            data.setdefault("custom", {})[name] = value
        elif kind == _OWNER:
            owner = owners.find(value)
            if owner is None:
                errors.add("owner", _("no active user %(name)s") % {"name": value})
            data["owner_id"] = owner
        elif kind == _NOTE:
            if len(value) > _note_max():
                errors.add("note", _("at most %(n)d characters") % {"n": _note_max()})
            data.setdefault(name, []).append(value)
        else:
            try:
                data[name] = _PARSERS[name](value)
            except ValueError as exc:
                errors.add(name, str(exc))
    data.update(lists)
    return data, errors


def entry_text(item, key: str) -> str:
    """The text of a row's phone or e-mail: given as a string (a plain «Телефон» column), or as an entry with its
    kind (`KIND_COLUMNS`)."""
    return item if isinstance(item, str) else item.get(key) or ""
