"""Automatic issuance: the academy's completions, seen through its models' saves, and
the labs' graded results, through the labs' ``result_recorded`` signal.

The academy records a completed cohort (``Enrollment.status`` completed) and completed
lessons (``LessonProgress.completed``); after the saving transaction commits, a task
issues the credentials whose criteria the learner now meets. The academy itself knows
nothing of credentials.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from oneteam.academy.models import Enrollment, EnrollmentStatus, Lesson, LessonProgress


def _enrollment_saved(sender: Any, instance: Enrollment, **kwargs: Any) -> None:
    if instance.status != EnrollmentStatus.COMPLETED or instance.person_id is None:
        return
    from oneteam.credentials.models import Achievement, CriteriaKind

    program_id = instance.cohort.program_id
    if not Achievement.objects.filter(criteria_kind=CriteriaKind.PROGRAM,
                                      program_id=program_id, is_active=True).exists():
        return
    person_id = instance.person_id

    def issue() -> None:
        from oneteam.credentials.tasks import issue_on_completion

        issue_on_completion.enqueue(person_id, None, program_id)

    transaction.on_commit(issue)


def _progress_saved(sender: Any, instance: LessonProgress, **kwargs: Any) -> None:
    if instance.completed is None:
        return
    from oneteam.credentials.models import Achievement, CriteriaKind

    course_id = (Lesson.objects.filter(pk=instance.lesson_id)
                 .values_list("module__course_id", flat=True).first())
    if course_id is None or not Achievement.objects.filter(
            criteria_kind=CriteriaKind.COURSE, course_id=course_id, is_active=True).exists():
        return
    lessons = set(Lesson.objects.filter(module__course_id=course_id)
                  .values_list("pk", flat=True))
    done = set(LessonProgress.objects.filter(person_id=instance.person_id,
                                             lesson_id__in=lessons, completed__isnull=False)
               .values_list("lesson_id", flat=True))
    if not lessons or done != lessons:
        return
    person_id = instance.person_id

    def issue() -> None:
        from oneteam.credentials.tasks import issue_on_completion

        issue_on_completion.enqueue(person_id, course_id, None)

    transaction.on_commit(issue)


def _lab_result_recorded(sender: Any, submission: Any, **kwargs: Any) -> None:
    """After a lab submission's result committed: issue what its scores now earn."""
    if submission.state != "graded" or submission.score is None:
        return
    from oneteam.credentials.models import Achievement, CriteriaKind
    from oneteam.credentials.tasks import issue_on_lab_result

    slug = submission.lab.slug
    if not any(item.get("lab") == slug
               for thresholds in Achievement.objects.filter(
                   criteria_kind=CriteriaKind.LAB_SCORE, is_active=True)
               .values_list("lab_thresholds", flat=True)
               for item in thresholds or []):
        return
    issue_on_lab_result.enqueue(submission.person_id, slug)


def connect() -> None:
    from oneteam.labs.signals import result_recorded

    result_recorded.connect(_lab_result_recorded, dispatch_uid="credentials.lab_result")
    post_save.connect(_enrollment_saved, sender=Enrollment,
                      dispatch_uid="credentials.enrollment_completed")
    post_save.connect(_progress_saved, sender=LessonProgress,
                      dispatch_uid="credentials.lesson_completed")
