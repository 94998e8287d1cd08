"""The skill taxonomy: NCS competency units and the alliance's own skills.

The data is `taxonomy.toml`, shipped in this package; `load_taxonomy()` reads and checks
it, and every error names the entry and field at fault. A skill has a stable id
(``ncs-<code>`` for an NCS entry, a short English slug for the alliance's own), a
Korean and an English name, and aliases in both languages. Proficiency uses the
alliance's 1-5 scale (`Level`); each kind of evidence (credential, lab result,
achievement, course, self-declared) has a weight (`EvidenceKind`).

`Taxonomy.find_mentions(text)` finds the skills a text names, in either language: search
uses it to expand a query's words with the other language's names of the same skill.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from oneteam.talent.errors import TalentInputError, UnknownSkill

LEVEL_MIN = 1
LEVEL_MAX = 5
ORIGINS = ("ncs", "alliance")
EVIDENCE_KINDS = ("credential", "lab_result", "achievement", "course", "self_declared")
SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
NCS_JOB_CODE = re.compile(r"^\d{8}$")
NCS_UNIT_CODE = re.compile(r"^\d{10}$")
ALIASES_PER_SKILL_MAX = 32
SKILLS_MAX = 10_000
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
# separators that do not change what a name means: "scikit-learn" = "scikit learn"
_SEPARATORS = re.compile(r"[\s\-_.·/]+")


@dataclass(frozen=True, slots=True)
class Level:
    level: int
    ko: str
    en: str
    description_ko: str
    description_en: str


@dataclass(frozen=True, slots=True)
class EvidenceKind:
    kind: str
    weight: float
    ko: str
    en: str


@dataclass(frozen=True, slots=True)
class Skill:
    id: str
    origin: str  # "ncs" or "alliance"
    ko: str
    en: str
    aliases: tuple[str, ...]
    code: str | None = None  # the NCS code (8 digits: a job; 10 digits: a competency unit)
    ncs_jobs: tuple[str, ...] = ()  # NCS jobs an alliance skill belongs to; a unit's job

    @property
    def is_ncs(self) -> bool:
        return self.origin == "ncs"

    def name(self, language: str) -> str:
        return self.ko if language == "ko" else self.en

    def names(self) -> tuple[str, ...]:
        """Every name of the skill, both languages, names first, without repeats."""
        return tuple(dict.fromkeys((self.ko, self.en, *self.aliases)))


def alias_key(name: str) -> str:
    """The form names are compared in: NFKC, case-folded, without spaces or hyphens."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", name).casefold())


