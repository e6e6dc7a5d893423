"""Work that takes more than a moment, run in the background with its progress
shown: publishing (every document written), sending the invitations, reading
the replies and fetching free/busy through a connected service.

A job is a thread of the server (the work is mostly waiting on files and the
network); its page shows "Writing papers: 40 of 86" and refreshes itself
without JavaScript, and with JavaScript follows the job's server-sent events.
A route waits up to a second (``BoardState.progress_after``) before showing
the progress page, so what finishes at once goes straight to its result.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from planner.errors import PlannerError

log = logging.getLogger("planner.web")


@dataclass
class Job:
    slug: str
    kind: str                  # publish, send, replies, availability
    who: str
    title: str                 # "Publishing v003"
    result_url: str = ""       # where the finished job's result is
    result_label: str = ""
    label: str = "Starting"    # what is being done now: "Writing papers"
    done: int = 0
    total: int | None = None
    estimated: bool = False    # the total is an estimate ("40 of about 86")
    state: str = "running"     # running, done, failed
    message: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def step(self, label: str, done: int = 0, total: int | None = None, estimated: bool = False) -> None:
        self.label, self.done, self.total, self.estimated = label, done, total, estimated

    def progress_text(self) -> str:
        if self.total:
            about = "about " if self.estimated else ""
            return f"{self.label}: {self.done if about else min(self.done, self.total)} of {about}{self.total}"
        return f"{self.label}: {self.done}" if self.done else f"{self.label}…"

    def snapshot(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started if self.state == "running" else self.elapsed
        return {"id": self.id, "kind": self.kind, "state": self.state, "title": self.title,
                "label": self.label, "done": self.done, "total": self.total, "progress": self.progress_text(),
                "elapsed": round(elapsed, 1), "message": self.message, "result_url": self.result_url,
                "result_label": self.result_label}


class Jobs:
    """The server's background jobs, by id (kept for the server's lifetime, the last 200)."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def start(self, job: Job, work: Callable[[Job], None]) -> Job:
        with self.lock:
            self.jobs[job.id] = job
            for old in list(self.jobs)[:-200]:
                if self.jobs[old].state != "running":
                    del self.jobs[old]
        threading.Thread(target=self._run, args=(job, work), daemon=True, name=f"job-{job.kind}").start()
        return job

    def _run(self, job: Job, work: Callable[[Job], None]) -> None:
        try:
            work(job)
            job.state = "done"
        except PlannerError as exc:
            job.message, job.state = str(exc), "failed"
        except Exception:  # the page says so; the traceback goes to the server's log only
            log.exception("%s of %s failed", job.kind, job.slug)
            job.message, job.state = "The server could not finish this; the error is in the server's log.", "failed"
        finally:
            job.elapsed = round(time.monotonic() - job.started, 1)
            job.finished.set()

    def get(self, slug: str, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.slug == slug else None
