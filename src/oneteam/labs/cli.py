"""``oneteam labs check|build|grade``: what a bundle author runs on their own machine."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from oneteam.compute.executors import ExecutorError, SpecError
    from oneteam.labs.bundles import BundleError, load_bundle
    from oneteam.labs.grading import SubmissionError

    try:
        with tempfile.TemporaryDirectory(prefix="oneteam-bundle-") as temporary:
            if args.labs_command == "build":
                from oneteam.labs.content import build_bundle

                bundle = build_bundle(args.slug, args.destination)
                print(f"built {bundle.slug} in {bundle.root}")
                return 0
            bundle = load_bundle(args.path if args.labs_command == "check" else args.bundle,
                                 extract_to=Path(temporary) / "bundle")
            if args.labs_command == "check":
                print(f"{bundle.slug}: a valid {bundle.kind} ({bundle.title['en']}; metric "
                      f"{bundle.metric_name}, {bundle.metric_direction})")
                return 0
            return _grade(bundle, args)
    except BundleError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except (SubmissionError, SpecError, ExecutorError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _grade(bundle: object, args: argparse.Namespace) -> int:
    from oneteam.compute.executors import LocalSandbox
    from oneteam.labs.bundles import Bundle
    from oneteam.labs.grading import grade_submission, outcome_summary

    assert isinstance(bundle, Bundle)
    files = {path.name: path for path in args.files}
    with LocalSandbox() as executor:
        outcome = grade_submission(executor, bundle, files, job_id="local-grade")
    if args.json:
        print(json.dumps({**outcome_summary(outcome), "view": outcome.view()}, indent=2,
                         ensure_ascii=False))
    else:
        summary = outcome_summary(outcome)
        if outcome.graded:
            print(f"score {summary['score']:g}/{summary['max_score']:g}, "
                  f"{bundle.metric_name} {summary['metric']}")
        else:
            print(f"not graded ({outcome.reason}): {outcome.detail}")
        if outcome.run_stderr:
            print("--- the submission's stderr (end):\n" + outcome.run_stderr[-2000:])
    return 0 if outcome.graded else 1
