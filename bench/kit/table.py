"""The cells of a benchmark's table: the spread of a measurement over its runs."""

import statistics
from collections.abc import Sequence


def spread(values: Sequence[float], fmt: str) -> str:
    """``min / median / max`` of ``values``, each formatted with ``fmt``."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:{fmt}} / {mid:{fmt}} / {high:{fmt}}"
