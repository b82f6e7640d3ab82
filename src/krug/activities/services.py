"""Operations on tasks, calls, meetings and notes: validate, attach to the client, write and audit, put
the touchpoint on the client's timeline and keep the contact's "last contact" current."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from typing import Any
from urllib.parse import urlsplit

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.activities.models import Call, Meeting, Note, Task
from krug.clients import timeline
from krug.clients.models import Company, Contact, TimelineEvent
from krug.clients.services import clean_text_fields, clean_with, resolve_owner
from krug.core import records
from krug.core.errors import Conflict, FieldErrors, ValidationFailed
from krug.quality import normalize

TASK_TEXT = {"title": 300, "description": 10000}
CALL_TEXT = {"summary": 10000}
MEETING_TEXT = {"title": 300, "location": 300, "agenda": 10000, "outcome": 10000}
NOTE_MAX = 20000
DEFAULT_MEETING_LENGTH = dt.timedelta(hours=1)


# ---- shared -------------------------------------------------------------------------------------------

def _deal_model():
    from krug.sales.models import Deal

    return Deal


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A time without a zone is read in the current time zone, so comparisons never mix the two."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _clean_time(data: dict, name: str, out: dict) -> None:
    if name in data:
        out[name] = _aware(data[name])


def _visible(by, model, pk, field: str, message: str, errors: FieldErrors):
    if pk is None:
        return None
    found = model.objects.visible_to(by).filter(pk=pk).first()
    if found is None:
        errors.add(field, message)
    return found


def _clean_links(by, data: dict, current, errors: FieldErrors, out: dict) -> None:
    """contact_id / company_id / deal_id -> out, each one the user may see. A deal brings its contact and
    company when those are not given; a contact brings its company, so the company card shows it too."""
    if "contact_id" in data:
        out["contact"] = _visible(by, Contact, data["contact_id"], "contact_id", _("no such contact"), errors)
    if "company_id" in data:
        out["company"] = _visible(by, Company, data["company_id"], "company_id", _("no such company"), errors)
    if "deal_id" in data:
        out["deal"] = _visible(by, _deal_model(), data["deal_id"], "deal_id", _("no such deal"), errors)
    if errors:
        return

    def resulting(name):
        return out[name] if name in out else getattr(current, name, None) if current else None

    deal = out.get("deal")
    if deal is not None:
        for name in ("contact", "company"):
            if name not in data and resulting(name) is None and getattr(deal, f"{name}_id") is not None:
                out[name] = getattr(deal, name)
    contact = out.get("contact")
    if contact is not None and "company_id" not in data and resulting("company") is None \
            and contact.company_id is not None:
        out["company"] = contact.company


def _clean_choice(data: dict, name: str, choices, errors: FieldErrors, out: dict) -> None:
    if name not in data:
        return
    if data[name] not in choices.values:
        errors.add(name, _("must be one of %(v)s") % {"v": ", ".join(choices.values)})
    out[name] = data[name]


def _require(data: dict, out: dict, current, names: tuple[str, ...], errors: FieldErrors) -> None:
    """Required fields must be present on create and never emptied on update."""
    for name in names:
        value = out.get(name, data.get(name)) if name in data or current is None else getattr(current, name)
        if value in (None, ""):
            errors.add(name, _("this field is required"))


def _finish(by, data: dict, current, errors: FieldErrors, out: dict) -> dict:
    _clean_links(by, data, current, errors, out)
    resolve_owner(by, data, errors, default_self=current is None, out=out)
    errors.raise_if_any()
    return out


def _event(kind: str, obj, by, summary: str, *, at: dt.datetime | None = None, data: dict | None = None):
    return timeline.add_event(kind, obj, by=by, contact=obj.contact_id, company=obj.company_id,
                              deal_id=obj.deal_id, summary=summary, at=at, data=data)


def _sync_events(obj, changes: dict, by, kind: str, summary: str) -> None:
    """Keep the record's timeline entries on the client it is now attached to."""
    if not {"contact", "company", "deal"} & set(changes):
        return
    events = TimelineEvent.objects.filter(source_type=ContentType.objects.get_for_model(type(obj)),
                                          source_id=obj.pk)
    company_id = obj.company_id
    if company_id is None and obj.contact_id is not None:
        company_id = Contact.objects.filter(pk=obj.contact_id).values_list("company_id", flat=True).first()
    if company_id is None and obj.contact_id is None:
        events.delete()
    elif not events.update(contact_id=obj.contact_id, company_id=company_id, deal_id=obj.deal_id):
        _event(kind, obj, by, summary)


