"""Candidate profiles and postings, as search sees them, and their columnar form.

`CandidateProfile` and `Posting` are what callers hand in (the `talent` Django app will
build them from its models); `CandidateColumns` and `PostingColumns` are the same data
as flat numpy arrays, the form the index is built from, so that a million profiles fit
in memory: an evidence record is 8 bytes, a passage reference 4. The synthetic data of
the benchmark is generated in columnar form directly.

Each profile's or posting's text is split into passages (sentences), and the names of
its skills are added as passages of their own, in the text's language: the index
tokenizes and embeds each distinct passage once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from oneteam.talent.errors import TalentInputError, check
from oneteam.talent.taxonomy import EVIDENCE_KINDS, LEVEL_MAX, LEVEL_MIN, Taxonomy
from oneteam.talent.text import HANGUL_TEXT, split_passages

ID_CHARS_MAX = 200
SOURCE_CHARS_MAX = 300
EVIDENCE_PER_CANDIDATE_MAX = 500
REQUIREMENTS_PER_POSTING_MAX = 50
POSTING_KINDS = ("job", "internship", "project")


@dataclass(frozen=True, slots=True)
class Evidence:
    """A skill at a level, shown by something: a credential, a lab, a course, ..."""

    skill: str  # a skill id, or a name or alias the taxonomy knows
    level: int  # the alliance's scale, 1-5
    kind: str  # one of taxonomy.EVIDENCE_KINDS
    source: str = ""  # what shows it, for people: "Open Badge: AI 모델링 (KAIST)"


@dataclass(frozen=True, slots=True)
class CandidateProfile:
    id: str
    text: str  # headline and summary, Korean or English
    evidence: tuple[Evidence, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    skill: str
    level: int = 1  # the least level that earns full credit
    required: bool = True  # else preferred: it weighs less (taxonomy requirement_weights)


@dataclass(frozen=True, slots=True)
class Posting:
    id: str
    title: str
    text: str
    requirements: tuple[SkillRequirement, ...] = ()
    organization: str = ""
    kind: str = "job"  # job, internship or project (an AI+X project)


class StringTable(Protocol):
    """Strings by number: a list, or a table that computes them (synthetic data)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> str: ...


class IdSequence(StringTable, Protocol):
    def position(self, item_id: str) -> int | None: ...


class IdList:
    """Ids held as a list, looked up through a dict built on first use."""

    def __init__(self, ids: Iterable[str]) -> None:
        self._ids = list(ids)
        self._positions: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: int) -> str:
        return self._ids[index]

    def position(self, item_id: str) -> int | None:
        if self._positions is None:
            self._positions = {item_id: i for i, item_id in enumerate(self._ids)}
        return self._positions.get(item_id)


class NumberedIds:
    """Ids ``<prefix><number>`` computed, not stored (a million ids cost no memory)."""

    def __init__(self, prefix: str, count: int, width: int = 7) -> None:
        self._prefix, self._count, self._width = prefix, count, width
        self._pattern = re.compile(re.escape(prefix) + rf"(\d{{{width}}})")

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < self._count:
            raise IndexError(index)
        return f"{self._prefix}{index:0{self._width}d}"

    def position(self, item_id: str) -> int | None:
        match = self._pattern.fullmatch(item_id)
        if match is None:
            return None
        index = int(match.group(1))
        return index if index < self._count else None


@dataclass(slots=True)
class PassageTable:
    """Distinct passages, each with a number; documents refer to passages by number."""

    texts: list[str] = field(default_factory=list)
    _numbers: dict[str, int] = field(default_factory=dict)

    def add(self, text: str) -> int:
        number = self._numbers.get(text)
        if number is None:
            number = self._numbers[text] = len(self.texts)
            self.texts.append(text)
        return number

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(slots=True)
class CandidateColumns:
    """Candidates as arrays; evidence and passages of candidate i are in [ptr[i], ptr[i+1])."""

    ids: IdSequence
    evidence_ptr: np.ndarray  # int64, len n + 1
    evidence_skill: np.ndarray  # int16: the skill's position in the taxonomy
    evidence_level: np.ndarray  # int8, 1-5
    evidence_kind: np.ndarray  # int8: position in EVIDENCE_KINDS
    evidence_source: np.ndarray  # int32: position in `sources`
    sources: StringTable
    passage_ptr: np.ndarray  # int64, len n + 1
    passage_id: np.ndarray  # int32: position in the shared PassageTable
    names: Sequence[str] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def check(self, skill_count: int, passage_count: int) -> None:
        n = len(self.ids)
        for name, ptr, length in (("evidence", self.evidence_ptr, len(self.evidence_skill)),
                                  ("passage", self.passage_ptr, len(self.passage_id))):
            check(len(ptr) == n + 1 and ptr[0] == 0 and ptr[-1] == length
                  and bool(np.all(np.diff(ptr) >= 0)), f"{name}_ptr is not a CSR pointer")
        check(len(self.evidence_level) == len(self.evidence_kind) == len(self.evidence_skill)
              == len(self.evidence_source), "evidence columns differ in length")
        if len(self.evidence_skill):
            check(int(self.evidence_skill.min()) >= 0
                  and int(self.evidence_skill.max()) < skill_count, "evidence skill range")
            check(int(self.evidence_level.min()) >= LEVEL_MIN
                  and int(self.evidence_level.max()) <= LEVEL_MAX, "evidence level range")
            check(int(self.evidence_kind.min()) >= 0
                  and int(self.evidence_kind.max()) < len(EVIDENCE_KINDS), "evidence kinds")
            check(int(self.evidence_source.min()) >= 0
                  and int(self.evidence_source.max()) < len(self.sources), "evidence sources")
        if len(self.passage_id):
            check(int(self.passage_id.min()) >= 0
                  and int(self.passage_id.max()) < passage_count, "passage range")


