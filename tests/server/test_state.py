"""The access log: one JSON line per request; batched per event-loop turn when asked; never lost on flush."""

from __future__ import annotations

import asyncio
import io
import json

from jwtgate.server.state import AccessLog


class CountingStream(io.StringIO):
    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_unbatched_lines_are_written_at_once_with_a_utc_second_stamp() -> None:
    stream = CountingStream()
    log = AccessLog(stream=stream, clock=lambda: 1_700_000_000.7)
    log({"status": 200})
    log({"status": 403})
    assert stream.writes == 2
    assert lines(stream) == [{"time": "2023-11-14T22:13:20Z", "status": 200},
                             {"time": "2023-11-14T22:13:20Z", "status": 403}]


def test_batched_lines_of_one_loop_turn_go_out_in_one_write() -> None:
    stream = CountingStream()
    log = AccessLog(stream=stream, clock=lambda: 0.0, batch=True)

    async def scenario() -> int:
        for status in (200, 401, 403):
            log({"status": status})
        pending = stream.writes
        await asyncio.sleep(0)  # the loop turn ends: the flush runs
        return pending

    assert asyncio.run(scenario()) == 0
    assert stream.writes == 1
    assert [line["status"] for line in lines(stream)] == [200, 401, 403]


def test_batched_without_a_running_loop_writes_at_once_and_flush_empties_the_batch() -> None:
    stream = CountingStream()
    log = AccessLog(stream=stream, clock=lambda: 0.0, batch=True)
    log({"status": 200})
    assert [line["status"] for line in lines(stream)] == [200]
    log.flush()
    assert stream.writes == 1


def test_the_stamp_follows_the_clock_across_seconds() -> None:
    now = [59.9]
    stream = io.StringIO()
    log = AccessLog(stream=stream, clock=lambda: now[0])
    log({})
    now[0] = 60.0
    log({})
    assert [line["time"] for line in lines(stream)] == ["1970-01-01T00:00:59Z", "1970-01-01T00:01:00Z"]
