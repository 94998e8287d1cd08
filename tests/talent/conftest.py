"""Fixtures of the talent tests: the shipped taxonomy and a small hand-made index.

The index uses the real Kiwi tokenizer and the real multilingual encoder (their models
load once per test session, a few seconds), never a stand-in.
"""

from __future__ import annotations

import pytest

from oneteam.talent.profiles import CandidateProfile, Evidence, Posting, SkillRequirement
from oneteam.talent.search import TalentIndex
from oneteam.talent.taxonomy import Taxonomy, default_taxonomy

CANDIDATES = (
    CandidateProfile(
        "ko-vision", "딥러닝 모델을 개발하는 머신러닝 엔지니어입니다. 파이토치로 제조 현장의 "
        "불량 검출 모델을 학습시키고 배포했습니다.",
        (Evidence("pytorch", 4, "credential", "Open Badge: 딥러닝 실전 (KAIST)"),
         Evidence("deep-learning", 4, "lab_result", "실습: 이미지 분류 (숨은 테스트 95%)"),
         Evidence("computer-vision", 3, "course", "과정 이수: 컴퓨터 비전 기초")),
        name="김비전"),
    CandidateProfile(
        "ko-vision-self", "딥러닝과 파이토치, 컴퓨터 비전에 관심이 많은 학생입니다.",
        (Evidence("pytorch", 4, "self_declared"), Evidence("deep-learning", 4, "self_declared"),
         Evidence("computer-vision", 3, "self_declared")),
        name="이관심"),
    CandidateProfile(
        "ko-vision-junior", "컴퓨터 비전 과정을 수료한 신입 개발자입니다.",
        (Evidence("pytorch", 1, "credential", "Open Badge: 파이토치 입문 (한양대학교)"),
         Evidence("deep-learning", 1, "credential", "Open Badge: 딥러닝 입문 (한양대학교)")),
        name="박입문"),
    CandidateProfile(
        "en-analyst", "Data analyst who builds sales dashboards with SQL and pandas for a "
        "retail chain.",
        (Evidence("sql", 4, "credential", "Open Badge: SQL for analysts (Hanyang)"),
         Evidence("pandas", 3, "lab_result", "Lab: sales EDA"),
         Evidence("data-visualization", 3, "self_declared")),
        name="Jane Analyst"),
    CandidateProfile(
        "en-mlops", "MLOps engineer who runs model serving on Kubernetes with Docker.",
        (Evidence("mlops", 4, "credential", "Open Badge: MLOps (KT)"),
         Evidence("kubernetes", 3, "lab_result", "Lab: k8s rollout"),
         Evidence("docker", 4, "course", "Course: Docker")),
        name="Sam Ops"),
    CandidateProfile(
        "en-nlp", "I build Korean chatbots and retrieval-augmented generation services "
        "with large language models.",
        (Evidence("nlp", 4, "credential", "Open Badge: NLP (ETRI)"),
         Evidence("rag", 3, "achievement", "Hackathon: RAG service, 1st place"),
         Evidence("llm-fine-tuning", 3, "lab_result", "Lab: LoRA fine-tuning")),
        name="Alex NLP"),
)

POSTINGS = (
    Posting("en-vision", "Computer vision engineer",
            "Train object detection models for defect detection in our factories.",
            (SkillRequirement("pytorch", 3), SkillRequirement("deep-learning", 3),
             SkillRequirement("computer-vision", 2, required=False)),
            "LG Electronics"),
    Posting("ko-analyst", "데이터 분석가 채용",
            "SQL과 판다스로 매출 데이터를 분석하고 대시보드를 만듭니다.",
            (SkillRequirement("sql", 3), SkillRequirement("pandas", 2),
             SkillRequirement("data-visualization", 2, required=False)), "KT"),
    Posting("ko-mlops", "MLOps 엔지니어", "쿠버네티스 기반 모델 서빙 플랫폼을 운영합니다.",
            (SkillRequirement("mlops", 3), SkillRequirement("kubernetes", 3)), "KT",
            kind="internship"),
    Posting("en-accounting", "Accountant",
            "Prepare monthly financial statements, tax filings and audit support.", (),
            "Dongwon"),
    Posting("ko-chatbot", "한국어 챗봇 개발자",
            "거대언어모델로 고객 상담 챗봇과 검색 증강 생성 서비스를 만듭니다.",
            (SkillRequirement("nlp", 3), SkillRequirement("rag", 2)), "LG U+", kind="project"),
)


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return default_taxonomy()


@pytest.fixture(scope="session")
def index(taxonomy: Taxonomy) -> TalentIndex:
    return TalentIndex.build(taxonomy, CANDIDATES, POSTINGS)
