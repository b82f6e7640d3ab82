"""Normalisers every write path uses (the full data-quality engine grows here).

Each returns the clean value or raises ValueError with a message fit to show next to the field.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D+")
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def tidy(text: str | None, max_length: int | None = None) -> str:
    """Trim and collapse white space; control characters out."""
    if text is None:
        return ""
    text = str(text)
    if text.isprintable() and "  " not in text:  # the usual case: the only white space printable text has is " "
        cleaned = text.strip()
    else:
        cleaned = text if text.isprintable() else "".join(ch for ch in text if ch.isprintable() or ch == " ")
        cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned[:max_length] if max_length else cleaned


def person_name(text: str | None) -> str:
    """`иванова-петрова` -> `Иванова-Петрова`; keeps the letters the user typed, fixes case and spaces."""
    return _person_name(text if type(text) is str else tidy(text))


@lru_cache(maxsize=20_000)  # names and cities repeat: an import cleans four of them a row
def _person_name(text: str) -> str:
    cleaned = tidy(text, 150)
    if not cleaned:
        return ""
    if cleaned.isupper() or cleaned.islower():
        cleaned = "-".join(part[:1].upper() + part[1:].lower() for part in cleaned.split("-"))
        cleaned = " ".join(w[:1].upper() + w[1:] for w in cleaned.split(" "))
    else:
        cleaned = cleaned[:1].upper() + cleaned[1:]
    return cleaned


#: a Russian number written the common ways: +7 / 8 / 7 / nothing, then ten digits with spaces, dashes, brackets
_RU_PHONE_SHAPE = re.compile(r"^\+?[\d\s()-]{10,24}$")
_RU = phonenumbers.PhoneMetadata.metadata_for_region("RU")
_RU_MOBILE = re.compile(f"(?:{_RU.mobile.national_number_pattern})")
_RU_FIXED = re.compile(f"(?:{_RU.fixed_line.national_number_pattern})")  # +7 3xx/4xx/8xx; +7 6xx/7xx is Kazakhstan


def _russian_phone(text: str) -> str | None:
    """The E.164 form of a plainly written Russian mobile or landline number, or None to let phonenumbers
    decide. Exactly what phonenumbers gives for the numbers it accepts (a property test holds it to that),
    some ten times faster: an import of a million contacts parses more than a million phones."""
    if not _RU_PHONE_SHAPE.match(text):
        return None
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("+"):
        national = digits[1:] if len(digits) == 11 and digits[0] == "7" else None
    elif len(digits) == 11 and digits[0] in "78":
        national = digits[1:]
    else:
        national = digits if len(digits) == 10 else None
    if national is None:
        return None
    if national[0] == "9" and _RU_MOBILE.fullmatch(national) or national[0] in "348" and _RU_FIXED.fullmatch(national):
        return "+7" + national
    return None


#: what a spreadsheet writes beside a number about its kind: «(моб.)», «раб.», «сот», «(факс)», "mobile"; not
#: «доб.», the extension, which phonenumbers reads
_PHONE_NOTES = re.compile(r"\(?\s*\b(?:моб(?:ильный)?|сот(?:овый)?|раб(?:очий)?|дом(?:ашний)?|факс|тел(?:ефон)?|"
                          r"mob(?:ile)?|cell|work|home|fax|tel)\b\.?\s*\)?", re.IGNORECASE)
_HAS_LETTER = re.compile(r"[^\W\d_]")


def phone(raw: str, region: str | None = None) -> tuple[str, str]:
    """(E.164 number, extension) for a phone in any common format; default region RU."""
    text = tidy(raw, 64)
    if not text:
        raise ValueError(_("empty phone number"))
    region = region or settings.KRUG_DEFAULT_PHONE_REGION
    if region == "RU":
        fast = _russian_phone(text)
        if fast is not None:
            return fast, ""
    bare = _PHONE_NOTES.sub(" ", text) if _HAS_LETTER.search(text) else text  # «+7 916 … (моб.)» as exports write it
    if bare is not text and region == "RU" and (fast := _russian_phone(" ".join(bare.split()))) is not None:
        return fast, ""
    try:
        parsed = phonenumbers.parse(bare, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("%(raw)s is not a phone number") % {"raw": text}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(_("%(raw)s is not a valid phone number") % {"raw": text})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), parsed.extension or ""


def phone_digits(text: str) -> str:
    """The digits of a search query for a phone, with a Russian trunk `8` turned into `7`."""
    digits = _NON_DIGITS.sub("", text or "")
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits


#: email-validator explains in English: the reasons a person meets, in words that get translated
_EMAIL_REASONS = (
    ("There must be something after the @-sign", gettext_lazy("nothing after the @")),
    ("There must be something before the @-sign", gettext_lazy("nothing before the @")),
    ("An email address must have an @-sign", gettext_lazy("no @ sign")),
    ("The part after the @-sign is not valid. It should have a period",
     gettext_lazy("the domain needs a dot, e.g. mail.ru")),
    ("The part after the @-sign contains invalid characters", gettext_lazy("characters not allowed after the @")),
    ("The email address contains invalid characters before the @-sign",
     gettext_lazy("characters not allowed before the @")),
    ("An email address cannot have two periods in a row", gettext_lazy("two dots in a row")),
    ("An email address cannot start with a period", gettext_lazy("starts with a dot")),
    ("An email address cannot have a period immediately before the @-sign", gettext_lazy("a dot right before the @")),
    ("An email address cannot have a hyphen immediately after the @-sign", gettext_lazy("a hyphen right after the @")),
    ("The email address is too long", gettext_lazy("too long")),
)


def _email_reason(message: str) -> str:
    for start, reason in _EMAIL_REASONS:
        if message.startswith(start):
            return str(reason)
    return str(gettext_lazy("not an e-mail address"))


def _number_reason(exc: StdnumError) -> str:
    """python-stdnum's reason, translated."""
    from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

    if isinstance(exc, InvalidChecksum):
        return str(gettext_lazy("the check digit does not match"))
    if isinstance(exc, InvalidLength):
        return str(gettext_lazy("wrong number of digits"))
    if isinstance(exc, InvalidFormat):
        return str(gettext_lazy("only digits are allowed"))
    if isinstance(exc, InvalidComponent):
        return str(gettext_lazy("a part of the number is not valid"))
    return str(gettext_lazy("not a valid number"))


