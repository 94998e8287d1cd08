"""The list of labs a person sees, decided for all labs at once, is what deciding lab by
lab (``may_see_lab``) gives, for every kind of viewer."""

from __future__ import annotations

import pytest

from oneteam.consortium.models import OrganizationKind, Role
from oneteam.labs import queries
from oneteam.labs.models import Lab
from tests.factories import make_membership, make_operator, make_organization, make_person
from tests.factories.academy import make_program
from tests.factories.labs import make_lab
from tests.labs.app.conftest import Classroom, classroom  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_the_list_is_may_see_lab_for_everyone(classroom: Classroom) -> None:  # noqa: F811
    company = make_organization(slug="kt", kind=OrganizationKind.COMPANY)
    make_lab("wine-testbed", company)
    other = make_organization(slug="snu", kind=OrganizationKind.UNIVERSITY)
    make_lab("diabetes", other, program=make_program(owner=other, slug="open-program"))
    recruiter = make_person(email="recruiter@kt.example")
    make_membership(recruiter, company, Role.RECRUITER)
    staff = make_person(email="staff@snu.example")
    make_membership(staff, other, Role.INSTRUCTOR)
    viewers = [classroom.learner, classroom.instructor, recruiter, staff, make_operator(),
               make_person(email="outsider@example.org")]
    labs = list(Lab.objects.order_by("kind", "slug"))
    assert len(labs) == 3
    seen = set()
    for viewer in viewers:
        listed = [lab.slug for lab in queries.access_labs(viewer)]
        assert listed == [lab.slug for lab in labs if queries.may_see_lab(viewer, lab)]
        seen.add(tuple(listed))
    assert len(seen) >= 4  # the viewers differ, so the comparison means something
