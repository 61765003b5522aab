"""Grading a whole class: `grade batch SUBMISSIONS --out OUT`.

One module per job:

- discover: the students in SUBMISSIONS (folders, zips, a Gradescope export) and their files;
- options: the command line's arguments;
- timing: due dates, extensions and late penalties; submit_times: each exercise's time, from a
  source the student does not write; clone_times: a clone's commit dates, read safely;
- roster: roster rows matched to students by issued ids only;
- gradebook: the SQLite database every grading is recorded in, which makes a run resumable;
- adjustments: the instructor's --adjustments CSV, read and checked before anything is graded;
- versions: a grading's version, the hash of everything that decides its score;
- pool: where gradings run (local processes with fork-server workers); dask_pool: on a Dask
  cluster, each in a grading process the Dask worker keeps, timed out and cancelled as locally;
- progress: a progress bar on a terminal, plain lines elsewhere;
- exports: grades.csv, the Canvas import file, adjustments.csv; similarity: similar pairs;
- feedback: feedback/<student>.md and .html;
- class_report: report.html, the class at a glance;
- command: the command line, tying these together.
"""
