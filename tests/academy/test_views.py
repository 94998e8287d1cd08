"""The academy's pages: what they show, their forms and htmx fragments, 403 and 404."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from oneteam.academy.models import (
    Cohort,
    Enrollment,
    EnrollmentMode,
    EnrollmentStatus,
    LessonProgress,
    SchoolClass,
)
from oneteam.accounts.models import Person
from tests.factories import PASSWORD, make_admin, make_organization, make_person
from tests.factories.academy import (
    complete,
    enroll,
    lessons_of,
    make_cohort,
    make_instructor,
    make_program,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def sign_in(client: Client, person: Person) -> Client:
    response = client.post("/accounts/sign-in/", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def page(response: Any) -> str:
    assert response.status_code == 200, response.content[:2000]
    return str(response.content.decode())


def test_the_catalogue_program_and_course_pages_for_a_visitor(client: Client) -> None:
    program = make_program(slug="visible")
    make_program(slug="hidden", visibility="organization")
    catalogue = page(client.get("/academy/"))
    assert "/academy/programs/visible/" in catalogue
    assert "/academy/programs/hidden/" not in catalogue
    assert "프로그램 visible" in catalogue
    assert "Program visible" in page(client.get("/academy/", HTTP_ACCEPT_LANGUAGE="en"))
    program_page = page(client.get(f"/academy/programs/{program.slug}/"))
    assert "/academy/programs/visible/courses/course-1/" in program_page
    course_page = page(client.get("/academy/programs/visible/courses/course-1/"))
    assert "강의 1.1.1" in course_page and "/lessons/lesson-1-1-1/" in course_page
    assert client.get("/academy/programs/hidden/").status_code == 404
    assert client.get("/academy/programs/visible/courses/nope/").status_code == 404


def test_the_lesson_page_renders_highlighted_code_and_links_its_neighbours(
        client: Client) -> None:
    program = make_program(slug="p")
    html = page(client.get("/academy/programs/p/lessons/lesson-1-1-2/",
                           HTTP_ACCEPT_LANGUAGE="en"))
    assert '<pre class="highlight"><code class="language-python">' in html
    assert '<span class="nb">sum</span>' in html
    assert 'href="/academy/programs/p/lessons/lesson-1-1-1/"' in html
    assert 'href="/academy/programs/p/lessons/lesson-1-2-1/"' in html
    assert 'href="#sec-summary"' in html  # the table of contents
    assert "Sign in to record your progress." in html
    assert not LessonProgress.objects.exists()
    korean = page(client.get("/academy/programs/p/lessons/lesson-1-1-2/"))
    assert "정리" in korean and 'lang="ko"' in korean
    assert program.lessons.count() == 8
    assert client.get("/academy/highlight.css")["Content-Type"].startswith("text/css")


def test_reading_a_lesson_starts_it_and_htmx_marks_it_complete(client: Client) -> None:
    program = make_program(slug="p")
    learner = make_person()
    sign_in(client, learner)
    html = page(client.get("/academy/programs/p/lessons/lesson-1-1-1/"))
    assert "완료로 표시" in html
    progress = LessonProgress.objects.get(person=learner)
    assert progress.started and progress.completed is None
    fragment = page(client.post("/academy/programs/p/lessons/lesson-1-1-1/progress/",
                                {"done": "1"}, **HTMX))
    assert fragment.startswith('<div id="lesson-progress"')
    assert 'data-state="completed"' in fragment
    assert "/academy/programs/p/lessons/lesson-1-1-2/" in fragment  # straight on
    progress.refresh_from_db()
    assert progress.completed is not None
    outline = page(client.get("/academy/programs/p/courses/course-1/"))
    assert outline.count('class="tick done"') == 1
    # Without htmx: the same form, then back to the lesson.
    response = client.post("/academy/programs/p/lessons/lesson-1-1-1/progress/", {"done": "0"})
    assert response.status_code == 302
    assert response["Location"] == "/academy/programs/p/lessons/lesson-1-1-1/"
    progress.refresh_from_db()
    assert progress.completed is None
    assert program.pk


def test_marking_progress_needs_a_signed_in_person(client: Client) -> None:
    make_program(slug="p")
    response = client.post("/academy/programs/p/lessons/lesson-1-1-1/progress/")
    assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
    assert not LessonProgress.objects.exists()


def test_joining_an_open_cohort_with_htmx(client: Client) -> None:
    cohort = make_cohort(mode=EnrollmentMode.OPEN)
    learner = make_person()
    sign_in(client, learner)
    html = page(client.get(f"/academy/cohorts/{cohort.pk}/"))
    assert "코호트 참여하기" in html
    fragment = page(client.post(f"/academy/cohorts/{cohort.pk}/enrollment/join/", **HTMX))
    assert fragment.startswith('<div id="enrollment"')
    assert Enrollment.objects.get(person=learner).status == EnrollmentStatus.ACTIVE
    # A refusal is shown in the fragment (htmx swaps only successful answers).
    fragment = page(client.post(f"/academy/cohorts/{cohort.pk}/enrollment/accept/", **HTMX))
    assert fragment.startswith('<div id="enrollment"')
    assert client.post(f"/academy/cohorts/{cohort.pk}/enrollment/fly/").status_code == 404


def test_a_refusal_without_htmx_becomes_a_message(client: Client) -> None:
    cohort = make_cohort(mode=EnrollmentMode.APPROVAL)
    sign_in(client, make_person())
    response = client.post(f"/academy/cohorts/{cohort.pk}/enrollment/join/", follow=True)
    assert "승인" in page(response)  # "admits learners by approval"
    assert not Enrollment.objects.exists()


def test_invite_and_approve_on_the_management_page(client: Client) -> None:
    cohort = make_cohort(mode=EnrollmentMode.APPROVAL)
    asker = make_person(display_name="Asker")
    from oneteam.academy.actions import do_request_enrollment

    request = do_request_enrollment(person=asker, cohort=cohort)
    sign_in(client, cohort.instructors.get())
    html = page(client.get(f"/academy/cohorts/{cohort.pk}/manage/"))
    assert "Asker" in html and f"/enrollments/{request.pk}/approve/" in html
    response = client.post(f"/academy/cohorts/{cohort.pk}/manage/",
                           {"emails": "a@example.org, b@example.org\nnot-an-address"})
    assert response.status_code == 422
    assert "emails" in response.context["form"].errors
    assert not Enrollment.objects.filter(status="invited").exists()
    response = client.post(f"/academy/cohorts/{cohort.pk}/manage/",
                           {"emails": "a@example.org, b@example.org"})
    assert response.status_code == 302
    assert Enrollment.objects.filter(status="invited").count() == 2
    row = page(client.post(f"/academy/cohorts/{cohort.pk}/enrollments/{request.pk}/approve/",
                           **HTMX))
    assert row.startswith(f'<tr id="enrollment-{request.pk}"') and 'data-status="active"' in row


def test_progress_page_and_csv_for_the_instructor(client: Client) -> None:
    program = make_program(courses=1, modules=2, lessons=2)
    cohort = make_cohort(program)
    learner = make_person(display_name="=cmd|' /C calc'!A0")
    enroll(learner, cohort)
    complete(learner, program, 2)
    instructor = cohort.instructors.get()
    instructor.preferred_language = "en"
    instructor.save()
    sign_in(client, instructor)
    html = page(client.get(f"/academy/cohorts/{cohort.pk}/progress/"))
    assert "100%" in html and "50%" in html
    by_lesson = page(client.get(f"/academy/cohorts/{cohort.pk}/progress/?by=lesson"))
    assert by_lesson.count("✓") >= 2
    response = client.get(f"/academy/cohorts/{cohort.pk}/progress.csv")
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Name", "E-mail address", "Status"]
    assert rows[1][0].startswith("'=")  # a spreadsheet shows it, never runs it
    assert rows[1][3:] == ["100", "0", "2", "50"]


def test_other_people_get_403_or_404(client: Client) -> None:
    cohort = make_cohort(mode=EnrollmentMode.OPEN)
    private = make_cohort(mode=EnrollmentMode.INVITATION)
    sign_in(client, make_admin(make_organization()))
    assert client.get(f"/academy/cohorts/{cohort.pk}/").status_code == 200
    assert client.get(f"/academy/cohorts/{cohort.pk}/progress/").status_code == 403
    assert client.get(f"/academy/cohorts/{cohort.pk}/progress.csv").status_code == 403
    assert client.get(f"/academy/cohorts/{cohort.pk}/manage/").status_code == 403
    assert client.get(f"/academy/cohorts/{private.pk}/").status_code == 404
    assert client.get(f"/academy/cohorts/{private.pk}/progress/").status_code == 404
    assert client.get("/academy/cohorts/999999/").status_code == 404
    assert client.get("/academy/cohorts/new/").status_code == 200  # an admin, elsewhere
    sign_in(client, make_person())
    assert client.get("/academy/cohorts/new/").status_code == 403


def test_creating_a_cohort_names_the_bad_field_and_keeps_the_input(client: Client) -> None:
    program = make_program()
    instructor = make_instructor(program.owner)
    sign_in(client, instructor)
    form = {"program": program.pk, "organization": program.owner.pk, "name": "Spring",
            "starts_on": "2026-03-02", "ends_on": "2026-01-01", "enrollment_mode": "open",
            "capacity": "30", "instructors": ""}
    response = client.post("/academy/cohorts/new/", form)
    assert response.status_code == 422
    assert "ends_on" in response.context["form"].errors
    assert 'value="Spring"' in response.content.decode()
    assert not Cohort.objects.exists()
    response = client.post("/academy/cohorts/new/", {**form, "ends_on": "2026-08-31"})
    cohort = Cohort.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/academy/cohorts/{cohort.pk}/manage/"
    assert list(cohort.instructors.all()) == [instructor]


def test_the_teachers_class_pages(client: Client) -> None:
    school = make_organization(kind="public_body")
    teacher = make_instructor(school)
    program = make_program()
    sign_in(client, teacher)
    response = client.post("/academy/classes/new/", {
        "school": school.pk, "name": "2-3", "courses": [program.courses.first().pk]})
    school_class = SchoolClass.objects.get()
    assert response.status_code == 302
    pupil = make_person(display_name="Pupil Oh")
    response = client.post(f"/academy/classes/{school_class.pk}/students/",
                           {"emails": f"{pupil.email} ghost@example.org"})
    assert response.status_code == 422 and "ghost@example.org" in response.content.decode()
    response = client.post(f"/academy/classes/{school_class.pk}/students/",
                           {"emails": pupil.email})
    assert response.status_code == 302
    complete(pupil, program, 1)
    html = page(client.get(f"/academy/classes/{school_class.pk}/"))
    assert "Pupil Oh" in html and "25%" in html and school_class.join_code in html
    pupil_client = sign_in(Client(), pupil)
    html = page(pupil_client.get(f"/academy/classes/{school_class.pk}/"))
    assert school_class.join_code not in html and "25%" in html
    stranger = sign_in(Client(), make_person())
    assert stranger.get(f"/academy/classes/{school_class.pk}/").status_code == 404
    response = stranger.post("/academy/classes/join/", {"code": school_class.join_code})
    assert response.status_code == 302
    assert school_class.students.count() == 2


def test_the_dashboard_shows_programs_with_the_next_lesson(client: Client) -> None:
    program = make_program(slug="alpha")
    learner = make_person()
    enroll(learner, make_cohort(program))
    complete(learner, program, 2)
    sign_in(client, learner)
    html = page(client.get("/dashboard/"))
    assert "내 프로그램" in html and "25%" in html
    assert 'href="/academy/programs/alpha/lessons/lesson-1-2-1/"' in html
    instructor_client = sign_in(Client(), Cohort.objects.get().instructors.get())
    html = page(instructor_client.get("/dashboard/"))
    assert "가르치는 코호트" in html and "25%" in html


def test_shipped_images_are_served_inert(client: Client) -> None:
    response = client.get(
        "/academy/content/ai-developer/machine-learning/supervised-learning/kfold.en.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"<svg" in b"".join(response.streaming_content)
    response.close()
    for bad in ("ai-developer/program.toml", "../settings.py", "ai-developer/nope.svg",
                "ai-developer/python-data/python-essentials/values-and-collections.en.md"):
        assert client.get(f"/academy/content/{bad}").status_code == 404
    assert lessons_of  # imported for symmetry with the other tests
