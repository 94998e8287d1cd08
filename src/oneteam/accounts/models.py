"""People, their API tokens, and the record of failed sign-ins."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DISPLAY_NAME_LENGTH_MAX = 100
TOKEN_NAME_LENGTH_MAX = 100


def normalize_email(email: str) -> str:
    """E-mail addresses compare without regard to case or surrounding space."""
    return email.strip().lower()


class PersonManager(BaseUserManager["Person"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> Person:
        if not email:
            raise ValueError("a person needs an e-mail address")
        fields.setdefault("display_name", email.split("@", 1)[0])
        person = self.model(email=normalize_email(email), **fields)
        person.set_password(password)
        person.save(using=self._db)
        return person

    def create_superuser(self, email: str, password: str | None = None,
                         **fields: Any) -> Person:
        fields.update(is_staff=True, is_superuser=True, is_operator=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> Person:
        return self.get(email=normalize_email(username or ""))


class Person(AbstractBaseUser, PermissionsMixin):
    """Someone who signs in: a learner, an instructor, a recruiter, an administrator.

    Signs in with an e-mail address. Belongs to organizations through
    ``consortium.Membership`` (with a role in each), or to none: a learner needs none.
    ``is_operator`` marks the alliance's operators, who see the alliance as a whole.
    """

    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=DISPLAY_NAME_LENGTH_MAX)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("May use the administration site."))
    is_operator = models.BooleanField(
        _("alliance operator"), default=False,
        help_text=_("Sees and runs the alliance as a whole."))
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[PersonManager] = PersonManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering: ClassVar[list[str]] = ["display_name", "email"]

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>"

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once, at creation."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens",
                               verbose_name=_("person"))
    name = models.CharField(_("name"), max_length=TOKEN_NAME_LENGTH_MAX)
    # The token's first characters, to recognise it in a list; not enough to use it.
    prefix = models.CharField(_("prefix"), max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering: ClassVar[list[str]] = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked is None


class SignInFailure(models.Model):
    """A failed sign-in, kept for the throttling window: per account and per client address."""

    email = models.CharField(max_length=254)
    address = models.GenericIPAddressField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["email", "created"], name="signin_failure_email"),
            models.Index(fields=["address", "created"], name="signin_failure_address"),
        ]
