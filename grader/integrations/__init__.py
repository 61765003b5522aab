"""The course in other places: what students receive and the formats of other graders.

- ``student_release``: `grade release student DEST`, the repository students receive;
- ``gradescope``: `grade release gradescope ZIP`, the autograder zip Gradescope builds;
- ``gradescope_run``: what that zip's ``run_autograder`` runs on Gradescope's machine;
- ``otter``: `grade export otter DEST`, the course for otter-grader; ``otter_student``: the part
  of it students receive (an otter notebook, the public checks' tests, no answer key);
- ``packaging``: what they share: the grader package's files, its pyproject.toml, a course.yaml
  with the hidden checks, a folder written whole;
- ``templating``: the scripts, workflows and READMEs they write, kept as files in ``templates/``.
"""
