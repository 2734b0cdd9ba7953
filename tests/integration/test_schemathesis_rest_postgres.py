"""The PostgreSQL + Redis half of tests/integration/test_schemathesis_rest.py: the same test, in a file of
its own so that the suite's test processes (each file whole in one) run the two halves side by
side; each takes minutes."""

import pytest

from tests.integration.test_schemathesis_rest import live as live  # the fixture the test asks for
from tests.integration.test_schemathesis_rest import (
    test_the_document_and_the_service_agree_under_fuzzing as test_the_document_and_the_service_agree_under_fuzzing,
)

pytestmark = pytest.mark.one_backend("postgres")
