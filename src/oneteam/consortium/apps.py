from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsortiumConfig(AppConfig):
    name = "oneteam.consortium"
    label = "consortium"
    verbose_name = _("Member organizations")

    def ready(self) -> None:
        from oneteam.consortium.identity import check_did_host_setting

        check_did_host_setting()  # a DID host that cannot name a did:web stops the start
