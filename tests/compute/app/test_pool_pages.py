"""A pool's page: its administrators change what it offers (capacity, prices) and pause it;
everyone else sees the offer and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from oneteam.compute.models import ComputePool
from tests.factories import PASSWORD, make_admin, make_organization, make_person
from tests.factories.labs import make_pool

pytestmark = pytest.mark.django_db


def signed_in(email: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.post("/accounts/sign-in/", {"email": email, "password": PASSWORD}
                       ).status_code == 302
    return client


def test_administrators_change_the_offer_and_others_cannot() -> None:
    kaist = make_organization(slug="kaist", name_en="KAIST")
    make_admin(kaist, email="admin@kaist.example", language="en")
    pool = make_pool(kaist, capacity=2, price_cpu_hour=10)
    page = f"/compute/pools/{pool.slug}/"
    admin = signed_in("admin@kaist.example")
    shown = admin.get(page).content.decode()
    assert "What the pool offers" in shown and 'name="capacity"' in shown

    saved = admin.post(page, {"form": "offer", "capacity": "4", "price_cpu_hour": "25",
                              "price_gpu_hour": "300"})
    assert saved.status_code == 302
    pool.refresh_from_db()
    assert (pool.capacity, pool.price_cpu_hour, pool.price_gpu_hour) == (4, 25, 300)

    refused = admin.post(page, {"form": "offer", "capacity": "0", "price_cpu_hour": "-1",
                                "price_gpu_hour": "x"})
    assert refused.status_code == 422
    errors = refused.context["offer"].errors
    assert set(errors) == {"capacity", "price_cpu_hour", "price_gpu_hour"}
    pool.refresh_from_db()
    assert (pool.capacity, pool.price_cpu_hour, pool.price_gpu_hour) == (4, 25, 300)

    assert admin.post(page, {"active": "0"}).status_code == 302
    assert ComputePool.objects.get(pk=pool.pk).active is False

    make_person(email="someone@example.org")
    other = signed_in("someone@example.org")
    seen = other.get(page)
    assert seen.status_code == 200 and 'name="capacity"' not in seen.content.decode()
    assert other.post(page, {"form": "offer", "capacity": "9", "price_cpu_hour": "0",
                             "price_gpu_hour": "0"}).status_code in (403, 404)
    assert ComputePool.objects.get(pk=pool.pk).capacity == 4
