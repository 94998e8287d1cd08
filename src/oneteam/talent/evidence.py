"""A person's skill evidence, collected from what shows it, never typed in by them.

Sources, strongest first (the weights are the taxonomy's evidence kinds):

- **credentials** (kind ``credential``): the person's valid credentials (not revoked, not
  suspended, not expired). An achievement names its skills as free tags (``{"name",
  "url"}``); a tag the taxonomy knows (by id, name or alias, either language) counts.
  An achievement awarded for a course or a program also evidences that course's or
  program's skills. The level is the one the course or program states for the skill,
  else ``CREDENTIAL_LEVEL_DEFAULT``. Each links to the credential's public verify page.
- **lab results** (kind ``lab_result``): the person's best graded result per lab, from
  ``oneteam.labs.queries.best_results(person)``, with the skills the lab states.
- **courses** (kind ``course``): courses of which the person completed every lesson, with
  the skills the course states (``academy.Course.skills``).
- **the person's word** (kind ``self_declared``): skills they declare on their profile,
  and the skills of the projects they describe.

Search and profiles weigh each piece by its kind, so a verified credential counts more
than a completed course, and both more than a claim.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone

from oneteam.academy.models import Course, Lesson, LessonProgress
from oneteam.accounts.models import Person
from oneteam.credentials.models import CredentialState, IssuedCredential
from oneteam.labs.queries import best_results
from oneteam.talent.errors import TalentInputError
from oneteam.talent.profiles import SOURCE_CHARS_MAX
from oneteam.talent.taxonomy import LEVEL_MAX, LEVEL_MIN, Taxonomy, default_taxonomy

CREDENTIAL_LEVEL_DEFAULT = 2
KINDS_ORDER = ("credential", "lab_result", "achievement", "course", "self_declared")


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One piece of evidence of one skill at one level."""

    code: str  # the skill's id in the taxonomy
    level: int
    kind: str  # one of taxonomy.EVIDENCE_KINDS
    title_ko: str
    title_en: str
    issuer: str  # who stands behind it: the issuing organization, the lab, "self"
    url: str  # where to check it ("" for the person's own word)
    when: datetime.datetime | None
    from_project: bool = False  # a project's skill: shown only with the projects

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_ko

    def source(self, language: str = "ko") -> str:
        """What search shows as the evidence's source (bounded, for the index)."""
        text = self.title(language)
        if self.issuer:
            text = f"{text} ({self.issuer})"
        return text[:SOURCE_CHARS_MAX]


@dataclass(frozen=True, slots=True)
class SkillEvidence:
    """A skill with all its evidence, strongest first."""

    code: str
    name_ko: str
    name_en: str
    ncs_code: str | None
    level: int  # of the strongest piece
    strength: float  # kind weight × level / 5 of the strongest piece, 0 to 1
    items: tuple[EvidenceItem, ...]

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_ko

    @property
    def best(self) -> EvidenceItem:
        return self.items[0]

    @property
    def verified(self) -> bool:
        return self.best.kind != "self_declared"


def _strength(taxonomy: Taxonomy, item: EvidenceItem) -> float:
    return taxonomy.evidence_weight(item.kind) * item.level / LEVEL_MAX


def summarize(items: Iterable[EvidenceItem], taxonomy: Taxonomy | None = None
              ) -> list[SkillEvidence]:
    """Evidence grouped by skill, each skill's pieces strongest first; skills strongest
    first, then by name."""
    taxonomy = taxonomy or default_taxonomy()
    by_skill: dict[str, list[EvidenceItem]] = defaultdict(list)
    for item in items:
        by_skill[item.code].append(item)
    skills = []
    for code, pieces in by_skill.items():
        pieces.sort(key=lambda item: (-_strength(taxonomy, item), KINDS_ORDER.index(item.kind),
                                      item.title_en))
        info = taxonomy.skill(code)
        skills.append(SkillEvidence(code, info.ko, info.en, info.code, pieces[0].level,
                                    round(_strength(taxonomy, pieces[0]), 4), tuple(pieces)))
    skills.sort(key=lambda skill: (-skill.strength, skill.name_en))
    return skills


