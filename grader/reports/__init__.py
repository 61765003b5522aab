"""Reports of a grading: terminal (for people) and JSON (for programs)."""
