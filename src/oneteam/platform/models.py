"""The platform's own bookkeeping."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DemoLoad(models.Model):
    """A demo-data loader that has run on this database (each runs once; see ``demo.py``)."""

    name = models.CharField(max_length=200, unique=True)
    loaded = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name
