"""The sandbox: everything between the grader and the process where student code runs.

A grading's worker is started by a `Launcher` (grader.sandbox.launcher), fresh
(``python -I -m grader.sandbox.start``) or forked from a warm fork server
(grader.sandbox.forkserver), and then goes through one sequence of protection layers
(grader.sandbox.child) before the first line of student code runs. Each layer is one class in
one module; grader.sandbox.layers lists them in the order they apply and says which this machine
has (`grade doctor`). No module of the package imports one that imports it back.

- ``launcher``: starting workers; spares started ahead; the fork server, as one object.
- ``process``: one worker process, its pipes, and how it ends.
- ``pipes``: frames to and from a worker under deadlines and byte budgets.
- ``settings``: what a worker starts with, as plain data.
- ``child``: the one sequence that applies the layers, fresh or forked.
- ``layer``: what a protection layer is; ``layers``: the layers in order, and which are on here.
- ``cgroups``, ``namespaces``, ``view``, ``resources``, ``landlock``, ``privileges``,
  ``seccomp``: the layers (``paths``: what the view holds and Landlock allows; ``mounts``: the
  mount call the view and its probe make).
- ``start``: the entry point of a fresh worker process.

This package's ``__init__`` imports nothing: the worker imports some of its modules and must
load as little as it can.
"""
