"""The talent platform's demo data, loaded once by ``oneteam up`` after the academy's and
the credentials'.

- Postings by the demo member companies, in Korean and in English: jobs, an internship
  and AI+X projects from their industries (electronics, shipbuilding, finance, telecoms,
  food logistics).
- Profiles: the demo learner (Korean, shown to every member company's recruiters; their
  skills come from their completed course and credentials) and the Hanyang student
  (English, shown to LG Electronics and KT only), who applied to LG Electronics' posting
  and was shortlisted; the LG Electronics recruiter has looked at it.
- A job fair organized by KAIST for its AI Developer cohort, with three positions; both
  learners joined and ranked, LG Electronics ranked for its position; the organizer (the
  demo instructor) runs the matching.
- The student's internship, recorded, so the outcomes page has a figure.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from oneteam.academy.models import Cohort
from oneteam.platform.demo import DemoAlliance
from oneteam.talent import actions
from oneteam.talent.models import Audience, Posting

POSTINGS = (
    # company, kind, industry, language, title, description, requirements, region, work
    ("lg-electronics", "job", "electronics", "en", "Computer vision engineer (defect "
     "inspection)",
     "Train and deploy deep-learning models that find defects on our home-appliance "
     "assembly lines. You will work with PyTorch on images from the factory cameras, and "
     "with the line engineers who label them.",
     [{"code": "pytorch", "level": 3}, {"code": "deep-learning", "level": 3},
      {"code": "computer-vision", "level": 2, "required": False},
      {"code": "python", "level": 3}], "창원 (Changwon)", "onsite"),
    ("hd-hyundai", "project", "shipbuilding", "ko",
     "선박 운항 데이터로 연료 소비 예측 (AI+X 프로젝트)",
     "실제 선박의 운항·기상 시계열 데이터로 연료 소비를 예측하는 모델을 만듭니다. 조선 "
     "엔지니어와 함께 문제를 정의하고, 결과를 설계 부서에 발표합니다.",
     [{"code": "time-series", "level": 2}, {"code": "machine-learning", "level": 2},
      {"code": "pandas", "level": 2}, {"code": "ai-maritime", "level": 1, "required": False}],
     "울산", "hybrid"),
    ("korea-investment", "internship", "finance", "ko", "금융 데이터 분석 인턴",
     "파이썬과 판다스로 시장·고객 데이터를 분석하고, 통계 모델로 리포트를 자동화합니다. "
     "6개월 인턴십이며 정규직 전환 기회가 있습니다.",
     [{"code": "python", "level": 2}, {"code": "pandas", "level": 2},
      {"code": "statistics", "level": 2}, {"code": "ai-finance", "level": 1,
                                            "required": False}], "서울 여의도", "onsite"),
    ("kt", "job", "telecom", "en", "MLOps engineer",
     "Run the model-serving platform behind KT's AI services: containers, pipelines, "
     "monitoring and rollbacks for models in production.",
     [{"code": "mlops", "level": 3}, {"code": "docker", "level": 2},
      {"code": "kubernetes", "level": 2, "required": False}], "Seoul", "hybrid"),
    ("dongwon", "project", "logistics", "ko", "식품 물류 수요 예측 (AI+X 프로젝트)",
     "물류센터별 출고 데이터로 다음 주 수요를 예측해 재고와 배차를 줄이는 문제입니다. "
     "SQL로 데이터를 준비하고 머신러닝 모델을 비교합니다.",
     [{"code": "machine-learning", "level": 2}, {"code": "sql", "level": 2},
      {"code": "time-series", "level": 1, "required": False}], "경기 이천", "onsite"),
    ("lg-uplus", "job", "telecom", "en", "Korean LLM chatbot developer",
     "Build the customer-care chatbot of LG U+ with large language models and "
     "retrieval-augmented generation over our service manuals, in Korean.",
     [{"code": "nlp", "level": 3}, {"code": "rag", "level": 2},
      {"code": "prompt-engineering", "level": 2, "required": False}], "Seoul", "remote"),
)


def load_demo(alliance: DemoAlliance) -> None:
    organizations = alliance.organizations
    people = alliance.people
    if not all(slug in organizations for slug, *_rest in POSTINGS):
        return  # the demo alliance is not there
    deadline = timezone.localdate() + datetime.timedelta(days=45)
    postings: dict[str, Posting] = {}
    for slug, kind, industry, language, title, description, requirements, region, work in (
            POSTINGS):
        postings[slug] = actions.do_create_posting(
            actor=None, organization=organizations[slug], kind=kind, industry=industry,
            language=language, title=title, description=description,
            requirements=requirements, region=region, work_type=work, deadline=deadline,
            is_demo=True)
    learner = people.get("learner")
    student = people.get("student")
    recruiter = people.get("recruiter")
    if learner is not None:
        actions.do_open_profile(learner, is_demo=True)
        actions.do_update_profile(
            learner, headline="데이터로 제조 현장의 문제를 푸는 주니어 AI 개발자",
            summary="KAIST AI 개발자 트랙에서 파이썬과 데이터 분석을 배우고 있습니다. "
                    "공장 설비 데이터로 불량을 예측하는 팀 프로젝트를 진행 중입니다.",
            desired_roles="머신러닝 엔지니어, 데이터 분석가", regions=["서울", "대전"],
            work_types=["onsite", "hybrid"], posting_kinds=["job", "project"],
            declared_skills=[{"code": "machine-learning", "level": 2},
                             {"code": "sql", "level": 2}])
        actions.do_add_project(
            learner, title="설비 센서 데이터로 불량 예측",
            description="공장 설비 센서 시계열로 불량 여부를 예측하는 모델을 만들고 "
                        "대시보드로 보여 주었습니다.",
            skills=[{"code": "time-series", "level": 2},
                    {"code": "data-visualization", "level": 2}])
        actions.do_set_profile_visibility(learner, audience=Audience.MEMBERS)
    if student is not None:
        actions.do_open_profile(student, is_demo=True)
        actions.do_update_profile(
            student, headline="Computer vision student who likes factory problems",
            summary="Hanyang University student in the KAIST AI Developer track. I trained "
                    "an image classifier for scratched phone cases with PyTorch.",
            desired_roles="Computer vision engineer", regions=["Seoul", "Changwon"],
            work_types=["onsite"], posting_kinds=["job", "internship"],
            declared_skills=[{"code": "pytorch", "level": 2},
                             {"code": "computer-vision", "level": 2},
                             {"code": "deep-learning", "level": 2}])
        actions.do_set_profile_visibility(student, audience=Audience.CHOSEN,
                                          organizations=["lg-electronics", "kt"])
        application = actions.do_apply(
            person=student, posting=postings["lg-electronics"],
            message="I would love to work on inspection models on real lines.")
        actions.do_move_application(actor=None, application=application, verb="shortlist")
        if recruiter is not None:
            profile = student.talent_profile
            actions.do_view_candidate(recruiter, profile_id=profile.pk,
                                      posting=postings["lg-electronics"])
        actions.do_record_placement(
            actor=None, person=student, employer="LG전자", role="비전 AI 인턴",
            kind="internship", started_on=timezone.localdate() - datetime.timedelta(days=10),
            organization=organizations["lg-electronics"], is_demo=True)
    _load_fair(alliance, postings)


def _load_fair(alliance: DemoAlliance, postings: dict[str, Posting]) -> None:
    kaist = alliance.organizations["kaist"]
    learner = alliance.people.get("learner")
    student = alliance.people.get("student")
    cohort = Cohort.objects.filter(organization=kaist, program__slug="ai-developer").first()
    fair = actions.do_create_fair(
        actor=None, organization=kaist, name="KAIST AI 개발자 트랙 채용 매칭 데이",
        description="협력 기업의 일자리와 AI+X 프로젝트에 서로 순위를 매기고, 안정 매칭으로 "
                    "배정합니다. Learners and companies rank each other; a stable matching "
                    "places them.",
        cohort=cohort, rank_by=timezone.localdate() + datetime.timedelta(days=14),
        is_demo=True)
    positions = {slug: actions.do_add_fair_position(actor=None, fair=fair,
                                                     posting=postings[slug], capacity=capacity)
                 for slug, capacity in (("lg-electronics", 2), ("dongwon", 1),
                                        ("hd-hyundai", 1))}
    joined = [person for person in (learner, student) if person is not None]
    for person in joined:
        actions.do_join_fair(person=person, fair=fair)
    if learner is not None:
        actions.do_rank_positions(person=learner, fair=fair, position_ids=[
            positions["dongwon"].pk, positions["hd-hyundai"].pk,
            positions["lg-electronics"].pk])
    if student is not None:
        actions.do_rank_positions(person=student, fair=fair, position_ids=[
            positions["lg-electronics"].pk, positions["dongwon"].pk])
    actions.do_rank_participants(actor=None, position=positions["lg-electronics"],
                                 person_ids=[p.pk for p in reversed(joined)])
    actions.do_rank_participants(actor=None, position=positions["dongwon"],
                                 person_ids=[p.pk for p in joined])
