"""Errors that stop a command before or instead of grading: the user gets one line and exit 2."""


class UsageError(Exception):
    """A mistake in how the grader was called or what it was given; str() is the one line shown."""


class CourseError(UsageError):
    """course.yaml, or a file it names, is wrong; the message names the file, place and fix."""


class SubmissionNotFound(UsageError):
    """The file to grade does not exist where it was looked for."""


class SubmissionLinksOut(SubmissionNotFound):
    """The exercise's file is, or lies behind, a symbolic link out of the submission's folder."""
