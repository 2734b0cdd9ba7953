"""A write that is saved while the read model cannot take it is reported as saved (503), not failed."""

from sqlalchemy import text

from gateway.services import Services
from tests.conftest import Api


def test_a_write_whose_read_model_fails_saves_nothing(api: Api, services: Services) -> None:
    """The events and their rows commit together (database/event_transactions.py): a read
    model that cannot take the rows makes the whole write fail, with no event kept."""
    before = services.app.recorder.max_notification_id() or 0
    with services.projector.writer.begin() as conn:
        conn.execute(text("DROP TABLE clients"))  # the read model breaks
    response = api.post("/api/v1/clients", {"name": "Acme"})
    assert response.status_code == 500
    assert response.json()["error"]
    assert (services.app.recorder.max_notification_id() or 0) == before
