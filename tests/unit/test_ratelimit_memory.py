"""The in-memory budgets (one process, no Redis): an exact moving window per identity,
checked against the rule written out naively, on a clock the test moves."""

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.http.ratelimit import MemoryWindows


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_holds_in_any_window_and_refusals_do_not_count():
    clock = Clock()
    windows = MemoryWindows(3, 60, clock)
    spent = [windows.spend("key:a") for _ in range(4)]
    assert [(b.allowed, b.remaining) for b in spent] == [(True, 2), (True, 1), (True, 0), (False, 0)]
    assert spent[-1].headers()["Retry-After"] == "60"
    clock.now += 59.5
    refused = windows.spend("key:a")
    assert not refused.allowed and refused.reset_seconds == 1
    clock.now += 0.5  # the first three leave the window together: refusals never counted
    assert [windows.spend("key:a").allowed for _ in range(4)] == [True, True, True, False]


def test_identities_have_their_own_windows():
    windows = MemoryWindows(1, 60, Clock())
    assert windows.spend("key:a").allowed and windows.spend("key:b").allowed
    assert not windows.spend("key:a").allowed


def test_idle_identities_are_forgotten_once_a_window():
    clock = Clock()
    windows = MemoryWindows(5, 60, clock)
    for n in range(1000):
        windows.spend(f"address:10.0.{n // 256}.{n % 256}")
    clock.now += 61
    windows.spend("key:a")
    assert list(windows._hits) == ["key:a"]


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 5),
    steps=st.lists(st.tuples(st.sampled_from("ab"), st.floats(0, 30, allow_nan=False)), max_size=60),
)
def test_same_answers_as_the_rule_written_naively(limit: int, steps: list[tuple[str, float]]):
    clock = Clock()
    windows = MemoryWindows(limit, 60, clock)
    accepted: dict[str, list[float]] = {"a": [], "b": []}
    for who, wait in steps:
        clock.now += wait
        recent = [t for t in accepted[who] if t > clock.now - 60]
        expected = len(recent) < limit
        budget = windows.spend(who)
        assert budget.allowed == expected
        if expected:
            accepted[who].append(clock.now)
            recent.append(clock.now)
        assert budget.remaining == limit - len(recent)
