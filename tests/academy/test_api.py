"""The academy API: what the pages do, with a token; errors as JSON naming the field."""

from __future__ import annotations

import io
from typing import Any

import pytest

from oneteam.academy.models import Enrollment, EnrollmentMode, LessonImage, SchoolClass
from tests.academy.test_images import png_bytes
from tests.conftest import ApiClient
from tests.factories import make_admin, make_api_token, make_organization, make_person
from tests.factories.academy import (
    complete,
    enroll,
    make_cohort,
    make_instructor,
    make_program,
    make_school_class,
)

pytestmark = pytest.mark.django_db


def token_for(person: Any) -> str:
    return make_api_token(person)[1]


def assert_error(response: Any, status: int, field: str | None) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "field"}, body
    assert body["field"] == field, body
    assert body["message"]
    return str(body["message"])


def test_the_catalogue_and_a_program_tree_with_my_progress(api: ApiClient) -> None:
    program = make_program(slug="alpha")
    make_program(slug="private", visibility="organization")
    learner = make_person()
    complete(learner, program, 3)
    token = token_for(learner)
    assert [p["slug"] for p in api.get("/api/academy/programs", token=token).json()] == [
        "alpha"]
    tree = api.get("/api/academy/programs/alpha", token=token).json()
    assert (tree["lesson_count"], tree["completed_count"]) == (8, 3)
    assert tree["next_lesson"] == "lesson-1-2-2"
    first_lessons = tree["courses"][0]["modules"][0]["lessons"]
    assert [lesson["completed"] for lesson in first_lessons] == [True, True]
    assert_error(api.get("/api/academy/programs/private", token=token), 404, None)
    assert api.get("/api/academy/programs").status_code == 401


def test_lesson_content_in_either_language(api: ApiClient) -> None:
    make_program(slug="alpha")
    token = token_for(make_person())
    korean = api.get("/api/academy/programs/alpha/lessons/lesson-1-1-1", token=token,
                     language="ko").json()
    assert korean["title"] == "강의 1.1.1" and "정리" in korean["html"]
    assert korean["previous"] is None and korean["next"] == "lesson-1-1-2"
    assert korean["progress"] is None
    english = api.get("/api/academy/programs/alpha/lessons/lesson-1-1-1", token=token,
                      language="en").json()
    assert english["language"] == "en" and "## Summary" in english["markdown"]
    assert [h["text"] for h in english["headings"]] == ["Code", "Summary"]
    assert_error(api.get("/api/academy/programs/alpha/lessons/lesson-1-1-1", token=token,
                         language="fr"), 422, "language")
    assert_error(api.get("/api/academy/programs/alpha/lessons/nope", token=token), 404, None)


def test_marking_progress(api: ApiClient) -> None:
    make_program(slug="alpha")
    token = token_for(make_person())
    url = "/api/academy/programs/alpha/lessons/lesson-1-1-1/progress"
    done = api.post(url, {"completed": True}, token=token).json()
    assert done["completed"] is not None
    undone = api.post(url, {"completed": False}, token=token).json()
    assert undone["completed"] is None and undone["started"]
    assert_error(api.post(url, {"completed": "maybe"}, token=token), 422, "completed")
    assert_error(api.post(url, {}, token=token), 422, "completed")
    mine = api.get("/api/academy/me/programs", token=token).json()
    assert mine[0]["program"] == "alpha" and mine[0]["next_lesson"]["slug"] == "lesson-1-1-1"


def test_the_enrollment_round_trip(api: ApiClient) -> None:
    cohort = make_cohort(mode=EnrollmentMode.APPROVAL)
    learner = make_person()
    learner_token, manager_token = token_for(learner), token_for(cohort.instructors.get())
    base = f"/api/academy/cohorts/{cohort.pk}"
    assert_error(api.post(f"{base}/join", token=learner_token), 422, None)
    requested = api.post(f"{base}/request", token=learner_token).json()
    assert requested["status"] == "requested"
    assert api.get(base, token=learner_token).json()["my_status"] == "requested"
    assert_error(api.get(f"{base}/enrollments", token=learner_token), 403, None)
    waiting = api.get(f"{base}/enrollments", token=manager_token, status="requested").json()
    assert [e["email"] for e in waiting] == [learner.email]
    assert_error(api.get(f"{base}/enrollments", token=manager_token, status="asleep"), 422,
                 "status")
    approved = api.post(f"{base}/enrollments/{waiting[0]['id']}/approve",
                        token=manager_token).json()
    assert approved["status"] == "active"
    progress = api.get(f"{base}/progress", token=manager_token).json()
    assert progress["rows"][0]["email"] == learner.email and progress["by"] == "module"
    by_lesson = api.get(f"{base}/progress", token=manager_token, by="lesson").json()
    assert len(by_lesson["columns"]) == 8
    assert_error(api.get(f"{base}/progress", token=manager_token, by="week"), 422, "by")
    assert api.post(f"{base}/withdraw", token=learner_token).json()["status"] == "withdrawn"


