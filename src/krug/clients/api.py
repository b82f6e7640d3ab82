"""REST endpoints of the client base: companies, contacts, leads, timeline, global search."""

from __future__ import annotations

from ninja import Router

from krug.clients import schemas, services
from krug.clients.models import Company
from krug.core.api import Resource, add_crud_routes
from krug.quality import normalize


def _filter_companies(qs, params, request):
    from krug.core import custom_fields

    if params.q:
        qs = qs.filter(search_key__contains=normalize.search_key(params.q))
    if params.inn:
        qs = qs.filter(inn=params.inn.strip())
    if params.city:
        qs = qs.filter(city__iexact=params.city.strip()) if params.city.isascii() else \
            qs.filter(city=normalize.tidy(params.city))
    if params.industry:
        qs = qs.filter(industry=params.industry)
    return custom_fields.apply_filters(qs, "company", request.GET)


companies = Router(tags=["companies"])
add_crud_routes(companies, Resource(
    slug="companies", model=Company, out=schemas.CompanyOut, create_in=schemas.CompanyIn,
    update_in=schemas.CompanyPatch, filters=schemas.CompanyFilters,
    create=services.create_company, update=services.update_company,
    apply_filters=_filter_companies, orders=("id", "created_at", "updated_at", "name"),
))

contacts = Router(tags=["contacts"])
leads = Router(tags=["leads"])
search = Router(tags=["search"])
