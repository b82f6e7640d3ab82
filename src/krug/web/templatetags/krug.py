"""Template filters of the UI: `{% load krug %}`."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from django import template

register = template.Library()


@lru_cache(maxsize=4096)
def _pretty(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def phone(number: str | None) -> str:
    """`+79165551234` → `+7 916 555-12-34`; anything that is not E.164 is shown as it is."""
    if not number or not number.startswith("+"):
        return number or ""
    return _pretty(number)
