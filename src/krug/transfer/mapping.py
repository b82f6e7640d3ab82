"""Which column of the file goes into which field: recognised from Russian or English headers (including the
exports of amoCRM and Bitrix24), editable by the user, checked before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from krug.core.errors import FieldErrors

ENTITIES = ("contacts", "companies", "leads", "deals")
#: a column the user does not want: mapped to this, it is left out
SKIP = ""


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    headers: tuple[str, ...]  # known headers, compared after `_norm`
    repeatable: bool = False  # several columns may fill it (phones, e-mails, tags)


def _t(name, label, *headers, repeatable=False) -> Target:
    return Target(name, label, tuple(_norm(h) for h in (name, *headers)), repeatable)


def _norm(header: str) -> str:
    text = (header or "").casefold().replace("ё", "е")
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


_PERSON = [
    _t("full_name", _("Full name"), "фио", "ф и о", "имя фамилия", "фамилия имя отчество", "name", "full name",
       "contact name", "контакт", "контактное лицо", "полное имя", "полное имя контакта", "клиент",
       "наименование контакта"),
    _t("surname", _("Surname"), "фамилия", "last name", "lastname", "family name"),
    _t("first_name", _("First name"), "имя", "first name", "firstname", "given name"),
    _t("patronymic", _("Patronymic"), "отчество", "middle name", "second name"),
    _t("position", _("Position"), "должность", "job title", "title", "position", "позиция"),
    _t("phone", _("Phone"), "телефон", "телефоны", "тел", "phone", "phones", "phone number", "мобильный",
       "мобильный телефон", "рабочий телефон", "mobile", "work phone", "телефон рабочий", "телефон мобильный",
       "сотовый", repeatable=True),
    _t("email", _("E-mail"), "email", "e mail", "emails", "e mails", "почта", "эл почта", "электронная почта",
       "mail", "рабочий email", "личный email", "email рабочий", repeatable=True),
    _t("city", _("City"), "город", "city", "town", "населенный пункт"),
]

#: a contact's phones and e-mails by the kind their column says (`rows.KIND_COLUMNS`): Bitrix24's «Рабочий
#: телефон», «Частный e-mail», amoCRM's «Личный email»; the plain «Телефон» and «E-mail» give the default kind
_KINDS = [
    _t("phone_work", _("Phone (work)"), "рабочий телефон", "телефон рабочий", "рабочий прямой телефон",
       "раб телефон", "work phone", "office phone", "business phone", repeatable=True),
    _t("phone_mobile", _("Phone (mobile)"), "мобильный телефон", "телефон мобильный", "мобильный", "моб",
       "сотовый", "сотовый телефон", "mobile", "mobile phone", "cell", "cell phone", repeatable=True),
    _t("phone_home", _("Phone (home)"), "домашний телефон", "телефон домашний", "home phone", repeatable=True),
    _t("email_work", _("E-mail (work)"), "рабочий email", "рабочий e mail", "email рабочий", "e mail рабочий",
       "рабочая почта", "work email", "work e mail", "business email", repeatable=True),
    _t("email_personal", _("E-mail (personal)"), "личный email", "личный e mail", "частный email",
       "частный e mail", "email личный", "e mail личный", "личная почта", "personal email", "personal e mail",
       "private email", "home email", repeatable=True),
]
_KIND_HEADERS = {h for target in _KINDS for h in target.headers}
KIND_FIELDS = frozenset(target.name for target in _KINDS)  # a key `phone` or `email` is read from these too


def _contact_person() -> list[Target]:
    """A contact's fields of a person: the plain phone and e-mail without the headers that say a kind, each
    followed by its kinds."""
    out = []
    for target in _PERSON:
        if target.name in ("phone", "email"):
            target = Target(target.name, target.label, tuple(h for h in target.headers if h not in _KIND_HEADERS),
                            target.repeatable)
        out.append(target)
        out += [kind for kind in _KINDS if kind.name.startswith(f"{target.name}_")]
    return out


#: a comment on a contact or company (amoCRM's «Примечание», Bitrix24's «Комментарий»): a note on its timeline;
#: several such columns are several notes ("Примечание 2" is one too)
_NOTE = _t("note", _("Note"), "комментарий", "комментарии", "примечание", "примечания", "заметка", "заметки",
           "comment", "comments", "note", "notes", "remark", "remarks", repeatable=True)
#: when a record came to the business (another CRM's «Дата создания»), and Krug's own export's «Создан» column
_CREATED = _t("created_at", _("Created"), "дата создания", "создан", "создана", "создано", "дата добавления",
              "created", "created at", "date created", "creation date", "date added")

TARGETS: dict[str, list[Target]] = {
    "contacts": [
        *_contact_person(),
        _t("company", _("Company"), "компания", "организация", "company", "company name", "название компании",
           "работодатель", "контрагент"),
        _t("company_inn", _("Company INN"), "инн", "инн компании", "inn", "tax id"),
        _t("source", _("Source"), "источник", "source", "канал"),
        _t("client_type", _("Client type"), "тип клиента", "тип контакта", "тип", "client type", "type", "категория"),
        _t("birthday", _("Birthday"), "дата рождения", "день рождения", "birthday", "birth date", "date of birth"),
        _t("tags", _("Tags"), "теги", "тег", "метки", "tags", "tag", repeatable=True),
        _t("owner", _("Owner"), "ответственный", "менеджер", "owner", "manager", "responsible"),
        _t("opt_out", _("Opted out of mailings"), "отказ от рассылки", "отказ от рассылок", "отписан", "opt out",
           "unsubscribed"),
        _NOTE,
        _CREATED,
        _t("external_id", _("ID in the old system"), "id", "внешний id", "external id", "ид", "код", "номер"),
    ],
    "companies": [
        _t("name", _("Name"), "название", "наименование", "компания", "организация", "company", "company name",
           "name", "полное наименование", "краткое наименование", "название компании", "наименование компании"),
        _t("legal_form", _("Legal form"), "опф", "организационно правовая форма", "legal form", "форма"),
        _t("inn", _("INN"), "инн", "inn", "tax id"),
        _t("kpp", _("KPP"), "кпп", "kpp"),
        _t("ogrn", _("OGRN"), "огрн", "огрнип", "ogrn"),
        _t("industry", _("Industry"), "отрасль", "сфера деятельности", "industry", "вид деятельности"),
        _t("size", _("Size"), "размер", "размер компании", "численность", "численность сотрудников",
           "количество сотрудников", "size", "company size", "employees", "headcount"),
        _t("region", _("Region"), "регион", "область", "region"),
        _t("city", _("City"), "город", "city"),
        _t("address", _("Address"), "адрес", "юридический адрес", "фактический адрес", "почтовый адрес",
           "адрес компании", "адрес офиса", "юр адрес", "факт адрес", "address", "legal address", "postal address",
           "street address", "office address", "company address"),
        _t("website", _("Website"), "сайт", "веб сайт", "website", "web", "url", "корпоративный сайт", "сайт компании"),
        _t("phone", _("Phone"), "телефон", "тел", "phone", "рабочий телефон", "мобильный телефон", "телефон компании"),
        _t("email", _("E-mail"), "email", "e mail", "почта", "эл почта", "электронная почта", "рабочий email",
           "рабочий e mail", "email компании"),
        _t("founded", _("Founded"), "дата основания", "основана", "founded"),
        _t("description", _("Description"), "описание", "description"),
        _NOTE,
        _t("owner", _("Owner"), "ответственный", "менеджер", "owner", "manager", "responsible"),
        _CREATED,
        _t("external_id", _("ID in the old system"), "id", "внешний id", "external id", "ид", "код"),
    ],
    "leads": [
        _t("title", _("Request"), "название", "заявка", "запрос", "название лида", "title", "request", "lead"),
        *_PERSON,
        _t("company_name", _("Company"), "компания", "организация", "company", "company name"),
        _t("inn", _("INN"), "инн", "инн компании", "inn", "tax id"),
        _t("source", _("Source"), "источник", "source", "канал"),
        _t("message", _("Message"), "сообщение", "комментарий", "текст", "message", "comment"),
        _t("amount", _("Expected amount"), "сумма", "бюджет", "ожидаемая сумма", "amount", "budget",
           "expected amount"),
        _t("utm_source", "utm_source", "utm source"),
        _t("utm_medium", "utm_medium", "utm medium"),
        _t("utm_campaign", "utm_campaign", "utm campaign", "кампания"),
        _t("utm_term", "utm_term", "utm term"),
        _t("utm_content", "utm_content", "utm content"),
        _t("referrer", _("Referrer"), "referrer", "referer", "реферер", "страница перехода"),
        _t("rejection_reason", _("Rejection reason"), "причина отказа", "rejection reason"),
        _t("owner", _("Owner"), "ответственный", "менеджер", "owner", "manager", "responsible"),
        _CREATED,
        _t("external_id", _("ID in the old system"), "id", "внешний id", "external id", "ид"),
    ],
    "deals": [
        _t("title", _("Title"), "название", "название сделки", "сделка", "title", "deal", "deal name"),
        _t("amount", _("Amount"), "сумма", "бюджет", "amount", "value", "budget", "стоимость"),
        _t("currency", _("Currency"), "валюта", "currency"),
        _t("pipeline", _("Pipeline"), "воронка", "воронка продаж", "pipeline", "направление"),
        _t("stage", _("Stage"), "этап", "этап сделки", "стадия", "стадия сделки", "статус", "stage", "status"),
        _t("expected_close", _("Expected close"), "ожидаемая дата закрытия", "expected close",
           "предполагаемая дата закрытия", "планируемая дата закрытия"),
        _t("closed_at", _("Closed on"), "дата закрытия", "дата закрытия сделки", "closed on",
           "close date", "closed at", "closed date"),
        _t("company", _("Company"), "компания", "организация", "company", "клиент"),
        _t("company_inn", _("Company INN"), "инн", "инн компании", "inn"),
        _t("contact_email", _("Contact's e-mail"), "email контакта", "e mail контакта", "email", "e mail", "почта",
           "contact email", "contact e mail", "рабочий email контакт", "рабочий e mail контакт",
           "личный email контакт", "личный e mail контакт", "другой email контакт", "email контакт"),
        _t("contact_phone", _("Contact's phone"), "телефон контакта", "телефон", "phone", "contact phone",
           "мобильный телефон контакт", "рабочий телефон контакт", "телефон контакт", "рабочий прямой телефон контакт",
           "домашний телефон контакт", "другой телефон контакт"),
        # the contact's full name (Bitrix24's «Контакт», amoCRM's «Полное имя контакта»; not its «Компания контакта»)
        _t("contact_name", _("Contact"), "контакт", "полное имя контакта", "контактное лицо", "имя контакта",
           "contact", "contact name"),
        _t("loss_reason", _("Loss reason"), "причина проигрыша", "причина отказа", "причина провала",
           "loss reason", "lost reason"),
        _t("source", _("Source"), "источник", "source"),
        _t("description", _("Description"), "описание", "комментарий", "примечание", "description", "notes"),
        _t("owner", _("Owner"), "ответственный", "менеджер", "owner", "manager", "responsible"),
        _t("created_at", _CREATED.label, "дата начала", *_CREATED.headers),  # Bitrix24's deal starts («Дата начала»)
        _t("external_id", _("ID in the old system"), "id", "внешний id", "external id", "ид"),
    ],
}

#: what a row needs, at least one of each group
REQUIRED: dict[str, list[tuple[str, ...]]] = {
    "contacts": [("full_name", "surname", "first_name")],
    "companies": [("name",)],
    "leads": [("title", "full_name", "surname", "first_name", "company_name", "phone", "email")],
    "deals": [("title",)],
}
#: the fields an import may match existing records by ("upsert key")
#: Krug's own id, the first column of its export: a file exported, edited and imported again names its records
#: by it (the key `krug_id`), where an `ID` column is the old system's. Each kind's export names it its own way,
#: so a file of deals uploaded as contacts is told apart (`exported_entity`) rather than taken for their ids.
KRUG_IDS = {"contacts": _t("krug_id", _("Krug contact ID")), "companies": _t("krug_id", _("Krug company ID")),
            "leads": _t("krug_id", _("Krug lead ID")), "deals": _t("krug_id", _("Krug deal ID"))}
#: what a user may call it in a file of his own, whatever its kind
_ANY_KRUG_ID = ("id в круге", "ид в круге", "krug id", "id krug")
for _entity, _fields in TARGETS.items():
    _fields.insert(0, _t("krug_id", KRUG_IDS[_entity].label, *_ANY_KRUG_ID))


@cache
def _exports() -> dict[str, str]:
    """Each kind's Krug ID header, in every language of the interface -> the kind."""
    found = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            found.update((_norm(str(target.label)), entity) for entity, target in KRUG_IDS.items())
    return found


