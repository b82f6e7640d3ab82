"""API schemas of the client base."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from krug.core.api import FieldChangeOut, ListParams, Out, OwnedOut, PatchIn


class CompanyOut(OwnedOut):
    id: int
    name: str
    display_name: str = Field(alias="display_name")
    legal_form: str
    inn: str
    kpp: str
    ogrn: str
    industry: str
    size: str
    region: str
    city: str
    address: str
    website: str
    phone: str
    email: str
    founded: dt.date | None
    description: str
    custom: dict[str, Any]

    @staticmethod
    def resolve_display_name(obj) -> str:
        return str(obj)


class CompanyIn(Schema):
    name: str = Field(description="A name that starts with a legal form (`ООО «Вектор Плюс»`) and no `legal_form` "
                                  "is kept as the name (`Вектор Плюс`) and the form (`ООО`)")
    legal_form: str = ""
    inn: str = ""
    kpp: str = ""
    ogrn: str = ""
    industry: str = ""
    size: str = ""
    region: str = ""
    city: str = ""
    address: str = Field("", description="Up to 500 characters: «г. Москва, ул. Тверская, д. 12, оф. 301»")
    website: str = ""
    phone: str = ""
    email: str = ""
    founded: dt.date | None = None
    description: str = ""
    custom: dict[str, Any] = {}
    owner_id: int | None = Field(None, description="Responsible user; defaults to you")
    allow_duplicate: bool = Field(False, description="Save even if it matches a record already in the base "
                                  "(otherwise 409 with the candidates and why they match)")


class CompanyPatch(PatchIn):
    name: str | None = None
    legal_form: str | None = None
    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    industry: str | None = None
    size: str | None = None
    region: str | None = None
    city: str | None = None
    address: str | None = None
    website: str | None = None
    phone: str | None = None
    email: str | None = None
    founded: dt.date | None = None
    description: str | None = None
    custom: dict[str, Any] | None = Field(None, description="Only the keys sent change; null clears a key")
    owner_id: int | None = None
    allow_duplicate: bool = Field(False, description="Save even if it matches a record already in the base "
                                  "(otherwise 409 with the candidates and why they match)")


class CompanyFilters(ListParams):
    q: str | None = Field(None, description="Name (with or without its legal form), INN, city or address contains")
    inn: str | None = None
    city: str | None = None
    industry: str | None = None


class PhoneIn(Schema):
    number: str
    kind: str = "mobile"


class PhoneOut(Out):
    number: str = Field(description="E.164; for a phone kept invalid (see /quality/settings), its digits")
    extension: str
    raw: str = Field(description="As typed")
    kind: str
    valid: bool = Field(description="false: not a valid number, kept as typed and flagged")


class EmailIn(Schema):
    email: str
    kind: str = "work"


class EmailOut(Out):
    email: str
    kind: str
    bounced: bool


# read from rows, not records (`clients.api.contact_rows`: a page of 50 in four queries)
class ContactOut(OwnedOut):
    id: int
    surname: str
    first_name: str
    patronymic: str
    full_name: str
    position: str
    job_title: str = Field(description="The position mapped to a standard title (empty when unknown)")
    company_id: int | None
    company_name: str | None = None
    phones: list[PhoneOut]
    emails: list[EmailOut]
    birthday: dt.date | None
    city: str
    source: str
    client_type: str
    tags: list[str]
    opt_out: bool
    consent_at: dt.datetime | None
    custom: dict[str, Any]
    last_contact_at: dt.datetime | None


class ContactIn(Schema):
    surname: str = ""
    first_name: str = ""
    patronymic: str = ""
    position: str = ""
    company_id: int | None = None
    phones: list[PhoneIn | str] = []
    emails: list[EmailIn | str] = []
    birthday: dt.date | None = None
    city: str = ""
    source: str = ""
    client_type: str = "new"
    tags: list[str] = []
    opt_out: bool = False
    consent_at: dt.datetime | None = None
    custom: dict[str, Any] = {}
    owner_id: int | None = Field(None, description="Responsible user; defaults to you")
    allow_duplicate: bool = Field(False, description="Save even if it matches a record already in the base "
                                  "(otherwise 409 with the candidates and why they match)")


class ContactPatch(PatchIn):
    surname: str | None = None
    first_name: str | None = None
    patronymic: str | None = None
    position: str | None = None
    company_id: int | None = None
    phones: list[PhoneIn | str] | None = Field(None, description="Replaces the list")
    emails: list[EmailIn | str] | None = Field(None, description="Replaces the list")
    birthday: dt.date | None = None
    city: str | None = None
    source: str | None = None
    client_type: str | None = None
    tags: list[str] | None = Field(None, description="Replaces the list")
    opt_out: bool | None = None
    consent_at: dt.datetime | None = None
    custom: dict[str, Any] | None = None
    owner_id: int | None = None
    allow_duplicate: bool = Field(False, description="Save even if it matches a record already in the base "
                                  "(otherwise 409 with the candidates and why they match)")


class ContactFilters(ListParams):
    q: str | None = Field(None, description="Name or e-mail contains, or phone digits (4 or more) occur in a phone")
    job_title: str | None = Field(None, description="Standard job title, e.g. Генеральный директор")
    company: int | None = None
    tag: list[str] | None = Field(None, description="Has all these tags")
    city: str | None = None
    source: str | None = None
    client_type: str | None = None
    opt_out: bool | None = None
    no_contact_days: int | None = Field(None, ge=1, description="No touchpoint for at least N days")
    cleanup: str | None = Field(None, description="Flagged by this cleanup rule (see /quality/cleanup/rules)")


class LeadOut(OwnedOut):
    id: int
    title: str
    status: str
    source: str
    surname: str
    first_name: str
    patronymic: str
    position: str
    company_name: str
    inn: str
    phone: str
    email: str
    city: str
    message: str
    amount: Decimal | None
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    referrer: str
    rejection_reason: str
    custom: dict[str, Any]
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    converted_at: dt.datetime | None


class LeadIn(Schema):
    title: str = ""
    status: str = "new"
    source: str = "manual"
    surname: str = ""
    first_name: str = ""
    patronymic: str = ""
    position: str = ""
    company_name: str = ""
    inn: str = ""
    phone: str = ""
    email: str = ""
    city: str = ""
    message: str = ""
    amount: Decimal | None = None
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    referrer: str = ""
    custom: dict[str, Any] = {}
    owner_id: int | None = Field(None, description="Empty leaves the lead in the common pool")


class LeadPatch(PatchIn):
    title: str | None = None
    status: str | None = None
    source: str | None = None
    surname: str | None = None
    first_name: str | None = None
    patronymic: str | None = None
    position: str | None = None
    company_name: str | None = None
    inn: str | None = None
    phone: str | None = None
    email: str | None = None
    city: str | None = None
    message: str | None = None
    amount: Decimal | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    referrer: str | None = None
    rejection_reason: str | None = None
    custom: dict[str, Any] | None = None
    owner_id: int | None = None


class LeadFilters(ListParams):
    status: list[str] | None = Field(None, description="One or more statuses; 'open' = new, in progress, qualified")
    q: str | None = Field(None, description="Request, name or company contains")
    source: str | None = None
    utm_source: str | None = None
    utm_campaign: str | None = None
    pool: bool | None = Field(None, description="true: only unassigned leads")


class ConvertIn(Schema):
    allow_duplicate: bool = Field(False, description="Create the contact/company even if similar ones exist")
    contact_id: int | None = Field(None, description="Attach to this existing contact instead of creating one")
    company_id: int | None = Field(None, description="Attach to this existing company instead of creating one")
    create_company: bool = True
    create_deal: bool = True
    pipeline_id: int | None = Field(None, description="Default pipeline when empty")
    deal_title: str | None = None
    amount: Decimal | None = None


class ConvertOut(Schema):
    lead_id: int
    contact_id: int
    company_id: int | None
    deal_id: int | None
    contact_created: bool
    company_created: bool


class TimelineItemOut(Out):
    id: int
    at: dt.datetime
    kind: str
    summary: str
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    source: str
    source_id: int
    actor_id: int | None
    actor: str | None
    data: dict[str, Any]
    text: str = Field(description="What the event says, in the language of the request (`summary` is as written)")
    fields: list[FieldChangeOut] = Field(description="A change's fields in words (key, label, old and new value); "
                                                     "empty for other events")


class SearchHit(Schema):
    entity: str
    id: int
    title: str
    subtitle: str
    matched: str


class BulkIn(Schema):
    ids: list[int] = Field(..., description="The selected records (at most 1000)")
    action: str = Field(..., description="contacts: assign, add_tag, remove_tag, set_type; companies: assign; "
                                         "leads: assign, set_status")
    value: str | int | None = Field(None, description="assign: the user id (null to unassign a lead); add_tag/"
                                                      "remove_tag: the tag; set_type: the client type; "
                                                      "set_status: the lead status")


class BulkOut(Schema):
    changed: int
    unchanged: int
