"""Settings from the environment, secrets in the data directory, sealing, client addresses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from oneteam.platform import datadir, sealing
from oneteam.platform.config import database_from_url, env_bool, env_int
from oneteam.platform.http import client_address


def test_database_url_becomes_a_postgres_entry() -> None:
    entry = database_from_url("postgres://app:s%40cret@db.internal:6432/oneteam?sslmode=require",
                              conn_max_age_s=30)
    assert entry["ENGINE"] == "django.db.backends.postgresql"
    assert (entry["NAME"], entry["USER"], entry["PASSWORD"]) == ("oneteam", "app", "s@cret")
    assert (entry["HOST"], entry["PORT"]) == ("db.internal", "6432")
    assert entry["OPTIONS"] == {"sslmode": "require"}
    assert entry["CONN_MAX_AGE"] == 30


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host", "postgres://h:99999999/x"])
def test_bad_database_urls_name_the_variable(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url)


def test_environment_values_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONETEAM_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="ONETEAM_X"):
        env_bool("ONETEAM_X", False)
    monkeypatch.setenv("ONETEAM_X", "ten")
    with pytest.raises(ImproperlyConfigured, match="ONETEAM_X"):
        env_int("ONETEAM_X", 1)
    monkeypatch.setenv("ONETEAM_X", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("ONETEAM_X", 1, minimum=1)
    monkeypatch.setenv("ONETEAM_X", "yes")
    assert env_bool("ONETEAM_X", False) is True


def test_secrets_are_generated_once_with_mode_600(tmp_path: Path) -> None:
    key = datadir.secret_key(tmp_path)
    assert len(key) >= 50
    assert datadir.secret_key(tmp_path) == key
    kek = datadir.key_encryption_key(tmp_path)
    assert len(kek) == 32
    for name in ("secret_key", "kek"):
        mode = stat.S_IMODE((tmp_path / "platform" / name).stat().st_mode)
        assert mode == 0o600
    assert datadir.demo_password(tmp_path).isalnum()


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    datadir.secret_key(tmp_path)
    path = tmp_path / "platform" / "secret_key"
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        datadir.secret_key(tmp_path)


def test_the_settings_hold_no_fixed_secret() -> None:
    source = (Path(datadir.__file__).parent / "settings.py").read_text()
    assert "SECRET_KEY = \"" not in source and "SECRET_KEY = '" not in source


def test_sealing_round_trips_and_binds_the_purpose() -> None:
    sealed = sealing.seal(b"private key bytes", purpose="organization-key:kt")
    assert b"private key bytes" not in sealed
    assert sealing.unseal(sealed, purpose="organization-key:kt") == b"private key bytes"
    with pytest.raises(sealing.SealBroken):
        sealing.unseal(sealed, purpose="organization-key:kaist")
    with pytest.raises(sealing.SealBroken):
        sealing.unseal(sealed[:-1] + bytes([sealed[-1] ^ 1]), purpose="organization-key:kt")
    with override_settings(ONETEAM_KEK=b"\x01" * 32), pytest.raises(sealing.SealBroken):
        sealing.unseal(sealed, purpose="organization-key:kt")


def test_client_address_trusts_only_the_configured_proxies() -> None:
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.9",
                          HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.2")
    assert client_address(request) == "10.0.0.9"
    with override_settings(ONETEAM_PROXY_COUNT=1):
        assert client_address(request) == "198.51.100.2"
    with override_settings(ONETEAM_PROXY_COUNT=2):
        assert client_address(request) == "203.0.113.5"
    assert client_address(factory.get("/", REMOTE_ADDR="garbage")) == "0.0.0.0"
