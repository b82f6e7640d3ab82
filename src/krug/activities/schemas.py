"""API schemas of tasks, calls, meetings and notes."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from krug.core.api import ListParams, OwnedOut, PatchIn


class ActivityOut(OwnedOut):
    """What every activity answers: who owns it and what it is attached to."""

    id: int
    contact_id: int | None
    contact_name: str | None = None
    company_id: int | None
    company_name: str | None = None
    deal_id: int | None
    deal_title: str | None = None

    @staticmethod
    def resolve_contact_name(obj) -> str | None:
        return str(obj.contact) if obj.contact_id else None

    @staticmethod
    def resolve_company_name(obj) -> str | None:
        return str(obj.company) if obj.company_id else None

    @staticmethod
    def resolve_deal_title(obj) -> str | None:
        return str(obj.deal) if obj.deal_id else None


class LinksIn(Schema):
    contact_id: int | None = None
    company_id: int | None = Field(None, description="Taken from the contact or the deal when empty")
    deal_id: int | None = Field(None, description="Brings the deal's contact and company if those are empty")
    owner_id: int | None = Field(None, description="Responsible user (the assignee); defaults to you")


class LinksPatch(PatchIn):
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    owner_id: int | None = Field(None, description="Reassign to this user")


class ActivityFilters(ListParams):
    contact: int | None = None
    company: int | None = None
    deal: int | None = None


# ---- tasks --------------------------------------------------------------------------------------------

class TaskOut(ActivityOut):
    title: str
    description: str
    due_at: dt.datetime | None
    priority: str
    state: str
    done_at: dt.datetime | None
    is_overdue: bool = Field(description="Not done and past its due time")


class TaskIn(LinksIn):
    title: str
    description: str = ""
    due_at: dt.datetime | None = None
    priority: str = "normal"
    state: str = "open"


class TaskPatch(LinksPatch):
    title: str | None = None
    description: str | None = None
    due_at: dt.datetime | None = None
    priority: str | None = None
    state: str | None = None


class TaskFilters(ActivityFilters):
    state: list[str] | None = Field(None, description="open, done, postponed")
    priority: list[str] | None = Field(None, description="low, normal, high")
    overdue: bool | None = Field(None, description="true: open or postponed and past due; false: the rest")
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None


class CompleteIn(PatchIn):
    """Only the version: completing needs nothing else."""


class PostponeIn(PatchIn):
    until: dt.datetime = Field(description="The new due time, in the future")


# ---- calls --------------------------------------------------------------------------------------------

class CallOut(ActivityOut):
    direction: str
    result: str
    started_at: dt.datetime
    duration_seconds: int
    phone: str
    recording_url: str
    summary: str


class CallIn(LinksIn):
    direction: str = Field(description="in or out")
    result: str = Field("answered", description="answered, missed, busy, no_answer, voicemail")
    started_at: dt.datetime | None = Field(None, description="Now when empty")
    duration_seconds: int = 0
    phone: str = Field("", description="Any common format; stored as E.164")
    recording_url: str = Field("", description="http or https address of the recording")
    summary: str = ""


class CallPatch(LinksPatch):
    direction: str | None = None
    result: str | None = None
    started_at: dt.datetime | None = None
    duration_seconds: int | None = None
    phone: str | None = None
    recording_url: str | None = None
    summary: str | None = None


class CallFilters(ActivityFilters):
    direction: str | None = None
    result: list[str] | None = None
    started_from: dt.datetime | None = None
    started_to: dt.datetime | None = None


# ---- meetings -----------------------------------------------------------------------------------------

class MeetingOut(ActivityOut):
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    agenda: str
    outcome: str
    state: str


class MeetingIn(LinksIn):
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None = Field(None, description="An hour after the start when empty")
    location: str = ""
    agenda: str = ""
    outcome: str = ""
    state: str = Field("planned", description="planned, held, cancelled")


class MeetingPatch(LinksPatch):
    title: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    location: str | None = None
    agenda: str | None = None
    outcome: str | None = None
    state: str | None = None


class MeetingFilters(ActivityFilters):
    state: list[str] | None = None
    starts_from: dt.datetime | None = None
    starts_to: dt.datetime | None = None


# ---- notes --------------------------------------------------------------------------------------------

class NoteOut(ActivityOut):
    text: str


class NoteIn(LinksIn):
    text: str


class NotePatch(LinksPatch):
    text: str | None = None
