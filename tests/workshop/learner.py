"""One learner's laptop: ``python learner.py '[["ch03-sync", "pass", ""], ...]'`` submits results
through the shared cluster named by TEMPORAL_ADDRESS, as NEXUS_LAB_LEARNER."""

import asyncio
import json
import sys

from nexus_lab.workshop.classroom import ExerciseOutcome, submit

outcomes = [ExerciseOutcome(*row) for row in json.loads(sys.argv[1])]
print(asyncio.run(submit(outcomes)), flush=True)
