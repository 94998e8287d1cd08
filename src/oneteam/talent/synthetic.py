"""Synthetic talent data, deterministic from a seed, for the benchmark and tests.

Candidates follow eight tracks (machine-learning engineer, data analyst, data
engineer, MLOps engineer, NLP/LLM engineer, AI service planner, training-data builder,
AI+X domain specialist), each with its own skill mix; three in four profiles are in
Korean, the rest in English. A candidate has 2 to 14 pieces of evidence (skills drawn
85% from the track's mix, 15% from everything; levels mostly 2-4; kinds: credential
20%, lab result 25%, achievement 8%, course 25%, self-declared 22%) and 2 to 5 sentences
drawn from phrase templates of the track, in the profile's language. Postings (60%
Korean) take a title, 3 to 5 sentences and 3 to 7 requirements from one track.

Everything is generated as numpy arrays, so a million candidates take seconds; the text
comes from a finite set of distinct sentences (a few thousand), which the index
tokenizes and embeds once each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from oneteam.talent.matching import MatchingInstance
from oneteam.talent.profiles import (
    CandidateColumns,
    NumberedIds,
    PassageTable,
    Posting,
    SkillRequirement,
)
from oneteam.talent.taxonomy import EVIDENCE_KINDS, Taxonomy

LEVEL_P = (0.08, 0.24, 0.36, 0.22, 0.10)
KIND_P = (0.20, 0.25, 0.08, 0.25, 0.22)  # in the order of taxonomy.EVIDENCE_KINDS
CORE_SHARE = 0.85
ENGLISH_CANDIDATES = 0.25
ENGLISH_POSTINGS = 0.40

ORGS_KO = ("KAIST", "한양대학교", "ETRI", "KT", "LG전자", "HD현대", "LG유플러스", "한국투자증권",
           "동원그룹", "서울대학교", "포스텍", "네이버", "카카오")
ORGS_EN = ("KAIST", "Hanyang University", "ETRI", "KT", "LG Electronics", "HD Hyundai",
           "LG U+", "Korea Investment & Securities", "Dongwon", "Seoul National University",
           "POSTECH", "Naver", "Kakao")
PROGRAMS_KO = ("AI 원팀 인재양성", "AI 부트캠프", "데이터 청년 캠퍼스", "산학협력 AI 트랙")
PROGRAMS_EN = ("AI One Team talent", "AI bootcamp", "Data Youth Campus", "industry AI track")


@dataclass(frozen=True)
class Track:
    key: str
    weight: float
    skills: dict[str, float]
    role_ko: str
    role_en: str
    topics_ko: tuple[str, ...]
    topics_en: tuple[str, ...]
    tools: tuple[str, ...]


TRACKS = (
    Track("ml_engineer", 0.24, {
        "python": 3, "machine-learning": 3, "deep-learning": 3, "pytorch": 2.5,
        "tensorflow": 1, "scikit-learn": 2, "numpy": 1.5, "ncs-20010703": 2,
        "ncs-2001070304": 1.5, "ncs-2001070307": 1.5, "computer-vision": 1.5,
        "gpu-computing": 0.7, "git": 1},
        "머신러닝 엔지니어", "machine learning engineer",
        ("이미지 분류", "객체 탐지", "수요 예측", "이상 탐지", "추천 모델", "음성 인식",
         "불량 검출"),
        ("image classification", "object detection", "demand forecasting", "anomaly detection",
         "recommendation models", "speech recognition", "defect detection"),
        ("PyTorch", "TensorFlow", "scikit-learn", "NumPy")),
    Track("data_analyst", 0.22, {
        "python": 2, "sql": 3, "pandas": 3, "statistics": 2.5, "data-visualization": 3,
        "ncs-20010105": 2.5, "spark": 0.8, "time-series": 1},
        "데이터 분석가", "data analyst",
        ("매출 분석", "고객 이탈 분석", "A/B 테스트", "물류 데이터 분석", "공공데이터 분석",
         "마케팅 성과 분석"),
        ("sales analysis", "customer churn analysis", "A/B testing", "logistics analytics",
         "public data analysis", "marketing analytics"),
        ("SQL", "pandas", "Tableau", "Python")),
    Track("data_engineer", 0.12, {
        "python": 2, "sql": 3, "spark": 3, "data-engineering": 3, "cloud-computing": 2,
        "docker": 1.5, "linux": 1.5, "data-quality": 1.5, "git": 1},
        "데이터 엔지니어", "data engineer",
        ("데이터 파이프라인 구축", "데이터 레이크 설계", "실시간 스트리밍 처리",
         "배치 처리 최적화"),
        ("data pipelines", "data lake design", "real-time streaming", "batch processing"),
        ("Spark", "Airflow", "Kafka", "SQL")),
    Track("mlops_engineer", 0.10, {
        "mlops": 3, "model-serving": 3, "docker": 3, "kubernetes": 2.5, "cloud-computing": 2,
        "linux": 2, "ncs-20010701": 1.5, "ncs-20010704": 2, "python": 1.5, "git": 1.5,
        "gpu-computing": 1},
        "MLOps 엔지니어", "MLOps engineer",
        ("모델 배포 자동화", "GPU 클러스터 운영", "모델 모니터링", "추론 서버 최적화"),
        ("deployment automation", "GPU cluster operations", "model monitoring",
         "inference optimization"),
        ("Kubernetes", "Docker", "MLflow", "FastAPI")),
    Track("nlp_engineer", 0.12, {
        "nlp": 3, "korean-nlp": 2, "llm-fine-tuning": 2.5, "rag": 2, "prompt-engineering": 2,
        "generative-ai": 2, "pytorch": 2, "python": 2, "ncs-20010705": 1.5,
        "deep-learning": 1.5},
        "자연어처리 엔지니어", "NLP engineer",
        ("한국어 챗봇", "문서 요약", "검색 증강 생성 서비스", "감성 분석", "기계 번역"),
        ("Korean chatbots", "document summarization", "retrieval-augmented generation",
         "sentiment analysis", "machine translation"),
        ("PyTorch", "Hugging Face", "LangChain", "Kiwi")),
    Track("ai_planner", 0.08, {
        "ncs-20010702": 3, "ai-product-management": 3, "prompt-engineering": 1.5,
        "ai-governance": 2, "data-privacy": 1.5, "generative-ai": 1.5,
        "data-visualization": 1, "statistics": 0.7},
        "AI 서비스 기획자", "AI product manager",
        ("AI 서비스 기획", "고객 요구사항 분석", "AI 윤리 검토", "서비스 시나리오 설계"),
        ("AI service planning", "customer requirements", "AI ethics review",
         "service scenario design"),
        ("Figma", "Jira", "Notion", "SQL")),
    Track("data_builder", 0.05, {
        "ncs-20010706": 3, "data-labeling": 3, "data-quality": 2.5, "python": 1.5,
        "data-privacy": 1.5, "ncs-2001070304": 1.5},
        "학습데이터 구축 전문가", "training data specialist",
        ("의료 영상 라벨링", "음성 데이터 구축", "텍스트 말뭉치 구축", "데이터 품질 검수"),
        ("medical image labeling", "speech data collection", "text corpus building",
         "data quality review"),
        ("Label Studio", "Python", "Excel", "CVAT")),
    Track("ai_x_specialist", 0.09, {
        "ai-manufacturing": 2, "ai-finance": 2, "ai-healthcare": 1.5, "ai-maritime": 1,
        "time-series": 2, "statistics": 1.5, "python": 2, "scikit-learn": 2,
        "machine-learning": 2, "ncs-20010703": 1, "speech-processing": 0.5,
        "recommender-systems": 1, "reinforcement-learning": 0.5},
        "AI+X 융합 전문가", "AI+X specialist",
        ("스마트 팩토리 예지 보전", "이상거래 탐지", "의료 영상 판독 보조", "선박 연비 최적화",
         "신용평가 모델"),
        ("predictive maintenance", "fraud detection", "medical imaging support",
         "ship fuel optimization", "credit scoring"),
        ("Python", "scikit-learn", "PyTorch", "SQL")),
)

CANDIDATE_TEMPLATES_KO = (
    "{org}에서 {topic} 프로젝트를 수행했습니다.",
    "{tool}를 활용한 {topic} 경험이 있습니다.",
    "{years}년 동안 {role}로 일했습니다.",
    "{org} {program} 과정을 수료했습니다.",
    "{topic} 모델의 정확도를 {pct}% 개선했습니다.",
    "{role}로 성장하고 싶습니다.",
)
CANDIDATE_TEMPLATES_EN = (
    "Worked on {topic} projects at {org}.",
    "Hands-on experience with {tool} for {topic}.",
    "{years} years as a {role}.",
    "Completed the {program} program at {org}.",
    "Improved {topic} accuracy by {pct}%.",
    "Looking for a role as a {role}.",
)
POSTING_TEMPLATES_KO = (
    "{topic} 업무를 담당할 {role}를 찾습니다.",
    "{tool} 사용 경험이 있는 분을 우대합니다.",
    "경력 {years}년 이상인 분을 찾습니다.",
    "{org}와 함께 {topic} 과제를 수행합니다.",
    "신입과 인턴도 지원할 수 있습니다.",
)
POSTING_TEMPLATES_EN = (
    "We are hiring a {role} to work on {topic}.",
    "Experience with {tool} is a plus.",
    "At least {years} years of experience.",
    "You will work with {org} on {topic}.",
    "New graduates and interns are welcome to apply.",
)


def _fill(template: str, track: Track, language: str, rng: np.random.Generator) -> str:
    ko = language == "ko"
    return template.format(
        org=(ORGS_KO if ko else ORGS_EN)[rng.integers(len(ORGS_KO))],
        topic=(track.topics_ko if ko else track.topics_en)[
            rng.integers(len(track.topics_ko))],
        tool=track.tools[rng.integers(len(track.tools))],
        role=track.role_ko if ko else track.role_en,
        program=(PROGRAMS_KO if ko else PROGRAMS_EN)[rng.integers(len(PROGRAMS_KO))],
        years=int(rng.integers(1, 11)), pct=int(rng.integers(3, 31)))


def _pool(templates: Sequence[str], track: Track, language: str, *, size: int,
          rng: np.random.Generator, passages: PassageTable) -> np.ndarray:
    """Up to ``size`` distinct sentences of a track and language, as passage numbers."""
    numbers: dict[int, None] = {}
    for _ in range(size * 4):
        template = templates[int(rng.integers(len(templates)))]
        numbers[passages.add(_fill(template, track, language, rng))] = None
        if len(numbers) >= size:
            break
    return np.asarray(list(numbers), dtype=np.int32)


def _skill_probabilities(taxonomy: Taxonomy) -> np.ndarray:
    """Per track, the probability of each skill: the track's mix, plus a share of all."""
    n = len(taxonomy)
    popularity = np.zeros(n)
    rows = []
    for track in TRACKS:
        row = np.zeros(n)
        for skill, weight in track.skills.items():
            row[taxonomy.index_of(skill)] = weight
        rows.append(row / row.sum())
        popularity += track.weight * row / row.sum()
    everything = 0.5 * popularity / popularity.sum() + 0.5 / n
    return np.stack([CORE_SHARE * row + (1 - CORE_SHARE) * everything for row in rows])


