"""Labs: lab and challenge bundles, submissions, grading, leaderboards."""
