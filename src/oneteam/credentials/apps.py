from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    name = "oneteam.credentials"
    label = "credentials"
    verbose_name = _("Credentials")

    def ready(self) -> None:
        from oneteam.credentials import signals

        signals.connect()
