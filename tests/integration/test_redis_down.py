"""Rate-limit counters in Redis that cannot be reached: every request is refused with 503
and Retry-After (never a 500, never let through unmetered), through both doors."""

from collections.abc import Callable

import pytest

from gateway.settings import Settings
from tests.conftest import Api, assert_error
from tests.graphql_support import error

pytestmark = pytest.mark.sqlite_only("what fails here is Redis, whatever the store")

UNREACHABLE = "redis://127.0.0.1:9/0"  # loopback, nothing listens: refused at once


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(CLEVERINVO_REDIS_URL=UNREACHABLE)


def test_unreachable_counters_answer_503_with_retry_after(api: Api):
    response = api.get("/api/v1/clients")
    assert assert_error(response, 503) == "Rate limiting is unavailable; retry shortly"
    assert response.headers["retry-after"] == "1"
    assert error(api, "{ clients { total } }", status=503) == (
        "UNAVAILABLE",
        "Rate limiting is unavailable; retry shortly",
    )


def test_nothing_is_written_while_the_counters_are_unreachable(api: Api, services):
    before = services.app.recorder.max_notification_id()
    assert api.post("/api/v1/clients", {"name": "Acme"}).status_code == 503
    assert services.app.recorder.max_notification_id() == before
