"""Every organization made before keys existed gets its first signing key (sealed)."""

from typing import Any

import nacl.signing
from django.db import migrations

# The same purpose as oneteam.consortium.identity.seal_purpose, written out so that this
# migration keeps working whatever that module becomes.
SEAL_PURPOSE_PREFIX = "consortium.organization-key:"


def first_keys(apps: Any, schema_editor: Any) -> None:
    from oneteam.platform.sealing import seal

    organization_model = apps.get_model("consortium", "Organization")
    key_model = apps.get_model("consortium", "OrganizationKey")
    for organization in organization_model.objects.filter(keys__isnull=True):
        signing_key = nacl.signing.SigningKey.generate()
        public_key = bytes(signing_key.verify_key).hex()
        key_model.objects.create(
            organization=organization, number=1, public_key=public_key, state="current",
            sealed_seed=seal(bytes(signing_key), purpose=SEAL_PURPOSE_PREFIX + public_key))


class Migration(migrations.Migration):

    dependencies = [
        ("consortium", "0002_organization_keys_ledger"),
    ]

    operations = [
        migrations.RunPython(first_keys, migrations.RunPython.noop),
    ]