class Taxonomy:
    """The skills, levels and evidence kinds, checked; look skills up by id or alias."""

    def __init__(self, *, skills: Sequence[Skill], levels: Sequence[Level],
                 evidence_kinds: Mapping[str, EvidenceKind],
                 requirement_weights: Mapping[str, float], source: str,
                 meta: Mapping[str, Any]) -> None:
        self.skills: tuple[Skill, ...] = tuple(skills)
        self.levels: tuple[Level, ...] = tuple(levels)
        self.evidence_kinds: dict[str, EvidenceKind] = dict(evidence_kinds)
        self.requirement_weights: dict[str, float] = dict(requirement_weights)
        self.ncs_source = source
        self.meta = dict(meta)
        self._index = {skill.id: i for i, skill in enumerate(self.skills)}
        self._by_alias: dict[str, int] = {}
        for i, skill in enumerate(self.skills):
            for name in skill.names():
                self._by_alias.setdefault(alias_key(name), i)
        self._latin_pattern, self._latin_skill = self._latin_matcher()
        self._compact_pattern, self._compact_skill = self._compact_matcher()

    def __len__(self) -> int:
        return len(self.skills)

    def __contains__(self, skill_id: object) -> bool:
        return skill_id in self._index

    def index_of(self, skill_id: str) -> int:
        """The position of a skill by its id (the skills' order is the file's)."""
        try:
            return self._index[skill_id]
        except KeyError:
            raise UnknownSkill("skill", f"no skill with id {skill_id!r}") from None

    def skill(self, skill_id: str) -> Skill:
        return self.skills[self.index_of(skill_id)]

    def resolve(self, name: str, *, field: str = "skill") -> Skill:
        """The skill with this id, or with this name or alias in either language."""
        if name in self._index:
            return self.skills[self._index[name]]
        found = self._by_alias.get(alias_key(name))
        if found is None:
            raise UnknownSkill(field, f"no skill is called {name!r} (neither an id nor an "
                               "alias in the taxonomy)")
        return self.skills[found]

    def evidence_weight(self, kind: str, *, field: str = "kind") -> float:
        try:
            return self.evidence_kinds[kind].weight
        except KeyError:
            raise TalentInputError(field, f"unknown evidence kind {kind!r}; one of "
                                   f"{', '.join(self.evidence_kinds)}") from None

    def requirement_weight(self, required: bool) -> float:
        return self.requirement_weights["required" if required else "preferred"]

    def skill_levels(self, value: Any, *, field: str = "skills", with_required: bool = False,
                     items_max: int = 50) -> list[dict[str, Any]]:
        """A list of ``{"code": skill id, "level": 1-5}`` checked against the taxonomy.

        A code may be given as the skill's id or any of its names or aliases; it is stored
        as the id. Each skill once. With ``with_required``, each item also carries
        ``"required"`` (a bool, default true): a posting's requirements. Errors name the
        item, such as ``skills[2].level``.
        """
        if not isinstance(value, list | tuple):
            raise TalentInputError(field, "must be a list of {code, level}")
        if len(value) > items_max:
            raise TalentInputError(field, f"at most {items_max} skills")
        cleaned: list[dict[str, Any]] = []
        seen: set[str] = set()
        allowed = {"code", "level", "required"} if with_required else {"code", "level"}
        for i, item in enumerate(value):
            where = f"{field}[{i}]"
            if not isinstance(item, Mapping):
                raise TalentInputError(where, "must be a table {code, level}")
            unknown = sorted(set(item) - allowed)
            if unknown:
                raise TalentInputError(f"{where}.{unknown[0]}", "unknown key (expected "
                                       f"{', '.join(sorted(allowed))})")
            code = item.get("code")
            if not isinstance(code, str) or not code.strip():
                raise TalentInputError(f"{where}.code", "must name a skill of the taxonomy")
            skill = self.resolve(code.strip(), field=f"{where}.code")
            if skill.id in seen:
                raise TalentInputError(f"{where}.code", f"{skill.id!r} is listed twice")
            seen.add(skill.id)
            level = item.get("level")
            if isinstance(level, bool) or not isinstance(level, int) or not (
                    LEVEL_MIN <= level <= LEVEL_MAX):
                raise TalentInputError(f"{where}.level", f"must be a whole number from "
                                       f"{LEVEL_MIN} to {LEVEL_MAX}, got {level!r}")
            entry: dict[str, Any] = {"code": skill.id, "level": level}
            if with_required:
                required = item.get("required", True)
                if not isinstance(required, bool):
                    raise TalentInputError(f"{where}.required", "must be true or false")
                entry["required"] = required
            cleaned.append(entry)
        return cleaned

    def ncs_skills(self) -> tuple[Skill, ...]:
        return tuple(skill for skill in self.skills if skill.is_ncs)

    def find_mentions(self, text: str) -> list[str]:
        """Ids of the skills the text names, in order of first mention, each once.

        Names in Latin letters match as whole words ("ML" not inside "HTML"); names with
        Hangul match inside words too, spaces ignored ("딥러닝기반" names 딥러닝),
        because Korean attaches particles and compounds without spaces.
        """
        normalized = unicodedata.normalize("NFKC", text).casefold()
        found: dict[str, int] = {}
        for match in self._latin_pattern.finditer(normalized):
            skill = self._latin_skill[alias_key(match.group(0))]
            found.setdefault(self.skills[skill].id, match.start())
        compact = _SEPARATORS.sub(" ", normalized)
        positions = [i for i, char in enumerate(compact) if char != " "]
        squeezed = compact.replace(" ", "")
        for match in self._compact_pattern.finditer(squeezed):
            skill = self._compact_skill[match.group(0)]
            found.setdefault(self.skills[skill].id, positions[match.start()])
        return [skill_id for skill_id, _ in sorted(found.items(), key=lambda item: item[1])]

    def _latin_matcher(self) -> tuple[re.Pattern[str], dict[str, int]]:
        by_key: dict[str, int] = {}
        patterns: dict[str, str] = {}
        for i, skill in enumerate(self.skills):
            for name in skill.names():
                if HANGUL.search(name):
                    continue
                folded = unicodedata.normalize("NFKC", name).casefold()
                parts = [part for part in re.split(r"[^0-9a-z+#]+", folded) if part]
                if not parts:
                    continue
                key = alias_key(name)
                by_key.setdefault(key, i)
                patterns.setdefault(key, r"[\s\-_./·]*".join(re.escape(p) for p in parts))
        ordered = sorted(patterns.values(), key=len, reverse=True)
        pattern = re.compile(r"(?<![0-9a-z])(?:" + "|".join(ordered) + r")(?![0-9a-z])")
        return pattern, by_key

    def _compact_matcher(self) -> tuple[re.Pattern[str], dict[str, int]]:
        by_compact: dict[str, int] = {}
        for i, skill in enumerate(self.skills):
            for name in skill.names():
                if HANGUL.search(name):
                    by_compact.setdefault(alias_key(name), i)
        ordered = sorted(by_compact, key=len, reverse=True)
        return re.compile("|".join(re.escape(key) for key in ordered)), by_compact


