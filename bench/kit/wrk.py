"""How wrk's report is read: latencies in its units, and its ``--latency`` percentiles."""

import re

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def in_ms(value: str, unit: str) -> float:
    """A duration wrk wrote as ``value`` and ``unit`` (us, ms, s, m), in milliseconds."""
    return float(value) * UNITS[unit]


def percentiles(output: str) -> dict[int, float]:
    """The latency percentiles of wrk's ``--latency`` report, in milliseconds."""
    found = re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    return {int(p): in_ms(value, unit) for p, value, unit in found}
