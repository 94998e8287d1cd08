"""The compute app's demo data: pools the demo members register.

- KT offers "KT AI cloud" (the local sandbox, 4 jobs at once, 600 credits per CPU-hour)
  to every member;
- KAIST offers its lab server (2 jobs at once, 300 credits per CPU-hour) for the AI
  Developer program;
- LG Electronics runs a small pool of its own for its testbed work.

Jobs on an organization's own pool cost nothing; using another's needs an approval on
the ledger, which the paying organization's administrators give on its usage page once
the demo members have joined the ledger.
"""

from __future__ import annotations

from oneteam.compute.actions import do_register_pool
from oneteam.compute.models import ComputePool, ExecutorKind
from oneteam.platform.demo import DemoAlliance

POOLS = (
    ("kt", "kt-ai-cloud", "KT AI 클라우드", 4, 600, ()),
    ("kaist", "kaist-lab-server", "KAIST 실습 서버", 2, 300, ("ai-developer",)),
    ("lg-electronics", "lge-testbed", "LG전자 테스트베드 서버", 1, 600, ()),
)


def load_demo(alliance: DemoAlliance) -> None:
    for owner_slug, slug, name, capacity, price, programs in POOLS:
        owner = alliance.organizations.get(owner_slug)
        if owner is None or ComputePool.objects.filter(slug=slug).exists():
            continue
        from oneteam.academy.models import Program

        present = [p for p in programs if Program.objects.filter(slug=p).exists()]
        do_register_pool(actor=None, owner=owner, slug=slug, name=name,
                         executor=ExecutorKind.LOCAL, capacity=capacity,
                         price_cpu_hour=price, allowed_program_slugs=present, is_demo=True)
