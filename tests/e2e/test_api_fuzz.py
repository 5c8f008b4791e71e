"""Fuzz the REST API from its own OpenAPI schema: no request, however odd, may make the server fail (5xx).

schemathesis reads ``/openapi.json`` from a real server on loopback and generates requests for every
operation, both valid ones and ones that break the schema. The server runs the instant test runner, so
jobs that get through finish at once and no real swap runs. Examples per operation are bounded so the
test stays quick.

(schemathesis 4.32's own pytest decorator, ``schema.parametrize()`` on a lazily loaded schema, fails
under pytest 9 -- it sets ``request.node._nodeid``, which pytest 9 no longer has -- so the test drives
each operation's hypothesis strategy itself.)
"""

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

schemathesis = pytest.importorskip(
    "schemathesis", reason="the API fuzz test needs schemathesis (the 'dev' extra)"
)

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.core.result import Ok  # noqa: E402

if TYPE_CHECKING:
    from schemathesis import APIOperation, BaseSchema, Case

    Operation: TypeAlias = APIOperation[Any, Any, Any, Any]

EXAMPLES_PER_MODE = 20
MIN_OPERATIONS = 10
REQUEST_TIMEOUT_S = 10.0
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def api_schema(fuzz_url: str) -> "BaseSchema":
    loaded: BaseSchema = schemathesis.openapi.from_url(f"{fuzz_url}/openapi.json", timeout=REQUEST_TIMEOUT_S)
    return loaded


def operations_of(schema: "BaseSchema") -> list["Operation"]:
    operations = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            pytest.fail(f"the schema describes an operation badly: {result.err()}")
        operations.append(result.ok())
    return operations


@dataclass(slots=True)
class Tally:
    """What the fuzzing saw: statuses by class (2xx, 4xx, ...) and the requests that got a 5xx."""

    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def fuzz_operation(operation: "Operation", base_url: str, mode: GenerationMode, tally: Tally) -> None:
    """Send generated requests of ``mode`` to ``operation``; 5xx answers go to ``tally.failures``."""

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: "Case[Any]") -> None:
        response = case.call(base_url=base_url, timeout=REQUEST_TIMEOUT_S)
        tally.statuses[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            command = case.as_curl_command()
            tally.failures.append(f"{operation.label} ({mode.value}) -> {response.status_code}: {command}")

    with contextlib.suppress(Unsatisfiable):  # nothing to break: negative mode, no parameters
        send()


def test_no_request_makes_the_server_fail(api_schema: "BaseSchema", fuzz_url: str) -> None:
    operations = operations_of(api_schema)
    labels = {operation.label for operation in operations}
    assert len(operations) >= MIN_OPERATIONS, f"the schema lists too few operations: {sorted(labels)}"
    assert {"POST /api/uploads", "POST /api/jobs", "POST /api/verify"} <= labels
    tally = Tally()
    for operation in operations:
        for mode in MODES:
            fuzz_operation(operation, fuzz_url, mode, tally)
    print(f"fuzzed {len(operations)} operations: {dict(tally.statuses)}")
    assert tally.failures == [], "\n".join(tally.failures)
    assert tally.statuses["2xx"] > 0 and tally.statuses["4xx"] > 0, tally.statuses
