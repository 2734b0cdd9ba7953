"""Owners' passwords are hashed with Argon2id under RFC 9106's second recommended profile
(§4: t=3 passes, m=64 MiB, p=4 lanes). The suite's ``services`` fixture swaps in a cheap
Argon2id (tests/conftest.py), so the cost a deployment pays is held here, on a service
built without the fixture, on both backends."""

from collections.abc import Callable

from gateway.services import Services
from gateway.settings import Settings


def test_a_service_hashes_passwords_with_rfc_9106s_second_profile(make_settings: Callable[..., Settings]) -> None:
    services = Services(make_settings())
    try:
        hasher = services.usecases.owners.hasher
        assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 64 * 1024, 4)
        assert hasher.hash("correct horse battery staple").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    finally:
        services.close()
