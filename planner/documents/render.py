"""Shared helpers of the printable exporters: the Jinja2 environment, date
and time wording, safe file names, and writing HTML and PDF files (Typst).

Safety and reproducibility live here, once for every document:

* templates are loaded from the installed package (``PackageLoader``) and
  HTML is auto-escaped, so every cell of the input is shown as text;
* file names are built with :func:`planner.text.slug` and checked with
  :func:`planner.store.fs.inside`, so no id can write outside the output folder;
* PDFs are typeset by Typst from templates in typst/ and data passed as JSON
  text (shown as text, never read as markup), with the fonts shipped in
  fonts/ only; a template can read nothing outside its folder and loads no
  package, so nothing is ever fetched from the network or the disk;
* PDFs are tagged PDF/UA-1 (and PDF/A-2a) and carry no wall-clock time: the
  dates are the fixed clock, so the same plan gives the same bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import heapq
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import domain as d
from planner.documents import typesetting
from planner.documents.typesetting import Print, page_count, typeset
from planner.documents.view import KIND_LABELS as KIND_LABELS  # for the templates' callers
from planner.documents.view import kind_label
from planner.documents.wording import MONTHS as MONTHS
from planner.documents.wording import WEEKDAYS as WEEKDAYS
from planner.documents.wording import date_range as date_range
from planner.documents.wording import duration as duration
from planner.documents.wording import hm as hm
from planner.documents.wording import long_date as long_date
from planner.documents.wording import short_date as short_date
from planner.documents.wording import span as span
from planner.documents.wording import visit_days as visit_days
from planner.documents.wording import web_url as web_url
from planner.documents.wording import where as where
from planner.store.fs import inside
from planner.text import slug

if TYPE_CHECKING:
    from concurrent.futures import Future

# --- wording: planner/documents/wording.py, re-exported here ---------------------

# --- file names ----------------------------------------------------------------

def unique_slugs(ids: Iterable[str], fallback: str = "item") -> dict[str, str]:
    """A distinct file-name slug per id, stable for the same ids: slug(id),
    or slug(id) plus a short hash of the id when two ids slug alike."""
    ids = list(dict.fromkeys(ids))
    plain = {i: slug(i, fallback) for i in ids}
    counts: dict[str, int] = {}
    for value in plain.values():
        counts[value] = counts.get(value, 0) + 1
    out = {}
    for i in ids:
        name = plain[i]
        if counts[name] > 1 or name == fallback and i != fallback:
            name = f"{name[:70]}-{hashlib.sha1(i.encode('utf-8')).hexdigest()[:8]}"
        out[i] = name
    return out


def target(folder: Path, relative: str) -> Path:
    """folder/relative, parents created, refusing anything outside the folder."""
    path = inside(folder, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- templates -----------------------------------------------------------------

def _bytecode_cache():
    """Jinja2's cache of compiled templates, in the user's own private folder
    of the temporary directory (Jinja2 makes it 0700 and refuses one it does
    not own): a run loads the templates' code rather than compiling them
    again (a third of a second). A template is compiled again when its text
    changes; the file names carry a digest of this module, where the
    environment's options are set. None when no such folder can be had."""
    import jinja2

    class QuietCache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket) -> None:
            with contextlib.suppress(OSError):  # a full or read-only disk: compiled again next time
                super().dump_bytecode(bucket)

    try:
        digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
        return QuietCache(pattern=f"__planner_documents_{digest}_%s.cache")
    except (OSError, RuntimeError):
        return None