def _touch_contact(contact_id: int | None, at: dt.datetime) -> None:
    """Move the contact's last touchpoint forward (never back, never into the future). Derived data, so a
    plain column update without audit or version bump."""
    if contact_id is None:
        return
    at = min(at, timezone.now())
    Contact.objects.filter(pk=contact_id).filter(
        Q(last_contact_at__lt=at) | Q(last_contact_at__isnull=True)).update(last_contact_at=at)


@transaction.atomic
def delete_activity(obj, by) -> None:
    """Move an activity to the recycle bin and take its touchpoints off the client's timeline."""
    records.move_to_bin(obj, by)
    timeline.set_hidden(obj, True)


@transaction.atomic
def restore_activity(obj, by) -> None:
    """Bring an activity back from the bin, and its touchpoints back onto the timeline."""
    records.restore(obj, by)
    timeline.set_hidden(obj, False)


# ---- tasks --------------------------------------------------------------------------------------------

def soonest_due(pending: QuerySet, limit: int | None = None, after: tuple[dt.datetime, int] | None = None
                ) -> list[Task]:
    """`pending`'s tasks that have a due date, the soonest first (ties by id), at most `limit` of them; with
    `after` (a due date and an id), those that come after it.

    One query per pending state, merged here: the index (owner, state, due_at) gives one state's tasks in due
    order, so each query reads a page of it, while one query over both states makes PostgreSQL read and sort
    every pending task of the owner (about 100 ms for a manager with 100,000 of them)."""
    if after is not None:
        due, pk = after
        pending = pending.filter(Q(due_at__gt=due) | Q(due_at=due, pk__gt=pk))
    parts = [pending.filter(state=state, due_at__isnull=False).order_by("due_at", "id")[:limit]
             for state in Task.PENDING]
    return list(itertools.islice(heapq.merge(*parts, key=lambda task: (task.due_at, task.pk)), limit))


def _clean_task(by, data: dict, *, current: Task | None) -> dict:
    errors = FieldErrors()
    out = clean_text_fields(data, TASK_TEXT, errors)
    if "description" in data:
        out["description"] = (data["description"] or "").strip()
    _clean_choice(data, "priority", Task.Priority, errors, out)
    _clean_choice(data, "state", Task.State, errors, out)
    _clean_time(data, "due_at", out)
    if "state" in out and not errors:
        was_done = current is not None and current.state == Task.State.DONE
        if out["state"] == Task.State.DONE and not was_done:
            out["done_at"] = timezone.now()
        elif out["state"] != Task.State.DONE:
            out["done_at"] = None
    _require(data, out, current, ("title",), errors)
    return _finish(by, data, current, errors, out)


def _task_summary(task: Task) -> str:
    if task.due_at:
        due = timezone.localtime(task.due_at).strftime("%d.%m.%Y %H:%M")
        return _("Task: %(title)s, due %(due)s") % {"title": task.title, "due": due}
    return _("Task: %(title)s") % {"title": task.title}


def _task_done_event(task: Task, by) -> None:
    _event(TimelineEvent.Kind.TASK_DONE, task, by, _("Task done: %(title)s") % {"title": task.title},
           at=task.done_at)


@transaction.atomic
def create_task(by, data: dict[str, Any]) -> Task:
    """A new task for its owner (the assignee; you by default), on the client's timeline."""
    fields = _clean_task(by, data, current=None)
    task = records.create(Task, fields, by)
    _event(TimelineEvent.Kind.TASK, task, by, _task_summary(task),
           data={"due_at": task.due_at, "priority": task.priority})
    if task.state == Task.State.DONE:
        _task_done_event(task, by)
    return task


@transaction.atomic
def update_task(by, task: Task, data: dict[str, Any], version: int | None = None) -> Task:
    """Change a task; reassign with owner_id. Setting state=done completes it. Stale version -> 409."""
    fields = _clean_task(by, data, current=task)
    changes = records.update(task, fields, by, expected_version=version)
    _sync_events(task, changes, by, TimelineEvent.Kind.TASK, _task_summary(task))
    if "state" in changes and task.state == Task.State.DONE:
        _task_done_event(task, by)
    return task


@transaction.atomic
def complete_task(by, task: Task, version: int | None = None) -> Task:
    """Mark a task done (once: completing a done task changes nothing) and say so on the timeline."""
    if task.state == Task.State.DONE:
        if version is not None and version != task.version:
            return update_task(by, task, {}, version)  # raises the usual 409
        return task
    return update_task(by, task, {"state": Task.State.DONE}, version)


@transaction.atomic
def postpone_task(by, task: Task, until: dt.datetime, version: int | None = None) -> Task:
    """Move an unfinished task to a later due time."""
    if task.state == Task.State.DONE:
        raise Conflict(_("A done task cannot be postponed"))
    if until is None:
        raise ValidationFailed.single("until", _("this field is required"))
    until = _aware(until)
    if until <= timezone.now():
        raise ValidationFailed.single("until", _("must be in the future"))
    return update_task(by, task, {"due_at": until, "state": Task.State.POSTPONED}, version)


