"""From a submission to a grade: checking it, the job that runs it, reading the outcome.

A submission is a few files named as the bundle allows (``[submission] files``), or a
notebook (``[submission] notebook``). It becomes a job of two steps:

1. ``run`` — the bundle's runner (``/lab``) runs the submission on the public data
   (``/data``) in ``/work``. A notebook is first executed, cell by cell, with nbclient
   on an IPython kernel inside the sandbox (``sandbox/run_notebook.py``); then the
   runner's script runs in the same kernel, where the notebook's functions are
   defined. The executed notebook comes back with the result.
2. ``grade`` — the bundle's grader (``/grader``) reads what the run left in ``/work``
   and the hidden data (``/hidden``, mounted in this step only), and writes
   ``/results/results.json``. No code of the submission runs in this step.

``read_outcome`` turns the executor's result into a ``GradingOutcome``: a score and the
metric when the grader wrote valid results, else the failure, named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oneteam.compute.executors.base import (
    Executor,
    FailureReason,
    JobResult,
    JobSpec,
    Mount,
    Step,
)
from oneteam.labs.bundles import (
    FILE_NAME,
    Bundle,
    Results,
    ResultsError,
    learner_view,
    parse_results,
)

SANDBOX_TOOLS = Path(__file__).resolve().parent / "sandbox"
EXECUTED_NOTEBOOK = "executed.ipynb"
NOTEBOOK_BYTES_MAX = 8 << 20


class SubmissionError(ValueError):
    """A submission is not acceptable; ``field`` names the file at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def check_submission(bundle: Bundle, files: Mapping[str, Path]) -> None:
    """Raise SubmissionError unless ``files`` (name -> path) is a submission the bundle takes."""
    if not files:
        raise SubmissionError("files", "a submission needs at least one file: "
                              + ", ".join(_accepted(bundle)))
    accepted = set(_accepted(bundle))
    total = 0
    for name, path in files.items():
        if not FILE_NAME.match(name) or name not in accepted:
            raise SubmissionError(name, f"is not a file this {bundle.kind} takes (it takes "
                                  f"{', '.join(sorted(accepted))})")
        if not Path(path).is_file():
            raise SubmissionError(name, "is missing")
        size = Path(path).stat().st_size
        total += size
        if size == 0:
            raise SubmissionError(name, "is empty")
    if total > bundle.submission_max_bytes:
        raise SubmissionError("files", f"are {total} bytes together, more than "
                              f"{bundle.submission_max_bytes}")
    if bundle.notebook and bundle.notebook in files:
        if len(files) > 1:
            raise SubmissionError(bundle.notebook, "a notebook submission is the notebook "
                                  "alone")
        _check_notebook(bundle.notebook, Path(files[bundle.notebook]))


def _accepted(bundle: Bundle) -> list[str]:
    return list(bundle.submission_files) + ([bundle.notebook] if bundle.notebook else [])


def _check_notebook(name: str, path: Path) -> None:
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds; all mean "bad"
        raise SubmissionError(name, f"is not a valid Jupyter notebook: {error}") from None
    if not any(cell.get("cell_type") == "code" for cell in notebook.cells):
        raise SubmissionError(name, "has no code cells")


def job_for_submission(bundle: Bundle, files: Mapping[str, Path], *, job_id: str) -> JobSpec:
    """The job that runs and grades a submission (checked first)."""
    check_submission(bundle, files)
    mounts = [Mount(bundle.path(bundle.run_directory), "/lab")]
    if bundle.public_data:
        mounts.append(Mount(bundle.path(bundle.public_data), "/data"))
    run_argv: tuple[str, ...] = bundle.run_command
    collect: tuple[str, ...] = ()
    if bundle.notebook and bundle.notebook in files:
        mounts.append(Mount(SANDBOX_TOOLS, "/opt/oneteam"))
        run_argv = ("python", "/opt/oneteam/run_notebook.py", "--timeout",
                    str(bundle.limits.wall_seconds), f"/work/{bundle.notebook}",
                    f"/work/{EXECUTED_NOTEBOOK}", "--", *bundle.run_command[1:])
        collect = (EXECUTED_NOTEBOOK,)
    grade_mounts = [Mount(bundle.path(bundle.grade_directory), "/grader")]
    if bundle.hidden_data:
        grade_mounts.append(Mount(bundle.path(bundle.hidden_data), "/hidden"))
    env = {"ONETEAM_LAB": bundle.slug, "ONETEAM_METRIC": bundle.metric_name}
    if bundle.public_fraction is not None:
        env["ONETEAM_PUBLIC_FRACTION"] = repr(bundle.public_fraction)
    return JobSpec(
        job_id=job_id,
        steps=(Step("run", run_argv),
               Step("grade", bundle.grade_command, mounts=tuple(grade_mounts), results=True,
                    limits=bundle.grade_limits)),
        files={name: Path(path) for name, path in files.items()},
        mounts=tuple(mounts), env=env, limits=bundle.limits, collect=collect)


