"""Global search across the client base: names, phone digits in any format, e-mail, INN, company.

Every branch starts from `visible_to(user)`, so search never shows what the user may not open.
"""

from __future__ import annotations

from krug.clients import filters
from krug.clients.models import Company, Contact, ContactPhone, Lead
from krug.quality import normalize


def search(user, query: str, limit: int = 20) -> list[dict]:
    text = normalize.tidy(query, 200)
    if len(text) < 2:
        return []
    key = filters.text_key(text)
    digits = normalize.phone_digits(text)
    is_phoneish = len(digits) >= 4 and len(digits) >= len(text.replace(" ", "")) * 0.6
    hits: list[dict] = []

    has_letters = any(ch.isalpha() for ch in text)
    by_text = has_letters or not is_phoneish  # digits alone are looked up in phones, not in names

    def newest(qs) -> set[int]:
        return set(qs.order_by("-id").values_list("id", flat=True)[:limit])

    # each way of matching is its own indexed query (trigram on PostgreSQL); an OR of them in one query
    # makes the planner walk the whole table backwards by id looking for the few rows that match
    visible = Contact.objects.visible_to(user)
    ids: set[int] = set()
    if by_text:
        ids |= newest(visible.filter(search_key__contains=key))
    if is_phoneish:
        ids |= newest(visible.filter(pk__in=ContactPhone.objects.filter(number__contains=digits)
                                     .values("contact_id")))
    holders = filters.email_holders(text)
    if holders is not None and not is_phoneish:
        ids |= newest(visible.filter(pk__in=holders))
    contacts = (Contact.objects.filter(pk__in=ids).select_related("company")
                .prefetch_related("phones", "emails").order_by("-id")[:limit])
    for c in contacts:
        phones = [p.number for p in c.phones.all()]
        emails = [e.email for e in c.emails.all()]
        matched = next((p for p in phones if is_phoneish and digits in p), None) or \
            next((e for e in emails if key in e.casefold()), None) or c.full_name
        hits.append({"entity": "contacts", "id": c.pk, "title": c.full_name,
                     "subtitle": " · ".join(x for x in (c.position, str(c.company) if c.company_id else "",
                                                        phones[0] if phones else "") if x),
                     "matched": matched})

    companies = Company.objects.visible_to(user)
    company_ids: set[int] = set()
    if by_text:
        company_ids |= newest(companies.filter(search_key__contains=key))
    if digits and len(digits) in (10, 12) and digits == text:
        company_ids |= newest(companies.filter(inn=digits))
    if is_phoneish:
        company_ids |= newest(companies.filter(phone__contains=digits))
    for co in Company.objects.filter(pk__in=company_ids).order_by("-id")[:limit]:
        hits.append({"entity": "companies", "id": co.pk, "title": str(co),
                     "subtitle": " · ".join(x for x in (f"ИНН {co.inn}" if co.inn else "", co.city) if x),
                     "matched": co.inn if digits and digits == co.inn else str(co)})

    leads = Lead.objects.visible_to(user).exclude(status=Lead.Status.CONVERTED)
    lead_ids: set[int] = set()
    if by_text:
        lead_ids |= newest(leads.filter(search_key__contains=key))
    if is_phoneish:
        lead_ids |= newest(leads.filter(phone__contains=digits))
    for lead in Lead.objects.filter(pk__in=lead_ids).order_by("-id")[:limit]:
        hits.append({"entity": "leads", "id": lead.pk, "title": lead.title,
                     "subtitle": " · ".join(x for x in (lead.get_source_display(), lead.phone, lead.email) if x),
                     "matched": lead.phone if is_phoneish and digits in lead.phone else lead.title})
    return hits[: limit * 3]