def test_invitations_through_the_api(api: ApiClient) -> None:
    cohort = make_cohort(mode=EnrollmentMode.INVITATION)
    manager_token = token_for(cohort.instructors.get())
    url = f"/api/academy/cohorts/{cohort.pk}/invitations"
    assert_error(api.post(url, {"emails": ["ok@example.org", "bad"]}, token=manager_token),
                 422, "emails")
    assert_error(api.post(url, {"emails": "ok@example.org"}, token=manager_token), 422,
                 "emails")
    assert not Enrollment.objects.exists()
    invited = api.post(url, {"emails": ["ok@example.org"]}, token=manager_token).json()
    assert invited[0]["outcome"] == "invited"
    newcomer = make_person(email="ok@example.org")
    token = token_for(newcomer)
    assert api.get("/api/academy/me/invitations", token=token).json()[0]["cohort"] == cohort.pk
    accepted = api.post(f"/api/academy/cohorts/{cohort.pk}/accept", token=token).json()
    assert accepted["status"] == "active"
    outsider_token = token_for(make_person())
    assert_error(api.post(url, {"emails": ["x@example.org"]}, token=outsider_token), 404, None)


@pytest.mark.parametrize(("changes", "field"), [
    ({"program": "no-such-program"}, "program"),
    ({"organization": "no-such-org"}, "organization"),
    ({"name": ""}, "name"),
    ({"starts_on": "2026-02-30"}, "starts_on"),
    ({"ends_on": "2025-01-01"}, "ends_on"),
    ({"enrollment_mode": "raffle"}, "enrollment_mode"),
    ({"capacity": -3}, "capacity"),
    ({"capacity": "lots"}, "capacity"),
    ({"instructors": ["nobody@example.org"]}, "instructors"),
    ({"partners": ["atlantis"]}, "partners"),
])
def test_creating_a_cohort_names_the_bad_field(api: ApiClient, changes: dict[str, Any],
                                               field: str) -> None:
    program = make_program(slug="alpha")
    token = token_for(make_instructor(program.owner))
    body = {"program": "alpha", "organization": program.owner.slug, "name": "Spring",
            "starts_on": "2026-03-02", "ends_on": "2026-08-31", **changes}
    assert_error(api.post("/api/academy/cohorts", body, token=token), 422, field)


def test_creating_a_cohort(api: ApiClient) -> None:
    program = make_program(slug="alpha")
    partner = make_organization(slug="lg")
    instructor = make_instructor(program.owner, display_name="Prof Park")
    token = token_for(instructor)
    response = api.post("/api/academy/cohorts", {
        "program": "alpha", "organization": program.owner.slug, "name": "Spring",
        "starts_on": "2026-03-02", "ends_on": "2026-08-31", "enrollment_mode": "open",
        "capacity": 30, "partners": ["lg"]}, token=token)
    assert response.status_code == 201, response.content
    cohort = response.json()
    assert cohort["instructors"] == ["Prof Park"] and cohort["partners"] == [partner.slug]
    assert cohort["is_manager"] is True
    listed = api.get("/api/academy/cohorts", token=token, program="alpha").json()
    assert [c["id"] for c in listed] == [cohort["id"]]
    assert_error(api.post("/api/academy/cohorts", {
        "program": "alpha", "organization": program.owner.slug, "name": "Mine",
        "starts_on": "2026-03-02", "ends_on": "2026-08-31"}, token=token_for(make_person())),
        403, None)