class EvidenceSources:
    """Source texts of synthetic evidence, computed from their number (none stored)."""

    PREFIX_KO = ("Open Badge", "실습 채점", "프로젝트 성과", "과정 이수", "자기 신고")

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._names = [skill.ko for skill in taxonomy.skills]
        self._skills = len(self._names)

    def __len__(self) -> int:
        return len(EVIDENCE_KINDS) * self._skills * len(ORGS_KO)

    def __getitem__(self, index: int) -> str:
        kind, rest = divmod(int(index), self._skills * len(ORGS_KO))
        skill, org = divmod(rest, len(ORGS_KO))
        if kind == EVIDENCE_KINDS.index("self_declared"):
            return "자기 신고"
        return f"{self.PREFIX_KO[kind]}: {self._names[skill]} ({ORGS_KO[org]})"

    def number(self, kind: np.ndarray, skill: np.ndarray, org: np.ndarray) -> np.ndarray:
        number = (kind.astype(np.int64) * self._skills + skill) * len(ORGS_KO) + org
        return np.asarray(number, dtype=np.int32)


@dataclass
class SyntheticTalent:
    passages: PassageTable
    candidates: CandidateColumns
    postings: list[Posting]
    candidate_tracks: np.ndarray
    posting_tracks: np.ndarray


