"""The credentials app's tests: the platform, a real ledger node on loopback, and no other
network (the core's tests above refuse every connection; these allow loopback only)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from oneteam.accounts.models import Person
from oneteam.consortium import actions as consortium_actions
from oneteam.consortium.models import Organization, Role
from oneteam.credentials.models import Achievement
from tests.consortium.conftest import LedgerNode, did_host, ledger  # noqa: F401 - fixtures
from tests.credentials.conftest import NetworkAttempted
from tests.factories import make_membership, make_operator, make_organization, make_person

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _host_of(address: Any) -> str:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    create_connection, getaddrinfo = socket.create_connection, socket.getaddrinfo

    def check(host: str) -> None:
        if host not in LOOPBACK:
            raise NetworkAttempted(f"a credentials test tried to reach {host}")

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family != socket.AF_UNIX:
            check(_host_of(address))
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family != socket.AF_UNIX:
            check(_host_of(address))
        return connect_ex(self, address)

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        check(_host_of(address))
        return create_connection(address, *args, **kwargs)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        check(str(host))
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield


@dataclass
class Issuing:
    """A university registered on the ledger, its instructor, a learner and an achievement."""

    organization: Organization
    instructor: Person
    learner: Person
    achievement: Achievement


def make_issuing(*, slug: str = "kaist", register: bool = True) -> Issuing:
    from oneteam.credentials.actions import do_define_achievement

    organization = make_organization(slug=slug, name_ko="한국과학기술원", name_en="KAIST",
                                     kind="university")
    if register:
        consortium_actions.do_start_joining(actor=make_operator(), organization=organization)
        organization.refresh_from_db()
    instructor = make_person(display_name="Instructor")
    make_membership(instructor, organization, Role.INSTRUCTOR)
    learner = make_person(display_name="Learner")
    achievement = do_define_achievement(
        actor=instructor, organization=organization, name="AI Developer",
        description="Builds and ships machine-learning systems.",
        criteria_narrative="Completed the AI Developer program with every lab passed.",
        skills=["Python", {"name": "Deep learning", "url": "https://example.org/skills/dl"}])
    return Issuing(organization, instructor, learner, achievement)


@pytest.fixture
def issuing(ledger: LedgerNode, did_host: str) -> Issuing:  # noqa: F811
    return make_issuing()


@pytest.fixture
def offline_issuing(did_host: str) -> Issuing:  # noqa: F811
    """No ledger: the organization is not registered, credentials wait unanchored."""
    return make_issuing(register=False)

