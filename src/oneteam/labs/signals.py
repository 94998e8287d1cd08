"""Signals of the labs app, for other apps (the credentials app awards on lab scores).

``result_recorded`` is sent after the database transaction that records a submission's
outcome has committed, with ``submission=`` (a ``labs.models.Submission``; its ``state``
is ``graded`` or ``failed``). Receivers run after commit, so what they read is there; a
receiver that raises does not undo the recorded result.
"""

from __future__ import annotations

from django.dispatch import Signal

result_recorded = Signal()
