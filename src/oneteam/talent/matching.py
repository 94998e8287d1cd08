"""Cohort placement: many-to-one deferred acceptance, applicant-proposing.

As in the National Resident Matching Program: applicants rank positions, each position
(a company's job, internship or project, with a capacity) ranks applicants, and lists
may be incomplete (a position not on an applicant's list, or an applicant not on a
position's, is unacceptable to that side). Gale and Shapley's deferred acceptance with
applicants proposing gives the stable matching every applicant likes best among all
stable matchings (Gale and Shapley 1962; Roth 1984), and no applicant gains by lying
about their list.

The algorithm: each free applicant proposes to the next position on their list; the
position holds the best proposals up to its capacity and rejects the rest, the worst
held one first; a rejected applicant proposes further down. It ends when nobody free
has anyone left to propose to. A position's held set only improves, so the final state
explains every rejection:

- to an applicant: for each position they preferred, that it did not rank them, that it
  had no places, or that it ended full with applicants it ranked higher (its cut-off
  rank, and theirs);
- to a position: whom it admitted, and who proposed and was turned down, with why.

The data is flat arrays (lists in CSR form, every entry carrying the position's rank of
that applicant, found once with a sort), and the loop plain Python over integers with a
heap per position, so a proposal costs a few list reads and at most one heap operation
(docs/BENCHMARKS.md: 100,000 applicants and 10,000 positions).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from oneteam.talent.errors import TalentInputError, check
from oneteam.talent.profiles import StringTable

ID_CHARS_MAX = 200
NOT_RANKED = -1


@dataclass(frozen=True, slots=True)
class MatchingInstance:
    """Both sides' lists. Applicant a's list is positions ``applicant_lists[a_ptr[a]:a_ptr[a+1]]``,
    best first; position p's is applicants ``position_lists[p_ptr[p]:p_ptr[p+1]]``."""

    applicant_ids: StringTable
    position_ids: StringTable
    applicant_ptr: np.ndarray  # int64, len applicants + 1
    applicant_lists: np.ndarray  # int32 position numbers
    position_ptr: np.ndarray  # int64, len positions + 1
    position_lists: np.ndarray  # int32 applicant numbers
    capacities: np.ndarray  # int64, >= 0

    @property
    def applicants(self) -> int:
        return len(self.applicant_ptr) - 1

    @property
    def positions(self) -> int:
        return len(self.position_ptr) - 1

    @classmethod
    def from_lists(cls, applicant_prefs: Mapping[str, Sequence[str]],
                   position_prefs: Mapping[str, Sequence[str]],
                   capacities: Mapping[str, int]) -> MatchingInstance:
        """Build from ids, checking every list; errors name the list and the entry."""
        positions = list(position_prefs)
        if set(capacities) != set(positions):
            missing = sorted(set(positions) - set(capacities))
            extra = sorted(set(capacities) - set(positions))
            raise TalentInputError("capacities", "every position needs a capacity, and only "
                                   f"positions: missing {missing}, unknown {extra}")
        applicants = list(applicant_prefs)
        for kind, ids in (("applicant", applicants), ("position", positions)):
            for item in ids:
                if not isinstance(item, str) or not item or len(item) > ID_CHARS_MAX:
                    raise TalentInputError(f"{kind}s", f"{kind} id {item!r} must be a "
                                           f"non-empty string of at most {ID_CHARS_MAX} chars")
        applicant_number = {a: i for i, a in enumerate(applicants)}
        position_number = {p: i for i, p in enumerate(positions)}

        def lists(prefs: Mapping[str, Sequence[str]], numbers: dict[str, int], owner: str,
                  other: str) -> tuple[np.ndarray, np.ndarray]:
            ptr, flat = [0], []
            for name, entries in prefs.items():
                if isinstance(entries, str):
                    raise TalentInputError(f"{owner}s.{name}", "must be a list of ids, not a "
                                           "string")
                seen: set[str] = set()
                for entry in entries:
                    if entry not in numbers:
                        raise TalentInputError(f"{owner}s.{name}", f"ranks {other} {entry!r}, "
                                               f"which is not in the placement")
                    if entry in seen:
                        raise TalentInputError(f"{owner}s.{name}", f"ranks {other} {entry!r} "
                                               "twice")
                    seen.add(entry)
                    flat.append(numbers[entry])
                ptr.append(len(flat))
            return np.asarray(ptr, dtype=np.int64), np.asarray(flat, dtype=np.int32)

        a_ptr, a_lists = lists(applicant_prefs, position_number, "applicant", "position")
        p_ptr, p_lists = lists(position_prefs, applicant_number, "position", "applicant")
        caps = []
        for position in positions:
            capacity = capacities[position]
            if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
                raise TalentInputError(f"capacities.{position}", f"must be a non-negative "
                                       f"integer, got {capacity!r}")
            caps.append(capacity)
        return cls(applicants, positions, a_ptr, a_lists, p_ptr, p_lists,
                   np.asarray(caps, dtype=np.int64))

    def check(self) -> None:
        """The arrays are consistent (a caller building them directly calls this)."""
        for name, ptr, flat, bound in (
                ("applicant", self.applicant_ptr, self.applicant_lists, self.positions),
                ("position", self.position_ptr, self.position_lists, self.applicants)):
            check(len(ptr) >= 1 and ptr[0] == 0 and ptr[-1] == len(flat)
                  and bool(np.all(np.diff(ptr) >= 0)), f"{name}_ptr is not a CSR pointer")
            check(len(flat) == 0 or (int(flat.min()) >= 0 and int(flat.max()) < bound),
                  f"{name} lists name unknown entries")
            owners = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
            keys = owners * max(bound, 1) + flat
            check(len(np.unique(keys)) == len(keys), f"a {name} list repeats an entry")
        check(len(self.applicant_ids) == self.applicants
              and len(self.position_ids) == self.positions, "ids and lists differ in count")
        check(len(self.capacities) == self.positions and (
            len(self.capacities) == 0 or int(self.capacities.min()) >= 0), "capacities")

    def entry_ranks(self) -> np.ndarray:
        """For every entry of the applicants' lists, the rank (0 best) the position gives
        that applicant, or NOT_RANKED."""
        n_applicants = max(self.applicants, 1)
        position_owner = np.repeat(np.arange(self.positions, dtype=np.int64),
                                   np.diff(self.position_ptr))
        keys = position_owner * n_applicants + self.position_lists
        ranks = np.arange(len(keys), dtype=np.int64) - self.position_ptr[position_owner]
        order = np.argsort(keys, kind="stable")
        keys, ranks = keys[order], ranks[order]
        applicant_owner = np.repeat(np.arange(self.applicants, dtype=np.int64),
                                    np.diff(self.applicant_ptr))
        wanted = self.applicant_lists.astype(np.int64) * n_applicants + applicant_owner
        at = np.searchsorted(keys, wanted)
        found = at < len(keys)
        found[found] = keys[at[found]] == wanted[found]
        out = np.full(len(wanted), NOT_RANKED, dtype=np.int64)
        out[found] = ranks[at[found]]
        return out


