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


@transaction.atomic
def save_settings(by, match_rules: dict, auto_merge_above: float | None, invalid_phones: str | None = None) -> None:
    """Save the match rules (each checked against MatchRules), the automatic-merge certainty and what
    happens to invalid phones (reject or keep and flag)."""
    from krug.quality.models import QualitySettings
    from krug.quality.scan import MatchRules

    if role_of(by) != Role.ADMIN:
        raise Forbidden(_("Only an administrator may change the data-quality settings"))
    errors = FieldErrors()
    defaults = MatchRules().as_dict()
    for key, value in match_rules.items():
        if key not in defaults:
            errors.add(f"match_rules.{key}", _("unknown rule"))
        elif type(value) is not type(defaults[key]) and not (isinstance(defaults[key], float)
                                                             and isinstance(value, int)):
            errors.add(f"match_rules.{key}", _("must be a %(t)s") % {"t": type(defaults[key]).__name__})
    if invalid_phones is not None and invalid_phones not in QualitySettings.InvalidPhones.values:
        errors.add("invalid_phones", _("must be one of %(v)s") % {"v": ", ".join(QualitySettings.InvalidPhones.values)})
    errors.raise_if_any()
    current = QualitySettings.current()
    current.match_rules, current.auto_merge_above, current.updated_at = match_rules, auto_merge_above, timezone.now()
    if invalid_phones is not None:
        current.invalid_phones = invalid_phones
    current.save()
