"""The names workers and renders hold leases and claims under, and whether one is gone.

A lease (storage/work_queue.py) or a render claim (storage/pdf_cache.py) names its
holder: the process as ``storage.holders`` names it (so a process on the same host and
in the same container can tell at once whether it still runs), then ``#`` and a nonce, so
that two holders in one process (two Services, as tests make them) are told apart. A
holder found gone frees what it held at once; one that cannot be looked at (another host)
frees it when it runs out, as before.
"""

import uuid

from storage.holders import runs, this_process

HOST_CHARS = 32  # of the host name kept: the name must fit the owner columns (128)


def process_name() -> str:
    """This process as a holder, with a nonce of its own (at most 128 characters)."""
    host, _, rest = this_process().partition("/")
    return f"{host[:HOST_CHARS]}/{rest}#{uuid.uuid4().hex[:8]}"[-128:]


def gone(owner: str) -> bool:
    """True only when ``owner`` certainly names a process that no longer runs."""
    return runs(owner.rpartition("#")[0]) is False
