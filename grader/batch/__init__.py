"""Grading a whole class: `grade batch SUBMISSIONS --out OUT`.

One module per job:

- discover: the students in SUBMISSIONS (folders, zips, a Gradescope export) and their files;
- timing: when each submission was made, due dates, extensions and late penalties;
- gradebook: the SQLite database every grading is recorded in, which makes a run resumable;
- adjustments: the instructor's --adjustments CSV, read and checked before anything is graded;
- pool: where gradings run (local processes with fork-server workers, or a Dask cluster);
- progress: a progress bar on a terminal, plain lines elsewhere;
- exports: grades.csv and the Canvas import file;
- feedback: feedback/<student>.md and .html;
- class_report: report.html, the class at a glance;
- command: the command line, tying these together.
"""
