"""When the ``--workers`` supervisor starts a crashed worker again: soon,
then later and later while it keeps crashing, soon again once it has run
for a while."""

from __future__ import annotations

from hubbub.server import workers
from hubbub.server.workers import Restarts


def test_the_delay_doubles_while_a_worker_keeps_crashing_up_to_a_bound() -> None:
    restarts = Restarts()
    delays = [restarts.after_crash(ran_for=0.5) for _ in range(8)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert max(delays) == workers.MAX_DELAY


def test_a_worker_that_ran_for_a_while_is_started_again_soon() -> None:
    restarts = Restarts()
    for _ in range(4):
        restarts.after_crash(ran_for=1.0)
    assert restarts.after_crash(ran_for=workers.STEADY_AFTER) == workers.FIRST_DELAY
    assert restarts.after_crash(ran_for=1.0) == 2 * workers.FIRST_DELAY
