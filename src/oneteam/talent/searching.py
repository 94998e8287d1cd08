"""The platform's search index: built from the database, kept per process, rebuilt when stale.

The index (`search.TalentIndex`) holds every profile whose owner lets some recruiter see
it (audience not "nobody") and every posting open for applications. Only what the
learner shows goes in: their evidence if they show their skills, their projects if they
show those. Who may see which result is decided afterwards by ``queries`` (a learner's
chosen companies, their applications, their fairs): the index never answers a
recruiter directly.

Staleness: before each search a few aggregate queries (``fingerprint``) read the count
and latest change of what the index is built from — profiles, projects, postings,
credentials and their status changes, completed lessons. A different fingerprint means a
rebuild, under a lock, so concurrent requests of one process build once. Building embeds
only passages it has not embedded before in this process (`CachingEncoder`): editing one
profile costs the encoding of its changed sentences, not of the whole corpus. The models
(Kiwi, the sentence encoder) load once per process, on the first search.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count, Max
from django.utils import timezone

from oneteam.academy.models import LessonProgress
from oneteam.credentials.models import IssuedCredential, StatusChange
from oneteam.labs.models import Submission
from oneteam.talent import evidence as evidence_module
from oneteam.talent.embedding import SentenceEncoder, shared_encoder
from oneteam.talent.models import Audience, Posting, PostingStatus, Project, TalentProfile
from oneteam.talent.profiles import CandidateProfile, Evidence, SkillRequirement
from oneteam.talent.profiles import Posting as SearchPosting
from oneteam.talent.search import TalentIndex
from oneteam.talent.taxonomy import default_taxonomy

PASSAGE_VECTORS_KEPT_MAX = 200_000


class CachingEncoder:
    """The shared sentence encoder, remembering the vectors of the passages it encoded
    (at most PASSAGE_VECTORS_KEPT_MAX, the oldest forgotten first)."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self._encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            fresh = self._encoder.encode(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[text] = vector
                while len(self._vectors) > PASSAGE_VECTORS_KEPT_MAX:
                    self._vectors.popitem(last=False)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._vectors.get(text)
                if vector is None:  # forgotten meanwhile by a huge batch: encode again
                    vector = self._encoder.encode([text])[0]
                out[i] = vector
        return out


@dataclass(slots=True)
class Snapshot:
    """An index and what the platform needs beside it to show results."""

    fingerprint: tuple[Any, ...]
    index: TalentIndex
    # candidate id -> evidence source -> link, so an explanation's evidence links to it
    evidence_links: dict[str, dict[str, str]] = field(default_factory=dict)
    built: Any = None


_lock = threading.Lock()
_snapshot: Snapshot | None = None
_encoder: CachingEncoder | None = None


def shared_caching_encoder() -> CachingEncoder:
    global _encoder  # noqa: PLW0603 - one per process, like the encoder it wraps
    if _encoder is None:
        _encoder = CachingEncoder(shared_encoder())
    return _encoder


def candidate_id(profile_id: int) -> str:
    return f"c{profile_id}"


def posting_id(posting_pk: int) -> str:
    return f"p{posting_pk}"


def number_of(document_id: str) -> int:
    return int(document_id[1:])


def fingerprint() -> tuple[Any, ...]:
    """What the index is built from, summarized: changes whenever any of it changes."""
    profiles = TalentProfile.objects.aggregate(count=Count("id"), last=Max("updated"))
    projects = Project.objects.aggregate(count=Count("id"), last=Max("id"))
    postings = Posting.objects.aggregate(count=Count("id"), last=Max("updated"))
    credentials = IssuedCredential.objects.aggregate(count=Count("id"), last=Max("id"))
    changes = StatusChange.objects.aggregate(last=Max("id"))
    lessons = LessonProgress.objects.filter(completed__isnull=False).aggregate(
        count=Count("id"), last=Max("completed"))
    labs = _lab_results_stamp()
    # a posting's deadline passing, or a credential expiring, changes nothing above
    return (*labs, profiles["count"], profiles["last"], projects["count"], projects["last"],
            postings["count"], postings["last"], credentials["count"], credentials["last"],
            changes["last"], lessons["count"], lessons["last"], timezone.localdate())


def _lab_results_stamp() -> tuple[Any, ...]:
    """Count and latest grading of lab submissions."""
    graded = Submission.objects.filter(graded_at__isnull=False).aggregate(
        count=Count("id"), last=Max("graded_at"))
    return (graded["count"], graded["last"])


