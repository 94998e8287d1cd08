"""Reciprocal rank fusion: 1 / (k + rank) summed over rankers, ties sharing a rank."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneteam.talent.errors import TalentInputError
from oneteam.talent.fusion import Ranking, reciprocal_rank_fusion
from oneteam.talent.search import _select


def test_scores_are_the_sum_of_reciprocal_ranks_with_k_60() -> None:
    fused = reciprocal_rank_fusion({"a": Ranking.ordered([7, 8, 9]),
                                    "b": Ranking.ordered([9, 7])})
    assert [f.item for f in fused] == [7, 9, 8]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 62)
    assert fused[1].score == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2].score == pytest.approx(1 / 62)
    assert fused[0].ranks == {"a": 1, "b": 2}
    assert fused[2].ranks == {"a": 2, "b": None}


def test_agreement_beats_a_single_first_place() -> None:
    fused = reciprocal_rank_fusion({"a": Ranking.ordered([1, 2]), "b": Ranking.ordered([3, 2]),
                                    "c": Ranking.ordered([4, 2])})
    assert fused[0].item == 2


def test_tied_scores_share_a_rank_and_ties_in_fusion_go_to_the_best_rank() -> None:
    ranking = Ranking.from_scores(np.array([5, 3, 4, 1]), np.array([0.9, 0.5, 0.5, 0.1]))
    assert ranking.ranks.tolist() == [1, 2, 2, 4]
    fused = reciprocal_rank_fusion({"x": ranking})
    assert [f.item for f in fused] == [5, 3, 4, 1]  # 3 and 4 tie: the lower number first
    assert fused[1].score == fused[2].score


def test_limit_k_and_empty_rankings() -> None:
    assert reciprocal_rank_fusion({}) == []
    assert reciprocal_rank_fusion({"a": Ranking.ordered([])}) == []
    assert len(reciprocal_rank_fusion({"a": Ranking.ordered(list(range(50)))}, limit=5)) == 5
    fused = reciprocal_rank_fusion({"a": Ranking.ordered([1])}, k=1)
    assert fused[0].score == pytest.approx(0.5)
    with pytest.raises(TalentInputError, match="k: must be at least 1"):
        reciprocal_rank_fusion({"a": Ranking.ordered([1])}, k=0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=3000), st.integers(1, 60),
       st.sampled_from([-1.0, 0.0, 2.0]))
def test_select_is_the_exact_top_with_ties_by_document_number(
        values: list[int], depth: int, minimum: float) -> None:
    """The sampled threshold never loses a document: the same as sorting everything."""
    key = np.asarray(values, dtype=np.float32)
    chosen = _select(key, depth, minimum)
    eligible = np.flatnonzero(key > minimum)
    expected = eligible[np.lexsort((eligible, -key[eligible]))][:depth]
    assert chosen.tolist() == expected.tolist()
