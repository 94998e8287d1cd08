"""Talent: the skill taxonomy, search and ranking of candidates and postings, and placement.

Pure Python and numpy, no Django: the `talent` Django app (models, pages, API) is built
on top of these modules. `taxonomy` loads the skills (NCS competency units and the
alliance's own skills); `search` indexes candidate profiles and postings and ranks one
against the other with explanations; `matching` runs cohort placement by deferred
acceptance; `bench` measures them at scale (`oneteam bench talent`).
"""
