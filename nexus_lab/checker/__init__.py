"""The checker: runs an exercise's check against the learner's file on a real Temporal server.

Each check runs in a child process (``python -m nexus_lab.checker.child``), for three reasons: learner
code that loops forever, even at import time, can always be stopped (the process group is killed
at the exercise's timeout, after a ``faulthandler`` dump has shown which line it was stuck on); a
fresh interpreter sees the file as it is now, never a stale import; and several checks can run at
once over one server (``nexus-lab verify``).

Every check gets its own namespaces and endpoint (a :class:`~nexus_lab.workshop.scope.Scope` prefix such as
``chk-1a2b3c4d-``), so runs never meet, while the learner's code keeps the story's names
(``payments``, ``fraud``, ``fraud-detection``).

A check function is ``async def check_x(c: Check)``; it groups its expectations into named tests
(``async with c.test("..."):``) and fails them with :meth:`Check.fail`, whose message says what was
expected and what happened.
"""
