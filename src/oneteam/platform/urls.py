"""The platform's URLs: its own pages, /api/, and each app's pages at /<app label>/.

An installed app under ``oneteam.`` that has a ``urls`` module is included at
``/<label>/`` under the namespace ``<label>`` (its ``app_name``); the module's
``root_urlpatterns``, if any, are mounted at the site root, outside the namespace.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from oneteam.platform import views
from oneteam.platform.api import api


def app_url_patterns() -> list[URLPattern | URLResolver]:
    included: list[URLPattern | URLResolver] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("oneteam.") or config.name == "oneteam.platform":
            continue
        try:
            module = importlib.import_module(f"{config.name}.urls")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.urls":
                raise
            continue
        included.append(path(f"{config.label}/", include(f"{config.name}.urls")))
        # Paths whose place a standard fixes (a did:web document's URL), at the site root.
        included.extend(getattr(module, "root_urlpatterns", []))
    return included


platform_patterns = ([
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("dashboard/ledger/", views.ledger_panel, name="ledger-panel"),
    path("language/", views.switch_language, name="switch-language"),
    path("healthz", views.health, name="health"),
], "platform")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(platform_patterns)),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    *app_url_patterns(),
]