@dataclass(slots=True)
class PostingColumns:
    """Postings as arrays; requirements and passages of posting i as for candidates."""

    ids: IdSequence
    titles: Sequence[str]
    organizations: Sequence[str]
    kinds: np.ndarray  # int8: position in POSTING_KINDS
    requirement_ptr: np.ndarray  # int64, len n + 1
    requirement_skill: np.ndarray  # int16
    requirement_level: np.ndarray  # int8
    requirement_weight: np.ndarray  # float32
    passage_ptr: np.ndarray
    passage_id: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def check(self, skill_count: int, passage_count: int) -> None:
        n = len(self.ids)
        check(len(self.titles) == n and len(self.organizations) == n and len(self.kinds) == n,
              "posting columns differ in length")
        for name, ptr, length in (("requirement", self.requirement_ptr,
                                   len(self.requirement_skill)),
                                  ("passage", self.passage_ptr, len(self.passage_id))):
            check(len(ptr) == n + 1 and ptr[0] == 0 and ptr[-1] == length
                  and bool(np.all(np.diff(ptr) >= 0)), f"{name}_ptr is not a CSR pointer")
        if len(self.requirement_skill):
            check(int(self.requirement_skill.min()) >= 0
                  and int(self.requirement_skill.max()) < skill_count, "requirement skills")
            check(int(self.requirement_level.min()) >= LEVEL_MIN
                  and int(self.requirement_level.max()) <= LEVEL_MAX, "requirement levels")
            check(bool(np.all(self.requirement_weight > 0)), "requirement weights")
        if len(self.passage_id):
            check(int(self.passage_id.min()) >= 0
                  and int(self.passage_id.max()) < passage_count, "passage range")


def text_language(text: str) -> str:
    """"ko" if the text has Korean letters, else "en" (what skill names are shown in)."""
    return "ko" if HANGUL_TEXT.search(text) else "en"


def _check_id(value: object, field: str, seen: set[str]) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > ID_CHARS_MAX:
        raise TalentInputError(field, f"must be a non-empty string of at most "
                               f"{ID_CHARS_MAX} characters")
    if value in seen:
        raise TalentInputError(field, f"the id {value!r} is used twice")
    seen.add(value)
    return value


