"""The academy: programs, cohorts, courses, modules, lessons, enrollments and progress."""
