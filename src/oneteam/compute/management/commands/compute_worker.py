"""``oneteam manage compute_worker``: run the compute worker alone, until stopped."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from oneteam.compute.worker import ComputeWorker


class Command(BaseCommand):
    help = "Run compute jobs (labs' submissions) from the queue until stopped."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stop.set())
        worker = ComputeWorker()
        self.stdout.write(f"compute worker {worker.worker_id} running")
        worker.run(stop)
