"""Signals of the compute app, for the apps whose work runs as jobs (the labs).

``job_finished`` is sent by the worker inside the database transaction that records a
job's end, with ``job=`` (the ``Job`` row, already updated) and ``result=`` (the
executor's ``JobResult``, with its files: ``results/results.json``, collected files).
A receiver records what it needs from the result in that same transaction, so a job is
never finished without its owner knowing. It must not raise for a job it does not own.
"""

from __future__ import annotations

from django.dispatch import Signal

job_finished = Signal()
