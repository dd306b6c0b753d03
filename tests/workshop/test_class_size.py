"""`nexus-lab bench --workshop`: a class checking at its own pace on one dev server."""

from __future__ import annotations

import itertools
import random
import statistics

from nexus_lab import bench


def test_learners_pause_like_people_between_checks():
    plans = [bench.learner_pauses(random.Random(seed), 10) for seed in range(300)]
    assert all(plan == sorted(plan) and all(0 <= t < 600 for t in plan) for plan in plans)
    gaps = [b - a for plan in plans for a, b in itertools.pairwise(plan)]
    assert 60 < statistics.median(gaps) < 90 and min(gaps) > 10  # a minute or so of fixing code
    per_learner = statistics.mean(len(plan) for plan in plans)
    assert 5 < per_learner < 9, per_learner  # 30 learners: about 200 checks in 10 minutes
    assert bench.learner_pauses(random.Random(1), 10) == bench.learner_pauses(random.Random(1), 10)


def test_p95_is_the_nearest_rank():
    assert bench._percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
    assert bench._percentile([3.0], 0.95) == 3.0 and bench._percentile([], 0.95) == 0.0


async def test_a_small_class_checks_submits_and_reports_p95():
    figures = await bench.class_simulation(learners=3, minutes=2, speed=8, seed=3)
    assert figures["checks"] >= 3 and set(figures["statuses"]) <= {"passed", "not yet"}, figures
    assert figures["recorded"] == figures["submitted"] == figures["checks"]  # each check submits its own
    assert 0 < figures["median_s"] <= figures["p95_s"] <= figures["max_s"]
    text = bench.class_report(figures)
    assert "TIME COMPRESSED 8x: 2 simulated minutes" in text and f"p95 {figures['p95_s']:.2f} s" in text
