"""Deferred acceptance: stable, within capacities, applicant-optimal, and explained.

The checks here are written independently of the module's own (`Matching.blocking_pairs`):
a plain-Python blocking-pair test, and a brute force over every matching of small
instances that finds all the stable ones.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneteam.talent.errors import TalentInputError
from oneteam.talent.matching import Matching, MatchingInstance, deferred_acceptance
from oneteam.talent.synthetic import placement

Prefs = dict[str, list[str]]


@st.composite
def instances(draw: Any, applicants_max: int = 7, positions_max: int = 4
              ) -> tuple[Prefs, Prefs, dict[str, int]]:
    applicants = [f"a{i}" for i in range(draw(st.integers(0, applicants_max)))]
    positions = [f"p{i}" for i in range(draw(st.integers(0, positions_max)))]
    applicant_prefs = {a: draw(st.permutations(positions).flatmap(
        lambda order: st.integers(0, len(order)).map(lambda n, order=order: order[:n])))
        for a in applicants}
    position_prefs = {p: draw(st.permutations(applicants).flatmap(
        lambda order: st.integers(0, len(order)).map(lambda n, order=order: order[:n])))
        for p in positions}
    capacities = {p: draw(st.integers(0, 3)) for p in positions}
    return applicant_prefs, position_prefs, capacities


def blocking_pairs(applicant_prefs: Prefs, position_prefs: Prefs, capacities: dict[str, int],
                   assignment: dict[str, str | None]) -> list[tuple[str, str]]:
    """Pairs who both prefer each other to what they have, by the definition."""
    held: dict[str, list[str]] = {p: [] for p in position_prefs}
    for applicant, position in assignment.items():
        if position is not None:
            held[position].append(applicant)
    found = []
    for applicant, prefs in applicant_prefs.items():
        current = assignment[applicant]
        better = prefs if current is None else prefs[:prefs.index(current)]
        for position in better:
            ranking = position_prefs[position]
            if applicant not in ranking or capacities[position] == 0:
                continue
            if len(held[position]) < capacities[position] or any(
                    ranking.index(applicant) < ranking.index(other)
                    for other in held[position]):
                found.append((applicant, position))
    return found


def individually_rational(applicant_prefs: Prefs, position_prefs: Prefs,
                          assignment: dict[str, str | None]) -> bool:
    return all(position is None or (position in applicant_prefs[applicant]
                                    and applicant in position_prefs[position])
               for applicant, position in assignment.items())


def all_stable_matchings(applicant_prefs: Prefs, position_prefs: Prefs,
                         capacities: dict[str, int]) -> list[dict[str, str | None]]:
    applicants = list(applicant_prefs)
    options = [[None, *[p for p in applicant_prefs[a] if a in position_prefs[p]]]
               for a in applicants]
    stable = []
    for choice in itertools.product(*options):
        assignment = dict(zip(applicants, choice, strict=True))
        counts: dict[str, int] = {}
        for position in choice:
            if position is not None:
                counts[position] = counts.get(position, 0) + 1
        if any(counts[p] > capacities[p] for p in counts):
            continue
        if not blocking_pairs(applicant_prefs, position_prefs, capacities, assignment):
            stable.append(assignment)
    return stable


def solve(applicant_prefs: Prefs, position_prefs: Prefs, capacities: dict[str, int]
          ) -> Matching:
    return deferred_acceptance(MatchingInstance.from_lists(applicant_prefs, position_prefs,
                                                           capacities))


@settings(max_examples=300, deadline=None)
@given(instances())
def test_the_matching_is_stable_and_within_capacities(
        instance: tuple[Prefs, Prefs, dict[str, int]]) -> None:
    applicant_prefs, position_prefs, capacities = instance
    matching = solve(applicant_prefs, position_prefs, capacities)
    assignment = matching.pairs()
    assert blocking_pairs(applicant_prefs, position_prefs, capacities, assignment) == []
    assert matching.blocking_pairs() == []
    assert individually_rational(applicant_prefs, position_prefs, assignment)
    for position, capacity in capacities.items():
        assert sum(1 for p in assignment.values() if p == position) <= capacity
    matching.check_invariants()


@settings(max_examples=200, deadline=None)
@given(instances(applicants_max=5, positions_max=3))
def test_every_applicant_gets_their_best_stable_partner(
        instance: tuple[Prefs, Prefs, dict[str, int]]) -> None:
    """Applicant-optimal: no stable matching gives any applicant a position they prefer."""
    applicant_prefs, position_prefs, capacities = instance
    assignment = solve(applicant_prefs, position_prefs, capacities).pairs()
    stable = all_stable_matchings(applicant_prefs, position_prefs, capacities)
    assert assignment in stable

    def place(applicant: str, position: str | None) -> int:
        prefs = applicant_prefs[applicant]
        return prefs.index(position) if position is not None else len(prefs)

    for other in stable:
        for applicant in applicant_prefs:
            assert place(applicant, assignment[applicant]) <= place(applicant, other[applicant])


@settings(max_examples=200, deadline=None)
@given(instances())
def test_explanations_agree_with_the_lists(
        instance: tuple[Prefs, Prefs, dict[str, int]]) -> None:
    applicant_prefs, position_prefs, capacities = instance
    matching = solve(applicant_prefs, position_prefs, capacities)
    assignment = matching.pairs()
    for applicant, prefs in applicant_prefs.items():
        explanation = matching.explain_applicant(applicant)
        assert explanation.position_id == assignment[applicant]
        preferred = [outcome.position_id for outcome in explanation.preferred]
        current = assignment[applicant]
        assert preferred == (prefs if current is None else prefs[:prefs.index(current)])
        for outcome in explanation.preferred:
            ranking = position_prefs[outcome.position_id]
            if outcome.reason == "not_ranked":
                assert applicant not in ranking
            elif outcome.reason == "no_places":
                assert capacities[outcome.position_id] == 0
            else:
                admitted = [a for a, p in assignment.items() if p == outcome.position_id]
                assert len(admitted) == outcome.capacity == capacities[outcome.position_id]
                assert outcome.your_rank == ranking.index(applicant) + 1
                assert outcome.cutoff_rank == max(ranking.index(a) for a in admitted) + 1
                assert outcome.cutoff_rank < outcome.your_rank
    for position, ranking in position_prefs.items():
        explanation = matching.explain_position(position)
        admitted = [entry.applicant_id for entry in explanation.admitted]
        assert sorted(admitted) == sorted(a for a, p in assignment.items() if p == position)
        assert admitted == sorted(admitted, key=ranking.index)
        proposers = {a for a, prefs in applicant_prefs.items() if position in prefs and (
            assignment[a] is None or prefs.index(position) <= prefs.index(assignment[a]))}
        rejected = {entry.applicant_id for entry in explanation.rejected}
        assert rejected == proposers - set(admitted)
        for entry in explanation.rejected:
            assert entry.placed_at == assignment[entry.applicant_id]
            if entry.reason == "below_cutoff":
                assert explanation.cutoff_rank is not None and entry.rank is not None
                assert entry.rank > explanation.cutoff_rank


def test_a_small_fair_explained_to_both_sides() -> None:
    applicant_prefs = {"민지": ["KT", "LG"], "Alex": ["KT", "LG"], "서준": ["LG", "KT"],
                       "Sam": ["KT"]}
    position_prefs = {"KT": ["Alex", "서준", "민지"], "LG": ["민지", "Alex", "서준"]}
    matching = solve(applicant_prefs, position_prefs, {"KT": 1, "LG": 2})
    assert matching.pairs() == {"민지": "LG", "Alex": "KT", "서준": "LG", "Sam": None}
    minji = matching.explain_applicant("민지")
    assert (minji.position_id, minji.choice, minji.list_length) == ("LG", 2, 2)
    (kt,) = minji.preferred
    assert (kt.position_id, kt.reason, kt.your_rank, kt.cutoff_rank, kt.capacity) == (
        "KT", "filled", 3, 1, 1)
    sam = matching.explain_applicant("Sam")
    assert sam.position_id is None and sam.preferred[0].reason == "not_ranked"
    kt_side = matching.explain_position("KT")
    assert [a.applicant_id for a in kt_side.admitted] == ["Alex"] and kt_side.cutoff_rank == 1
    assert {(r.applicant_id, r.reason, r.placed_at) for r in kt_side.rejected} == {
        ("민지", "below_cutoff", "LG"), ("Sam", "not_ranked", None)}
    assert matching.applicants_at("LG") == ["민지", "서준"]
    statistics = matching.statistics()
    assert (statistics["matched"], statistics["unmatched"], statistics["capacity"]) == (3, 1, 3)


@pytest.mark.parametrize(("applicants", "positions", "capacities", "field", "message"), [
    ({"a": ["p", "x"]}, {"p": ["a"]}, {"p": 1}, "applicants.a", "ranks position 'x'"),
    ({"a": ["p", "p"]}, {"p": ["a"]}, {"p": 1}, "applicants.a", "ranks position 'p' twice"),
    ({"a": ["p"]}, {"p": ["a", "b"]}, {"p": 1}, "positions.p", "ranks applicant 'b'"),
    ({"a": ["p"]}, {"p": ["a"]}, {"p": -1}, "capacities.p", "non-negative integer"),
    ({"a": ["p"]}, {"p": ["a"]}, {}, "capacities", "every position needs a capacity"),
    ({"a": "p"}, {"p": ["a"]}, {"p": 1}, "applicants.a", "not a string"),
])
def test_bad_lists_are_refused_naming_the_list(applicants: Any, positions: Any,
                                               capacities: Any, field: str,
                                               message: str) -> None:
    with pytest.raises(TalentInputError) as error:
        MatchingInstance.from_lists(applicants, positions, capacities)
    assert error.value.field == field and message in error.value.message


def test_unknown_ids_in_explanations_are_refused() -> None:
    matching = solve({"a": ["p"]}, {"p": ["a"]}, {"p": 1})
    with pytest.raises(TalentInputError, match="no applicant 'b'"):
        matching.explain_applicant("b")
    with pytest.raises(TalentInputError, match="no position 'q'"):
        matching.explain_position("q")


def test_a_synthetic_fair_is_stable() -> None:
    instance = placement(3_000, 300, seed=7)
    matching = deferred_acceptance(instance)
    matching.check_invariants()
    statistics = matching.statistics()
    assert statistics["matched"] <= min(statistics["capacity"], statistics["applicants"])
    assert statistics["matched"] + statistics["unmatched"] == 3_000
    assert statistics["proposals"] <= len(instance.applicant_lists)
    explanation = matching.explain_applicant_number(0)
    assert explanation.list_length >= 10
