"""Workshop mode: one shared cluster for a room. :mod:`~nexus_lab.workshop.scope` is the only place the
learner naming rule lives; the ``classroom.v1`` contract, the instructor's ledger, the learners' outbox
and the class report each have a module of their own."""
