"""When no database connection is free in time (issue 16, defect 6: eventsourcing's pool
raised ConnectionUnavailableError under sustained writes), both doors answer "busy, retry"
(503 with Retry-After, or UNAVAILABLE), never a 500, and nothing is written."""

from typing import Any

import pytest
from eventsourcing.persistence import ConnectionUnavailableError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.services import Services
from tests.conftest import Api, assert_error
from tests.graphql_support import error

SATURATIONS = [
    ConnectionUnavailableError("Timed out waiting for connection pool semaphore"),
    PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
]


@pytest.mark.parametrize("fault", SATURATIONS, ids=["event-store", "read-model"])
def test_a_saturated_store_is_busy_not_broken(api: Api, services: Services, monkeypatch: pytest.MonkeyPatch, fault):
    def saturated(*_args: Any) -> Any:
        raise fault

    monkeypatch.setattr("usecases.clients.Clients.create", saturated)
    monkeypatch.setattr("usecases.clients.Clients.list", saturated)
    before = services.app.recorder.max_notification_id()
    response = api.post("/api/v1/clients", {"name": "Acme"})
    assert assert_error(response, 503) == "The service is busy; retry shortly"
    assert response.headers["retry-after"] == "1" and "write-saved" not in response.headers
    assert assert_error(api.get("/api/v1/clients"), 503) == "The service is busy; retry shortly"
    assert error(api, "{ clients { total } }") == ("UNAVAILABLE", "The service is busy; retry shortly")
    assert error(api, 'mutation { createClient(input: {name: "A"}) { id } }')[0] == "UNAVAILABLE"
    assert services.app.recorder.max_notification_id() == before
