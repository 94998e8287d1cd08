"""Background tasks: Django's tasks framework, whichever package provides it.

Django 6 has ``django.tasks`` built in; on Python 3.11 the platform runs Django 5.2
with the framework's backport, ``django_tasks``. The dependency markers in
pyproject.toml tie the two choices to the Python version, and so does this module.
Apps write ``from oneteam.platform.tasks import task`` in their ``tasks.py``.

The queue is stored in the database (``django_tasks_db``) and drained by
``oneteam worker`` (started by ``oneteam up``); tests run tasks at once.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 12):
    from django.tasks import TaskResultStatus, default_task_backend, task
else:
    from django_tasks import TaskResultStatus, default_task_backend, task

__all__ = ["TaskResultStatus", "default_task_backend", "task"]
