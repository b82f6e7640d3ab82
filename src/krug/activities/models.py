"""Touchpoints with clients: tasks, calls, meetings and notes.

Each is attached to a contact, a company and/or a deal. Whoever may see that client or deal sees its
activities (so the card shows every touchpoint); only the owner, his head and admins change them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krug.core import permissions
from krug.core.models import OwnedModel, binned_index


class Activity(OwnedModel):
    """What every activity shares: its owner (the assignee) and what it is attached to.

    Purging a client purges its touchpoints with it, as it does its timeline; purging a deal only
    detaches them, because the contact's history outlives the deal.
    """

    contact = models.ForeignKey("clients.Contact", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="%(class)ss", db_index=False)
    company = models.ForeignKey("clients.Company", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="%(class)ss", db_index=False)
    deal = models.ForeignKey("sales.Deal", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="%(class)ss", db_index=False)

    access = permissions.AttachedPolicy("contact", "company", "deal")

    class Meta:
        abstract = True
        indexes = [
            models.Index(fields=["owner", "-id"], name="%(class)s_owner_idx"),
            models.Index(fields=["contact", "-id"], name="%(class)s_contact_idx"),
            models.Index(fields=["company", "-id"], name="%(class)s_company_idx"),
            models.Index(fields=["deal", "-id"], name="%(class)s_deal_idx"),
            binned_index("%(class)s_binned_idx"),
        ]


class Task(Activity):
    class Priority(models.TextChoices):
        LOW = "low", _("low")
        NORMAL = "normal", _("normal")
        HIGH = "high", _("high")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")
        POSTPONED = "postponed", _("postponed")

    #: states in which a task past its due time counts as overdue
    PENDING = (State.OPEN, State.POSTPONED)

    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices,
                                default=Priority.NORMAL)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    audited_fields = ("title", "description", "due_at", "priority", "state", "done_at", "owner", "contact",
                      "company", "deal")

    class Meta(Activity.Meta):
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [*Activity.Meta.indexes,
                   models.Index(fields=["owner", "state", "due_at"], name="task_agenda_idx"),
                   # the done tasks, the latest first: without it a manager's page of them sorted all of them
                   models.Index(fields=["owner", "state", "done_at"], name="task_done_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        """Overdue is derived, never stored: not done and past its due time."""
        return self.state != self.State.DONE and self.due_at is not None and self.due_at < timezone.now()

    @classmethod
    def overdue_q(cls, now=None) -> Q:
        return Q(state__in=cls.PENDING, due_at__lt=now or timezone.now())


class Call(Activity):
    class Direction(models.TextChoices):
        IN = "in", _("incoming")
        OUT = "out", _("outgoing")

    class Result(models.TextChoices):
        ANSWERED = "answered", _("answered")
        MISSED = "missed", _("missed")
        BUSY = "busy", _("busy")
        NO_ANSWER = "no_answer", _("no answer")
        VOICEMAIL = "voicemail", _("voicemail")

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.ANSWERED)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(_("duration, seconds"), default=0)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text="E.164")
    recording_url = models.CharField(_("recording"), max_length=500, blank=True)
    summary = models.TextField(_("summary"), blank=True)

    audited_fields = ("direction", "result", "started_at", "duration_seconds", "phone", "recording_url",
                      "summary", "owner", "contact", "company", "deal")

    class Meta(Activity.Meta):
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [*Activity.Meta.indexes, models.Index(fields=["started_at"], name="call_started_idx"),
                   models.Index(fields=["owner", "started_at"], name="call_calendar_idx")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.phone}".strip()


class Meeting(Activity):
    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        CANCELLED = "cancelled", _("cancelled")

    title = models.CharField(_("title"), max_length=300)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    location = models.CharField(_("location"), max_length=300, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PLANNED)

    audited_fields = ("title", "starts_at", "ends_at", "location", "agenda", "outcome", "state", "owner",
                      "contact", "company", "deal")

    class Meta(Activity.Meta):
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [*Activity.Meta.indexes,
                   models.Index(fields=["owner", "starts_at"], name="meeting_calendar_idx")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                              name="meeting_ends_after_start")]

    def __str__(self) -> str:
        return self.title


class Note(Activity):
    text = models.TextField(_("text"))

    audited_fields = ("text", "owner", "contact", "company", "deal")

    class Meta(Activity.Meta):
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        first_line = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first_line[:80]
