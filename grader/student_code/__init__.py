"""The grader's view of a submission running in a worker: calls that read like ordinary Python.

``student.numerical_derivative(f, 2.0)`` sends a call to the worker and returns the decoded reply.
A grader function among the arguments (``f``) stays here: the worker asks for it to be evaluated.
A reply that is not plain data arrives as a Handle, which can be called, passed back, or have its
attributes read (``h = student.compose(pairs); value, slope = h(0.5)``). Arrays the student's code
changed in place are reported as data (``changed_arguments``), never written into the grader's.

By job:

- errors: what can go wrong in the student's code, each error with the kind reports count;
- feedback: every sentence about it the student reads;
- objects: the submission as a module, its functions, and the objects kept in the worker;
- session: one submission in a worker: its lifecycle, requests, callbacks and formula replay;
- pipelining: calls sent ahead of their answers and operations deferred into one frame.
"""
