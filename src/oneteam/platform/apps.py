from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformConfig(AppConfig):
    name = "oneteam.platform"
    label = "platform"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from importlib import import_module

        from oneteam.platform import dashboard, navigation

        import_module("oneteam.platform.panels")  # the platform's own panels register
        dashboard.autodiscover()
        navigation.autodiscover()
