"""Exercise ch01-route-endpoint: put the Fraud team's service in the Nexus Registry.

Payments workflows call the endpoint ``fraud-detection``. The Fraud team's worker polls the task
queue ``fraud-tq`` in the namespace ``fraud``. Nothing connects the two yet.

Goal: write ``setup_registry(lab)`` so that it creates both namespaces and routes the endpoint to
the namespace and task queue where the Fraud worker listens. The check calls your function, then
makes a real call from ``payments`` through the endpoint.

Run ``nexus-lab check ch01-route-endpoint`` (or ``nexus_lab.check("ch01-route-endpoint")``).
"""

from fraud_contract import (CALLER_NAMESPACE, ENDPOINT, HANDLER_NAMESPACE, HANDLER_TASK_QUEUE)


async def setup_registry(lab) -> None:
    # TODO: Create the namespaces CALLER_NAMESPACE and HANDLER_NAMESPACE (await lab.namespace(...)).
    ...
    # TODO: Route ENDPOINT to the Fraud team's namespace and task queue:
    #       await lab.endpoint(name, namespace=..., task_queue=...)
    ...