def requirements_of(posting: Posting) -> tuple[SkillRequirement, ...]:
    return tuple(SkillRequirement(item["code"], int(item["level"]),
                                  bool(item.get("required", True)))
                 for item in posting.requirements)


def search_posting(posting: Posting) -> SearchPosting:
    return SearchPosting(id=posting_id(posting.pk), title=posting.title,
                         text=posting.description, requirements=requirements_of(posting),
                         organization=posting.organization.name, kind=posting.kind)


def profile_text(profile: TalentProfile, projects: Sequence[Project]) -> str:
    """What a profile says in words: headline, summary, preferences and, if shown, projects."""
    parts = [profile.headline, profile.summary]
    if profile.show_preferences and profile.desired_roles:
        parts.append(profile.desired_roles)
    if profile.show_projects:
        parts.extend(f"{project.title}. {project.description}" for project in projects)
    return "\n".join(part for part in parts if part)


def shown_evidence(profile: TalentProfile, items: Sequence[evidence_module.EvidenceItem]
                   ) -> list[evidence_module.EvidenceItem]:
    """The evidence a profile shows: none if the skills are hidden; without the projects'
    if the projects are."""
    if not profile.show_skills:
        return []
    return [item for item in items if profile.show_projects or not item.from_project]


def candidate(profile: TalentProfile, items: Sequence[evidence_module.EvidenceItem],
              language: str = "ko") -> tuple[CandidateProfile, dict[str, str]]:
    """The search form of a profile, and the links of its evidence by source."""
    shown = shown_evidence(profile, items)
    links = {item.source(language): item.url for item in shown if item.url}
    projects = list(profile.projects.all())
    return CandidateProfile(
        id=candidate_id(profile.pk), text=profile_text(profile, projects),
        evidence=tuple(Evidence(item.code, item.level, item.kind, item.source(language))
                       for item in shown[:500]),
        name=profile.person.display_name), links


def own_candidate(person: Any, profile: TalentProfile | None,
                  items: Sequence[evidence_module.EvidenceItem]) -> CandidateProfile:
    """A person as they see themselves: all their evidence and words, whatever they show
    recruiters (what postings to recommend to them)."""
    parts = []
    if profile is not None:
        parts = [profile.headline, profile.summary, profile.desired_roles,
                 *(f"{project.title}. {project.description}"
                   for project in profile.projects.all())]
    return CandidateProfile(
        id=f"me{person.pk}", text="\n".join(part for part in parts if part),
        evidence=tuple(Evidence(item.code, item.level, item.kind, item.source())
                       for item in items[:500]), name=person.display_name)


def _build(stamp: tuple[Any, ...]) -> Snapshot:
    profiles = list(TalentProfile.objects.exclude(audience=Audience.NOBODY)
                    .select_related("person").prefetch_related("projects").order_by("id"))
    evidence = evidence_module.collect_many(
        [profile.person for profile in profiles],
        profiles={profile.person_id: profile for profile in profiles})
    candidates = []
    links: dict[str, dict[str, str]] = {}
    for profile in profiles:
        found, profile_links = candidate(profile, evidence[profile.person_id])
        candidates.append(found)
        links[found.id] = profile_links
    today = timezone.localdate()
    postings = [search_posting(posting) for posting in
                Posting.objects.filter(status=PostingStatus.OPEN).select_related("organization")
                .order_by("id") if posting.deadline is None or posting.deadline >= today]
    index = TalentIndex.build(default_taxonomy(), candidates, postings,
                              encoder=shared_caching_encoder())
    return Snapshot(stamp, index, links, timezone.now())


def current() -> Snapshot:
    """The index for the database as it is now, rebuilt first if anything changed."""
    global _snapshot  # noqa: PLW0603 - the process-wide index
    stamp = fingerprint()
    snapshot = _snapshot
    if snapshot is not None and snapshot.fingerprint == stamp:
        return snapshot
    with _lock:
        snapshot = _snapshot
        if snapshot is None or snapshot.fingerprint != stamp:
            snapshot = _snapshot = _build(stamp)
        return snapshot


def forget() -> None:
    """Drop the index (tests that change the clock or the taxonomy)."""
    global _snapshot  # noqa: PLW0603
    with _lock:
        _snapshot = None