def _check_level(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (
            LEVEL_MIN <= value <= LEVEL_MAX):
        raise TalentInputError(field, f"must be an integer from {LEVEL_MIN} to {LEVEL_MAX}, "
                               f"got {value!r}")
    return value


def _check_text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise TalentInputError(field, "must be a string")
    return value


def candidate_columns(profiles: Iterable[CandidateProfile], taxonomy: Taxonomy,
                      passages: PassageTable) -> CandidateColumns:
    """Check profiles and lay them out as columns; their passages go into ``passages``."""
    ids: list[str] = []
    names: list[str] = []
    seen: set[str] = set()
    ev_ptr, ev_skill, ev_level, ev_kind, ev_source = [0], [], [], [], []
    p_ptr: list[int] = [0]
    p_id: list[int] = []
    sources = PassageTable()
    for i, profile in enumerate(profiles):
        field = f"candidates[{i}]"
        ids.append(_check_id(profile.id, f"{field}.id", seen))
        names.append(profile.name)
        text = _check_text(profile.text, f"{field}.text")
        if len(profile.evidence) > EVIDENCE_PER_CANDIDATE_MAX:
            raise TalentInputError(f"{field}.evidence", f"at most "
                                   f"{EVIDENCE_PER_CANDIDATE_MAX} records")
        language = text_language(text)
        skill_names: dict[int, None] = {}
        for j, evidence in enumerate(profile.evidence):
            efield = f"{field}.evidence[{j}]"
            skill = taxonomy.resolve(evidence.skill, field=f"{efield}.skill")
            if evidence.kind not in EVIDENCE_KINDS:
                raise TalentInputError(f"{efield}.kind", f"unknown evidence kind "
                                       f"{evidence.kind!r}; one of {', '.join(EVIDENCE_KINDS)}")
            source = _check_text(evidence.source, f"{efield}.source")
            if len(source) > SOURCE_CHARS_MAX:
                raise TalentInputError(f"{efield}.source", f"at most {SOURCE_CHARS_MAX} "
                                       "characters")
            skill_index = taxonomy.index_of(skill.id)
            ev_skill.append(skill_index)
            ev_level.append(_check_level(evidence.level, f"{efield}.level"))
            ev_kind.append(EVIDENCE_KINDS.index(evidence.kind))
            ev_source.append(sources.add(source))
            skill_names[skill_index] = None
        ev_ptr.append(len(ev_skill))
        texts = split_passages(text) + [taxonomy.skills[s].name(language) for s in skill_names]
        p_id.extend(passages.add(passage) for passage in texts)
        p_ptr.append(len(p_id))
    return CandidateColumns(
        ids=IdList(ids), names=names,
        evidence_ptr=np.asarray(ev_ptr, dtype=np.int64),
        evidence_skill=np.asarray(ev_skill, dtype=np.int16),
        evidence_level=np.asarray(ev_level, dtype=np.int8),
        evidence_kind=np.asarray(ev_kind, dtype=np.int8),
        evidence_source=np.asarray(ev_source, dtype=np.int32), sources=sources.texts,
        passage_ptr=np.asarray(p_ptr, dtype=np.int64),
        passage_id=np.asarray(p_id, dtype=np.int32))


def posting_requirements(posting: Posting, taxonomy: Taxonomy, field: str
                         ) -> list[tuple[int, int, float]]:
    """A posting's requirements as (skill position, level, weight), checked, one per skill."""
    if len(posting.requirements) > REQUIREMENTS_PER_POSTING_MAX:
        raise TalentInputError(f"{field}.requirements", f"at most "
                               f"{REQUIREMENTS_PER_POSTING_MAX} requirements")
    found: dict[int, tuple[int, int, float]] = {}
    for j, requirement in enumerate(posting.requirements):
        rfield = f"{field}.requirements[{j}]"
        skill = taxonomy.resolve(requirement.skill, field=f"{rfield}.skill")
        index = taxonomy.index_of(skill.id)
        if index in found:
            raise TalentInputError(f"{rfield}.skill", f"{skill.id!r} is required twice")
        level = _check_level(requirement.level, f"{rfield}.level")
        found[index] = (index, level, taxonomy.requirement_weight(bool(requirement.required)))
    return list(found.values())


def posting_columns(postings: Iterable[Posting], taxonomy: Taxonomy,
                    passages: PassageTable) -> PostingColumns:
    """Check postings and lay them out as columns; their passages go into ``passages``."""
    ids: list[str] = []
    seen: set[str] = set()
    titles, organizations, kinds = [], [], []
    r_ptr, r_skill, r_level, r_weight = [0], [], [], []
    p_ptr: list[int] = [0]
    p_id: list[int] = []
    for i, posting in enumerate(postings):
        field = f"postings[{i}]"
        ids.append(_check_id(posting.id, f"{field}.id", seen))
        title = _check_text(posting.title, f"{field}.title").strip()
        if not title:
            raise TalentInputError(f"{field}.title", "must not be empty")
        text = _check_text(posting.text, f"{field}.text")
        if posting.kind not in POSTING_KINDS:
            raise TalentInputError(f"{field}.kind", f"must be one of {', '.join(POSTING_KINDS)}")
        titles.append(title)
        organizations.append(_check_text(posting.organization, f"{field}.organization"))
        kinds.append(POSTING_KINDS.index(posting.kind))
        requirements = posting_requirements(posting, taxonomy, field)
        for skill, level, weight in requirements:
            r_skill.append(skill)
            r_level.append(level)
            r_weight.append(weight)
        r_ptr.append(len(r_skill))
        language = text_language(title + " " + text)
        texts = split_passages(title) + split_passages(text) + [
            taxonomy.skills[skill].name(language) for skill, _, _ in requirements]
        p_id.extend(passages.add(passage) for passage in texts)
        p_ptr.append(len(p_id))
    return PostingColumns(
        ids=IdList(ids), titles=titles, organizations=organizations,
        kinds=np.asarray(kinds, dtype=np.int8),
        requirement_ptr=np.asarray(r_ptr, dtype=np.int64),
        requirement_skill=np.asarray(r_skill, dtype=np.int16),
        requirement_level=np.asarray(r_level, dtype=np.int8),
        requirement_weight=np.asarray(r_weight, dtype=np.float32),
        passage_ptr=np.asarray(p_ptr, dtype=np.int64),
        passage_id=np.asarray(p_id, dtype=np.int32))
