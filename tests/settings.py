"""Settings for the test suite: the platform's, with a throw-away data directory.

``ONETEAM_TEST_DATABASE=postgres`` runs the same tests against PostgreSQL
(``ONETEAM_TEST_POSTGRES_URL``, default the local server's ``test`` database, used only
to connect: the tests create and drop a database of their own, ``oneteam_test_<pid>``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_DATA_DIR = tempfile.mkdtemp(prefix="oneteam-test-data-")
atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)
os.environ["ONETEAM_DATA_DIR"] = _DATA_DIR
os.environ["ONETEAM_TASKS"] = "immediate"
os.environ.pop("DATABASE_URL", None)

from oneteam.platform.config import database_from_url  # noqa: E402
from oneteam.platform.settings import *  # noqa: E402, F403
from oneteam.platform.settings import ALLOWED_HOSTS  # noqa: E402

POSTGRES_URL_DEFAULT = "postgres://postgres@127.0.0.1:5432/test"

if os.environ.get("ONETEAM_TEST_DATABASE") == "postgres":
    DATABASES = {"default": database_from_url(
        os.environ.get("ONETEAM_TEST_POSTGRES_URL", POSTGRES_URL_DEFAULT), conn_max_age_s=0)}
    DATABASES["default"]["TEST"] = {"NAME": f"oneteam_test_{os.getpid()}"}

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
# Tests that are about Argon2 say so (override_settings); the rest hash fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "CRITICAL"}}
