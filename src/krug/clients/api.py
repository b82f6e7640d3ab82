"""REST endpoints of the client base: companies, contacts, leads, timeline, global search."""


from collections import defaultdict

from django.db import transaction
from ninja import Query, Router

from krug.clients import bulk, filters, schemas, services, timeline
from krug.clients.models import Company, Contact, ContactEmail, ContactPhone, Lead
from krug.clients.search import search as search_clients
from krug.core import permissions, records
from krug.core.api import ERRORS, Page, Resource, add_crud_routes


def _filter_companies(qs, params, request):
    return filters.companies(qs, request.GET, with_common=False)


companies = Router(tags=["companies"])
add_crud_routes(companies, Resource(
    slug="companies", model=Company, out=schemas.CompanyOut, create_in=schemas.CompanyIn,
    update_in=schemas.CompanyPatch, filters=schemas.CompanyFilters,
    create=services.create_company, update=services.update_company,
    apply_filters=_filter_companies, orders=("id", "created_at", "updated_at", "name"),
))


def _filter_contacts(qs, params, request):
    return filters.contacts(qs, request.GET, with_common=False)


CONTACT_COLUMNS = ("id", "created_at", "updated_at", "created_by_id", "updated_by_id", "version", "owner_id",
                   "surname", "first_name", "patronymic", "position", "job_title", "company_id", "birthday",
                   "city", "source", "client_type", "opt_out", "consent_at", "custom", "last_contact_at")


def _contact_values(qs):
    return qs.values(*CONTACT_COLUMNS, "company__name", "company__legal_form")


def contact_rows(rows: list[dict]) -> list[dict]:
    """`ContactOut`'s rows from `_contact_values`' rows: the name, the company's title, and the phones,
    e-mails and tags of all of them in three queries."""
    ids = [row["id"] for row in rows]
    phones, emails, tags = defaultdict(list), defaultdict(list), defaultdict(list)
    for contact_id, *phone in (ContactPhone.objects.filter(contact_id__in=ids).order_by("position", "id")
                               .values_list("contact_id", "number", "extension", "raw", "kind", "valid")):
        phones[contact_id].append(dict(zip(("number", "extension", "raw", "kind", "valid"), phone, strict=True)))
    for contact_id, email, kind, bounced in (ContactEmail.objects.filter(contact_id__in=ids)
                                             .order_by("position", "id")
                                             .values_list("contact_id", "email", "kind", "bounced")):
        emails[contact_id].append({"email": email, "kind": kind, "bounced": bounced})
    for contact_id, name in (Contact.tags.through.objects.filter(contact_id__in=ids).order_by("tag__name")
                             .values_list("contact_id", "tag__name")):
        tags[contact_id].append(name)
    for row in rows:
        name, legal_form = row.pop("company__name"), row.pop("company__legal_form")
        row["company_name"] = Company.title(name, legal_form) if row["company_id"] else None
        row["full_name"] = Contact.join_name(row["surname"], row["first_name"], row["patronymic"])
        row["phones"], row["emails"], row["tags"] = phones[row["id"]], emails[row["id"]], tags[row["id"]]
    return rows


contacts = Router(tags=["contacts"])
add_crud_routes(contacts, Resource(
    slug="contacts", model=Contact, out=schemas.ContactOut, create_in=schemas.ContactIn,
    update_in=schemas.ContactPatch, filters=schemas.ContactFilters,
    create=services.create_contact, update=services.update_contact,
    apply_filters=_filter_contacts, list_queryset=_contact_values, rows=contact_rows,
    orders=("id", "created_at", "updated_at", "surname"),
))


def _timeline_page(request, *, contact=None, company=None, cursor=None, limit=50, kind=None):
    rows, next_cursor = timeline.feed(request.auth, contact=contact, company=company, cursor=cursor,
                                      limit=limit, kinds=kind)
    timeline.in_words(rows, card=contact if contact is not None else company, values=True)
    items = [{"id": e.id, "at": e.at, "kind": e.kind, "summary": e.summary, "contact_id": e.contact_id,
              "company_id": e.company_id, "deal_id": e.deal_id, "source": e.source_type.model,
              "source_id": e.source_id, "actor_id": e.actor_id, "actor": str(e.actor) if e.actor else None,
              "data": e.data, "text": e.text, "fields": [vars(c) for c in e.fields]} for e in rows]
    return {"items": items, "next_cursor": next_cursor}


@contacts.get("/{int:pk}/timeline", response={200: Page[schemas.TimelineItemOut], **ERRORS},
              operation_id="contacts_timeline", summary="Every touchpoint with the contact, newest first")
def contact_timeline(request, pk: int, cursor: str | None = None, limit: int = Query(50, ge=1, le=200),
                     kind: list[str] | None = Query(None)):
    contact = records.get_for(request.auth, Contact, pk)
    return _timeline_page(request, contact=contact, cursor=cursor, limit=limit, kind=kind)


@companies.get("/{int:pk}/timeline", response={200: Page[schemas.TimelineItemOut], **ERRORS},
               operation_id="companies_timeline",
               summary="Every touchpoint with the company and its people, newest first")
def company_timeline(request, pk: int, cursor: str | None = None, limit: int = Query(50, ge=1, le=200),
                     kind: list[str] | None = Query(None)):
    company = records.get_for(request.auth, Company, pk)
    return _timeline_page(request, company=company, cursor=cursor, limit=limit, kind=kind)


def _filter_leads(qs, params, request):
    return filters.leads(qs, request.GET, with_common=False)


leads = Router(tags=["leads"])
add_crud_routes(leads, Resource(
    slug="leads", model=Lead, out=schemas.LeadOut, create_in=schemas.LeadIn, update_in=schemas.LeadPatch,
    filters=schemas.LeadFilters, create=services.create_lead, update=services.update_lead,
    apply_filters=_filter_leads,
))


@leads.post("/{int:pk}/convert", response={200: schemas.ConvertOut, **ERRORS}, operation_id="leads_convert",
            summary="Convert a lead into contact + company + deal, reusing an existing client when found")
def convert_lead(request, pk: int, payload: schemas.ConvertIn):
    with transaction.atomic():
        lead = records.get_for(request.auth, Lead, pk, permissions.CHANGE)
        return services.convert_lead(request.auth, lead, payload.dict())


@leads.post("/{int:pk}/take", response={200: schemas.LeadOut, **ERRORS}, operation_id="leads_take",
            summary="Take an unassigned lead from the common pool")
def take_lead(request, pk: int):
    with transaction.atomic():
        lead = records.get_for(request.auth, Lead, pk)
        return services.take_lead(request.auth, lead)


search = Router(tags=["search"])


@search.get("", response={200: list[schemas.SearchHit], **ERRORS}, operation_id="search",
            summary="Global search: name, phone digits in any format, e-mail, INN, company")
def global_search(request, q: str = Query(..., min_length=1, max_length=200), limit: int = Query(20, ge=1, le=50)):
    return search_clients(request.auth, q, limit)


def _bulk_route(router: Router, entity: str) -> None:
    @router.post("/bulk", response={200: schemas.BulkOut, **ERRORS}, operation_id=f"{entity}_bulk",
                 summary="Apply one action to many records, all or nothing")
    def bulk_action(request, payload: schemas.BulkIn):
        result = bulk.apply(request.auth, entity, payload.ids, payload.action, payload.value)
        return {"changed": result.changed, "unchanged": result.unchanged}


for _router, _entity in ((contacts, "contacts"), (companies, "companies"), (leads, "leads")):
    _bulk_route(_router, _entity)
