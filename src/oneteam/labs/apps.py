from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabsConfig(AppConfig):
    name = "oneteam.labs"
    label = "labs"
    verbose_name = _("Labs and challenges")

    def ready(self) -> None:
        from oneteam.compute.signals import job_finished
        from oneteam.labs.grading_records import record_job_outcome

        job_finished.connect(record_job_outcome, dispatch_uid="labs.record_job_outcome")
