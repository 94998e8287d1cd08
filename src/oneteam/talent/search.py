"""Hybrid search: the best candidates for a posting, the best postings for a learner.

Three rankers score every document of one side, and reciprocal rank fusion (k = 60,
`fusion`) merges their top ``depth`` lists:

- **skills**: how much of the requirements the evidence covers. A requirement of skill
  s at level L and weight w (required 1.0, preferred 0.5) earns w × credit, where a
  piece of evidence at level ℓ of kind κ gives credit κ × min(1, ℓ / L) and the best
  piece counts; the score is the earned share of the total weight, 0 to 1. Per skill,
  the index keeps the candidates with evidence and their credit at each of the five
  levels (float32), so a query touches only the candidates holding a required skill.
  Equal coverage (frequent: levels are few) is ordered by embedding similarity, and
  shares a rank in the fusion.
- **text**: BM25 (k1 1.2, b 0.75) over Kiwi tokens (`text`), a sparse matrix with one
  column per term. Besides its words, every passage has one term per skill it names in
  either language (``skill:deep-learning`` for "딥러닝", "deep learning" or "심층학습":
  the taxonomy's aliases), so Korean and English text meet on shared skill terms. A
  query keeps its 24 terms of highest IDF, at most four million postings (bounded work).
- **embedding**: cosine between the query's vector and each document's, from the
  multilingual sentence encoder (`embedding`): a document's vector is the sum of its
  passages' vectors. Only the distinct passages are embedded, and a document is stored
  as a sparse row of passage counts, so a million profiles made of recurring phrases
  cost their passages plus 8 bytes a reference; a query computes its similarity to
  every passage once, then to every document as one sparse product.

Every result carries its explanation: the skills matched with the evidence that counts
(kind, level, source), the missing ones, the BM25 terms that matched (a skill term names
its skill), the embedding similarity and the document's passage closest to the query,
and its rank in each ranker's list.

An index is built once from all profiles and postings (`TalentIndex.build`) and then only
read; queries may run from several threads. Each query limits BLAS to one thread while it
runs (process-wide, through threadpoolctl): its matrix products are small.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from oneteam.talent.embedding import SentenceEncoder, shared_encoder
from oneteam.talent.errors import TalentInputError, check
from oneteam.talent.fusion import RRF_K, Ranking, reciprocal_rank_fusion
from oneteam.talent.profiles import (
    CandidateColumns,
    CandidateProfile,
    PassageTable,
    Posting,
    PostingColumns,
    SkillRequirement,
    candidate_columns,
    posting_columns,
    posting_requirements,
    text_language,
)
from oneteam.talent.taxonomy import EVIDENCE_KINDS, LEVEL_MAX, LEVEL_MIN, Taxonomy
from oneteam.talent.text import Tokenizer, shared_tokenizer, split_passages

RANKERS = ("skills", "text", "embedding")
K_MAX = 1_000
DEPTH_DEFAULT = 1_000
DEPTH_MAX = 100_000
QUERY_TERMS_MAX = 24
POSTINGS_SCANNED_MAX = 4_000_000  # BM25 postings a query may visit, rarest terms first
SAMPLE_STRIDE = 16
NO_SIMILARITY = -2.0  # below any cosine: a document without text
CONCEPT_PREFIX = "skill:"  # the term of a skill named in a passage, in either language
BM25_K1 = 1.2
BM25_B = 0.75
SKILL_SCORE_STEPS = 10_000  # coverage is compared to 4 decimals: float noise is no tie-break
TERMS_SHOWN_MAX = 8
QUERY_CACHE_MAX = 4_096
NORM_CHUNK_ROWS = 65_536


# ---- results ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EvidenceUsed:
    kind: str
    level: int
    source: str
    kind_weight: float


@dataclass(frozen=True, slots=True)
class SkillMatch:
    skill_id: str
    name_ko: str
    name_en: str
    ncs_code: str | None
    required_level: int
    weight: float  # the requirement's weight: required 1.0, preferred 0.5
    credit: float  # 0 to 1: kind weight × min(1, level / required level)
    status: str  # "evidenced", "named_in_query" or "missing"
    evidence: EvidenceUsed | None


@dataclass(frozen=True, slots=True)
class TermMatch:
    term: str  # a word, or skill:<id> for a skill both texts name (in either language)
    score: float  # the term's BM25 contribution
    skill_id: str | None  # the skill, for a skill term


@dataclass(frozen=True, slots=True)
class Explanation:
    skill_score: float
    skills: tuple[SkillMatch, ...]
    text_score: float
    terms: tuple[TermMatch, ...]
    embedding_similarity: float | None
    closest_passage: str | None
    ranks: dict[str, int | None]  # rank in each ranker's list; None: not in its top depth

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SearchResult:
    id: str
    rank: int
    score: float  # the fused score
    title: str
    explanation: Explanation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Query:
    """A free-text search; its skills are the requirements given, else those it names."""

    text: str
    requirements: tuple[SkillRequirement, ...] = ()


# ---- the rankers -----------------------------------------------------------------------

class Bm25Index:
    """BM25 weights, documents × terms, stored by term (CSC) for query-time columns."""

    def __init__(self, term_counts: sp.csr_matrix, *, k1: float = BM25_K1,
                 b: float = BM25_B) -> None:
        counts = term_counts.astype(np.float32)
        counts.sum_duplicates()
        n, terms = counts.shape
        lengths = np.asarray(counts.sum(axis=1), dtype=np.float32).ravel()
        average = float(lengths.mean()) if n else 0.0
        self.df = np.bincount(counts.indices, minlength=terms).astype(np.int64)
        self.idf = np.log1p((n - self.df + 0.5) / (self.df + 0.5)).astype(np.float32)
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(counts.indptr))
        norm = (k1 * (1.0 - b + b * lengths / average)).astype(np.float32) if average else (
            np.full(n, k1, dtype=np.float32))
        tf = counts.data
        counts.data = (self.idf[counts.indices] * tf * np.float32(k1 + 1.0)
                       / (tf + norm[rows])).astype(np.float32)
        del rows
        by_term = counts.tocsc()
        del counts
        # per term, the documents holding it (int64: numpy indexes with it without a copy)
        self.indptr = by_term.indptr.astype(np.int64)
        self.rows = by_term.indices.astype(np.int64)
        self.weights = by_term.data
        self.documents = n

    @property
    def nonzeros(self) -> int:
        return len(self.rows)

    def select(self, weights: Mapping[int, float]) -> list[tuple[int, float]]:
        """The query's terms worth scanning: known ones, highest IDF × weight first, at
        most QUERY_TERMS_MAX of them and POSTINGS_SCANNED_MAX postings in all."""
        usable = [(float(self.idf[term]) * weight, term, weight)
                  for term, weight in weights.items()
                  if 0 <= term < len(self.df) and self.df[term] > 0]
        usable.sort(key=lambda entry: (-entry[0], entry[1]))
        chosen: list[tuple[int, float]] = []
        budget = POSTINGS_SCANNED_MAX
        for _, term, weight in usable:
            if len(chosen) == QUERY_TERMS_MAX:
                break
            if self.df[term] <= budget:
                chosen.append((term, weight))
                budget -= int(self.df[term])
        return chosen

    def score(self, terms: Sequence[tuple[int, float]]) -> np.ndarray:
        scores = np.zeros(self.documents, dtype=np.float32)
        for term, weight in terms:
            start, end = self.indptr[term], self.indptr[term + 1]
            if weight == 1.0:
                scores[self.rows[start:end]] += self.weights[start:end]
            else:
                scores[self.rows[start:end]] += np.float32(weight) * self.weights[start:end]
        return scores

    def contributions(self, terms: Sequence[tuple[int, float]],
                      documents: np.ndarray) -> np.ndarray:
        """Each term's share of each document's score, documents × terms."""
        out = np.zeros((len(documents), len(terms)), dtype=np.float32)
        for column, (term, weight) in enumerate(terms):
            start = self.indptr[term]
            rows = self.rows[start:self.indptr[term + 1]]
            at = np.searchsorted(rows, documents)
            inside = at < len(rows)
            hit = np.zeros(len(documents), dtype=bool)
            hit[inside] = rows[at[inside]] == documents[inside]
            out[hit, column] = weight * self.weights[start + at[hit]]
        return out


class EmbeddingIndex:
    """Documents as sparse rows of passage counts over one table of passage vectors."""

    def __init__(self, passage_vectors: np.ndarray, passage_counts: sp.csr_matrix) -> None:
        self.vectors = passage_vectors
        self.counts = passage_counts.astype(np.float32).tocsr()
        n = self.counts.shape[0]
        norms = np.empty(n, dtype=np.float32)
        for start in range(0, n, NORM_CHUNK_ROWS):
            block = self.counts[start:start + NORM_CHUNK_ROWS] @ passage_vectors
            norms[start:start + len(block)] = np.linalg.norm(block, axis=1)
        self.inverse_norms = np.zeros(n, dtype=np.float32)
        np.divide(1.0, norms, out=self.inverse_norms, where=norms > 1e-6)
        self.without_text = np.flatnonzero(self.inverse_norms == 0)

    def passage_similarities(self, vector: np.ndarray) -> np.ndarray:
        return np.asarray(self.vectors @ vector, dtype=np.float32)

    def score(self, passage_similarities: np.ndarray) -> np.ndarray:
        """Cosine of every document with the query; NO_SIMILARITY for one without text."""
        scores = np.asarray(self.counts @ passage_similarities, dtype=np.float32)
        scores *= self.inverse_norms
        scores[self.without_text] = NO_SIMILARITY
        return scores

    def document_vector(self, document: int) -> np.ndarray | None:
        start, end = self.counts.indptr[document], self.counts.indptr[document + 1]
        if start == end or self.inverse_norms[document] == 0:
            return None
        counts = self.counts.data[start:end]
        vector = np.asarray(counts @ self.vectors[self.counts.indices[start:end]],
                            dtype=np.float32)
        return vector * float(self.inverse_norms[document])

    def closest_passage(self, document: int, passage_similarities: np.ndarray) -> int | None:
        start, end = self.counts.indptr[document], self.counts.indptr[document + 1]
        if start == end:
            return None
        passages = self.counts.indices[start:end]
        return int(passages[int(np.argmax(passage_similarities[passages]))])


def _credit_table(levels: np.ndarray, kind_weights: np.ndarray) -> np.ndarray:
    """Credit of each evidence record at each required level 1-5: 5 × records."""
    required = np.arange(LEVEL_MIN, LEVEL_MAX + 1, dtype=np.float32)[:, None]
    ratio = np.minimum(1.0, np.asarray(levels, dtype=np.float32)[None, :] / required)
    return np.asarray(np.asarray(kind_weights, dtype=np.float32)[None, :] * ratio,
                      dtype=np.float32)


class CandidateSkillIndex:
    """Per skill: the candidates with evidence of it, and their best credit per level."""

    def __init__(self, columns: CandidateColumns, skill_count: int,
                 kind_weights: np.ndarray) -> None:
        n = len(columns)
        owners = np.repeat(np.arange(n, dtype=np.int64), np.diff(columns.evidence_ptr))
        keys = columns.evidence_skill.astype(np.int64) * max(n, 1) + owners
        del owners
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else (
            np.zeros(0, dtype=np.int64))
        credit = _credit_table(columns.evidence_level[order],
                               kind_weights[columns.evidence_kind[order]])
        del order
        self.credit = (np.maximum.reduceat(credit, starts, axis=1) if len(starts)
                       else np.zeros((LEVEL_MAX, 0), dtype=np.float32))
        unique = keys[starts]
        self.candidates = unique % max(n, 1)  # int64: indexes without a conversion
        skills = unique // max(n, 1)
        self.skill_ptr = np.searchsorted(skills, np.arange(skill_count + 1)).astype(np.int64)
        self.documents = n

    def score(self, requirements: Sequence[tuple[int, int, float]]) -> np.ndarray:
        scores = np.zeros(self.documents, dtype=np.float32)
        total = sum(weight for _, _, weight in requirements)
        for skill, level, weight in requirements:
            start, end = self.skill_ptr[skill], self.skill_ptr[skill + 1]
            scores[self.candidates[start:end]] += self.credit[level - 1, start:end] * (
                np.float32(weight / total))
        return scores


class PostingSkillIndex:
    """Per skill: the postings requiring it, at which level and weight."""

    def __init__(self, columns: PostingColumns, skill_count: int) -> None:
        n = len(columns)
        owners = np.repeat(np.arange(n, dtype=np.int32), np.diff(columns.requirement_ptr))
        order = np.argsort(columns.requirement_skill, kind="stable")
        self.postings = owners[order].astype(np.int64)
        self.levels = columns.requirement_level[order].astype(np.int64)
        self.weights = columns.requirement_weight[order].astype(np.float32)
        self.skill_ptr = np.searchsorted(columns.requirement_skill[order],
                                         np.arange(skill_count + 1)).astype(np.int64)
        total = np.bincount(owners, weights=columns.requirement_weight, minlength=n)
        self.inverse_total = np.zeros(n, dtype=np.float32)
        np.divide(1.0, total, out=self.inverse_total, where=total > 0)
        self.documents = n

    def score(self, credit: Mapping[int, np.ndarray]) -> np.ndarray:
        """Postings' coverage by a learner whose credit per skill is given per level."""
        scores = np.zeros(self.documents, dtype=np.float32)
        for skill, by_level in credit.items():
            start, end = self.skill_ptr[skill], self.skill_ptr[skill + 1]
            if start == end:
                continue
            # a posting requires a skill once: its positions here are distinct
            scores[self.postings[start:end]] += (self.weights[start:end]
                                                 * by_level[self.levels[start:end] - 1])
        return scores * self.inverse_total