@dataclass(frozen=True, slots=True)
class PreferredOutcome:
    """Why an applicant did not get a position they ranked above their match."""

    position_id: str
    choice: int  # 1-based place of the position on the applicant's list
    reason: str  # "not_ranked" (the position did not rank them), "no_places" (capacity
    # 0) or "filled" (it ended full with applicants it ranked higher)
    your_rank: int | None  # 1-based rank the position gave the applicant
    cutoff_rank: int | None  # 1-based rank of the last applicant the position admitted
    capacity: int


@dataclass(frozen=True, slots=True)
class ApplicantExplanation:
    applicant_id: str
    position_id: str | None
    choice: int | None  # 1-based place of the match on their list; None if unmatched
    list_length: int
    preferred: tuple[PreferredOutcome, ...]  # every position they ranked higher


@dataclass(frozen=True, slots=True)
class Admitted:
    applicant_id: str
    rank: int  # 1-based rank the position gave them
    choice: int  # 1-based place of the position on their list


@dataclass(frozen=True, slots=True)
class Rejected:
    applicant_id: str
    choice: int  # 1-based place of this position on their list
    reason: str  # "not_ranked", "no_places" or "below_cutoff" (ranked below the last admitted)
    rank: int | None  # 1-based rank the position gave them, if it ranked them
    placed_at: str | None  # where they were placed in the end, if anywhere


@dataclass(frozen=True, slots=True)
class PositionExplanation:
    position_id: str
    capacity: int
    admitted: tuple[Admitted, ...]  # best first
    cutoff_rank: int | None  # rank of the last admitted; None if nobody admitted
    rejected: tuple[Rejected, ...]  # everyone who proposed and was turned down


