"""The accounts actions: bad input is refused with the field named, nothing half-written."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from oneteam.accounts import actions
from oneteam.accounts.models import ApiToken, Person, SignInFailure
from oneteam.platform.errors import InputError, NotFound, TooManyAttempts
from tests.factories import PASSWORD, make_api_token, make_person

pytestmark = pytest.mark.django_db


def test_sign_up_normalizes_the_address_and_hashes_the_password() -> None:
    person = actions.do_sign_up(email="  Kim@Example.ORG ", display_name="  Kim   Ji-woo ",
                                password=PASSWORD)
    person.refresh_from_db()
    assert person.email == "kim@example.org"
    assert person.display_name == "Kim Ji-woo"
    assert person.preferred_language == "ko"
    assert PASSWORD not in person.password
    assert person.check_password(PASSWORD)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_passwords_are_hashed_with_argon2() -> None:
    person = actions.do_sign_up(email="argon@example.org", display_name="A", password=PASSWORD)
    assert person.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize(("fields", "field"), [
    ({"email": ""}, "email"),
    ({"email": "not-an-address"}, "email"),
    ({"display_name": "   "}, "display_name"),
    ({"display_name": "x" * 101}, "display_name"),
    ({"password": ""}, "password"),
    ({"password": "short"}, "password"),
    ({"password": "1234567890123"}, "password"),
    ({"password": "password123"}, "password"),
    ({"preferred_language": "fr"}, "preferred_language"),
])
def test_sign_up_refuses_bad_input_naming_the_field(fields: dict[str, str], field: str) -> None:
    values = {"email": "new@example.org", "display_name": "New", "password": PASSWORD,
              **fields}
    with pytest.raises(InputError) as caught:
        actions.do_sign_up(**values)
    assert caught.value.field == field
    assert caught.value.message
    assert not Person.objects.exists()


def test_sign_up_refuses_a_taken_address_whatever_its_case() -> None:
    make_person(email="taken@example.org")
    with pytest.raises(InputError) as caught:
        actions.do_sign_up(email="TAKEN@example.org", display_name="B", password=PASSWORD)
    assert caught.value.field == "email"
    assert Person.objects.count() == 1


def test_sign_in_with_right_and_wrong_credentials() -> None:
    person = make_person(email="lee@example.org")
    assert actions.do_sign_in(email="LEE@example.org", password=PASSWORD,
                              address="10.0.0.1") == person
    with pytest.raises(InputError) as caught:
        actions.do_sign_in(email="lee@example.org", password="wrong", address="10.0.0.1")
    assert caught.value.field == "password"
    with pytest.raises(InputError) as caught:
        actions.do_sign_in(email="nobody@example.org", password="wrong", address="10.0.0.1")
    assert caught.value.field == "password"  # the same answer: no one learns who signed up


def test_sign_in_is_throttled_per_account_even_with_the_right_password() -> None:
    make_person(email="park@example.org")
    for index in range(5):
        with pytest.raises(InputError):
            actions.do_sign_in(email="park@example.org", password="wrong",
                               address=f"10.0.0.{index}")
    with pytest.raises(TooManyAttempts) as caught:
        actions.do_sign_in(email="park@example.org", password=PASSWORD, address="10.9.9.9")
    assert caught.value.field == "email"
    assert caught.value.status == 429
    assert 0 < caught.value.retry_after_s <= 15 * 60
    # Another account is not affected.
    make_person(email="choi@example.org")
    actions.do_sign_in(email="choi@example.org", password=PASSWORD, address="10.9.9.9")


@override_settings(ONETEAM_SIGN_IN_FAILURES_PER_ADDRESS_MAX=3)
def test_sign_in_is_throttled_per_address_across_accounts() -> None:
    make_person(email="victim@example.org")
    for index in range(3):
        with pytest.raises(InputError):
            actions.do_sign_in(email=f"guess{index}@example.org", password="wrong",
                               address="192.0.2.7")
    with pytest.raises(TooManyAttempts):
        actions.do_sign_in(email="victim@example.org", password=PASSWORD, address="192.0.2.7")
    assert actions.do_sign_in(email="victim@example.org", password=PASSWORD,
                              address="192.0.2.8")


def test_failures_older_than_the_window_no_longer_count() -> None:
    make_person(email="old@example.org")
    long_ago = timezone.now() - datetime.timedelta(minutes=16)
    SignInFailure.objects.bulk_create([SignInFailure(email=email, address="10.0.0.1",
                                                     created=long_ago)
                                       for email in ("old@example.org", "else@example.org")
                                       for _ in range(10)])
    assert actions.do_sign_in(email="old@example.org", password=PASSWORD, address="10.0.0.1")
    # The success forgot old@'s failures; pruning forgets the rest that fell out of the window.
    assert actions.do_prune_sign_in_failures() == 10
    assert not SignInFailure.objects.exists()


def test_a_successful_sign_in_clears_the_accounts_failures() -> None:
    make_person(email="han@example.org")
    for _ in range(4):
        with pytest.raises(InputError):
            actions.do_sign_in(email="han@example.org", password="wrong", address="10.0.0.1")
    actions.do_sign_in(email="han@example.org", password=PASSWORD, address="10.0.0.1")
    assert not SignInFailure.objects.filter(email="han@example.org").exists()


def test_an_inactive_person_cannot_sign_in() -> None:
    person = make_person(email="gone@example.org")
    person.is_active = False
    person.save()
    with pytest.raises(InputError):
        actions.do_sign_in(email="gone@example.org", password=PASSWORD, address="10.0.0.1")


def test_profile_and_password_changes() -> None:
    person = make_person()
    actions.do_update_profile(person, display_name="New Name", preferred_language="en")
    person.refresh_from_db()
    assert (person.display_name, person.preferred_language) == ("New Name", "en")
    with pytest.raises(InputError) as caught:
        actions.do_update_profile(person, preferred_language="xx")
    assert caught.value.field == "preferred_language"
    with pytest.raises(InputError) as caught:
        actions.do_change_password(person, current_password="wrong", new_password="Another-1x9z")
    assert caught.value.field == "current_password"
    with pytest.raises(InputError) as caught:
        actions.do_change_password(person, current_password=PASSWORD, new_password="abc")
    assert caught.value.field == "new_password"
    actions.do_change_password(person, current_password=PASSWORD, new_password="Another-1x9z")
    person.refresh_from_db()
    assert person.check_password("Another-1x9z")


def test_api_tokens_are_stored_hashed_and_revocable() -> None:
    person = make_person()
    token, secret = make_api_token(person, name="  laptop   script ")
    assert secret.startswith("ot_") and len(secret) > 40
    assert token.name == "laptop script"
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.digest, stored.prefix)
    assert secret.startswith(stored.prefix)
    assert stored.digest == actions.api_token_digest(secret)
    actions.do_revoke_api_token(person, token_id=token.pk)
    assert ApiToken.objects.get(pk=token.pk).revoked is not None
    other = make_person()
    with pytest.raises(NotFound):
        actions.do_revoke_api_token(other, token_id=token.pk)


def test_token_names_and_limits() -> None:
    person = make_person()
    with pytest.raises(InputError) as caught:
        actions.do_create_api_token(person, name=" ")
    assert caught.value.field == "name"
    with override_settings(ONETEAM_API_TOKENS_PER_PERSON_MAX=2):
        make_api_token(person)
        make_api_token(person)
        with pytest.raises(InputError) as caught:
            make_api_token(person)
        assert caught.value.field == "name"


def test_token_use_is_recorded_at_most_once_a_minute() -> None:
    token, _secret = make_api_token(make_person())
    now = timezone.now()
    actions.do_record_api_token_use(token, now)
    actions.do_record_api_token_use(token, now + datetime.timedelta(seconds=30))
    assert ApiToken.objects.get(pk=token.pk).last_used == now
    later = now + datetime.timedelta(seconds=61)
    actions.do_record_api_token_use(token, later)
    assert ApiToken.objects.get(pk=token.pk).last_used == later
