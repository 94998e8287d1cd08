"""The shipped taxonomy loads and is checked; bad taxonomies are refused by field."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from oneteam.talent.errors import TalentInputError, UnknownSkill
from oneteam.talent.taxonomy import (
    EVIDENCE_KINDS,
    Taxonomy,
    alias_key,
    load_taxonomy,
    parse_taxonomy,
)


def shipped() -> dict[str, Any]:
    raw = resources.files("oneteam.talent").joinpath("taxonomy.toml").read_text("utf-8")
    return tomllib.loads(raw)


def test_the_shipped_taxonomy_has_the_ncs_ai_and_big_data_jobs(taxonomy: Taxonomy) -> None:
    modeling = taxonomy.skill("ncs-20010703")
    assert (modeling.code, modeling.ko, modeling.origin) == ("20010703", "인공지능모델링", "ncs")
    assert modeling.en == "AI modeling"
    assert taxonomy.skill("ncs-20010105").ko == "빅데이터분석"
    jobs = {s.code for s in taxonomy.ncs_skills() if s.code and len(s.code) == 8}
    # the six jobs of 20 정보통신 > 01 정보기술 > 07 인공지능, and big-data analysis
    assert {f"2001070{n}" for n in range(1, 7)} | {"20010105"} == jobs
    assert "ncs.go.kr" in taxonomy.ncs_source and "국가직무능력표준" in taxonomy.ncs_source
    assert taxonomy.meta["path_ai_ko"] == "20 정보통신 > 01 정보기술 > 07 인공지능"


def test_competency_units_belong_to_their_job(taxonomy: Taxonomy) -> None:
    units = [s for s in taxonomy.ncs_skills() if s.code and len(s.code) == 10]
    assert {u.code for u in units} == {"2001070304", "2001070307"}
    for unit in units:
        assert unit.ncs_jobs == (unit.code[:8],) == ("20010703",)


def test_the_alliance_skills_have_both_languages_and_no_ncs_code(taxonomy: Taxonomy) -> None:
    own = [s for s in taxonomy.skills if not s.is_ncs]
    assert {"python", "pandas", "scikit-learn", "deep-learning", "mlops",
            "data-visualization", "prompt-engineering", "ai-governance"} <= {s.id for s in own}
    for skill in own:
        assert skill.code is None and not skill.id.startswith("ncs-")
        assert skill.ko and skill.en and skill.aliases
    assert taxonomy.skill("pandas").ncs_jobs == ("20010105",)


def test_levels_are_the_alliance_scale_and_evidence_kinds_are_weighted(
        taxonomy: Taxonomy) -> None:
    assert [level.level for level in taxonomy.levels] == [1, 2, 3, 4, 5]
    assert taxonomy.levels[0].ko == "입문" and taxonomy.levels[4].en == "Expert"
    weights = [taxonomy.evidence_weight(kind) for kind in
               ("credential", "lab_result", "achievement", "course", "self_declared")]
    assert weights == sorted(weights, reverse=True) and weights[0] == 1.0
    assert set(taxonomy.evidence_kinds) == set(EVIDENCE_KINDS)
    assert taxonomy.requirement_weight(True) == 1.0
    assert taxonomy.requirement_weight(False) == 0.5


@pytest.mark.parametrize(("name", "skill_id"), [
    ("딥러닝", "deep-learning"), ("Deep Learning", "deep-learning"), ("딥 러닝", "deep-learning"),
    ("sklearn", "scikit-learn"), ("Scikit Learn", "scikit-learn"),
    ("인공지능 모델링", "ncs-20010703"),
    ("빅데이터 분석", "ncs-20010105"), ("pandas", "pandas"), ("판다스", "pandas"),
    ("ncs-20010702", "ncs-20010702"),
])
def test_skills_resolve_by_id_or_alias_in_either_language(taxonomy: Taxonomy, name: str,
                                                         skill_id: str) -> None:
    assert taxonomy.resolve(name).id == skill_id


def test_an_unknown_skill_is_named_in_the_error(taxonomy: Taxonomy) -> None:
    with pytest.raises(UnknownSkill, match="no skill is called 'underwater basket'") as error:
        taxonomy.resolve("underwater basket", field="evidence[2].skill")
    assert error.value.field == "evidence[2].skill"


def test_mentions_are_found_in_korean_and_english_text(taxonomy: Taxonomy) -> None:
    assert taxonomy.find_mentions("PyTorch와 딥러닝기반 컴퓨터비전 모델, HTML은 아님") == [
        "pytorch", "deep-learning", "computer-vision"]
    assert taxonomy.find_mentions("Experience with scikit learn and Apache Spark") == [
        "scikit-learn", "spark"]
    assert taxonomy.find_mentions("빅데이터분석 및 데이터 시각화") == [
        "ncs-20010105", "data-visualization"]
    assert taxonomy.find_mentions("nothing to see here") == []


def test_every_alias_names_one_skill(taxonomy: Taxonomy) -> None:
    owners: dict[str, str] = {}
    for skill in taxonomy.skills:
        for name in skill.names():
            assert owners.setdefault(alias_key(name), skill.id) == skill.id


def test_load_taxonomy_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_bytes(resources.files("oneteam.talent").joinpath("taxonomy.toml").read_bytes())
    assert len(load_taxonomy(path)) == len(parse_taxonomy(shipped()))
    path.write_text("[taxonomy\nversion = 1", encoding="utf-8")
    with pytest.raises(TalentInputError, match="is not valid UTF-8 TOML"):
        load_taxonomy(path)


def broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(shipped())
    change(data)
    return data


def skill_of(data: dict[str, Any], skill_id: str) -> dict[str, Any]:
    return next(entry for entry in data["skills"] if entry["id"] == skill_id)


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda d: d["taxonomy"].update(version=2), "taxonomy.version", "must be 1"),
    (lambda d: d["skills"].append(dict(d["skills"][0])), "skills (ncs-20010701)",
     "the id is used twice"),
    (lambda d: skill_of(d, "git")["aliases"].append("판 다스"), "skills (git).aliases",
     "'판 다스' already names the skill 'pandas'"),
    (lambda d: skill_of(d, "ncs-20010703").update(code="2001070"), "code",
     "8 digits (a job) or 10 digits"),
    (lambda d: skill_of(d, "ncs-20010703").update(id="ncs-20010799"), "id",
     "id is ncs-<code>"),
    (lambda d: skill_of(d, "python").update(code="20010703"), "code", "only NCS skills"),
    (lambda d: skill_of(d, "python").update(ncs_jobs=["20019999"]),
     "skills (python).ncs_jobs", "NCS job 20019999 is not in the taxonomy"),
    (lambda d: skill_of(d, "python").update(origin="vendor"), "origin", "must be one of"),
    (lambda d: skill_of(d, "python").update(ko=""), "ko", "non-empty string"),
    (lambda d: skill_of(d, "python").update(color="blue"), "skills[", "unknown keys color"),
    (lambda d: d["levels"].pop(2), "levels", "levels 1 to 5 in order"),
    (lambda d: d["evidence_kinds"]["course"].update(weight=1.5),
     "evidence_kinds.course.weight", "must be in (0, 1]"),
    (lambda d: d["evidence_kinds"].pop("course"), "evidence_kinds", "must define exactly"),
    (lambda d: d["requirement_weights"].pop("preferred"), "requirement_weights",
     "`required` and `preferred`"),
    (lambda d: d["ncs"].pop("source"), "ncs.source", "non-empty string"),
])
def test_a_bad_taxonomy_is_refused_naming_the_field(change: Any, field: str,
                                                    message: str) -> None:
    with pytest.raises(TalentInputError) as error:
        parse_taxonomy(broken(change))
    assert field in error.value.field
    assert message in error.value.message