def _known(taxonomy: Taxonomy, name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return taxonomy.resolve(name.strip()).id
    except TalentInputError:
        return None  # a free tag the taxonomy does not know: not evidence of a skill


def _levels_of(skills: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    levels: dict[str, int] = {}
    for skill in skills:
        code, level = skill.get("code"), skill.get("level")
        if isinstance(code, str) and isinstance(level, int):
            levels[code] = max(levels.get(code, 0), level)
    return levels


def _credentials(person_ids: Sequence[int], taxonomy: Taxonomy
                 ) -> dict[int, list[EvidenceItem]]:
    now = timezone.now()
    found: dict[int, list[EvidenceItem]] = defaultdict(list)
    credentials = list(
        IssuedCredential.objects.filter(recipient_id__in=person_ids,
                                        state=CredentialState.ACTIVE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("achievement", "organization", "achievement__course")
        .order_by("issued", "id"))
    program_ids = {c.achievement.program_id for c in credentials if c.achievement.program_id}
    program_levels: dict[int, dict[str, int]] = defaultdict(dict)
    for program_id, skills in Course.objects.filter(program_id__in=program_ids).values_list(
            "program_id", "skills"):
        for code, level in _levels_of(skills).items():
            program_levels[program_id][code] = max(program_levels[program_id].get(code, 0),
                                                   level)
    for credential in credentials:
        achievement = credential.achievement
        stated: dict[str, int] = {}
        if achievement.course_id is not None and achievement.course is not None:
            stated = _levels_of(achievement.course.skills)
        elif achievement.program_id is not None:
            stated = dict(program_levels.get(achievement.program_id, {}))
        levels = dict(stated)
        for tag in achievement.skills:
            known = _known(taxonomy, tag.get("name") if isinstance(tag, Mapping) else tag)
            if known is not None:
                levels.setdefault(known, CREDENTIAL_LEVEL_DEFAULT)
        url = reverse("credentials:verify-stored", args=[str(credential.public_id)])
        for code, level in levels.items():
            found[credential.recipient_id].append(EvidenceItem(
                code=code, level=min(max(level, LEVEL_MIN), LEVEL_MAX), kind="credential",
                title_ko=achievement.name, title_en=achievement.name,
                issuer=credential.organization.name, url=url, when=credential.issued))
    return found


def _courses(person_ids: Sequence[int]) -> dict[int, list[EvidenceItem]]:
    """Courses with skills whose every lesson the person completed."""
    done = (LessonProgress.objects.filter(person_id__in=person_ids, completed__isnull=False)
            .values("person_id", "lesson__module__course_id")
            .annotate(count=Count("id"), last=Max("completed")))
    course_ids = {row["lesson__module__course_id"] for row in done}
    if not course_ids:
        return {}
    totals = dict(Lesson.objects.filter(module__course_id__in=course_ids)
                  .values("module__course_id").annotate(count=Count("id"))
                  .values_list("module__course_id", "count"))
    courses = {course.pk: course for course in
               Course.objects.filter(pk__in=course_ids).select_related("program")}
    found: dict[int, list[EvidenceItem]] = defaultdict(list)
    for row in done:
        course = courses.get(row["lesson__module__course_id"])
        if course is None or not course.skills or row["count"] < totals.get(course.pk, 0):
            continue
        url = reverse("academy:course", args=[course.program.slug, course.slug])
        for code, level in _levels_of(course.skills).items():
            found[row["person_id"]].append(EvidenceItem(
                code=code, level=level, kind="course", title_ko=course.title_ko,
                title_en=course.title_en, issuer=course.program.title_ko
                if course.program.title_ko else course.program.title_en,
                url=url, when=row["last"]))
    return found


def _labs(persons: Sequence[Person], taxonomy: Taxonomy) -> dict[int, list[EvidenceItem]]:
    found: dict[int, list[EvidenceItem]] = defaultdict(list)
    for person in persons:
        for result in best_results(person):
            issuer = f"{result.score:g}" + (f"/{result.max_score:g}" if result.max_score
                                            else "")
            if result.metric_name and result.metric is not None:
                issuer = f"{issuer}, {result.metric_name} {result.metric:.4g}"
            for skill in result.skills:
                code = _known(taxonomy, skill.get("code"))
                level = skill.get("level")
                if code is None or not isinstance(level, int) or not (
                        LEVEL_MIN <= level <= LEVEL_MAX):
                    continue
                found[person.pk].append(EvidenceItem(
                    code=code, level=level, kind="lab_result", title_ko=result.title_ko,
                    title_en=result.title_en, issuer=issuer, url=result.url,
                    when=result.graded_at))
    return found


def _declared(profile: Any, taxonomy: Taxonomy) -> list[EvidenceItem]:
    """The person's own word: declared skills and their projects' skills."""
    if profile is None:
        return []
    items = []
    for code, level in _levels_of(profile.declared_skills).items():
        if code in taxonomy:
            items.append(EvidenceItem(code=code, level=level, kind="self_declared",
                                      title_ko="본인 신고", title_en="Self-declared", issuer="",
                                      url="", when=profile.updated))
    for project in profile.projects.all():
        for code, level in _levels_of(project.skills).items():
            if code in taxonomy:
                items.append(EvidenceItem(code=code, level=level, kind="self_declared",
                                          title_ko=project.title, title_en=project.title,
                                          issuer="", url=project.url, when=project.created,
                                          from_project=True))
    return items


def collect_many(persons: Sequence[Person], *, profiles: Mapping[int, Any] | None = None,
                 taxonomy: Taxonomy | None = None) -> dict[int, list[EvidenceItem]]:
    """Every person's evidence, verified sources first, in a fixed number of queries
    (plus the labs app's own per person)."""
    taxonomy = taxonomy or default_taxonomy()
    ids = [person.pk for person in persons]
    credentials = _credentials(ids, taxonomy)
    labs = _labs(persons, taxonomy)
    courses = _courses(ids)
    profiles = profiles or {}
    return {person.pk: [*credentials.get(person.pk, []), *labs.get(person.pk, []),
                        *courses.get(person.pk, []),
                        *_declared(profiles.get(person.pk), taxonomy)]
            for person in persons}


def collect(person: Person, profile: Any = None) -> list[EvidenceItem]:
    """One person's evidence (``profile``: their TalentProfile, for their own word)."""
    return collect_many([person], profiles={person.pk: profile} if profile else None)[person.pk]