def test_classes_through_the_api(api: ApiClient) -> None:
    program = make_program(slug="alpha")
    school = make_organization(slug="school", kind="public_body")
    teacher_token = token_for(make_instructor(school))
    assert_error(api.post("/api/academy/classes", {"school": "school", "name": "2-3",
                                                   "courses": ["alpha/nope"]},
                          token=teacher_token), 422, "courses")
    assert_error(api.post("/api/academy/classes", {"school": "nowhere", "name": "2-3",
                                                   "courses": ["alpha/course-1"]},
                          token=teacher_token), 422, "school")
    created = api.post("/api/academy/classes", {"school": "school", "name": "2-3",
                                                "courses": ["alpha/course-1"]},
                       token=teacher_token)
    assert created.status_code == 201, created.content
    code = created.json()["join_code"]
    pupil = make_person()
    pupil_token = token_for(pupil)
    assert_error(api.post("/api/academy/classes/join", {"code": "nope"}, token=pupil_token),
                 422, "code")
    joined = api.post("/api/academy/classes/join", {"code": code}, token=pupil_token).json()
    assert joined["join_code"] is None and joined["my_courses"][0]["course"] == "course-1"
    complete(pupil, program, 1)
    detail = api.get(f"/api/academy/classes/{joined['id']}", token=teacher_token).json()
    assert detail["progress"]["rows"][0]["cells"] == [25]
    assert SchoolClass.objects.get().students.get() == pupil
    [taught] = api.get("/api/academy/classes", token=teacher_token).json()
    assert taught["join_code"] == code and taught["courses"][0]["course"] == "course-1"
    [studied] = api.get("/api/academy/classes", token=pupil_token).json()
    assert studied["join_code"] is None and studied["is_teacher"] is False


def test_lesson_editing_and_image_upload(api: ApiClient, client: Any) -> None:
    program = make_program(slug="alpha")
    lesson = program.lessons.order_by("ordinal").first()
    editor_token = token_for(make_instructor(program.owner))
    edited = api.patch(f"/api/academy/lessons/{lesson.pk}",
                       {"body_en": "Look:\n\n![a chart](chart.png)\n"}, token=editor_token)
    assert edited.status_code == 200, edited.content
    assert "<img" not in edited.json()["html"]  # no such image yet: dropped
    assert_error(api.patch(f"/api/academy/lessons/{lesson.pk}", {"minutes": 0},
                           token=editor_token), 422, "minutes")
    assert_error(api.patch(f"/api/academy/lessons/{lesson.pk}", {"title_en": "Mine"},
                           token=token_for(make_person())), 403, None)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {editor_token}"}
    url = f"/api/academy/lessons/{lesson.pk}/images"
    bad = client.post(url, {"name": "chart.png",
                            "file": io.BytesIO(b"<svg onload=alert(1)>")}, **headers)
    assert_error(bad, 422, "file")
    bad_name = client.post(url, {"name": "../x.png", "file": io.BytesIO(png_bytes())},
                           **headers)
    assert_error(bad_name, 422, "name")
    uploaded = client.post(url, {"name": "chart.png", "file": io.BytesIO(png_bytes())},
                           **headers)
    assert uploaded.status_code == 201, uploaded.content
    image_url = uploaded.json()["url"]
    assert image_url.startswith("/academy/images/") and image_url.endswith(".png")
    lesson_json = api.get("/api/academy/programs/alpha/lessons/lesson-1-1-1",
                          token=editor_token, language="en").json()
    assert f'src="{image_url}"' in lesson_json["html"]
    served = client.get(image_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png_bytes()
    assert LessonImage.objects.count() == 1
    served.close()  # last: closing a response ends the request, and its connections


def test_another_organizations_cohort_data_is_invisible_through_the_api(
        api: ApiClient) -> None:
    private = make_cohort(mode=EnrollmentMode.INVITATION)
    listed = make_cohort(mode=EnrollmentMode.OPEN)
    enroll(make_person(), listed)
    other_admin_token = token_for(make_admin(make_organization()))
    ids = [c["id"] for c in api.get("/api/academy/cohorts", token=other_admin_token).json()]
    assert private.pk not in ids and listed.pk in ids
    assert_error(api.get(f"/api/academy/cohorts/{private.pk}", token=other_admin_token),
                 404, None)
    assert_error(api.get(f"/api/academy/cohorts/{listed.pk}/progress",
                         token=other_admin_token), 403, None)
    assert_error(api.get(f"/api/academy/cohorts/{listed.pk}/enrollments",
                         token=other_admin_token), 403, None)
    school_class = make_school_class()
    assert_error(api.get(f"/api/academy/classes/{school_class.pk}",
                         token=other_admin_token), 404, None)
