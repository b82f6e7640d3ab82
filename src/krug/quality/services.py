"""Edits of the data-quality reference data (administrators only)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.core.errors import Conflict, FieldErrors, Forbidden
from krug.core.permissions import Role, role_of
from krug.quality import titles
from krug.quality.models import TitleSynonym
from krug.quality.normalize import tidy


def _require_admin(by) -> None:
    if role_of(by) != Role.ADMIN:
        raise Forbidden(_("Only an administrator may edit the job-title dictionary"))


def _clean_synonym(data: dict, current: TitleSynonym | None) -> dict:
    errors = FieldErrors()
    out = {}
    for name in ("variant", "title"):
        if name in data or current is None:
            out[name] = tidy(data.get(name), 200)
            if not out[name]:
                errors.add(name, _("required"))
    if "variant" in out and out["variant"]:
        out["key"] = titles.title_key(out["variant"])
        clash = TitleSynonym.objects.filter(key=out["key"]).exclude(pk=getattr(current, "pk", None)).first()
        if clash:
            errors.add("variant", _("already means «%(title)s»") % {"title": clash.title})
    errors.raise_if_any()
    return out


@transaction.atomic
def save_title_synonym(by, data: dict, synonym: TitleSynonym | None = None) -> TitleSynonym:
    """Add a way of writing a title, or change one; contacts pick it up on their next write."""
    _require_admin(by)
    fields = _clean_synonym(data, synonym)
    synonym = synonym or TitleSynonym()
    for name, value in fields.items():
        setattr(synonym, name, value)
    synonym.updated_at = timezone.now()
    synonym.save()
    titles.forget_dictionary()
    return synonym


@transaction.atomic
def delete_title_synonym(by, synonym: TitleSynonym) -> None:
    _require_admin(by)
    if TitleSynonym.objects.filter(title=synonym.title).count() == 1 and synonym.title == synonym.variant:
        raise Conflict(_("This is the last spelling of «%(title)s»; delete the title's other uses first") % {
            "title": synonym.title})
    synonym.delete()
    titles.forget_dictionary()
