"""Cleanup candidates: contacts that are probably wrong, stale or not worth a salesperson's time, each with
the reason. Every rule is a queryset filter, so lists page through the usual permission door at any size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FREE_MAIL = ("mail.ru", "bk.ru", "inbox.ru", "list.ru", "internet.ru", "yandex.ru", "ya.ru", "yandex.com",
             "rambler.ru", "gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com", "yahoo.com",
             "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "ukr.net", "qip.ru")
ROLE_MAILBOXES = ("info", "sales", "office", "admin", "support", "hello", "contact", "contacts", "mail", "zakaz",
                  "order", "orders", "buh", "buhgalteria", "secretary", "reception", "manager", "noreply",
                  "no-reply", "marketing", "hr", "job", "jobs", "priem", "post", "team", "help", "service")
FAKE_WORDS = ("test", "тест", "asdf", "qwerty", "йцукен", "фыва", "xxx", "ааа", "aaa", "нет", "none", "null",
              "unknown", "неизвестно", "фио", "name", "имя")
#: seven or more of one digit, or 1234567 in a row: not a real phone
FAKE_PHONE = r"(\d)\1{6}|1234567|7654321"
STALE_MONTHS = 6


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    help: str


RULES = [
    Rule("role_email", _("role address"), _("info@, sales@ and the like reach a department, not a person")),
    Rule("free_email", _("free mailbox at a company"), _("a company's contact with a gmail/mail.ru address")),
    Rule("fake", _("looks fake"), _("test, asdf, 0000000 or 1234567 in the name, phone or e-mail")),
    Rule("stale", _("stale"), _("no touchpoint for %(n)d months") % {"n": STALE_MONTHS}),
    Rule("incomplete", _("no phone and no e-mail"), _("nobody can reach this contact")),
    Rule("no_company", _("no company"), _("a contact that belongs to no company")),
    Rule("bounced", _("bounced e-mail"), _("mail to this contact came back undelivered")),
    Rule("invalid_phone", _("invalid phone"), _("a phone kept as typed that is not a valid number")),
]
RULE_KEYS = [r.key for r in RULES]


def _emails(**lookups):
    from krug.clients.models import ContactEmail

    return Exists(ContactEmail.objects.filter(contact=OuterRef("pk"), **lookups))


def _any_email(q: Q):
    from krug.clients.models import ContactEmail

    return Exists(ContactEmail.objects.filter(q, contact=OuterRef("pk")))


def _phones(q: Q | None = None):
    from krug.clients.models import ContactPhone

    rows = ContactPhone.objects.filter(contact=OuterRef("pk"))
    return Exists(rows.filter(q) if q is not None else rows)


def rule_filter(key: str, now: dt.datetime | None = None):
    """The condition a contact meets when the rule `key` flags it."""
    now = now or timezone.now()
    if key == "role_email":
        q = Q()
        for box in ROLE_MAILBOXES:
            q |= Q(email_key__startswith=f"{box}@")
        return _any_email(q)
    if key == "free_email":
        q = Q()
        for domain in FREE_MAIL:
            q |= Q(email_key__endswith=f"@{domain}")
        return _any_email(q) & Q(company__isnull=False)
    if key == "fake":
        words = Q()
        for word in FAKE_WORDS:
            words |= Q(search_key__startswith=word + " ") | Q(search_key=word)
        email = Q()
        for word in ("test", "asdf", "qwerty", "example"):
            email |= Q(email_key__startswith=word) | Q(email_key__contains=f"@{word}.")
        return words | _phones(Q(number__regex=FAKE_PHONE)) | _any_email(email)
    if key == "stale":
        since = now - dt.timedelta(days=30 * STALE_MONTHS)
        return Q(last_contact_at__lt=since) | Q(last_contact_at__isnull=True, created_at__lt=since)
    if key == "incomplete":
        return ~_phones() & ~_emails()
    if key == "no_company":
        return Q(company__isnull=True)
    if key == "bounced":
        return _emails(bounced=True)
    if key == "invalid_phone":
        return _phones(Q(valid=False))
    raise KeyError(key)


def candidates(user, key: str) -> QuerySet:
    """The contacts `user` may see that rule `key` flags."""
    from krug.clients.models import Contact

    return Contact.objects.visible_to(user).filter(rule_filter(key))


def reasons_for(contact_ids: list[int]) -> dict[int, list[str]]:
    """Every rule each of these contacts meets (for showing the reasons beside a page of contacts)."""
    from krug.clients.models import Contact

    found: dict[int, list[str]] = {pk: [] for pk in contact_ids}
    for key in RULE_KEYS:
        for pk in Contact.objects.filter(pk__in=contact_ids).filter(rule_filter(key)).values_list("pk", flat=True):
            found[pk].append(key)
    return found
