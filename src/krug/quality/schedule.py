"""The data-quality routine that runs by itself: a daily health snapshot and nightly duplicate scans.

`krug worker` calls `run_due()` every few minutes; it is idempotent, so several workers, a restart or a
missed night do no harm: what is due is queued once, what already ran today is left alone. Operators who
prefer cron can run `krug quality snapshot` and `krug quality scan --background` instead.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from krug.quality.models import HealthSnapshot, QualitySettings, ScanRun

log = logging.getLogger(__name__)
ENTITIES = ("contact", "company")


def _scan_due(entity: str, hour: int, now: dt.datetime) -> bool:
    local = timezone.localtime(now)
    if local.hour < hour:
        return False
    today_at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    busy = ScanRun.objects.filter(entity=entity, status__in=[ScanRun.Status.QUEUED, ScanRun.Status.RUNNING])
    return not busy.exists() and not ScanRun.objects.filter(entity=entity, created_at__gte=today_at).exists()


def run_due(now: dt.datetime | None = None) -> list[str]:
    """Queue what is due now; returns what was done, e.g. ['snapshot', 'scan contact']."""
    from krug.quality import health, tasks

    now = now or timezone.now()
    done = []
    with transaction.atomic():
        settings = QualitySettings.objects.select_for_update().filter(pk=QualitySettings.current().pk).get()
        hour = settings.nightly_scan_hour
        if hour is not None:
            for entity in ENTITIES:
                if _scan_due(entity, hour, now):
                    tasks.start_scan(None, entity=entity)
                    done.append(f"scan {entity}")
    # the snapshot comes with every contact scan; without scans it is still taken once a day
    if "scan contact" not in done and not HealthSnapshot.objects.filter(date=timezone.localdate(now)).exists():
        health.take_snapshot(timezone.localdate(now))
        done.append("snapshot")
    if done:
        log.info("data quality routine: %s", ", ".join(done))
    return done