@dataclass(frozen=True)
class GradingOutcome:
    """How a submission fared, in the words a learner and the platform need."""

    graded: bool                     # the grader wrote valid results
    score: float | None
    max_score: float | None
    metric: float | None             # the manifest's metric, public split
    private_metric: float | None     # challenges: the private split
    results: Results | None
    reason: str | None               # FailureReason value, or "invalid_results"
    detail: str
    run_stdout: str                  # what the submission printed (its own output)
    run_stderr: str
    grader_stdout: str               # shown only if results say stdout_visibility visible
    executed_notebook: bytes | None
    job: JobResult

    def view(self, *, due_date_passed: bool = False, published: bool = False) -> dict[str, Any]:
        """The learner's view: the outcome, their own output, the visible part of the grade."""
        view: dict[str, Any] = {
            "graded": self.graded, "reason": self.reason, "detail": self.detail,
            "stdout": self.run_stdout, "stderr": self.run_stderr,
        }
        if self.results is not None:
            view["results"] = learner_view(self.results, due_date_passed=due_date_passed,
                                           published=published)
            if self.results.stdout_visibility == "visible":
                view["grader_stdout"] = self.grader_stdout
        return view


def read_outcome(bundle: Bundle, result: JobResult) -> GradingOutcome:
    run = result.step("run")
    grade = result.step("grade")

    def outcome(results: Results | None, reason: str | None, detail: str) -> GradingOutcome:
        return GradingOutcome(
            graded=results is not None,
            score=results.score if results else None,
            max_score=results.max_score if results else None,
            metric=results.metric(bundle.metric_name) if results else None,
            private_metric=results.metric(bundle.metric_name, "private") if results else None,
            results=results, reason=reason, detail=detail,
            run_stdout=run.stdout_tail.decode("utf-8", "replace") if run else "",
            run_stderr=run.stderr_tail.decode("utf-8", "replace") if run else "",
            grader_stdout=grade.stdout_tail.decode("utf-8", "replace") if grade else "",
            executed_notebook=result.files.get(EXECUTED_NOTEBOOK), job=result)

    if not result.succeeded:
        where = f"the {result.failed_step} step" if result.failed_step else "the job"
        reason = result.reason.value if result.reason else FailureReason.ERROR.value
        return outcome(None, reason, f"{where} failed: {result.detail}")
    raw = result.files.get("results/results.json")
    if raw is None:
        return outcome(None, "invalid_results", "the grader wrote no results.json")
    try:
        results = parse_results(raw)
    except ResultsError as error:
        return outcome(None, "invalid_results", str(error))
    return outcome(results, None, "")


def grade_submission(executor: Executor, bundle: Bundle, files: Mapping[str, Path], *,
                     job_id: str, timeout_s: float | None = None) -> GradingOutcome:
    """Run and grade one submission on ``executor``, waiting for the outcome."""
    handle = executor.submit(job_for_submission(bundle, files, job_id=job_id))
    return read_outcome(bundle, executor.result(handle, timeout_s=timeout_s))


def outcome_summary(outcome: GradingOutcome) -> dict[str, Any]:
    """A JSON-able summary (for the command line and logs)."""
    return {"graded": outcome.graded, "score": outcome.score, "max_score": outcome.max_score,
            "metric": outcome.metric, "private_metric": outcome.private_metric,
            "reason": outcome.reason, "detail": outcome.detail,
            "wall_seconds": round(outcome.job.wall_seconds, 3),
            "cpu_seconds": round(outcome.job.cpu_seconds, 3)}

