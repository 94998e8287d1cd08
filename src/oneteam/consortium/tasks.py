"""Background work of the consortium app: the ledger outbox, invitation e-mails."""

from __future__ import annotations

import datetime

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from oneteam.consortium import outbox
from oneteam.consortium.models import Invitation
from oneteam.platform.tasks import default_task_backend, task

# A deferred run never starts sooner than this, so a busy outbox does not spin.
WAKEUP_MIN_S = 1


@task()
def process_ledger_submissions() -> dict[str, int]:
    """Send the ledger transactions that are due; enqueue a later run for the rest.

    Any number of runs may overlap: each claims a submission before sending it.
    """
    report = outbox.process_due()
    wakeup = outbox.next_wakeup()
    if wakeup is not None and default_task_backend.supports_defer:
        run_after = max(wakeup, timezone.now() + datetime.timedelta(seconds=WAKEUP_MIN_S))
        process_ledger_submissions.using(run_after=run_after).enqueue()
    return {"processed": report.processed, "waiting": report.waiting}


@task()
def send_invitation_email(invitation_id: int, origin: str) -> bool:
    """E-mail an invitation's link, in Korean and in English (the invitee has no account
    yet, so no language of their own); False if it is no longer open."""
    from oneteam.consortium.actions import invitation_token

    invitation = (Invitation.objects.filter(pk=invitation_id)
                  .select_related("organization", "invited_by").first())
    if invitation is None or not invitation.is_open():
        return False
    link = origin.rstrip("/") + reverse("consortium:invitation",
                                        args=[invitation_token(invitation)])
    context = {"invitation": invitation, "link": link, "sender": invitation.invited_by}
    parts = []
    for language in ("ko", "en"):
        with translation.override(language):
            parts.append(render_to_string("consortium/email/invitation.txt", context))
    with translation.override("ko"):
        subject = _("Invitation to %(organization)s on OneTeam") % {
            "organization": invitation.organization.name}
    body = "\n\n----\n\n".join(parts)
    send_mail(subject, body, from_email=None, recipient_list=[invitation.email])
    return True