_PLAIN_EMAIL = re.compile(r"^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@"
                          r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$")


_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _plain_email(text: str) -> str | None:
    """An everyday ASCII address (`Ivan.Petrov@Mail.ru`) normalised without email-validator, or None to let it
    decide. Gives exactly what email-validator gives for the addresses it accepts (a property test holds it
    to that), several times faster."""
    found = _PLAIN_EMAIL.match(text)
    if found is None or len(text) > 254 or text.index("@") > 64:
        return None
    domain = found.group(1).lower()
    if "--" in domain:  # `xn--` labels and other reserved hyphen pairs: IDNA rules decide
        return None
    labels = domain.split(".")
    if any(".".join(labels[i:]) in _SPECIAL_USE for i in range(len(labels))):  # the domain or a parent of it
        return None
    return text[:text.index("@") + 1] + domain


def email(raw: str) -> str:
    """Trimmed, syntax-checked e-mail with the domain lower-cased (IDN domains kept in Unicode)."""
    text = tidy(raw, 254)
    if not text:
        raise ValueError(_("empty e-mail address"))
    fast = _plain_email(text)
    if fast is not None:
        return fast
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(_("%(raw)s is not a valid e-mail address: %(why)s")
                         % {"raw": text, "why": _email_reason(str(exc))}) from exc
    return result.normalized


def inn(raw: str) -> str:
    text = _NON_DIGITS.sub("", raw or "")
    try:
        return stdnum_inn.validate(text)
    except StdnumError as exc:
        raise ValueError(_("%(raw)s is not a valid INN (%(why)s)") % {"raw": raw, "why": _number_reason(exc)}) from exc


def ogrn(raw: str) -> str:
    text = _NON_DIGITS.sub("", raw or "")
    try:
        return stdnum_ogrn.validate(text)
    except StdnumError as exc:
        raise ValueError(_("%(raw)s is not a valid OGRN (%(why)s)") % {"raw": raw, "why": _number_reason(exc)}) from exc


def kpp(raw: str) -> str:
    text = tidy(raw).replace(" ", "").upper()
    if not _KPP.match(text):
        raise ValueError(_("%(raw)s is not a valid KPP: nine characters, 4 digits, 2 digits or letters, 3 digits")
                         % {"raw": raw})
    return text


def website(raw: str) -> str:
    text = tidy(raw, 200)
    if not text:
        return ""
    if not re.match(r"^https?://", text, re.I):
        text = "https://" + text
    if not re.match(r"^https?://[^\s/$.?#][^\s]*\.[^\s]{2,}", text, re.I):
        raise ValueError(_("%(raw)s is not a web address") % {"raw": raw})
    return text


#: the legal forms a company's name may start with -> the value of `Company.LegalForm` it is; forms Krug has no
#: choice for (ЗАО, ОАО, ФГУП, АНО, …, and МУП: its choice is ГУП/МУП, which it was would be lost) are not here
#: and stay in the name
LEGAL_FORMS = {
    "ооо": "ООО", "ао": "АО", "пао": "ПАО", "ип": "ИП", "гуп": "ГУП", "нко": "НКО",
    "общество с ограниченной ответственностью": "ООО", "акционерное общество": "АО",
    "непубличное акционерное общество": "АО", "публичное акционерное общество": "ПАО",
    "индивидуальный предприниматель": "ИП", "государственное унитарное предприятие": "ГУП",
    "некоммерческая организация": "НКО",
}
_QUOTE_PAIRS = {"«": "»", "“": "”", "„": "“", "‘": "’", '"': '"', "'": "'"}
_QUOTE_MARKS = frozenset("«»“”„‘’\"'")
#: Latin letters typed for the Cyrillic ones they look like (`OOO`, `AO`, `HKO`)
_LOOKALIKES = str.maketrans("aoepcxkmhtby", "аоерсхкмнтву")
_EITHER = {cyrillic: f"[{cyrillic}{latin}]" for latin, cyrillic in zip("aoepcxkmhtby", "аоерсхкмнтву", strict=True)}
_LEGAL_FORM_START = re.compile(
    "^(" + "|".join("".join(_EITHER.get(ch, re.escape(ch)) for ch in form)
                    for form in sorted(LEGAL_FORMS, key=len, reverse=True)) + r")(?=[\s«»“”„‘’\"']|$)")
_UPPER_EITHER = {cyrillic.upper(): f"[{cyrillic.upper()}{latin.upper()}]" for cyrillic, latin in
                 zip("аоерсхкмнтву", "aoepcxkmhtby", strict=True)}
#: a form after the name, as amoCRM's and 1C's lists write it: `Бюро Профи ООО`, `Вектор, ООО`, `Банк ВТБ (ПАО)`,
#: `Ромашка, общество с ограниченной ответственностью`. An abbreviation there only in capitals, so a name that
#: ends in a word of those letters (`Ресторан Ип`) stays whole.
_FORMS_AFTER = "|".join(
    "(?-i:" + "".join(_UPPER_EITHER.get(ch, re.escape(ch)) for ch in form.upper()) + ")" if len(form) <= 3
    else r"\s+".join("".join(_EITHER.get(ch, re.escape(ch)) for ch in word) for word in form.split())
    for form in sorted(LEGAL_FORMS, key=len, reverse=True))
_LEGAL_FORM_END = re.compile(rf"^(?P<name>.*?\S)\s*(?:\(\s*(?P<inner>{_FORMS_AFTER})\s*\)|(?:,\s*|\s+)(?P<form>"
                             rf"{_FORMS_AFTER}))\.?$", re.IGNORECASE)


def _unquoted(text: str) -> str:
    """`«Вектор Плюс»` → `Вектор Плюс`: the quotes around the whole text, of any style, taken off; a nested pair
    stays (`«Торговый дом «Вектор»»` → `Торговый дом «Вектор»`), two quoted parts stay as they are."""
    if len(text) >= 2 and text[0] in _QUOTE_PAIRS and text[-1] in _QUOTE_MARKS:
        opening, inner = text[0], text[1:-1]
        closing = _QUOTE_PAIRS[opening]
        if opening != closing:
            depth = 1
            for ch in inner:
                depth += (ch == opening) - (ch == closing)
                if depth == 0:  # the first quote closes before the end: `«Вектор» и «Плюс»`
                    return text
        elif closing in inner and not inner.endswith(closing):
            return text
        return inner.strip()
    marks = [i for i, ch in enumerate(text) if ch in _QUOTE_MARKS]
    if len(marks) == 1 and marks[0] in (0, len(text) - 1):  # a lone quote at either end: `"Вектор`
        return text.replace(text[marks[0]], "", 1).strip()
    return text


@lru_cache(maxsize=100_000)  # a file's contacts name their few companies row after row
def split_legal_form(name: str | None) -> tuple[str, str]:
    """(legal form, name) of a company's name that starts with a legal form Krug knows, as people write it:
    `ООО «Вектор Плюс»` → (`ООО`, `Вектор Плюс`), `Индивидуальный предприниматель Иванов И. И.` → (`ИП`,
    `Иванов И. И.`), `ooo "Вектор"` (Latin letters) too; or that ends with one (`Бюро Профи ООО`, `Банк ВТБ
    (ПАО)`: `_LEGAL_FORM_END`). ("", the name tidied) when it has none, has a form Krug has no choice for
    (`ЗАО «Дельта»`), or is the form alone."""
    text = tidy(name)
    head = text[:45].lower()
    if len(head) != len(text[:45]):  # a letter whose lower case is two: the positions must stay the text's
        head = "".join(low if len(low := ch.lower()) == 1 else ch for ch in text[:45])
    found = _LEGAL_FORM_START.match(head)
    if found is not None:
        form, rest = found.group(1), text[found.end():]
    elif (found := _LEGAL_FORM_END.match(text)) is not None:
        form, rest = found.group("inner") or found.group("form"), found.group("name").rstrip(",")
    else:
        return "", text
    rest = _unquoted(rest.strip())
    if not any(ch.isalnum() for ch in rest):
        return "", text
    return LEGAL_FORMS[" ".join(form.lower().split()).translate(_LOOKALIKES)], rest


def search_key(*parts: str | None) -> str:
    """Casefolded, space-joined text for substring search that works for Cyrillic on SQLite too."""
    return tidy(" ".join(p for p in parts if p)).casefold().replace("ё", "е")