@lru_cache(maxsize=1)
def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("planner.documents", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(long_date=long_date, short_date=short_date, hm=hm, span=span,
                       duration=duration, web_url=web_url)
    env.globals.update(kind_label=kind_label)
    return env


def stylesheet_text() -> str:
    env = environment()
    source, _, _ = env.loader.get_source(env, "print.css")
    return source


def render(template: str, **context) -> str:
    env = environment()
    return env.get_template(template).render(stylesheet=_markup(stylesheet_text()), **context)


def _markup(text: str):
    from markupsafe import Markup

    # Our own static stylesheet, inlined so every HTML file stands alone; it
    # never holds input text, and '</' cannot close the <style> element.
    return Markup(text.replace("</", "<\\/"))


def issued_wording(visit: d.Visit, clock: dt.datetime) -> str:
    """'Friday 1 June 2018, 10:00': the issue time in the visit's time zone."""
    from zoneinfo import ZoneInfo

    try:
        local = clock.astimezone(ZoneInfo(visit.settings.timezone))
    except (KeyError, ValueError):
        local = clock
    return f"{long_date(local.date())}, {local:%H:%M}"


def version_of(plan: d.Plan | None) -> int | None:
    """The plan's version recorded in schedule.json (None when it has none)."""
    value = str(plan.meta.get("version")) if plan is not None else ""
    return int(value) if value.isdigit() else None


def common(visit: d.Visit, clock: dt.datetime, plan: d.Plan | None = None) -> dict:
    """Context every template gets (`plan`: for its version)."""
    s = visit.settings
    days = visit_days(visit)
    return {
        "visit": visit,
        "settings": s,
        "dates": date_range(days),
        "issued": issued_wording(visit, clock),
        "version": version_of(plan),
        "created": clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "epoch": int(clock.timestamp()),
        "organiser": f"{s.organiser_name} <{s.organiser_email}>",
        "names": lambda ids, empty="—": ", ".join(visit.name_of(i) for i in ids) or empty,
    }


# --- writing -------------------------------------------------------------------

def write_text(folder: Path, relative: str, text: str) -> Path:
    path = target(folder, relative)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def write_bytes(folder: Path, relative: str, data: bytes) -> Path:
    path = target(folder, relative)
    path.write_bytes(data)
    return path


# --- many PDFs at once -------------------------------------------------------------

@dataclass(frozen=True)
class PdfJob:
    """stem.pdf (and stem.html unless html=False) from the first candidate
    whose PDF takes at most `pages` pages (its own budget when `pages` is a
    tuple; the last candidate otherwise). `prints` are the candidates' Typst
    documents; `candidates` their HTML twins, one each, of which the one
    chosen is written as stem.html (none is needed with html=False): the
    text, or a function of no argument giving it, so that only the one
    chosen is rendered.

    With `probe_last`, the candidates are one document ever more compact
    (none takes more pages than the one before, so the budget is one number):
    the last is typeset first, and when even it misses the budget it is used
    at once, without typesetting the others that cannot meet it either."""

    stem: str
    candidates: tuple[str | Callable[[], str], ...]  # HTML text, or what renders it (only the one used is)
    pages: int | tuple[int, ...] | None = None  # one budget for all, or one per candidate
    html: bool = True
    probe_last: bool = False
    prints: tuple[Print, ...] = ()

    @property
    def size(self) -> int:
        """How big the job is, to start the biggest first."""
        if self.prints:
            return len(self.prints[0].data)
        first = self.candidates[0] if self.candidates else ""
        return len(first) if isinstance(first, str) else 0

    def to_typeset(self) -> PdfJob:
        """The job as a rendering process is given it: without the functions
        that render its HTML (they stay in this process, and need not be pickled)."""
        if any(callable(c) for c in self.candidates):
            return dataclasses.replace(self, candidates=())
        return self


def _run_job(job: PdfJob, epoch: int) -> tuple[int, bytes]:
    prints, pages = job.prints, job.pages
    if not prints:
        raise ValueError("a PDF job needs at least one candidate")
    last = len(prints) - 1
    known = {}
    if job.probe_last and last > 0 and isinstance(pages, int):
        known[last] = typeset(prints[last], epoch)
        if page_count(known[last]) > pages:  # the most compact misses the budget: so does every other
            return last, known[last]
    for index, document in enumerate(prints):
        data = known.get(index) or typeset(document, epoch)
        budget = pages[index] if isinstance(pages, tuple) else pages
        if budget is None or index == last or page_count(data) <= budget:
            return index, data
    raise AssertionError("unreachable: the last candidate is always used")


def pdf_workers(jobs: int) -> int:
    """Processes for rendering: PLANNER_PDF_WORKERS, or one per available
    core (at most 4), never more than the jobs."""
    wanted = os.environ.get("PLANNER_PDF_WORKERS", "")
    if wanted.isdigit() and int(wanted) > 0:
        cores = int(wanted)
    else:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
        cores = min(cores, 4)
    return max(1, min(cores, jobs))


def _die_with_parent(parent: int) -> None:
    """In a rendering process: end when the planner ends, even when it is
    killed (SIGKILL leaves forked workers waiting forever on their queue).
    Linux: PR_SET_PDEATHSIG; elsewhere nothing is done."""
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the planner died before the line above ran
        os._exit(1)


def _pool(workers: int):
    """Forked rendering processes, which inherit the compiler with its fonts
    loaded. Never forked from a process that has compiled: Typst then runs a
    thread pool, which a fork would leave behind half-copied (a process that
    never finishes); such a process renders its PDFs itself (OSError)."""
    from concurrent.futures import ProcessPoolExecutor

    if typesetting.has_compiled() or "fork" not in multiprocessing.get_all_start_methods():
        raise OSError("no process can be forked here")
    typesetting._new_compiler()  # no thread runs before a first compile
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))


