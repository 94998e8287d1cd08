"""The demo alliance on the ledger: the nine founding members join it on first run.

The joining is queued (one member after another, each approved by the custodial keys
of those before it) and sent by the task worker in the background, so `oneteam up`
does not wait for the ledger.
"""

from __future__ import annotations

from oneteam.consortium.actions import do_register_founding_members
from oneteam.platform.demo import FOUNDING_MEMBERS, DemoAlliance


def load_demo(alliance: DemoAlliance) -> None:
    founding = [alliance.organizations[member.slug] for member in FOUNDING_MEMBERS
                if member.slug in alliance.organizations]
    do_register_founding_members(founding)
