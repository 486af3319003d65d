"""netfence.progress: counted from many threads, printed at most every few seconds, always at the end."""

from __future__ import annotations

import threading

from netfence.progress import Progress, file_writer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_are_throttled_and_the_last_one_always_comes() -> None:
    clock, lines = Clock(), []
    progress = Progress("probe round 'after'", 10, lines.append, every=5.0, clock=clock)
    for _ in range(3):
        clock.now += 1
        progress.step()
    assert lines == []  # 3 s in: nothing due yet
    clock.now += 2
    progress.step()
    assert lines == ["probe round 'after': 4/10 probes (40%), 5 s"]
    progress.step(5)  # no time passed since the last line
    assert len(lines) == 1
    clock.now += 0.5
    progress.step()  # the last one
    assert lines[-1] == "probe round 'after': 10/10 probes (100%), 6 s" and len(lines) == 2


def test_steps_from_many_threads_are_all_counted() -> None:
    lines: list[str] = []
    progress = Progress("round", 800, lines.append, unit="pods", every=3600)
    workers = [threading.Thread(target=lambda: [progress.step() for _ in range(100)]) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert progress.done == 800
    assert lines == [lines[-1]] and lines[-1].startswith("round: 800/800 pods (100%)")


def test_file_writer_appends_whole_lines(tmp_path) -> None:
    path = tmp_path / "progress.log"
    emit = file_writer(str(path))
    emit("a: 1/2 probes (50%), 0 s")
    emit("a: 2/2 probes (100%), 1 s")
    assert path.read_text().splitlines() == ["a: 1/2 probes (50%), 0 s", "a: 2/2 probes (100%), 1 s"]
