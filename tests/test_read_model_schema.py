"""A read model written by another schema version is rebuilt from the events at start-up."""

from pathlib import Path

from sqlalchemy import text, update

from gateway.services import Services
from gateway.settings import Settings
from projections.projector import SCHEMA_KEY
from projections.tables import tracking


def test_a_read_model_of_another_schema_version_is_rebuilt_on_start(tmp_path: Path) -> None:
    settings = Settings.from_env({"CLEVERINVO_DATA_DIR": str(tmp_path)})
    first = Services(settings)
    account = first.execute(lambda: first.app.open_account("Seller", "pro"))
    first.execute(lambda: first.app.create_client(account, {"name": "Acme"}))
    with first.projector.writer.begin() as conn:
        conn.execute(text("DELETE FROM clients"))  # a stale read model...
        conn.execute(update(tracking).where(tracking.c.application_name == SCHEMA_KEY).values(notification_id=1))
    first.close()

    second = Services(settings)  # ...of an older version is rebuilt, not trusted
    try:
        assert [c.name for c in second.read.clients(str(account), 1, 20).items] == ["Acme"]
    finally:
        second.close()