def generate(taxonomy: Taxonomy, *, candidates: int, postings: int, seed: int = 1,
             pool_size: int = 400) -> SyntheticTalent:
    """Candidates (as columns) and postings, the same for the same arguments."""
    rng = np.random.default_rng(seed)
    passages = PassageTable()
    # the skills' names are passages too (the index adds them to every profile)
    skill_passage = {language: np.asarray([passages.add(skill.name(language))
                                           for skill in taxonomy.skills], dtype=np.int32)
                     for language in ("ko", "en")}
    pools = {(t, language): _pool(CANDIDATE_TEMPLATES_KO if language == "ko"
                                  else CANDIDATE_TEMPLATES_EN, track, language,
                                  size=pool_size, rng=rng, passages=passages)
             for t, track in enumerate(TRACKS) for language in ("ko", "en")}
    weights = np.asarray([track.weight for track in TRACKS])
    cumulative = np.cumsum(weights / weights.sum())
    probabilities = _skill_probabilities(taxonomy)
    sources = EvidenceSources(taxonomy)

    n = candidates
    track = np.minimum(np.searchsorted(cumulative, rng.random(n)), len(TRACKS) - 1)
    english = rng.random(n) < ENGLISH_CANDIDATES
    evidence_count = np.clip(rng.poisson(5.0, n) + 2, 2, 14)
    evidence_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(evidence_count, out=evidence_ptr[1:])
    owner = np.repeat(np.arange(n, dtype=np.int64), evidence_count)
    skill = _draw_skills(probabilities, track[owner], rng)
    level = (np.searchsorted(np.cumsum(LEVEL_P), rng.random(len(owner))) + 1).astype(np.int8)
    level = np.minimum(level, 5).astype(np.int8)
    kind = np.minimum(np.searchsorted(np.cumsum(KIND_P), rng.random(len(owner))),
                      len(EVIDENCE_KINDS) - 1).astype(np.int8)
    source = sources.number(kind, skill, rng.integers(len(ORGS_KO), size=len(owner)))

    # passages: 2-5 sentences of the track and language, then each distinct skill's name
    sentence_count = rng.integers(2, 6, size=n)
    sentence_owner = np.repeat(np.arange(n, dtype=np.int64), sentence_count)
    pool_key = track[sentence_owner] * 2 + english[sentence_owner]
    pool_starts, pool_table = _pool_table(pools)
    pool_sizes = np.diff(pool_starts)
    pick = (rng.random(len(sentence_owner)) * pool_sizes[pool_key]).astype(np.int64)
    sentence = pool_table[pool_starts[pool_key] + pick]
    pair = np.unique(owner * len(taxonomy) + skill)
    pair_owner, pair_skill = pair // len(taxonomy), pair % len(taxonomy)
    name = np.where(english[pair_owner], skill_passage["en"][pair_skill],
                    skill_passage["ko"][pair_skill])
    all_owner = np.concatenate([sentence_owner, pair_owner])
    all_passage = np.concatenate([sentence, name]).astype(np.int32)
    order = np.argsort(all_owner, kind="stable")
    passage_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_owner, minlength=n), out=passage_ptr[1:])
    columns = CandidateColumns(
        ids=NumberedIds("cand-", n), evidence_ptr=evidence_ptr,
        evidence_skill=skill.astype(np.int16), evidence_level=level, evidence_kind=kind,
        evidence_source=source, sources=sources, passage_ptr=passage_ptr,
        passage_id=all_passage[order])
    posting_list, posting_track = _postings(taxonomy, postings, probabilities, rng)
    return SyntheticTalent(passages, columns, posting_list, track, posting_track)


