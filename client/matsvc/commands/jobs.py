"""`matsvc jobs`: the newest jobs of one project, or of all of yours; `matsvc job ID`: one job."""

from __future__ import annotations

import argparse

from ..client import Client
from ..errors import ApiError
from .common import UsageError, add_project_option, say

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def add_parsers(commands) -> None:
    jobs = commands.add_parser("jobs", help="List jobs, newest first.")
    add_project_option(jobs)
    jobs.add_argument("--status", action="append", metavar="STATUS",
                      help=f"Only these statuses ({', '.join(STATUSES)}); repeat or comma-separate.")
    jobs.add_argument("--kind", help="Only this job kind, e.g. superres.upscale.")
    jobs.add_argument("--limit", "-n", type=int, default=20, help="At most this many per project (default 20).")
    jobs.set_defaults(run=run_jobs)

    job = commands.add_parser("job", help="Show one job, e.g. one a command stopped waiting for.")
    job.add_argument("job_id", metavar="JOB_ID")
    add_project_option(job)
    job.set_defaults(run=run_job)


def run_jobs(args: argparse.Namespace, client: Client) -> int:
    statuses = [s for value in args.status or [] for s in value.split(",") if s]
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise UsageError(f"Unknown status {', '.join(unknown)} (one of {', '.join(STATUSES)}).")
    projects = [client.resolve_project(args.project)] if args.project else client.projects()
    rows = []
    for project in projects:
        for job in client.jobs(project["id"], status=statuses or None, kind=args.kind, limit=args.limit):
            rows.append((job["queued_at"], project["slug"], job))
    if not rows:
        say("No jobs.")
    for queued_at, slug, job in sorted(rows, key=lambda row: row[0], reverse=True):
        print(format_job(job, slug))
    return 0


def run_job(args: argparse.Namespace, client: Client) -> int:
    projects = [client.resolve_project(args.project)] if args.project else client.projects()
    for project in projects:
        try:
            job = client.job(project["id"], args.job_id)
        except ApiError as exc:
            if exc.status in (400, 404):  # not this project's job
                continue
            raise
        print(format_job(job, project["slug"]))
        if job["status"] == "succeeded" and job.get("output_set"):
            say(f"Its results are the asset set {job['output_set']}.")
        return 0
    where = f"project {args.project}" if args.project else "your projects"
    raise ApiError(404, f"No job {args.job_id} in {where}.", code="not_found")


def format_job(job: dict, project_slug: str = "") -> str:
    progress = f"{round((job.get('progress') or 0) * 100):3d}%"
    detail = job.get("error") if job["status"] == "failed" else job.get("stage") or ""
    when = (job.get("queued_at") or "")[:19].replace("T", " ")
    columns = [job["id"], f"{job['kind']:<20}", f"{job['status']:<9}", progress, when, project_slug, detail]
    return "  ".join(c for c in columns if c).rstrip()
