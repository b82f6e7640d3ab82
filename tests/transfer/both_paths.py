"""What the tests that hold a set-based import to the per-row path share: running a file either way, and
what a job reports."""

from pathlib import Path

from krug.transfer import importer, services
from krug.transfer.models import ImportJob


def import_file(by, entity: str, path: Path, *, bulk: bool, chunk: int, key: str | None = None) -> ImportJob:
    """Upload the file as `by` and run it to the end on the set-based (`bulk`) or the per-row path."""
    with path.open("rb") as stream:
        job = services.upload(by, entity, path.name, stream)
    if key is not None:
        services.configure(by, job, key=key)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    return importer.run(job.pk, chunk_size=chunk, bulk=bulk)


def reported(jobs: list[ImportJob]) -> dict:
    """The jobs' counts and their failed rows with every problem named."""
    return {
        "outcomes": [(j.created, j.updated, j.merged, j.skipped, j.failed) for j in jobs],
        "failures": [sorted((e.row, tuple(sorted((x["field"], x["message"]) for x in e.errors)))
                            for e in j.row_errors.all()) for j in jobs],
    }


def agree(fresh, by, entity: str, path: Path, key: str | None, state) -> dict:
    """Import the file, then again (a re-run), on the per-row path and on the set-based one, each into the
    base `fresh()` makes; every part of `state(jobs)` must be the same both ways. Returns the set-based one."""
    results = {}
    for bulk in (False, True):
        fresh()
        jobs = [import_file(by, entity, path, bulk=bulk, chunk=17, key=key),
                import_file(by, entity, path, bulk=bulk, chunk=40, key=key)]
        results[bulk] = state(jobs)
    per_row, set_based = results[False], results[True]
    for part in per_row:
        assert set_based[part] == per_row[part], part
    return set_based


def agree_on_changes(fresh, by, entity: str, first: Path, second: Path, key: str, state, monkeypatch,
                     between=lambda: None) -> tuple[dict, dict[bool, int]]:
    """Import `first`, then `second` (its changes) twice, on the per-row path and on the set-based one, each
    into the base `fresh()` makes (and `between()` changes after the first file); every part of `state(jobs)`
    of the second file's jobs must be the same both ways. Returns the set-based state and how many of the
    second file's rows each path gave `importer.import_one` (every row on the per-row path; on the set-based
    one, those it hands over)."""
    handed_over = []
    one = importer.import_one
    monkeypatch.setattr(importer, "import_one", lambda ctx, cells: handed_over.append(cells) or one(ctx, cells))
    results, handed = {}, {}
    for bulk in (False, True):
        fresh()
        import_file(by, entity, first, bulk=bulk, chunk=40, key=key)
        between()
        handed_over.clear()
        jobs = [import_file(by, entity, second, bulk=bulk, chunk=chunk, key=key) for chunk in (17, 50)]
        results[bulk], handed[bulk] = state(jobs), len(handed_over)
    for part in results[False]:
        assert results[True][part] == results[False][part], part
    return results[True], handed
