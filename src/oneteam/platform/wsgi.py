"""WSGI entry point: ``gunicorn oneteam.platform.wsgi:application`` (what `oneteam up` runs)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneteam.platform.settings")
application = get_wsgi_application()
