"""Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009).

Each ranker contributes ``1 / (k + rank)`` for every item in its list; the fused score
is the sum. It needs no calibration between rankers whose scores mean different things
(an evidence-weighted skill coverage, BM25, a cosine), and k = 60 keeps one ranker's
first place from outweighing agreement among the others.

Ranks are 1-based and may tie: items a ranker scores equally share the best of their
ranks ("competition" ranking, 1, 2, 2, 4), so no item gains from its position in a
tie. The fused order breaks ties by the best rank an item has anywhere, then by item
number, so it is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from oneteam.talent.errors import TalentInputError, check

RRF_K = 60


@dataclass(frozen=True, slots=True)
class Ranking:
    """One ranker's list: items best first, with their 1-based (possibly tied) ranks."""

    items: np.ndarray  # int64
    ranks: np.ndarray  # int64, non-decreasing, ranks[0] == 1 when not empty

    @classmethod
    def ordered(cls, items: np.ndarray | list[int]) -> Ranking:
        """A list without ties: ranks 1, 2, 3, ..."""
        array = np.asarray(items, dtype=np.int64)
        return cls(array, np.arange(1, len(array) + 1, dtype=np.int64))

    @classmethod
    def from_scores(cls, items: np.ndarray, scores: np.ndarray) -> Ranking:
        """Items already sorted by score, best first; equal scores share a rank."""
        check(len(items) == len(scores), "items and scores differ in length")
        if len(items) == 0:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))
        changed = np.empty(len(scores), dtype=bool)
        changed[0] = True
        np.not_equal(scores[1:], scores[:-1], out=changed[1:])
        first = np.where(changed, np.arange(len(scores)), 0)
        ranks = np.maximum.accumulate(first) + 1
        return cls(np.asarray(items, dtype=np.int64), ranks.astype(np.int64))

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class Fused:
    item: int
    score: float
    ranks: dict[str, int | None]  # each ranker's rank of the item; None: not in its list


def reciprocal_rank_fusion(rankings: Mapping[str, Ranking], *, k: int = RRF_K,
                           limit: int | None = None) -> list[Fused]:
    """Fuse rankings; the best ``limit`` items (all if None), best first."""
    if k < 1:
        raise TalentInputError("k", f"must be at least 1, got {k}")
    names = list(rankings)
    for name in names:
        ranking = rankings[name]
        check(len(ranking.items) == len(ranking.ranks), f"ranking {name}: lengths differ")
        check(len(np.unique(ranking.items)) == len(ranking.items),
              f"ranking {name}: an item appears twice")
        check(len(ranking.ranks) == 0 or int(ranking.ranks.min()) >= 1,
              f"ranking {name}: ranks start at 1")
    if not names or all(len(rankings[name]) == 0 for name in names):
        return []
    items = np.concatenate([rankings[name].items for name in names])
    ranks = np.concatenate([rankings[name].ranks for name in names])
    unique, inverse = np.unique(items, return_inverse=True)
    scores = np.bincount(inverse, weights=1.0 / (k + ranks.astype(np.float64)),
                         minlength=len(unique))
    best_rank = np.full(len(unique), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best_rank, inverse, ranks)
    order = np.lexsort((unique, best_rank, -scores))
    if limit is not None:
        order = order[:max(limit, 0)]
    lookups = {}
    for name in names:
        ranking = rankings[name]
        sort = np.argsort(ranking.items, kind="stable")
        lookups[name] = (ranking.items[sort], ranking.ranks[sort])
    fused = []
    for position in order.tolist():
        item = int(unique[position])
        item_ranks: dict[str, int | None] = {}
        for name in names:
            sorted_items, sorted_ranks = lookups[name]
            at = int(np.searchsorted(sorted_items, item))
            found = at < len(sorted_items) and int(sorted_items[at]) == item
            item_ranks[name] = int(sorted_ranks[at]) if found else None
        fused.append(Fused(item, float(scores[position]), item_ranks))
    return fused
