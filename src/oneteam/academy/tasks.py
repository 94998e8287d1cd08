"""Background work of the academy: invitation e-mails."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from oneteam.academy.models import Enrollment, EnrollmentStatus
from oneteam.platform.tasks import task


@task()
def send_invitation_email(enrollment_id: int, origin: str) -> bool:
    """E-mail an invitation to a cohort, in the invitee's language (Korean if unknown).

    False when the invitation is gone or no longer pending.
    """
    enrollment = (Enrollment.objects.select_related("cohort__program", "cohort__organization",
                                                    "person", "invited_by")
                  .filter(pk=enrollment_id, status=EnrollmentStatus.INVITED).first())
    if enrollment is None:
        return False
    language = enrollment.person.preferred_language if enrollment.person else "ko"
    link = origin.rstrip("/") + reverse("academy:cohort", args=[enrollment.cohort_id])
    with translation.override(language):
        subject = _("You are invited to %(cohort)s on OneTeam") % {
            "cohort": enrollment.cohort.name}
        body = render_to_string("academy/email/invitation.txt",
                                {"enrollment": enrollment, "cohort": enrollment.cohort,
                                 "link": link})
    send_mail(subject, body, from_email=None, recipient_list=[enrollment.email])
    return True
