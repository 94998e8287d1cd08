"""Progress arithmetic, apart from the database: percentages, tables, the next lesson.

Queries hand these functions plain rows; each function is a few lines of Python that
the tests check directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def percent(done: int, total: int) -> int:
    """Whole percent, rounded down: 100 only when everything is done; 0 of 0 is 0."""
    if total <= 0:
        return 0
    if not 0 <= done <= total:
        raise ValueError(f"done {done} is not between 0 and total {total}")
    return (100 * done) // total


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a progress table: a module (its lessons) or a single lesson."""

    key: int
    title: str
    lesson_ids: tuple[int, ...]
    group: str = ""
    """The title of what the column belongs to (a lesson's module, a module's course)."""


@dataclass(frozen=True, slots=True)
class Row:
    subject: Any
    """What the row is about: an Enrollment in a cohort's table, a Person in a class's."""
    cells: tuple[int, ...]
    """Percent per column (a lesson column is 0 or 100)."""
    done: int
    total: int

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    lesson_count: int
    column_averages: tuple[int, ...] = field(default=())

    @property
    def average_percent(self) -> int:
        if not self.rows:
            return 0
        return percent(sum(row.done for row in self.rows), self.lesson_count * len(self.rows))


def build_table(columns: Sequence[Column], subjects: Iterable[tuple[int, Any]],
                completed: Mapping[int, set[int]]) -> Table:
    """Rows of ``subjects`` ((person id, subject)) × ``columns``, from each person's set of
    completed lesson ids. Lessons outside the columns are not counted."""
    all_lessons = {lesson for column in columns for lesson in column.lesson_ids}
    rows: list[Row] = []
    for person_id, subject in subjects:
        done_set = completed.get(person_id, set()) & all_lessons
        cells = tuple(percent(len(done_set.intersection(column.lesson_ids)),
                              len(column.lesson_ids)) for column in columns)
        rows.append(Row(subject, cells, len(done_set), len(all_lessons)))
    averages = tuple(
        (sum(row.cells[index] for row in rows) // len(rows)) if rows else 0
        for index in range(len(columns)))
    return Table(tuple(columns), tuple(rows), len(all_lessons), averages)


def next_lesson_index(ordered_lesson_ids: Sequence[int], completed: set[int]) -> int | None:
    """Index of the first lesson not completed, in teaching order; None when all are done."""
    for index, lesson_id in enumerate(ordered_lesson_ids):
        if lesson_id not in completed:
            return index
    return None