def _render_all(jobs: list[PdfJob], epoch: int) -> dict[int, tuple[int, bytes]]:
    """Each job's (candidate used, PDF bytes), in parallel processes when there
    are several jobs and cores (forked, so nothing is imported again); {} when
    no process can be started here (the caller renders in this one)."""
    workers = pdf_workers(len(jobs))
    if workers <= 1:
        return {}
    try:
        # biggest first, so the long ones do not start last
        order = sorted(range(len(jobs)), key=lambda k: -jobs[k].size)
        with _pool(workers) as pool:
            futures = {k: pool.submit(_run_job, jobs[k].to_typeset(), epoch) for k in order}
            return {k: future.result() for k, future in futures.items()}
    except (OSError, RuntimeError, ImportError):  # no processes here: render in this one
        return {}


def _html_of(job: PdfJob, index: int) -> str | None:
    """The HTML of the candidate used (rendered now if it was not yet)."""
    if not job.html:
        return None
    html = job.candidates[index]
    return html() if callable(html) else html


def _write_job(folder: Path, job: PdfJob, index: int, data: bytes, html: str | None = None) -> None:
    if job.html:
        write_text(folder, job.stem + ".html", html if html is not None else _html_of(job, index) or "")
    write_bytes(folder, job.stem + ".pdf", data)


def write_pdfs(folder: Path, jobs: list[PdfJob], epoch: int = 0) -> None:
    """Render every job and write its files. The result does not depend on the
    number of processes: each job's bytes are its own. `epoch` dates the
    embedded fonts (pass the fixed clock's timestamp).

    Inside :func:`pdf_batch` the jobs are only queued: they render in the
    batch's processes, with every other exporter's, while the exporters go on,
    and their files are written when the batch finishes."""
    if _BATCH is not None:
        _BATCH.add(Path(folder), jobs, epoch)
        return
    results = _render_all(jobs, epoch)
    for k, job in enumerate(jobs):
        index, data = results[k] if k in results else _run_job(job, epoch)
        _write_job(folder, job, index, data)


# --- one set of processes for every exporter's PDFs -------------------------------------

_BATCH = None  # the batch of write_documents, while it runs