# ---- calls --------------------------------------------------------------------------------------------

def clean_recording_url(raw: str) -> str:
    """An absolute http(s) address; anything else (javascript:, file:, relative) is refused."""
    text = normalize.tidy(raw)
    if len(text) > 500:
        raise ValueError(_("at most %(n)d characters") % {"n": 500})
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(_("must be an http or https address"))
    return text


def _clean_call(by, data: dict, *, current: Call | None) -> dict:
    errors = FieldErrors()
    out = clean_text_fields(data, CALL_TEXT, errors)
    if "summary" in data:
        out["summary"] = (data["summary"] or "").strip()
    _clean_choice(data, "direction", Call.Direction, errors, out)
    _clean_choice(data, "result", Call.Result, errors, out)
    if "started_at" in data and data["started_at"] is None:
        errors.add("started_at", _("this field is required"))
    _clean_time(data, "started_at", out)
    if "duration_seconds" in data:
        duration = data["duration_seconds"]
        if duration is None or isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
            errors.add("duration_seconds", _("must be a whole number of seconds, 0 or more"))
        out["duration_seconds"] = duration
    clean_with(data, "phone", lambda raw: normalize.phone(raw)[0], errors, out)
    clean_with(data, "recording_url", clean_recording_url, errors, out)
    _require(data, out, current, ("direction",), errors)
    return _finish(by, data, current, errors, out)


def _call_summary(call: Call) -> str:
    if call.result == Call.Result.MISSED and call.direction == Call.Direction.IN:
        text = _("Missed incoming call")
    else:
        what = _("Incoming call") if call.direction == Call.Direction.IN else _("Outgoing call")
        text = f"{what}: {call.get_result_display()}"
        if call.duration_seconds:
            minutes, seconds = divmod(call.duration_seconds, 60)
            text += f", {minutes}:{seconds:02d}"
    return f"{text} {call.phone}".strip()


def _reached(call: Call) -> bool:
    """An unanswered outgoing call is an attempt, not a contact; every incoming call is the client reaching
    out, so it counts even when missed."""
    return call.direction == Call.Direction.IN or call.result == Call.Result.ANSWERED


@transaction.atomic
def create_call(by, data: dict[str, Any]) -> Call:
    """Log a call (phone in E.164); it lands on the client's timeline and updates the last contact."""
    fields = _clean_call(by, data, current=None)
    fields.setdefault("started_at", timezone.now())
    call = records.create(Call, fields, by)
    _event(TimelineEvent.Kind.CALL, call, by, _call_summary(call), at=min(call.started_at, timezone.now()),
           data={"direction": call.direction, "result": call.result,
                 "duration_seconds": call.duration_seconds, "phone": call.phone})
    if _reached(call):
        _touch_contact(call.contact_id, call.started_at)
    return call


@transaction.atomic
def update_call(by, call: Call, data: dict[str, Any], version: int | None = None) -> Call:
    """Change a call's details or what it is attached to. Stale version -> 409."""
    fields = _clean_call(by, data, current=call)
    changes = records.update(call, fields, by, expected_version=version)
    _sync_events(call, changes, by, TimelineEvent.Kind.CALL, _call_summary(call))
    if changes and _reached(call):
        _touch_contact(call.contact_id, call.started_at)
    return call


# ---- meetings -----------------------------------------------------------------------------------------

def _clean_meeting(by, data: dict, *, current: Meeting | None) -> dict:
    errors = FieldErrors()
    out = clean_text_fields(data, MEETING_TEXT, errors)
    for name in ("agenda", "outcome"):
        if name in data:
            out[name] = (data[name] or "").strip()
    _clean_choice(data, "state", Meeting.State, errors, out)
    _clean_time(data, "starts_at", out)
    _clean_time(data, "ends_at", out)
    if current is None and out.get("starts_at") and not out.get("ends_at"):
        out["ends_at"] = out["starts_at"] + DEFAULT_MEETING_LENGTH
    _require(data, out, current, ("title", "starts_at"), errors)
    starts = out.get("starts_at", getattr(current, "starts_at", None))
    ends = out.get("ends_at", getattr(current, "ends_at", None))
    if starts and ends and ends <= starts:
        errors.add("ends_at", _("must be later than the start"))
    return _finish(by, data, current, errors, out)


def _meeting_summary(meeting: Meeting) -> str:
    starts = timezone.localtime(meeting.starts_at).strftime("%d.%m.%Y %H:%M")
    return _("Meeting: %(title)s, %(starts)s") % {"title": meeting.title, "starts": starts}


