"""Search on hand-made profiles and postings: rankings, explanations, both languages."""

from __future__ import annotations

import dataclasses
import json

import pytest

from oneteam.talent.errors import TalentInputError, UnknownSkill
from oneteam.talent.profiles import CandidateProfile, Evidence, Posting, SkillRequirement
from oneteam.talent.search import Query, SearchResult, TalentIndex
from oneteam.talent.taxonomy import Taxonomy
from tests.talent.conftest import CANDIDATES, POSTINGS


def ids(results: list[SearchResult]) -> list[str]:
    return [result.id for result in results]


def test_the_best_candidates_of_a_posting_rank_verified_evidence_first(
        index: TalentIndex) -> None:
    results = index.candidates_for_posting("en-vision", k=4)
    # the same skills: a credential and a lab result at level 4 beat self-declared ones,
    # which beat a level-1 credential against a level-3 requirement
    assert ids(results)[:3] == ["ko-vision", "ko-vision-self", "ko-vision-junior"]
    assert [r.rank for r in results] == [1, 2, 3, 4]
    assert results[0].title == "김비전"
    scores = [r.explanation.skill_score for r in results[:3]]
    assert scores == sorted(scores, reverse=True)
    assert results[0].score > results[1].score > results[2].score


def test_an_explanation_names_the_skills_and_the_evidence_that_counts(
        index: TalentIndex) -> None:
    best = index.candidates_for_posting("en-vision", k=3)[0].explanation
    by_skill = {match.skill_id: match for match in best.skills}
    assert list(by_skill) == ["pytorch", "deep-learning", "computer-vision"]
    pytorch = by_skill["pytorch"]
    assert (pytorch.status, pytorch.required_level, pytorch.weight, pytorch.credit) == (
        "evidenced", 3, 1.0, 1.0)
    assert pytorch.evidence is not None
    assert (pytorch.evidence.kind, pytorch.evidence.level) == ("credential", 4)
    assert pytorch.evidence.source == "Open Badge: 딥러닝 실전 (KAIST)"
    assert pytorch.name_ko == "파이토치" and pytorch.name_en == "PyTorch"
    deep = by_skill["deep-learning"]
    assert deep.evidence is not None and deep.evidence.kind == "lab_result"
    assert deep.credit == pytest.approx(0.85)
    vision = by_skill["computer-vision"]
    assert vision.weight == 0.5 and vision.credit == pytest.approx(0.6)  # a course, level 3
    # (1.0 + 0.85 + 0.5 × 0.6) / 2.5
    assert best.skill_score == pytest.approx(0.86)
    assert best.ranks == {"skills": 1, "text": best.ranks["text"],
                          "embedding": best.ranks["embedding"]}
    assert best.embedding_similarity is not None and best.closest_passage
    # the posting is in English, the profile in Korean: the text matches on the skills
    # both name, each in its own language
    assert best.terms and all(term.score > 0 for term in best.terms)
    skill_terms = {term.term: term.skill_id for term in best.terms if term.skill_id}
    assert skill_terms["skill:pytorch"] == "pytorch"
    assert "skill:computer-vision" in skill_terms
    json.dumps(best.to_dict(), ensure_ascii=False)  # plain data, ready for an API


def test_partial_credit_and_missing_skills_are_explained(index: TalentIndex) -> None:
    results = {r.id: r.explanation for r in index.candidates_for_posting("en-vision", k=6)}
    junior = {m.skill_id: m for m in results["ko-vision-junior"].skills}
    assert junior["pytorch"].credit == pytest.approx(1 / 3, abs=1e-4)  # level 1 of 3
    assert junior["computer-vision"].status == "missing"
    assert junior["computer-vision"].evidence is None and junior["computer-vision"].credit == 0
    selfish = {m.skill_id: m for m in results["ko-vision-self"].skills}
    assert selfish["pytorch"].credit == pytest.approx(0.3)
    assert selfish["pytorch"].evidence is not None
    assert selfish["pytorch"].evidence.kind == "self_declared"


def test_the_best_postings_of_a_learner(index: TalentIndex) -> None:
    results = index.postings_for_candidate("en-analyst", k=3)
    assert results[0].id == "ko-analyst"  # an English profile finds a Korean posting
    assert results[0].title == "데이터 분석가 채용 — KT"
    matches = {m.skill_id: m for m in results[0].explanation.skills}
    assert matches["sql"].status == "evidenced" and matches["sql"].credit == 1.0
    assert matches["data-visualization"].evidence is not None
    assert matches["data-visualization"].evidence.kind == "self_declared"
    assert index.postings_for_candidate("en-mlops", k=1)[0].id == "ko-mlops"
    assert index.postings_for_candidate("en-nlp", k=1)[0].id == "ko-chatbot"


@pytest.mark.parametrize(("text", "expected"), [
    ("불량 검출을 위한 객체 탐지 모델 개발자", "en-vision"),
    ("재무제표 작성과 세무 신고를 담당할 회계 담당자", "en-accounting"),
    ("Data analyst building sales dashboards", "ko-analyst"),
    ("Korean chatbot developer with large language models", "ko-chatbot"),
])
def test_queries_find_postings_in_the_other_language(index: TalentIndex, text: str,
                                                    expected: str) -> None:
    assert index.search_postings(Query(text), k=1)[0].id == expected


