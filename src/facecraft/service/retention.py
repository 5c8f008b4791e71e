"""The retention sweep: uploads and finished jobs older than the retention period are deleted.

Files of queued and running jobs are never touched (their rows are not terminal); a job's inputs are
its own links or copies, so an expired upload does not take a waiting job's files with it.
"""

from dataclasses import dataclass

from facecraft.service.settings import ServiceSettings
from facecraft.service.store import JobStore
from facecraft.service.uploads import remove_tree, stale_files


@dataclass(frozen=True, slots=True)
class SweepCounts:
    uploads: int
    jobs: int
    strays: int


def sweep(store: JobStore, settings: ServiceSettings) -> SweepCounts:
    """Delete what is older than ``settings.retention_hours``; return how many of each went."""
    cutoff = store.now() - settings.retention_hours * 3600.0
    uploads = store.uploads_before(cutoff)
    for upload in uploads:
        (settings.uploads_dir / upload.file).unlink(missing_ok=True)
        store.delete_upload(upload.id)
    jobs = store.finished_before(cutoff)
    for job_id in jobs:
        store.delete_job(job_id)
        remove_tree(settings.jobs_dir / job_id)
    strays = [
        *stale_files(settings.uploads_dir, store.all_upload_files(), cutoff),
        *stale_files(settings.tmp_dir, (), cutoff),
    ]
    for path in strays:
        path.unlink(missing_ok=True)
    return SweepCounts(len(uploads), len(jobs), len(strays))