class Matching:
    """The stable matching, and the explanations for both sides."""

    def __init__(self, instance: MatchingInstance, assigned_entry: np.ndarray,
                 entry_rank: np.ndarray, proposals: int) -> None:
        self.instance = instance
        self.entry_rank = entry_rank
        # the entry of each applicant's list holding their match; list end if unmatched
        self.assigned_entry = assigned_entry
        ends = instance.applicant_ptr[1:]
        matched = assigned_entry < ends
        self.position_of = np.full(instance.applicants, -1, dtype=np.int64)
        self.position_of[matched] = instance.applicant_lists[assigned_entry[matched]]
        self.proposals = proposals
        admitted_count = np.bincount(self.position_of[matched], minlength=instance.positions)
        self.admitted_count = admitted_count.astype(np.int64)
        # the position's rank of its worst admitted applicant (-1: nobody admitted)
        self.cutoff = np.full(instance.positions, -1, dtype=np.int64)
        np.maximum.at(self.cutoff, self.position_of[matched], entry_rank[assigned_entry[matched]])
        self._position_proposers: tuple[np.ndarray, np.ndarray] | None = None
        self._owners = np.repeat(np.arange(instance.applicants, dtype=np.int64),
                                 np.diff(instance.applicant_ptr))
        self._applicant_numbers: dict[str, int] | None = None
        self._position_numbers: dict[str, int] | None = None

    # -- reading it --

    def position_for(self, applicant_id: str) -> str | None:
        position = int(self.position_of[self._applicant(applicant_id)])
        return self.instance.position_ids[position] if position >= 0 else None

    def applicants_at(self, position_id: str) -> list[str]:
        """The position's admitted applicants, in its order of preference."""
        return [entry.applicant_id for entry in self.explain_position(position_id).admitted]

    def pairs(self) -> dict[str, str | None]:
        ids = self.instance.applicant_ids
        positions = self.instance.position_ids
        return {ids[a]: (positions[p] if p >= 0 else None)
                for a, p in enumerate(self.position_of.tolist())}

    def statistics(self) -> dict[str, Any]:
        matched = int(np.count_nonzero(self.position_of >= 0))
        choices = (self.assigned_entry - self.instance.applicant_ptr[:-1])[self.position_of >= 0]
        return {"applicants": self.instance.applicants, "positions": self.instance.positions,
                "capacity": int(self.instance.capacities.sum()), "matched": matched,
                "unmatched": self.instance.applicants - matched, "proposals": self.proposals,
                "first_choice": int(np.count_nonzero(choices == 0)),
                "mean_choice": round(float(choices.mean()) + 1, 3) if matched else None,
                "positions_full": int(np.count_nonzero(
                    (self.admitted_count == self.instance.capacities)
                    & (self.instance.capacities > 0)))}

    def _applicant(self, applicant_id: str) -> int:
        if self._applicant_numbers is None:
            ids = self.instance.applicant_ids
            self._applicant_numbers = {ids[i]: i for i in range(self.instance.applicants)}
        number = self._applicant_numbers.get(applicant_id)
        if number is None:
            raise TalentInputError("applicant_id", f"no applicant {applicant_id!r} in the "
                                   "placement")
        return number

    def _position(self, position_id: str) -> int:
        if self._position_numbers is None:
            ids = self.instance.position_ids
            self._position_numbers = {ids[i]: i for i in range(self.instance.positions)}
        number = self._position_numbers.get(position_id)
        if number is None:
            raise TalentInputError("position_id", f"no position {position_id!r} in the "
                                   "placement")
        return number

    # -- explaining it --

    def explain_applicant(self, applicant_id: str) -> ApplicantExplanation:
        return self.explain_applicant_number(self._applicant(applicant_id))

    def explain_applicant_number(self, applicant: int) -> ApplicantExplanation:
        inst = self.instance
        start, end = int(inst.applicant_ptr[applicant]), int(inst.applicant_ptr[applicant + 1])
        assigned = int(self.assigned_entry[applicant])
        preferred = []
        for entry in range(start, assigned):
            position = int(inst.applicant_lists[entry])
            rank = int(self.entry_rank[entry])
            capacity = int(inst.capacities[position])
            cutoff = int(self.cutoff[position])
            if rank == NOT_RANKED or capacity == 0:
                preferred.append(PreferredOutcome(
                    inst.position_ids[position], entry - start + 1,
                    "not_ranked" if rank == NOT_RANKED else "no_places",
                    None if rank == NOT_RANKED else rank + 1, None, capacity))
                continue
            # deferred acceptance's invariant: whoever turned the applicant down ended full
            # with applicants it ranked higher
            check(int(self.admitted_count[position]) == capacity and cutoff < rank,
                  f"position {position} rejected applicant {applicant} without being full "
                  "of better-ranked applicants")
            preferred.append(PreferredOutcome(inst.position_ids[position], entry - start + 1,
                                              "filled", rank + 1, cutoff + 1, capacity))
        matched = assigned < end
        return ApplicantExplanation(
            applicant_id=inst.applicant_ids[applicant],
            position_id=inst.position_ids[int(inst.applicant_lists[assigned])] if matched
            else None,
            choice=assigned - start + 1 if matched else None, list_length=end - start,
            preferred=tuple(preferred))

    def _proposers(self) -> tuple[np.ndarray, np.ndarray]:
        """Entries of the applicants' lists grouped by position (CSR), to find proposers."""
        if self._position_proposers is None:
            inst = self.instance
            order = np.argsort(inst.applicant_lists, kind="stable")
            ptr = np.searchsorted(inst.applicant_lists[order],
                                  np.arange(inst.positions + 1)).astype(np.int64)
            self._position_proposers = (ptr, order.astype(np.int64))
        return self._position_proposers

    def explain_position(self, position_id: str) -> PositionExplanation:
        return self.explain_position_number(self._position(position_id))

    def explain_position_number(self, position: int) -> PositionExplanation:
        inst = self.instance
        ptr, entries = self._proposers()
        owners = self._owners
        admitted, rejected = [], []
        for entry in entries[ptr[position]:ptr[position + 1]].tolist():
            applicant = int(owners[entry])
            assigned = int(self.assigned_entry[applicant])
            if entry > assigned:
                continue  # matched higher on their list: never proposed here
            choice = entry - int(inst.applicant_ptr[applicant]) + 1
            rank = int(self.entry_rank[entry])
            if entry == assigned:
                admitted.append(Admitted(inst.applicant_ids[applicant], rank + 1, choice))
                continue
            placed = int(self.position_of[applicant])
            rejected.append(Rejected(
                inst.applicant_ids[applicant], choice,
                "not_ranked" if rank == NOT_RANKED else (
                    "no_places" if inst.capacities[position] == 0 else "below_cutoff"),
                None if rank == NOT_RANKED else rank + 1,
                inst.position_ids[placed] if placed >= 0 else None))
        admitted.sort(key=lambda a: a.rank)
        rejected.sort(key=lambda r: (r.rank is None, r.rank or 0, r.applicant_id))
        cutoff = int(self.cutoff[position])
        return PositionExplanation(inst.position_ids[position], int(inst.capacities[position]),
                                   tuple(admitted), cutoff + 1 if cutoff >= 0 else None,
                                   tuple(rejected))

    # -- checking it --

    def blocking_pairs(self, limit: int = 10) -> list[tuple[str, str]]:
        """Pairs (applicant, position) who would both rather have each other: none if the
        matching is stable. Checked over every list entry at once."""
        inst = self.instance
        owners = self._owners
        entries = np.arange(len(inst.applicant_lists), dtype=np.int64)
        prefers = entries < self.assigned_entry[owners]
        positions = inst.applicant_lists.astype(np.int64)
        ranked = self.entry_rank != NOT_RANKED
        room = self.admitted_count[positions] < inst.capacities[positions]
        better = self.entry_rank < self.cutoff[positions]
        blocking = np.flatnonzero(prefers & ranked & (room | better))
        return [(inst.applicant_ids[int(owners[e])], inst.position_ids[int(positions[e])])
                for e in blocking[:limit].tolist()]

    def check_invariants(self) -> None:
        """Capacities respected, only mutually acceptable pairs, no blocking pair."""
        inst = self.instance
        check(bool(np.all(self.admitted_count <= inst.capacities)), "a capacity is exceeded")
        matched = self.position_of >= 0
        check(bool(np.all(self.entry_rank[self.assigned_entry[matched]] != NOT_RANKED)),
              "an applicant is matched to a position that did not rank them")
        check(not self.blocking_pairs(limit=1), "the matching has a blocking pair")


