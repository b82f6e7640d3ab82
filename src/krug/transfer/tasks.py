"""Background jobs of import and export, run by `krug worker`."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="default")
def import_task(job_id: int) -> str:
    from krug.transfer import importer

    return importer.run(job_id).status


@task(queue_name="default")
def export_task(job_id: int) -> int:
    from krug.transfer import export

    return export.write_xlsx(job_id).rows