class PdfBatch:
    """The PDF jobs of several exporters, rendered by one set of processes.

    Rendering is most of the time documents take, and a single exporter's
    jobs cannot keep the cores busy (the peer team's pack is one long job):
    queued together, the biggest waiting job always goes next and the jobs run
    while the main process writes the invites, e-mails and sheets. A process
    is never left idle while jobs wait: each finished job hands the next
    waiting one to the pool at once (from the pool's own thread), at most
    two in flight per process, so the biggest job added meanwhile still goes
    first. `pump()` collects finished jobs; `finish()` waits for all and
    writes their files in the order they were added. Without processes
    (PLANNER_PDF_WORKERS=1, or none can start) each job renders in this
    process as it is added: the same bytes either way."""

    def __init__(self):
        self.workers = pdf_workers(10 ** 6)
        self.pool = None
        self.entries: list[tuple[Path, PdfJob, int]] = []   # (folder, job, epoch), in order added
        self.done: dict[int, tuple[int, bytes, str | None]] = {}  # candidate used, PDF, its HTML
        self.waiting: list[tuple[int, int]] = []            # heap of (-size, entry number)
        self.running: dict[int, Future[Any]] = {}            # entry number -> future
        self.lock = threading.RLock()  # waiting and running, shared with the pool's thread
        self.broken = False  # the pool refused a job: the rest render in this process

    def _start_pool(self) -> bool:
        if self.pool is None and self.workers > 1:
            try:
                self.pool = _pool(self.workers)
            except (OSError, RuntimeError, ImportError):
                self.workers = 1
        return self.pool is not None

    def add(self, folder: Path, jobs: list[PdfJob], epoch: int) -> None:
        parallel = self._start_pool()
        for job in jobs:
            with self.lock:
                number = len(self.entries)
                self.entries.append((folder, job, epoch))
                if parallel:
                    heapq.heappush(self.waiting, (-job.size, number))
            if not parallel:
                self._store(number, _run_job(job, epoch))
        self.pump()

    def _store(self, number: int, result: tuple[int, bytes]) -> None:
        """A job rendered: its HTML is rendered at once, in this process,
        while the rendering processes go on with the others."""
        index, data = result
        self.done[number] = (index, data, _html_of(self.entries[number][1], index))

    def _collect(self, number: int, future) -> None:
        try:
            self._store(number, future.result())
        except (OSError, RuntimeError):  # the process died (or could not start): render it here
            _, job, epoch = self.entries[number]
            self._store(number, _run_job(job, epoch))

    def _feed(self, _finished=None) -> None:
        """Hand waiting jobs, biggest first, to the pool while fewer than two
        per process are in flight. Runs in this thread and in the pool's (as
        each job ends); never renders, never blocks."""
        with self.lock:
            if self.pool is None or self.broken:
                return
            while self.waiting and sum(not f.done() for f in self.running.values()) < 2 * self.workers:
                size, number = heapq.heappop(self.waiting)
                _, job, epoch = self.entries[number]
                try:
                    future = self.pool.submit(_run_job, job.to_typeset(), epoch)
                except RuntimeError:  # the pool broke: this process renders what is left (pump)
                    heapq.heappush(self.waiting, (size, number))
                    self.broken = True
                    return
                self.running[number] = future
                future.add_done_callback(self._feed)

    def pump(self) -> None:
        """Collect finished jobs and start waiting ones; never blocks (but for
        rendering here what a broken pool left)."""
        with self.lock:
            finished = [(number, future) for number, future in self.running.items() if future.done()]
            for number, _ in finished:
                del self.running[number]
        for number, future in finished:
            self._collect(number, future)
        self._feed()
        if self.broken:
            while True:
                with self.lock:
                    if not self.waiting:
                        break
                    _, number = heapq.heappop(self.waiting)
                _, job, epoch = self.entries[number]
                self._store(number, _run_job(job, epoch))

    def finish(self) -> None:
        """Wait for every job and write the files of those not yet written."""
        from concurrent.futures import FIRST_COMPLETED, wait

        while True:
            self.pump()
            with self.lock:
                pending = list(self.running.values())
                if not pending and not self.waiting:
                    break
            if pending:
                wait(pending, return_when=FIRST_COMPLETED)
        for number, (folder, job, _) in enumerate(self.entries):
            if number in self.done:
                index, data, html = self.done.pop(number)
                _write_job(folder, job, index, data, html)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


@contextlib.contextmanager
def pdf_batch():
    """Within the block, write_pdfs queues its jobs in one PdfBatch (yielded);
    the batch finishes (files written) when the block ends without error."""
    global _BATCH
    if _BATCH is not None:  # already inside a batch: join it
        yield _BATCH
        return
    batch = _BATCH = PdfBatch()
    try:
        yield batch
        batch.finish()
    finally:
        _BATCH = None
        batch.close()