def _meeting_touch(meeting: Meeting) -> None:
    # a planned meeting is not a contact yet; a held one is, as of when it took place
    if meeting.state == Meeting.State.HELD:
        _touch_contact(meeting.contact_id, meeting.starts_at)


@transaction.atomic
def create_meeting(by, data: dict[str, Any]) -> Meeting:
    """Plan (or log) a meeting; it goes on the client's timeline and, once held, counts as a contact."""
    fields = _clean_meeting(by, data, current=None)
    meeting = records.create(Meeting, fields, by)
    _event(TimelineEvent.Kind.MEETING, meeting, by, _meeting_summary(meeting),
           data={"starts_at": meeting.starts_at, "ends_at": meeting.ends_at, "location": meeting.location,
                 "state": meeting.state})
    _meeting_touch(meeting)
    return meeting


@transaction.atomic
def update_meeting(by, meeting: Meeting, data: dict[str, Any], version: int | None = None) -> Meeting:
    """Reschedule, record the outcome, hold or cancel a meeting. Stale version -> 409."""
    fields = _clean_meeting(by, data, current=meeting)
    changes = records.update(meeting, fields, by, expected_version=version)
    _sync_events(meeting, changes, by, TimelineEvent.Kind.MEETING, _meeting_summary(meeting))
    if changes:
        _meeting_touch(meeting)
    return meeting


# ---- notes --------------------------------------------------------------------------------------------

def _clean_note(by, data: dict, *, current: Note | None) -> dict:
    errors = FieldErrors()
    out: dict[str, Any] = {}
    if "text" in data:
        text = (data["text"] or "").strip()
        if len(text) > NOTE_MAX:
            errors.add("text", _("at most %(n)d characters") % {"n": NOTE_MAX})
        out["text"] = text
    _require(data, out, current, ("text",), errors)
    return _finish(by, data, current, errors, out)


def _note_summary(note: Note) -> str:
    return _("Note: %(text)s") % {"text": normalize.tidy(note.text, 200)}


@transaction.atomic
def create_note(by, data: dict[str, Any]) -> Note:
    """A note on a client or deal; it goes on the timeline and counts as a contact."""
    fields = _clean_note(by, data, current=None)
    note = records.create(Note, fields, by)
    _event(TimelineEvent.Kind.NOTE, note, by, _note_summary(note))
    _touch_contact(note.contact_id, note.created_at)
    return note


@transaction.atomic
def add_past_note(by, text: str, *, owner_id: int | None, contact_id: int | None = None,
                  company_id: int | None = None) -> Note:
    """A note a client brings from another system (an import's comment column), on his timeline: written by
    `by` and owned by the client's owner (`owner_id`, whoever that is, as the client is his). It is the
    client's past, not a touchpoint today, so the contact's last contact stays where it was. A contact's note
    takes his company (`company_id`) too, as `create_note` gives it."""
    fields = _clean_note(by, {"text": text}, current=None)  # the text, cleaned as any note's
    note = records.create(Note, {"text": fields["text"], "owner_id": owner_id, "contact_id": contact_id,
                                 "company_id": company_id}, by)
    _event(TimelineEvent.Kind.NOTE, note, by, _note_summary(note))
    return note


@transaction.atomic
def update_note(by, note: Note, data: dict[str, Any], version: int | None = None) -> Note:
    """Change a note's text or what it is attached to. Stale version -> 409."""
    fields = _clean_note(by, data, current=note)
    changes = records.update(note, fields, by, expected_version=version)
    _sync_events(note, changes, by, TimelineEvent.Kind.NOTE, _note_summary(note))
    return note


#: moving a meeting further than this from its date asks the user to confirm first
FAR_MOVE = dt.timedelta(days=14)


class FarMoveNeedsConfirmation(Conflict):
    """The meeting would move more than 14 days away; confirm to save it."""

    code = "confirm_far_move"


@transaction.atomic
def reschedule_meeting(by, meeting: Meeting, starts_at: dt.datetime, *, confirm: bool = False,
                       version: int | None = None) -> Meeting:
    """Move a meeting to a new start keeping its length; a move of more than 14 days needs `confirm`
    (clients forget meetings postponed that far), and nothing is saved until then."""
    starts_at = _aware(starts_at)
    if abs(starts_at - meeting.starts_at) > FAR_MOVE and not confirm:
        days = abs((starts_at.date() - meeting.starts_at.date()).days)
        raise FarMoveNeedsConfirmation(
            _("The meeting moves %(days)d days away. Move it anyway?") % {"days": days}, extra={"days": days})
    length = meeting.ends_at - meeting.starts_at
    return update_meeting(by, meeting, {"starts_at": starts_at, "ends_at": starts_at + length}, version)