def test_the_embedding_alone_crosses_languages(index: TalentIndex) -> None:
    """No skill is named and no word is shared: only the multilingual embedding links
    the Korean query to the English posting."""
    best = index.search_postings(Query("재무제표 작성과 세무 신고를 담당할 회계 담당자"), k=1)[0]
    assert best.id == "en-accounting"
    assert best.explanation.ranks == {"skills": None, "text": None, "embedding": 1}
    assert best.explanation.terms == ()
    assert best.explanation.closest_passage is not None


def test_english_queries_find_korean_candidates_and_the_reverse(index: TalentIndex) -> None:
    found = index.search_candidates(Query("object detection for defect detection with PyTorch"),
                                    k=2)
    assert found[0].id == "ko-vision"
    # named skills become preferred requirements of level 1
    assert [(m.skill_id, m.required_level, m.weight) for m in found[0].explanation.skills] == [
        ("computer-vision", 1, 0.5), ("ai-manufacturing", 1, 0.5), ("pytorch", 1, 0.5)]
    assert index.search_candidates(Query("매출 대시보드를 만드는 데이터 분석가"), k=1)[0].id == (
        "en-analyst")
    assert index.search_candidates(Query("쿠버네티스 모델 서빙 운영"), k=1)[0].id == "en-mlops"


def test_a_free_query_names_skills_the_postings_require(index: TalentIndex) -> None:
    best = index.search_postings(Query("쿠버네티스와 MLOps 인턴"), k=1)[0]
    assert best.id == "ko-mlops"
    assert {m.skill_id: m.status for m in best.explanation.skills} == {
        "mlops": "named_in_query", "kubernetes": "named_in_query"}


def test_a_posting_or_profile_outside_the_index_can_be_searched(index: TalentIndex) -> None:
    posting = Posting("new", "MLOps engineer", "Operate model serving on Kubernetes.",
                      (SkillRequirement("kubernetes", 2), SkillRequirement("docker", 2)))
    assert index.search_candidates(posting, k=1)[0].id == "en-mlops"
    learner = CandidateProfile("me", "SQL과 판다스로 매출을 분석합니다.",
                               (Evidence("sql", 3, "lab_result", "실습: SQL"),))
    best = index.search_postings(learner, k=1)[0]
    assert best.id == "ko-analyst"
    sql = next(m for m in best.explanation.skills if m.skill_id == "sql")
    assert sql.evidence is not None and sql.evidence.source == "실습: SQL"


def test_every_candidate_can_be_returned_and_k_bounds_the_list(index: TalentIndex) -> None:
    assert len(index.candidates_for_posting("ko-mlops", k=20)) == len(CANDIDATES)
    assert len(index.postings_for_candidate("ko-vision", k=2)) == 2


def test_bad_queries_are_refused_naming_the_input(index: TalentIndex) -> None:
    with pytest.raises(TalentInputError, match="no posting with id 'nope'") as error:
        index.candidates_for_posting("nope")
    assert error.value.field == "posting_id"
    with pytest.raises(TalentInputError, match="no candidate with id 'nope'"):
        index.postings_for_candidate("nope")
    with pytest.raises(TalentInputError, match="k: must be an integer from 1 to 1000"):
        index.candidates_for_posting("en-vision", k=0)
    with pytest.raises(TalentInputError, match="depth: must be an integer from k"):
        index.candidates_for_posting("en-vision", k=20, depth=10)
    with pytest.raises(UnknownSkill, match=r"query\.requirements\[0\]\.skill"):
        index.search_candidates(Query("x", (SkillRequirement("cooking"),)))


def test_bad_profiles_and_postings_are_refused_naming_the_field(taxonomy: Taxonomy) -> None:
    good = CANDIDATES[0]
    cases = [
        ([dataclasses.replace(good, evidence=(Evidence("cooking", 3, "course"),))],
         "candidates[0].evidence[0].skill", "no skill is called 'cooking'"),
        ([dataclasses.replace(good, evidence=(Evidence("python", 6, "course"),))],
         "candidates[0].evidence[0].level", "integer from 1 to 5"),
        ([dataclasses.replace(good, evidence=(Evidence("python", 3, "rumour"),))],
         "candidates[0].evidence[0].kind", "unknown evidence kind 'rumour'"),
        ([good, good], "candidates[1].id", "used twice"),
        ([dataclasses.replace(good, id="")], "candidates[0].id", "non-empty string"),
    ]
    for candidates, field, message in cases:
        with pytest.raises(TalentInputError) as error:
            TalentIndex.build(taxonomy, candidates, POSTINGS[:1])
        assert (error.value.field, message in error.value.message) == (field, True)
    posting = POSTINGS[0]
    for change, field in [
        ({"requirements": (SkillRequirement("python"), SkillRequirement("파이썬"))},
         "postings[0].requirements[1].skill"),
        ({"requirements": (SkillRequirement("python", level=0),)},
         "postings[0].requirements[0].level"),
        ({"kind": "gig"}, "postings[0].kind"),
        ({"title": " "}, "postings[0].title"),
    ]:
        with pytest.raises(TalentInputError) as error:
            TalentIndex.build(taxonomy, CANDIDATES[:1], [dataclasses.replace(posting, **change)])
        assert error.value.field == field


def test_the_index_reports_its_size(index: TalentIndex) -> None:
    statistics = index.statistics()
    assert statistics["candidates"]["documents"] == len(CANDIDATES)
    assert statistics["postings"]["documents"] == len(POSTINGS)
    assert statistics["candidates"]["evidence_records"] == sum(
        len(c.evidence) for c in CANDIDATES)
    assert statistics["passages"] > 0 and statistics["terms"] > 0
    assert set(index.timings) >= {"tokenize passages", "embed passages"}