# ---- the index -------------------------------------------------------------------------

@dataclass(slots=True)
class _Prepared:
    """A query made ready for one side: requirements or credit, terms, vector."""

    text: str
    requirements: list[tuple[int, int, float]]  # (skill, level, weight): candidate search
    credit: dict[int, np.ndarray]  # skill -> credit per level 1-5: posting search
    evidence: list[tuple[int, int, int, str]]  # learner's (skill, level, kind, source)
    named: set[int]  # skills a free-text query named
    terms: dict[int, float]  # term -> weight
    vector: np.ndarray | None


@dataclass(slots=True)
class _Side:
    name: str
    ids: Any
    titles: Any
    bm25: Bm25Index
    embeddings: EmbeddingIndex
    passage_ptr: np.ndarray
    passage_id: np.ndarray


@lru_cache(maxsize=1)
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()  # once: discovering the loaded libraries is slow


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Queries multiply small matrices: one BLAS thread is steadier than several (on the
    loaded 2-core machine, a 4,000 × 512 product took 0.2 ms on one thread, 0.7 to 8 ms
    on two)."""
    with _threadpools().limit(limits=1, user_api="blas"):
        yield


def _concepts(taxonomy: Taxonomy, text: str) -> list[str]:
    """The skill terms of a passage: one per skill it names, in either language."""
    return [CONCEPT_PREFIX + skill for skill in taxonomy.find_mentions(text)]


def _check_k(k: int, depth: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= K_MAX:
        raise TalentInputError("k", f"must be an integer from 1 to {K_MAX}, got {k!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or not k <= depth <= DEPTH_MAX:
        raise TalentInputError("depth", f"must be an integer from k ({k}) to {DEPTH_MAX}, "
                               f"got {depth!r}")


def _select(key: np.ndarray, depth: int, minimum: float) -> np.ndarray:
    """The ``depth`` documents of highest key above ``minimum``, best first; equal keys
    by document number. Exact: a strided sample's order statistic gives a threshold
    that at least ``depth`` documents pass (else all eligible ones are taken), so the
    full partition runs on a few thousand keys, not on a million."""
    chosen: np.ndarray | None = None
    if len(key) > depth * SAMPLE_STRIDE * 2:
        sample = key[::SAMPLE_STRIDE]
        wanted = min(len(sample), 2 * depth // SAMPLE_STRIDE + 1)
        threshold = np.partition(sample, len(sample) - wanted)[len(sample) - wanted]
        if threshold > minimum:
            passing = np.flatnonzero(key >= threshold)
            if len(passing) >= depth:
                chosen = passing
    if chosen is None:
        chosen = np.flatnonzero(key > minimum)
    values = key[chosen]
    if len(chosen) > depth:
        cut = np.partition(values, len(values) - depth)[len(values) - depth]
        above = np.flatnonzero(values > cut)
        at_cut = np.flatnonzero(values == cut)[:depth - len(above)]
        keep = np.sort(np.concatenate([above, at_cut]))
        chosen, values = chosen[keep], values[keep]
    return chosen[np.lexsort((chosen, -values))]


class TalentIndex:
    """Candidates and postings indexed for search in both directions. Build with `build`."""

    def __init__(self, *, taxonomy: Taxonomy, candidates: CandidateColumns,
                 postings: PostingColumns, passages: PassageTable,
                 passage_terms: sp.csr_matrix, vocabulary: dict[str, int],
                 passage_vectors: np.ndarray, encoder: SentenceEncoder, tokenizer: Tokenizer,
                 timings: dict[str, float], progress: Callable[[str], None]) -> None:
        self.taxonomy = taxonomy
        self.candidate_columns = candidates
        self.posting_columns = postings
        self.passages = passages
        self.passage_terms = passage_terms
        self.vocabulary = vocabulary
        self.terms = [""] * len(vocabulary)
        for term, number in vocabulary.items():
            self.terms[number] = term
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.kind_weights = np.asarray([taxonomy.evidence_weight(kind) for kind in EVIDENCE_KINDS],
                                       dtype=np.float32)
        self._cache: dict[str, tuple[list[int], np.ndarray]] = {}

        def timed(step: str, make: Callable[[], Any]) -> Any:
            progress(f"index: {step} ...")
            started = time.perf_counter()
            value = make()
            timings[step] = time.perf_counter() - started
            return value

        self.candidates = timed("candidates: text and embeddings", lambda: self._side(
            "candidates", ids=candidates.ids, titles=candidates.names,
            passage_ptr=candidates.passage_ptr, passage_id=candidates.passage_id,
            passage_vectors=passage_vectors))
        self.candidate_skills = timed("candidates: skills", lambda: CandidateSkillIndex(
            candidates, len(taxonomy), self.kind_weights))
        titles = [f"{title} — {organization}" if organization else title
                  for title, organization in zip(postings.titles, postings.organizations,
                                                 strict=True)]
        self.postings = timed("postings: text and embeddings", lambda: self._side(
            "postings", ids=postings.ids, titles=titles, passage_ptr=postings.passage_ptr,
            passage_id=postings.passage_id, passage_vectors=passage_vectors))
        self.posting_skills = timed("postings: skills", lambda: PostingSkillIndex(
            postings, len(taxonomy)))
        self.timings = timings

    # -- building --

    @classmethod
    def build(cls, taxonomy: Taxonomy,
              candidates: CandidateColumns | Iterable[CandidateProfile],
              postings: PostingColumns | Iterable[Posting], *,
              passages: PassageTable | None = None, encoder: SentenceEncoder | None = None,
              tokenizer: Tokenizer | None = None,
              progress: Callable[[str], None] | None = None) -> TalentIndex:
        """Index candidates and postings (profiles, or columns sharing ``passages``)."""
        encoder = encoder or shared_encoder()
        tokenizer = tokenizer or shared_tokenizer()
        report = progress or (lambda message: None)
        table = passages if passages is not None else PassageTable()
        if passages is None and (isinstance(candidates, CandidateColumns)
                                 or isinstance(postings, PostingColumns)):
            raise TalentInputError("passages", "columns refer to a passage table: pass it")
        candidate_cols = candidates if isinstance(candidates, CandidateColumns) else (
            candidate_columns(candidates, taxonomy, table))
        posting_cols = postings if isinstance(postings, PostingColumns) else (
            posting_columns(postings, taxonomy, table))
        candidate_cols.check(len(taxonomy), len(table))
        posting_cols.check(len(taxonomy), len(table))
        timings: dict[str, float] = {}

        report(f"index: tokenizing {len(table):,} distinct passages ...")
        started = time.perf_counter()
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        chunk = 2_048
        for start in range(0, len(table), chunk):
            texts = table.texts[start:start + chunk]
            for offset, (text, terms) in enumerate(zip(
                    texts, tokenizer.tokenize_many(texts), strict=True)):
                for term in terms + _concepts(taxonomy, text):
                    rows.append(start + offset)
                    columns.append(vocabulary.setdefault(term, len(vocabulary)))
            if start and start % (chunk * 16) == 0:
                report(f"index: tokenized {start:,} of {len(table):,} passages")
        passage_terms = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (np.asarray(rows, dtype=np.int64),
                                                    np.asarray(columns, dtype=np.int64))),
            shape=(len(table), max(len(vocabulary), 1)), dtype=np.float32)
        passage_terms.sum_duplicates()
        timings["tokenize passages"] = time.perf_counter() - started

        report(f"index: embedding {len(table):,} distinct passages ...")
        started = time.perf_counter()
        vectors = encoder.encode(table.texts)
        check(vectors.shape == (len(table), encoder.dimension), "passage vectors' shape")
        timings["embed passages"] = time.perf_counter() - started
        return cls(taxonomy=taxonomy, candidates=candidate_cols, postings=posting_cols,
                   passages=table, passage_terms=passage_terms, vocabulary=vocabulary,
                   passage_vectors=vectors, encoder=encoder, tokenizer=tokenizer,
                   timings=timings, progress=report)

    def _side(self, name: str, *, ids: Any, titles: Any, passage_ptr: np.ndarray,
              passage_id: np.ndarray, passage_vectors: np.ndarray) -> _Side:
        documents = len(passage_ptr) - 1
        counts = sp.csr_matrix((np.ones(len(passage_id), dtype=np.float32),
                                passage_id.astype(np.int32), passage_ptr.astype(np.int64)),
                               shape=(documents, len(self.passages)))
        counts.sum_duplicates()
        term_counts = (counts @ self.passage_terms).tocsr()
        return _Side(name=name, ids=ids, titles=titles, bm25=Bm25Index(term_counts),
                     embeddings=EmbeddingIndex(passage_vectors, counts),
                     passage_ptr=passage_ptr, passage_id=passage_id)

    def statistics(self) -> dict[str, Any]:
        """Sizes of the index (documents, passages, terms, non-zeros) and array memory."""
        def nbytes(*arrays: Any) -> int:
            total = 0
            for array in arrays:
                if sp.issparse(array):
                    total += array.data.nbytes + array.indices.nbytes + array.indptr.nbytes
                else:
                    total += np.asarray(array).nbytes
            return total

        sides = {}
        for side, skills in ((self.candidates, self.candidate_skills),
                             (self.postings, self.posting_skills)):
            arrays = [side.bm25.indptr, side.bm25.rows, side.bm25.weights, side.bm25.idf,
                      side.bm25.df, side.embeddings.counts,
                      side.embeddings.inverse_norms, side.passage_ptr, side.passage_id]
            if isinstance(skills, CandidateSkillIndex):
                arrays += [skills.credit, skills.candidates, skills.skill_ptr]
            else:
                arrays += [skills.postings, skills.levels, skills.weights]
            sides[side.name] = {"documents": side.bm25.documents,
                                "bm25_nonzeros": side.bm25.nonzeros,
                                "passage_references": len(side.passage_id),
                                "array_mib": round(nbytes(*arrays) / 2**20, 1)}
        evidence = self.candidate_columns
        sides["candidates"]["evidence_records"] = len(evidence.evidence_skill)
        sides["candidates"]["evidence_array_mib"] = round(nbytes(
            evidence.evidence_ptr, evidence.evidence_skill, evidence.evidence_level,
            evidence.evidence_kind, evidence.evidence_source) / 2**20, 1)
        return {"passages": len(self.passages), "terms": len(self.vocabulary),
                "passage_vector_mib": round(nbytes(self.candidates.embeddings.vectors) / 2**20, 1),
                "encoder": self.encoder.name, **sides}

    # -- queries --

    def candidates_for_posting(self, posting_id: str, *, k: int = 20,
                               depth: int = DEPTH_DEFAULT) -> list[SearchResult]:
        """The best k candidates for an indexed posting."""
        _check_k(k, depth)
        posting = self._position(self.postings, posting_id, "posting_id")
        cols = self.posting_columns
        start, end = cols.requirement_ptr[posting], cols.requirement_ptr[posting + 1]
        requirements = [(int(s), int(level), float(weight)) for s, level, weight in zip(
            cols.requirement_skill[start:end], cols.requirement_level[start:end],
            cols.requirement_weight[start:end], strict=True)]
        prepared = self._prepare_indexed(self.postings, posting, requirements=requirements)
        return self._search_candidates(prepared, k, depth)

    def postings_for_candidate(self, candidate_id: str, *, k: int = 20,
                               depth: int = DEPTH_DEFAULT) -> list[SearchResult]:
        """The best k postings for an indexed candidate (a learner)."""
        _check_k(k, depth)
        candidate = self._position(self.candidates, candidate_id, "candidate_id")
        evidence = self._evidence_of(candidate)
        prepared = self._prepare_indexed(self.candidates, candidate, evidence=evidence)
        return self._search_postings(prepared, k, depth)

    def search_candidates(self, query: Query | Posting, *, k: int = 20,
                          depth: int = DEPTH_DEFAULT) -> list[SearchResult]:
        """The best k candidates for a posting not (necessarily) indexed, or a free query."""
        _check_k(k, depth)
        if isinstance(query, Posting):
            requirements = posting_requirements(query, self.taxonomy, "query")
            text = "\n".join((query.title, query.text))
            return self._search_candidates(self._prepare_text(
                text, requirements=requirements), k, depth)
        requirements = self._query_requirements(query)
        return self._search_candidates(self._prepare_text(
            query.text, requirements=requirements), k, depth)

    def search_postings(self, query: Query | CandidateProfile, *, k: int = 20,
                        depth: int = DEPTH_DEFAULT) -> list[SearchResult]:
        """The best k postings for a profile not (necessarily) indexed, or a free query."""
        _check_k(k, depth)
        if isinstance(query, CandidateProfile):
            columns = candidate_columns([query], self.taxonomy, PassageTable())
            evidence = [(int(s), int(level), int(kind), columns.sources[source])
                        for s, level, kind, source in zip(
                            columns.evidence_skill, columns.evidence_level,
                            columns.evidence_kind, columns.evidence_source, strict=True)]
            return self._search_postings(self._prepare_text(query.text, evidence=evidence),
                                         k, depth)
        requirements = self._query_requirements(query)
        prepared = self._prepare_text(query.text)
        prepared.named = {skill for skill, _, _ in requirements}
        prepared.credit = {skill: np.ones(LEVEL_MAX, dtype=np.float32)
                           for skill in prepared.named}
        return self._search_postings(prepared, k, depth)

    # -- query preparation --

    def _position(self, side: _Side, item_id: str, field: str) -> int:
        if not isinstance(item_id, str):
            raise TalentInputError(field, "must be a string")
        position = side.ids.position(item_id)
        if position is None:
            raise TalentInputError(field, f"no {side.name[:-1]} with id {item_id!r} in the index")
        return int(position)

    def _query_requirements(self, query: Query) -> list[tuple[int, int, float]]:
        if not isinstance(query.text, str):
            raise TalentInputError("query.text", "must be a string")
        if query.requirements:
            return posting_requirements(Posting("query", "query", query.text,
                                                tuple(query.requirements)),
                                        self.taxonomy, "query")
        weight = self.taxonomy.requirement_weight(False)
        return [(self.taxonomy.index_of(skill), LEVEL_MIN, weight)
                for skill in self.taxonomy.find_mentions(query.text)]

    def _evidence_of(self, candidate: int) -> list[tuple[int, int, int, str]]:
        cols = self.candidate_columns
        start, end = cols.evidence_ptr[candidate], cols.evidence_ptr[candidate + 1]
        return [(int(s), int(level), int(kind), cols.sources[int(source)])
                for s, level, kind, source in zip(
                    cols.evidence_skill[start:end], cols.evidence_level[start:end],
                    cols.evidence_kind[start:end], cols.evidence_source[start:end],
                    strict=True)]

    def _credit_of(self, evidence: Sequence[tuple[int, int, int, str]]
                   ) -> dict[int, np.ndarray]:
        credit: dict[int, np.ndarray] = {}
        for skill, level, kind, _ in evidence:
            row = _credit_table(np.asarray([level], dtype=np.int8),
                                self.kind_weights[[kind]])[:, 0]
            credit[skill] = np.maximum(credit.get(skill, row), row)
        return credit

    def _prepare_indexed(self, side: _Side, document: int, *,
                         requirements: list[tuple[int, int, float]] | None = None,
                         evidence: list[tuple[int, int, int, str]] | None = None) -> _Prepared:
        start, end = side.passage_ptr[document], side.passage_ptr[document + 1]
        passages = side.passage_id[start:end]
        text = "\n".join(self.passages.texts[int(p)] for p in passages)
        rows = self.passage_terms[passages]
        terms = dict.fromkeys(np.unique(rows.indices).tolist(), 1.0)
        return _Prepared(text=text, requirements=requirements or [],
                         credit=self._credit_of(evidence or []), evidence=evidence or [],
                         named=set(), terms=terms,
                         vector=side.embeddings.document_vector(document))

    def _prepare_text(self, text: str, *,
                      requirements: list[tuple[int, int, float]] | None = None,
                      evidence: list[tuple[int, int, int, str]] | None = None) -> _Prepared:
        if not isinstance(text, str):
            raise TalentInputError("query.text", "must be a string")
        # as indexed documents are: the text's passages, then its skills' names
        language = text_language(text)
        passages = split_passages(text) + [self.taxonomy.skills[skill].name(language)
                                           for skill, _, _ in requirements or []]
        terms: dict[int, float] = {}
        vector = np.zeros(self.encoder.dimension, dtype=np.float32)
        for tokens, passage_vector in self._analyze(passages):
            vector += passage_vector
            terms.update(dict.fromkeys(tokens, 1.0))
        norm = float(np.linalg.norm(vector))
        return _Prepared(text=text, requirements=requirements or [],
                         credit=self._credit_of(evidence or []), evidence=evidence or [],
                         named=set(), terms=terms,
                         vector=vector / norm if norm > 1e-6 else None)

    def _analyze(self, passages: Sequence[str]) -> list[tuple[list[int], np.ndarray]]:
        """Terms (known to the vocabulary) and vector of each passage, cached."""
        missing = [p for p in dict.fromkeys(passages) if p not in self._cache]
        if missing:
            if len(self._cache) + len(missing) > QUERY_CACHE_MAX:
                self._cache.clear()
            vectors = self.encoder.encode(missing)
            for passage, tokens, vector in zip(missing, self.tokenizer.tokenize_many(missing),
                                               vectors, strict=True):
                terms = [self.vocabulary[t] for t in tokens + _concepts(self.taxonomy, passage)
                         if t in self.vocabulary]
                self._cache[passage] = (terms, vector)
        return [self._cache[p] for p in passages]

    # -- ranking --

    def _rank(self, side: _Side, prepared: _Prepared, skill_scores: np.ndarray | None,
              depth: int) -> tuple[dict[str, Ranking], list[tuple[int, float]],
                                   np.ndarray | None]:
        rankings: dict[str, Ranking] = {}
        similarities = passage_similarities = None
        if prepared.vector is not None:
            passage_similarities = side.embeddings.passage_similarities(prepared.vector)
            similarities = side.embeddings.score(passage_similarities)
            chosen = _select(similarities, depth, NO_SIMILARITY)
            rankings["embedding"] = Ranking.from_scores(chosen, similarities[chosen])
        if skill_scores is not None:
            # coverage in steps of 1/10,000, then (under one step) the similarity, so
            # equal coverage is ordered by it; documents without text sit below
            key = np.rint(skill_scores * np.float32(SKILL_SCORE_STEPS))
            if similarities is not None:
                key += np.float32(0.3) * (np.maximum(similarities, -1.0) + np.float32(1.0))
            chosen = _select(key, depth, 0.65)
            steps = np.rint(skill_scores[chosen] * np.float32(SKILL_SCORE_STEPS))
            rankings["skills"] = Ranking.from_scores(chosen, steps)
        terms = side.bm25.select(prepared.terms)
        if terms:
            text_scores = side.bm25.score(terms)
            chosen = _select(text_scores, depth, 0.0)
            rankings["text"] = Ranking.from_scores(chosen, text_scores[chosen])
        return rankings, terms, passage_similarities

    def _search_candidates(self, prepared: _Prepared, k: int, depth: int
                           ) -> list[SearchResult]:
        with _one_blas_thread():
            return self._search_candidates_now(prepared, k, depth)

    def _search_postings(self, prepared: _Prepared, k: int, depth: int) -> list[SearchResult]:
        with _one_blas_thread():
            return self._search_postings_now(prepared, k, depth)

    def _search_candidates_now(self, prepared: _Prepared, k: int, depth: int
                               ) -> list[SearchResult]:
        side = self.candidates
        skill_scores = (self.candidate_skills.score(prepared.requirements)
                        if prepared.requirements else None)
        rankings, terms, passage_similarities = self._rank(side, prepared, skill_scores, depth)
        fused = reciprocal_rank_fusion(rankings, k=RRF_K, limit=k)
        documents = np.asarray([f.item for f in fused], dtype=np.int64)
        contributions = side.bm25.contributions(terms, documents) if terms else None
        results = []
        for i, entry in enumerate(fused):
            candidate = entry.item
            evidence = self._evidence_of(candidate)
            skills = tuple(self._skill_match(skill, level, weight, evidence, named=False)
                           for skill, level, weight in prepared.requirements)
            results.append(self._result(
                side, candidate, rank=i + 1, score=entry.score, ranks=entry.ranks,
                skills=skills, terms=terms, contributions=contributions, row=i,
                passage_similarities=passage_similarities, prepared=prepared))
        return results

    def _search_postings_now(self, prepared: _Prepared, k: int, depth: int
                             ) -> list[SearchResult]:
        side = self.postings
        skill_scores = self.posting_skills.score(prepared.credit) if prepared.credit else None
        rankings, terms, passage_similarities = self._rank(side, prepared, skill_scores, depth)
        fused = reciprocal_rank_fusion(rankings, k=RRF_K, limit=k)
        documents = np.asarray([f.item for f in fused], dtype=np.int64)
        contributions = side.bm25.contributions(terms, documents) if terms else None
        cols = self.posting_columns
        results = []
        for i, entry in enumerate(fused):
            posting = entry.item
            start, end = cols.requirement_ptr[posting], cols.requirement_ptr[posting + 1]
            skills = tuple(
                self._skill_match(int(skill), int(level), float(weight), prepared.evidence,
                                  named=int(skill) in prepared.named)
                for skill, level, weight in zip(
                    cols.requirement_skill[start:end], cols.requirement_level[start:end],
                    cols.requirement_weight[start:end], strict=True))
            results.append(self._result(
                side, posting, rank=i + 1, score=entry.score, ranks=entry.ranks,
                skills=skills, terms=terms, contributions=contributions, row=i,
                passage_similarities=passage_similarities, prepared=prepared))
        return results

    # -- explanations --

    def _skill_match(self, skill: int, level: int, weight: float,
                     evidence: Sequence[tuple[int, int, int, str]], *, named: bool
                     ) -> SkillMatch:
        info = self.taxonomy.skills[skill]
        best: tuple[float, int, float, tuple[int, int, int, str]] | None = None
        for record in evidence:
            if record[0] != skill:
                continue
            kind_weight = float(self.kind_weights[record[2]])
            credit = kind_weight * min(1.0, record[1] / level)
            key = (credit, record[1], kind_weight, record)
            if best is None or key[:3] > best[:3]:
                best = key
        if best is not None:
            credit, _, kind_weight, (_, ev_level, kind, source) = best
            used = EvidenceUsed(kind=EVIDENCE_KINDS[kind], level=ev_level, source=source,
                                kind_weight=round(kind_weight, 4))
            return SkillMatch(info.id, info.ko, info.en, info.code, level, weight,
                              round(credit, 4), "evidenced", used)
        if named:
            return SkillMatch(info.id, info.ko, info.en, info.code, level, weight, 1.0,
                              "named_in_query", None)
        return SkillMatch(info.id, info.ko, info.en, info.code, level, weight, 0.0,
                          "missing", None)

    def _result(self, side: _Side, document: int, *, rank: int, score: float,
                ranks: dict[str, int | None], skills: tuple[SkillMatch, ...],
                terms: list[tuple[int, float]], contributions: np.ndarray | None,
                row: int, passage_similarities: np.ndarray | None, prepared: _Prepared
                ) -> SearchResult:
        total_weight = sum(match.weight for match in skills)
        skill_score = (sum(match.weight * match.credit for match in skills) / total_weight
                       if total_weight else 0.0)
        matched_terms: list[TermMatch] = []
        text_score = 0.0
        if contributions is not None:
            text_score = float(contributions[row].sum())
            for column in np.argsort(-contributions[row], kind="stable")[:TERMS_SHOWN_MAX]:
                value = float(contributions[row, column])
                if value <= 0:
                    break
                term = self.terms[terms[int(column)][0]]
                skill = term[len(CONCEPT_PREFIX):] if term.startswith(CONCEPT_PREFIX) else None
                matched_terms.append(TermMatch(term, round(value, 4), skill))
        similarity = closest = None
        if passage_similarities is not None and prepared.vector is not None:
            vector = side.embeddings.document_vector(document)
            if vector is not None:
                similarity = round(float(vector @ prepared.vector), 4)
                passage = side.embeddings.closest_passage(document, passage_similarities)
                closest = self.passages.texts[passage] if passage is not None else None
        titles = side.titles
        title = (titles[document] if titles is not None and titles[document]
                 else side.ids[document])
        explanation = Explanation(
            skill_score=round(skill_score, 4), skills=skills, text_score=round(text_score, 4),
            terms=tuple(matched_terms), embedding_similarity=similarity,
            closest_passage=closest, ranks={name: ranks.get(name) for name in RANKERS})
        check(math.isfinite(score) and score > 0, "a fused score is positive")
        return SearchResult(id=side.ids[document], rank=rank, score=round(score, 6),
                            title=title, explanation=explanation)

