"""The autograder: grades the course's exercises with student code kept in a separate process."""

__version__ = "0.1.0"