def _draw_skills(probabilities: np.ndarray, tracks: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """One skill per record, from its track's distribution: one search over all tracks'
    cumulative distributions laid end to end (track t's shifted by t)."""
    tracks_count, skills = probabilities.shape
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative[:, -1] = 1.0
    flat = (cumulative + np.arange(tracks_count)[:, None]).ravel()
    found = np.searchsorted(flat, rng.random(len(tracks)) + tracks, side="right")
    return np.asarray(np.minimum(found - tracks * skills, skills - 1), dtype=np.int64)


def _pool_table(pools: dict[tuple[int, str], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    keys = [(t, language) for t in range(len(TRACKS)) for language in ("ko", "en")]
    sizes = [len(pools[key]) for key in keys]
    starts = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    return starts, np.concatenate([pools[key] for key in keys])


def _postings(taxonomy: Taxonomy, count: int, probabilities: np.ndarray,
              rng: np.random.Generator) -> tuple[list[Posting], np.ndarray]:
    weights = np.asarray([track.weight for track in TRACKS])
    tracks = rng.choice(len(TRACKS), size=count, p=weights / weights.sum())
    postings = []
    for i, t in enumerate(tracks.tolist()):
        track = TRACKS[t]
        language = "en" if rng.random() < ENGLISH_POSTINGS else "ko"
        templates = POSTING_TEMPLATES_KO if language == "ko" else POSTING_TEMPLATES_EN
        sentences = [_fill(templates[j], track, language, rng)
                     for j in rng.choice(len(templates), size=int(rng.integers(3, 6)),
                                         replace=False).tolist()]
        kind = ("job", "internship", "project")[int(rng.choice(3, p=(0.7, 0.2, 0.1)))]
        if language == "ko":
            title = {"job": f"{track.role_ko} 채용", "internship": f"{track.role_ko} 인턴",
                     "project": f"AI+X 프로젝트: {track.topics_ko[i % len(track.topics_ko)]}"}[kind]
        else:
            role = track.role_en[0].upper() + track.role_en[1:]
            title = {"job": role, "internship": f"{role} intern",
                     "project": f"AI+X project: {track.topics_en[i % len(track.topics_en)]}"}[kind]
        wanted = int(rng.integers(3, 8))
        core = np.flatnonzero(probabilities[t] > (1 - CORE_SHARE) / len(taxonomy) * 1.01)
        core_p = probabilities[t][core] / probabilities[t][core].sum()
        chosen = rng.choice(core, size=min(wanted, len(core)), replace=False, p=core_p)
        requirements = tuple(
            SkillRequirement(taxonomy.skills[int(s)].id, level=int(rng.integers(2, 5)),
                             required=bool(rng.random() < 0.7))
            for s in chosen.tolist())
        organization = (ORGS_KO if language == "ko" else ORGS_EN)[int(rng.integers(len(ORGS_KO)))]
        postings.append(Posting(f"post-{i:05d}", title, " ".join(sentences), requirements,
                                organization, kind))
    return postings, tracks


def placement(applicants: int, positions: int, *, seed: int = 1,
              list_min: int = 10, list_max: int = 30, capacity_mean: float = 8.0,
              acceptable: float = 0.9) -> MatchingInstance:
    """A job-fair placement: each applicant ranks ``list_min``-``list_max`` positions
    (popular positions more often: Zipf-like weights), each position ranks the applicants
    who listed it, by a shared quality plus its own taste, and finds ``acceptable`` of them
    acceptable; capacities are 1 + Poisson(capacity_mean - 1)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, positions + 1) ** 0.6
    rng.shuffle(popularity)
    cumulative = np.cumsum(popularity / popularity.sum())
    lengths = rng.integers(list_min, list_max + 1, size=applicants)
    draws = np.searchsorted(cumulative, rng.random((applicants, list_max * 2)))
    draws = np.minimum(draws, positions - 1)
    a_ptr = [0]
    a_lists: list[int] = []
    for a in range(applicants):
        chosen = list(dict.fromkeys(draws[a].tolist()))[:int(lengths[a])]
        a_lists.extend(chosen)
        a_ptr.append(len(a_lists))
    applicant_ptr = np.asarray(a_ptr, dtype=np.int64)
    applicant_lists = np.asarray(a_lists, dtype=np.int32)
    owners = np.repeat(np.arange(applicants, dtype=np.int64), np.diff(applicant_ptr))
    quality = rng.normal(size=applicants)
    score = quality[owners] + 0.7 * rng.normal(size=len(owners))
    keep = rng.random(len(owners)) < acceptable
    position_of, applicant_of, score = applicant_lists[keep], owners[keep], score[keep]
    order = np.lexsort((-score, position_of))
    position_ptr = np.zeros(positions + 1, dtype=np.int64)
    np.cumsum(np.bincount(position_of, minlength=positions), out=position_ptr[1:])
    capacities = 1 + rng.poisson(max(capacity_mean - 1.0, 0.0), size=positions)
    instance = MatchingInstance(
        applicant_ids=NumberedIds("app-", applicants),
        position_ids=NumberedIds("pos-", positions, width=5),
        applicant_ptr=applicant_ptr, applicant_lists=applicant_lists,
        position_ptr=position_ptr, position_lists=applicant_of[order].astype(np.int32),
        capacities=capacities.astype(np.int64))
    instance.check()
    return instance
