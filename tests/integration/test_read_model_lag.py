"""A write that is saved while the read model cannot take it is reported as saved (503), not failed."""

from sqlalchemy import text

from gateway.services import Services
from tests.conftest import Api


def test_a_saved_write_whose_read_model_fails_is_503_and_the_event_is_kept(api: Api, services: Services) -> None:
    before = services.app.recorder.max_notification_id() or 0
    with services.projector.writer.begin() as conn:
        conn.execute(text("DROP TABLE clients"))  # the read model breaks, the ledger does not
    response = api.post("/api/v1/clients", {"name": "Acme"})
    assert response.status_code == 503
    assert "saved" in response.json()["error"]
    assert (services.app.recorder.max_notification_id() or 0) > before