# ---- loading and checking -------------------------------------------------------------

def _text(entry: Mapping[str, Any], key: str, field: str, *, required: bool = True) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise TalentInputError(f"{field}.{key}", "must be a non-empty string")
    return value.strip()


def _levels(raw: Any) -> list[Level]:
    if not isinstance(raw, list) or not raw:
        raise TalentInputError("levels", "must be a non-empty list of [[levels]] tables")
    levels = []
    for i, entry in enumerate(raw):
        field = f"levels[{i}]"
        if not isinstance(entry, dict):
            raise TalentInputError(field, "must be a table")
        number = entry.get("level")
        if not isinstance(number, int) or isinstance(number, bool):
            raise TalentInputError(f"{field}.level", "must be an integer")
        levels.append(Level(number, _text(entry, "ko", field), _text(entry, "en", field),
                            _text(entry, "description_ko", field),
                            _text(entry, "description_en", field)))
    numbers = [level.level for level in levels]
    if numbers != list(range(LEVEL_MIN, LEVEL_MAX + 1)):
        raise TalentInputError("levels", f"must be the levels {LEVEL_MIN} to {LEVEL_MAX} in "
                               f"order, found {numbers}")
    return levels


def _weight(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TalentInputError(field, "must be a number")
    if not 0.0 < float(value) <= 1.0:
        raise TalentInputError(field, f"must be in (0, 1], got {value}")
    return float(value)


def _evidence_kinds(raw: Any) -> dict[str, EvidenceKind]:
    if not isinstance(raw, dict):
        raise TalentInputError("evidence_kinds", "must be a table of kinds")
    if sorted(raw) != sorted(EVIDENCE_KINDS):
        raise TalentInputError("evidence_kinds", f"must define exactly {', '.join(EVIDENCE_KINDS)}"
                               f"; found {', '.join(sorted(raw)) or 'none'}")
    kinds = {}
    for kind in EVIDENCE_KINDS:
        entry = raw[kind]
        field = f"evidence_kinds.{kind}"
        if not isinstance(entry, dict):
            raise TalentInputError(field, "must be a table")
        kinds[kind] = EvidenceKind(kind, _weight(entry.get("weight"), f"{field}.weight"),
                                   _text(entry, "ko", field), _text(entry, "en", field))
    return kinds


def _skill(entry: Any, i: int) -> Skill:
    field = f"skills[{i}]"
    if not isinstance(entry, dict):
        raise TalentInputError(field, "must be a table")
    unknown = set(entry) - {"id", "origin", "code", "ko", "en", "aliases", "ncs_jobs"}
    if unknown:
        raise TalentInputError(field, f"unknown keys {', '.join(sorted(unknown))}")
    skill_id = _text(entry, "id", field)
    field = f"skills[{i}] ({skill_id})"
    if not SKILL_ID.match(skill_id):
        raise TalentInputError(f"{field}.id", "must be lowercase letters, digits and "
                               "hyphens, at most 63 characters")
    origin = entry.get("origin")
    if origin not in ORIGINS:
        raise TalentInputError(f"{field}.origin", f"must be one of {', '.join(ORIGINS)}")
    aliases = entry.get("aliases", [])
    if (not isinstance(aliases, list) or len(aliases) > ALIASES_PER_SKILL_MAX
            or not all(isinstance(a, str) and a.strip() for a in aliases)):
        raise TalentInputError(f"{field}.aliases", f"must be a list of at most "
                               f"{ALIASES_PER_SKILL_MAX} non-empty strings")
    ncs_jobs = entry.get("ncs_jobs", [])
    if not isinstance(ncs_jobs, list) or not all(
            isinstance(code, str) and NCS_JOB_CODE.match(code) for code in ncs_jobs):
        raise TalentInputError(f"{field}.ncs_jobs", "must be a list of 8-digit NCS job codes")
    code = entry.get("code")
    if origin == "ncs":
        if not isinstance(code, str) or not (NCS_JOB_CODE.match(code)
                                             or NCS_UNIT_CODE.match(code)):
            raise TalentInputError(f"{field}.code", "an NCS skill needs its code: 8 digits "
                                   "(a job) or 10 digits (a competency unit)")
        if skill_id != f"ncs-{code}":
            raise TalentInputError(f"{field}.id", f"an NCS skill's id is ncs-<code>, "
                                   f"here ncs-{code}")
        if ncs_jobs:
            raise TalentInputError(f"{field}.ncs_jobs", "an NCS skill's job is its code's "
                                   "first 8 digits; do not list it")
        if len(code) == 10:
            ncs_jobs = [code[:8]]
    elif code is not None:
        raise TalentInputError(f"{field}.code", "only NCS skills have a code; the "
                               "alliance's own skills name their jobs in ncs_jobs")
    elif skill_id.startswith("ncs-"):
        raise TalentInputError(f"{field}.id", "ids starting with ncs- are for NCS entries")
    return Skill(id=skill_id, origin=origin, ko=_text(entry, "ko", field),
                 en=_text(entry, "en", field),
                 aliases=tuple(a.strip() for a in aliases),
                 code=code if origin == "ncs" else None, ncs_jobs=tuple(ncs_jobs))


def _check_skills(skills: Iterable[Skill]) -> None:
    seen: dict[str, str] = {}
    aliases: dict[str, str] = {}
    jobs = {skill.code for skill in skills if skill.code and len(skill.code) == 8}
    for skill in skills:
        if skill.id in seen:
            raise TalentInputError(f"skills ({skill.id})", "the id is used twice")
        seen[skill.id] = skill.id
        for name in skill.names():
            key = alias_key(name)
            if not key:
                raise TalentInputError(f"skills ({skill.id}).aliases",
                                       f"{name!r} has no letters or digits")
            other = aliases.setdefault(key, skill.id)
            if other != skill.id:
                raise TalentInputError(f"skills ({skill.id}).aliases",
                                       f"{name!r} already names the skill {other!r}")
        for job in skill.ncs_jobs:
            if job not in jobs:
                raise TalentInputError(f"skills ({skill.id}).ncs_jobs",
                                       f"NCS job {job} is not in the taxonomy")


def parse_taxonomy(data: Mapping[str, Any]) -> Taxonomy:
    """Check a parsed taxonomy document and build the `Taxonomy`."""
    meta = data.get("taxonomy")
    if not isinstance(meta, dict) or meta.get("version") != 1:
        raise TalentInputError("taxonomy.version", "must be 1")
    ncs = data.get("ncs")
    if not isinstance(ncs, dict):
        raise TalentInputError("ncs", "must be a table naming the NCS source")
    source = _text(ncs, "source", "ncs")
    weights = data.get("requirement_weights")
    if not isinstance(weights, dict) or set(weights) != {"required", "preferred"}:
        raise TalentInputError("requirement_weights", "must give `required` and `preferred`")
    requirement_weights = {key: _weight(value, f"requirement_weights.{key}")
                           for key, value in weights.items()}
    raw_skills = data.get("skills")
    if not isinstance(raw_skills, list) or not raw_skills:
        raise TalentInputError("skills", "must be a non-empty list of [[skills]] tables")
    if len(raw_skills) > SKILLS_MAX:
        raise TalentInputError("skills", f"at most {SKILLS_MAX} skills")
    skills = [_skill(entry, i) for i, entry in enumerate(raw_skills)]
    _check_skills(skills)
    return Taxonomy(skills=skills, levels=_levels(data.get("levels")),
                    evidence_kinds=_evidence_kinds(data.get("evidence_kinds")),
                    requirement_weights=requirement_weights, source=source,
                    meta={**meta, **{key: value for key, value in ncs.items()
                                     if key != "source"}})


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and check a taxonomy file (default: the one shipped in this package)."""
    if path is None:
        raw = resources.files("oneteam.talent").joinpath("taxonomy.toml").read_bytes()
        where = "taxonomy.toml"
    else:
        raw = path.read_bytes()
        where = str(path)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise TalentInputError(where, f"is not valid UTF-8 TOML: {error}") from None
    return parse_taxonomy(data)


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy, loaded once per process."""
    return load_taxonomy()
