"""ASGI entry point, for servers that speak ASGI (the views are synchronous)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneteam.platform.settings")
application = get_asgi_application()
