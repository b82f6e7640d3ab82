"""Background jobs of data quality: the full duplicate scan (with progress) and automatic merging."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from krug.quality.company_scan import company_rows, find_company_duplicates
from krug.quality.models import DuplicatePair, QualitySettings, ScanRun
from krug.quality.scan import ContactRow, MatchRules, find_duplicates

log = logging.getLogger(__name__)


def contact_rows() -> list[ContactRow]:
    """Every live contact as the scan needs it, read in three streaming queries."""
    from krug.clients.models import Contact, ContactEmail, ContactPhone

    phones: dict[int, list[str]] = defaultdict(list)
    valid = ContactPhone.objects.filter(valid=True)
    for contact_id, number in valid.values_list("contact_id", "number").iterator(chunk_size=20_000):
        phones[contact_id].append(number)
    emails: dict[int, list[str]] = defaultdict(list)
    for contact_id, key in ContactEmail.objects.values_list("contact_id", "email_key").iterator(chunk_size=20_000):
        emails[contact_id].append(key)
    fields = ("id", "surname", "first_name", "patronymic", "company__name", "city")
    return [ContactRow(pk, surname, first, patronymic, company or "", city, tuple(phones.get(pk, ())),
                       tuple(emails.get(pk, ())))
            for pk, surname, first, patronymic, company, city in
            Contact.objects.alive().values_list(*fields).iterator(chunk_size=20_000)]


def _progress(run: ScanRun, stage: str, done: int = 0, total: int = 0) -> None:
    ScanRun.objects.filter(pk=run.pk).update(stage=stage, done=done, total=total)


def _save_pairs(run: ScanRun, pairs) -> int:
    """Replace the open pairs with this scan's; pairs someone dismissed or merged stay decided."""
    decided = set(DuplicatePair.objects.filter(entity=run.entity).exclude(status=DuplicatePair.Status.OPEN)
                  .values_list("a_id", "b_id"))
    fresh = [DuplicatePair(entity=run.entity, a_id=min(p.a, p.b), b_id=max(p.a, p.b), score=p.score,
                           reasons=p.reasons, scan=run) for p in pairs]
    fresh = [p for p in fresh if (p.a_id, p.b_id) not in decided]
    with transaction.atomic():
        DuplicatePair.objects.filter(entity=run.entity, status=DuplicatePair.Status.OPEN).delete()
        DuplicatePair.objects.bulk_create(fresh, batch_size=5000)
    return len(fresh)


def run_scan(run_id: int) -> ScanRun:
    """Scan the whole base for duplicate contacts, recording progress and the pairs found."""
    run = ScanRun.objects.get(pk=run_id)
    settings = QualitySettings.current()
    rules = MatchRules.from_dict(run.rules or settings.match_rules)
    ScanRun.objects.filter(pk=run.pk).update(status=ScanRun.Status.RUNNING, started_at=timezone.now(),
                                             rules=rules.as_dict())
    try:
        _progress(run, "loading")
        rows = contact_rows() if run.entity == "contact" else company_rows()
        ScanRun.objects.filter(pk=run.pk).update(records=len(rows))
        step = lambda done, total: _progress(run, "comparing", done, total)  # noqa: E731
        if run.entity == "contact":
            pairs = find_duplicates(rows, rules, progress=step)
        else:
            pairs = find_company_duplicates(rows, threshold=rules.threshold, max_block=rules.max_block,
                                            progress=step)
        _progress(run, "saving")
        found = _save_pairs(run, pairs)
        merged = auto_merge(run, settings.auto_merge_above) if settings.auto_merge_above else 0
    except Exception as exc:  # the run must say it failed, not stay "running" for ever
        log.exception("duplicate scan %s failed", run.pk)
        ScanRun.objects.filter(pk=run.pk).update(status=ScanRun.Status.FAILED, error=str(exc)[:2000],
                                                 finished_at=timezone.now())
        raise
    _progress(run, "health snapshot")
    from krug.quality import health

    health.take_snapshot()  # the open-duplicates figure just changed
    ScanRun.objects.filter(pk=run.pk).update(status=ScanRun.Status.DONE, found=found, merged=merged, stage="",
                                             finished_at=timezone.now())
    run.refresh_from_db()
    return run


def auto_merge(run: ScanRun, threshold: float) -> int:
    """Merge the open pairs scoring at least `threshold`, the older record surviving; each merge is its own
    transaction and undoable like a manual one."""
    from krug.accounts.models import User
    from krug.clients.models import Company, Contact
    from krug.core.errors import DomainError
    from krug.core.permissions import Role
    from krug.quality import merge

    actor = User.objects.filter(is_active=True, role=Role.ADMIN).order_by("id").first()
    if actor is None:
        return 0
    model = Contact if run.entity == "contact" else Company
    merged = 0
    for pair in DuplicatePair.objects.filter(entity=run.entity, status=DuplicatePair.Status.OPEN,
                                             score__gte=threshold).order_by("-score"):
        alive = set(model.objects.alive().filter(pk__in=[pair.a_id, pair.b_id]).values_list("pk", flat=True))
        if len(alive) != 2:
            continue  # one side was merged away by an earlier pair of this run
        try:
            merge.merge(actor, model, pair.a_id, [pair.b_id], automatic=True)
        except DomainError as exc:
            log.warning("automatic merge of %s and %s skipped: %s", pair.a_id, pair.b_id, exc)
            continue
        DuplicatePair.objects.filter(pk=pair.pk).update(status=DuplicatePair.Status.MERGED)
        merged += 1
    return merged


@task(queue_name="default")
def scan_task(run_id: int) -> int:
    return run_scan(run_id).found


def start_scan(by, *, rules: dict | None = None, entity: str = "contact") -> ScanRun:
    """Queue a full scan of contacts or companies (run by `krug worker`); the run row shows its progress."""
    run = ScanRun.objects.create(entity=entity, by=by if getattr(by, "pk", None) else None, rules=rules or {})
    transaction.on_commit(lambda: scan_task.enqueue(run.pk))
    return run