def deferred_acceptance(instance: MatchingInstance) -> Matching:
    """The applicant-optimal stable matching (applicants propose)."""
    ranks = instance.entry_ranks()
    ptr = instance.applicant_ptr.tolist()
    lists = instance.applicant_lists.tolist()
    entry_rank = ranks.tolist()
    capacity = instance.capacities.tolist()
    next_entry = ptr[:-1]
    held: list[list[tuple[int, int]]] = [[] for _ in range(instance.positions)]
    free = list(range(instance.applicants - 1, -1, -1))  # a stack: applicant 0 first
    proposals = 0
    proposals_max = len(lists)
    heappush, heapreplace = heapq.heappush, heapq.heapreplace
    while free:
        applicant = free.pop()
        entry, end = next_entry[applicant], ptr[applicant + 1]
        while entry < end:
            position, rank = lists[entry], entry_rank[entry]
            entry += 1
            proposals += 1
            if rank < 0:
                continue  # the position did not rank this applicant: rejected at once
            heap = held[position]
            if len(heap) < capacity[position]:
                heappush(heap, (-rank, applicant))
                break
            if heap and -heap[0][0] > rank:
                # the position prefers this applicant to its worst held one
                _, displaced = heapreplace(heap, (-rank, applicant))
                free.append(displaced)
                break
        next_entry[applicant] = entry
    check(proposals <= proposals_max, "each list entry is proposed to at most once")
    # an applicant's match is the last position they proposed to, if they hold a place
    assigned = ptr[1:]
    for position, heap in enumerate(held):
        for _, applicant in heap:
            entry = next_entry[applicant] - 1
            check(lists[entry] == position, "a held applicant's last proposal is the holder")
            assigned[applicant] = entry
    return Matching(instance, np.asarray(assigned, dtype=np.int64), ranks, proposals)
