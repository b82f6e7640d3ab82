"""The import's fast paths for phones and e-mails give exactly what phonenumbers and email-validator give,
for every input they accept; anything else goes to the libraries."""

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from krug.quality import normalize

SEPARATORS = st.sampled_from(["", " ", "-", "(", ")", "  ", " - ", ") ", " ("])
PREFIXES = st.sampled_from(["", "+7", "8", "7", "+7 ", "8 ", "+", "+8", "9", "+77", "07"])


@st.composite
def typed_phones(draw):
    digits = draw(st.text("0123456789", min_size=8, max_size=12))
    if draw(st.booleans()):
        digits = "9" + digits[1:]
    parts, rest = [], digits
    while rest:
        size = draw(st.integers(1, 4))
        parts.append(rest[:size])
        parts.append(draw(SEPARATORS))
        rest = rest[size:]
    return draw(PREFIXES) + "".join(parts)


def _library_phone(text: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, "RU")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed) or parsed.extension:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=3000, deadline=None)
@given(typed_phones())
@example("8 (916) 123-45-67")
@example("+7 930 008-30-34")
@example("7 916 1234567")
@example("(916)1234567")
def test_the_russian_mobile_fast_path_agrees_with_phonenumbers(text):
    fast = normalize._russian_mobile(normalize.tidy(text, 64))
    if fast is not None:
        assert fast == _library_phone(normalize.tidy(text, 64))


def test_the_fast_path_takes_the_common_shapes():
    for text in ("8 (916) 123-45-67", "+7 916 123-45-67", "89161234567", "9161234567", "7 916 123 45 67"):
        assert normalize._russian_mobile(text) == "+79161234567"
    for text in ("+7 727 123-45-67", "+7 495 123-45-67", "8 800 555-35-35", "+7 916 123-45-67 доб. 5"):
        assert normalize._russian_mobile(text) is None  # Kazakhstan, a landline, toll-free, an extension


LOCAL = st.text("abcXYZ019._+-", min_size=1, max_size=12)
DOMAIN = st.lists(st.text("abcMRU09-", min_size=1, max_size=8), min_size=1, max_size=3).map(".".join)
TLD = st.sampled_from(["ru", "RU", "com", "r", "test", "local", "123", "рф", "xn--p1ai", "museum", "Onion"])


@settings(max_examples=3000, deadline=None)
@given(LOCAL, DOMAIN, TLD)
@example("Ivan.Petrov", "Mail", "RU")
@example("a..b", "mail", "ru")
@example(".a", "mail", "ru")
def test_the_plain_email_fast_path_agrees_with_email_validator(local, domain, tld):
    text = f"{local}@{domain}.{tld}"
    fast = normalize._plain_email(text)
    if fast is None:
        return
    try:
        expected = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        pytest.fail(f"{text} is refused by email-validator but the fast path took it")
    assert fast == expected
