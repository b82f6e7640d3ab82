"""Normalisers every write path uses (the full data-quality engine grows here).

Each returns the clean value or raises ValueError with a message fit to show next to the field.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email
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
    cleaned = "".join(ch for ch in str(text) if ch.isprintable() or ch == " ")
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned[:max_length] if max_length else cleaned


def person_name(text: str | None) -> str:
    """`иванова-петрова` -> `Иванова-Петрова`; keeps the letters the user typed, fixes case and spaces."""
    cleaned = tidy(text, 150)
    if not cleaned:
        return ""
    if cleaned.isupper() or cleaned.islower():
        cleaned = "-".join(part[:1].upper() + part[1:].lower() for part in cleaned.split("-"))
        cleaned = " ".join(w[:1].upper() + w[1:] for w in cleaned.split(" "))
    else:
        cleaned = cleaned[:1].upper() + cleaned[1:]
    return cleaned


def phone(raw: str, region: str | None = None) -> tuple[str, str]:
    """(E.164 number, extension) for a phone in any common format; default region RU."""
    text = tidy(raw, 64)
    if not text:
        raise ValueError(_("empty phone number"))
    try:
        parsed = phonenumbers.parse(text, region or settings.KRUG_DEFAULT_PHONE_REGION)
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


def email(raw: str) -> str:
    """Trimmed, syntax-checked e-mail with the domain lower-cased (IDN domains kept in Unicode)."""
    text = tidy(raw, 254)
    if not text:
        raise ValueError(_("empty e-mail address"))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(_("%(raw)s is not a valid e-mail address: %(why)s") % {"raw": text, "why": exc}) from exc
    return result.normalized


def inn(raw: str) -> str:
    text = _NON_DIGITS.sub("", raw or "")
    try:
        return stdnum_inn.validate(text)
    except StdnumError as exc:
        raise ValueError(_("%(raw)s is not a valid INN (%(why)s)") % {"raw": raw, "why": exc.message}) from exc


def ogrn(raw: str) -> str:
    text = _NON_DIGITS.sub("", raw or "")
    try:
        return stdnum_ogrn.validate(text)
    except StdnumError as exc:
        raise ValueError(_("%(raw)s is not a valid OGRN (%(why)s)") % {"raw": raw, "why": exc.message}) from exc


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


def search_key(*parts: str | None) -> str:
    """Casefolded, space-joined text for substring search that works for Cyrillic on SQLite too."""
    return tidy(" ".join(p for p in parts if p)).casefold().replace("ё", "е")