def exported_entity(header: list[str]) -> str:
    """The kind of records a file of Krug's own export holds, by its Krug ID column ("" for another file)."""
    return next((_exports()[norm] for norm in map(_norm, header) if norm in _exports()), "")

KEYS: dict[str, tuple[str, ...]] = {
    "contacts": ("krug_id", "external_id", "email", "phone"),
    "companies": ("krug_id", "external_id", "inn"),
    "leads": ("krug_id", "external_id", "email", "phone"),
    "deals": ("krug_id", "external_id"),
}


def default_key(mapping: list[str]) -> str:
    """The key a file's columns suggest: Krug's own id, else the old system's, else none."""
    return next((key for key in ("krug_id", "external_id") if key in mapping), "")


def targets(entity: str, custom: dict | None = None) -> dict[str, Target]:
    """The fields of `entity` a column can go to, the administrator's custom fields (`cf.<key>`) included."""
    found = {t.name: t for t in TARGETS[entity]}
    for key, field in (custom or {}).items():
        name = f"cf.{key}"
        found[name] = Target(name, field.label, (_norm(field.label), _norm(key)))
    return found


@cache
def _labels(entity: str) -> dict[str, str]:
    """Each field's label in every language of the interface → the field: what Krug's own export and the
    mapping page call a column ("Ожидаемое закрытие", "E-mail контакта")."""
    found: dict[str, str] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for target in TARGETS[entity]:
                found.setdefault(_norm(str(target.label)), target.name)
    return found


