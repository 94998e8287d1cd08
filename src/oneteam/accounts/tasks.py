"""Background work of the accounts app."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from oneteam.accounts.models import Person
from oneteam.platform.tasks import task


@task()
def send_password_reset_email(person_id: int, origin: str) -> bool:
    """E-mail a password reset link, in the person's language; False if they are gone."""
    person = Person.objects.filter(pk=person_id, is_active=True).first()
    if person is None:
        return False
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = default_token_generator.make_token(person)
    link = origin.rstrip("/") + reverse("accounts:password-reset-confirm", args=[uid, token])
    with translation.override(person.preferred_language):
        subject = _("Reset your OneTeam password")
        body = render_to_string("accounts/email/password_reset.txt",
                                {"person": person, "link": link})
    send_mail(subject, body, from_email=None, recipient_list=[person.email])
    return True


@task()
def prune_sign_in_failures() -> int:
    """Forget failed sign-ins older than the throttling window."""
    from oneteam.accounts.actions import do_prune_sign_in_failures

    return do_prune_sign_in_failures()