def _match(entity: str, known: dict[str, Target], norm: str, taken: set[str]) -> str:
    def free(name: str) -> bool:
        return name in known and (known[name].repeatable or name not in taken)

    by_label = _labels(entity).get(norm)
    if by_label and free(by_label):  # a field's own label always means that field
        return by_label
    for target in known.values():
        if norm in target.headers and free(target.name):
            return target.name
    # "Телефон (моб.)", "E-mail рабочий": a known header inside a longer one; of a field and its kinds found so,
    # the kind ("Мобильный телефон 2" is a mobile phone, `phone_mobile`, not a `phone`), else the longest header
    inside: dict[str, int] = {}
    for target in known.values():
        for h in target.headers if target.repeatable else ():
            if h and re.search(rf"\b{re.escape(h)}\b", norm):
                inside[target.name] = max(inside.get(target.name, 0), len(h))
    specific = {name: length for name, length in inside.items() if not any(n.startswith(f"{name}_") for n in inside)}
    return max(specific, key=specific.__getitem__) if specific else SKIP


def guess(entity: str, header: list[str], custom: dict | None = None) -> list[str]:
    """For each column, the field it most likely fills, or SKIP; a field that is not repeatable is given to
    its first column only."""
    known = targets(entity, custom)
    taken: set[str] = set()
    mapping = []
    for column in header:
        choice = _match(entity, known, _norm(column), taken)
        if choice:
            taken.add(choice)
        mapping.append(choice)
    return mapping


def header_row(entity: str, rows: list[tuple[int, list[str]]], custom: dict | None = None) -> int:
    """Which of the first non-empty rows (number, cells) is the header: the one with the most columns that
    fill a field, the earliest of equals. A title above the header ("Список контактов на 01.11.2026") maps
    nothing; the data under it hardly ever reads as field names."""
    best, best_count = rows[0][0], 0
    for number, cells in rows:
        count = sum(1 for name in guess(entity, cells, custom) if name)
        if count > best_count:
            best, best_count = number, count
    return best


def column_name(header: list[str], index: int) -> str:
    """A column as people see it: its number from 1 and its header."""
    title = header[index] if index < len(header) and header[index] else "—"
    return str(_("column %(n)d (%(header)s)")) % {"n": index + 1, "header": title}


def check(entity: str, header: list[str], mapping: list[str], key: str, custom: dict | None = None) -> None:
    """ValidationFailed naming `mapping` or `key` when the mapping cannot work. A column's problem is on
    `mapping.<index>` (from 0, as in the list) and its message names the column by its number from 1 and its
    header, as the spreadsheet shows it."""
    errors = FieldErrors()
    known = targets(entity, custom)
    if len(mapping) != len(header):
        errors.add("mapping", str(_("give one field (or an empty string to skip) for each of the %(n)d columns"))
                   % {"n": len(header)})
        errors.raise_if_any()
    used: dict[str, int] = {}
    for index, name in enumerate(mapping):
        if name == SKIP:
            continue
        if name not in known:
            errors.add(f"mapping.{index}", str(_("%(column)s: unknown field %(name)s"))
                       % {"column": column_name(header, index), "name": name})
        elif name in used and not known[name].repeatable:
            message = str(_("%(column)s: %(field)s is already filled from another column, %(first)s"))
            errors.add(f"mapping.{index}", message % {"column": column_name(header, index), "field": known[name].label,
                                                      "first": column_name(header, used[name])})
        used.setdefault(name, index)
    keys = [str(known[k].label) for k in KEYS[entity] if k in used]
    for group in REQUIRED[entity] if not key else ():  # with a key, a file may only change what its rows name
        if not any(name in used for name in group):
            labels = ", ".join(str(known[n].label) for n in group)
            message = str(_("no column fills a required field: %(fields)s")) % {"fields": labels}
            if keys:  # a file of changes: it names its records by a column it has
                message += str(_(" (or choose the key, %(keys)s, to change the records the file names)")) % {
                    "keys": ", ".join(keys)}
            errors.add("mapping", message)
    if key:
        if key not in KEYS[entity]:
            errors.add("key", str(_("must be one of %(v)s")) % {"v": ", ".join(KEYS[entity])})
        elif key not in used and not any(name.startswith(f"{key}_") for name in used if name in KIND_FIELDS):
            errors.add("key", str(_("no column is mapped to %(field)s")) % {"field": known[key].label})
    errors.raise_if_any()


_LIST_FIELDS = {"phones": "phone", "emails": "email", "company_id": "company", "owner_id": "owner", "notes": "note"}


def field_label(entity: str, name: str) -> str:
    """The label of an error's field for people: `phones.0` → Телефон, `cf.budget` → the custom field's label."""
    base = name.split(".")[0] if not name.startswith("cf.") else ".".join(name.split(".")[:2])
    base = _LIST_FIELDS.get(base, base)
    if base == "custom" and name.count(".") >= 1:
        base = "cf." + name.split(".")[1]
    known = {t.name: t for t in TARGETS.get(entity, [])}
    if base in known:
        return str(known[base].label)
    if base.startswith("cf."):
        from krug.core import custom_fields

        singular = {"contacts": "contact", "companies": "company", "leads": "lead", "deals": "deal"}[entity]
        field = custom_fields.definitions(singular).get(base[3:])
        if field is not None:
            return field.label
    return name
