"""`manage.py transform_events`: through its pure `run` function, and as the command people run."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from destinations.customerio.cli import run
from tests.transformer.helpers import (
    SITE_ID,
    US,
    assert_request_matches,
    assert_router_results_match,
    cases,
    config,
)

REPOSITORY = Path(__file__).resolve().parents[2]
PROCESSOR = cases("processor.json")
ROUTER = cases("router.json") + cases("router_v2.json")

TRACK = {"type": "track", "event": "Clicked", "userId": "u1"}
GROUP = {"type": "group", "groupId": "g1", "userId": "u1"}


def line(message, **settings) -> str:
    return json.dumps({"config": config(**settings), "message": message})


def output(lines, batch=False) -> list[dict]:
    out = io.StringIO()
    run(lines, out, batch=batch)
    return [json.loads(text) for text in out.getvalue().splitlines()]


def command(stdin: bytes | str, *arguments: str) -> list[dict]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    completed = subprocess.run(
        [sys.executable, "manage.py", "transform_events", *arguments],
        input=data,
        capture_output=True,
        cwd=REPOSITORY,
        check=True,
        timeout=60,
    )
    return [json.loads(text) for text in completed.stdout.decode().splitlines()]


def test_each_line_gets_its_requests():
    # given one track call
    # when it is previewed
    [result] = output([line(TRACK)])
    # then the line says what Customer.io would receive
    assert result == {
        "requests": [
            {
                "method": "POST",
                "endpoint": f"{US}/api/v1/customers/u1/events",
                "headers": {"Authorization": "Basic c2l0ZS0xOmtleS0x"},
                "body": {"type": "event", "name": "Clicked"},
            }
        ]
    }


def test_a_bad_line_gets_an_error_line_and_the_others_still_go_through():
    # given a line that is not JSON between two good ones, and a message that is wrong
    lines = [line(TRACK), "{not json", line({"type": "track", "userId": "u1"}), line(TRACK)]
    # when they are previewed
    results = output(lines)
    # then there is one line per input, in order
    assert [next(iter(result)) for result in results] == ["requests", "error", "error", "requests"]
    assert results[1]["error"]["kind"] == "instrumentation"
    assert "not JSON" in results[1]["error"]["message"]
    assert "event" in results[2]["error"]["message"]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[1, 2]", "JSON object"),
        ('{"config": {}}', "JSON object"),
        ('{"message": {"type": "track"}}', "config"),
        ('{"config": {"siteID": "s", "apiKey": "k"}, "message": {"x": NaN}}', "not JSON"),
    ],
)
def test_lines_that_are_not_a_config_and_a_message_are_refused(text, complaint):
    # given a line of the wrong shape
    # when it is previewed
    [result] = output([text])
    # then the error says what is wrong
    assert complaint in result["error"]["message"]


def test_a_destination_config_error_is_a_configuration_error():
    # given a line whose config has no API key
    text = json.dumps({"config": {"siteID": SITE_ID}, "message": TRACK})
    # when it is previewed
    [result] = output([text])
    # then the destination is to blame
    assert result == {"error": {"message": "apiKey not found in Configs", "kind": "configuration"}}


def test_blank_lines_are_skipped():
    assert len(output(["", line(TRACK), "   ", line(TRACK), ""])) == 2


def test_batch_mode_writes_one_line_per_request_with_the_input_indexes():
    # given a stream: a track, a bad line, two groups
    lines = [line(TRACK), "oops", line(GROUP), line({**GROUP, "groupId": "g2"})]
    # when it is previewed as a batch
    results = output(lines, batch=True)
    # then the requests come first, the groups sharing one batch, then the failed line
    assert [result["messages"] for result in results] == [[0], [2, 3], [1]]
    assert [item["identifiers"]["object_id"] for item in results[1]["request"]["body"]["batch"]] == [
        "g1",
        "g2",
    ]
    assert results[2]["error"]["kind"] == "instrumentation"


def test_batch_mode_refuses_a_line_whose_config_differs_from_the_first():
    # given a stream whose third line is for another destination
    lines = [line(GROUP), line(GROUP), line(GROUP, apiKey="another-key")]
    # when it is previewed as a batch
    results = output(lines, batch=True)
    # then the first two are batched and the third fails as a configuration error
    assert results[0]["messages"] == [0, 1]
    assert results[1]["messages"] == [2]
    assert results[1]["error"]["kind"] == "configuration"
    assert "first line" in results[1]["error"]["message"]


def test_batch_mode_with_nothing_to_send_writes_nothing():
    assert output([], batch=True) == []
    assert output(["", ""], batch=True) == []


def test_output_is_flushed_line_by_line():
    # given an output that records each write and flush
    class Recorder(io.StringIO):
        def __init__(self):
            super().__init__()
            self.events = []

        def write(self, text):
            self.events.append("write")
            return super().write(text)

        def flush(self):
            self.events.append("flush")

    out = Recorder()
    # when two lines are previewed
    run([line(TRACK), line(TRACK)], out)
    # then each line is flushed as soon as it is written
    assert out.events == ["write", "flush", "write", "flush"]


def test_the_command_previews_stdin():
    # given two lines on stdin, one not JSON
    stdin = line(TRACK) + "\nnot json\n"
    # when the command runs
    results = command(stdin)
    # then each gets its line
    assert results[0]["requests"][0]["endpoint"] == f"{US}/api/v1/customers/u1/events"
    assert results[1]["error"]["kind"] == "instrumentation"


def test_the_command_survives_bytes_that_are_not_utf8():
    # given a line with a stray byte in a field that is not sent, and one in the userId
    ignored = line({**TRACK, "context": {"userAgent": "Z"}}).encode().replace(b'"Z"', b'"\xff"')
    used = line({**TRACK, "userId": "Z"}).encode().replace(b'"Z"', b'"\xff"')
    # when the command runs
    results = command(ignored + b"\n" + used + b"\n")
    # then the first goes through and the second is refused, by name
    assert "requests" in results[0]
    assert "userId" in results[1]["error"]["message"]


def test_the_command_documents_the_batch_config_rule():
    completed = subprocess.run(
        [sys.executable, "manage.py", "transform_events", "--help"],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        check=True,
    )
    assert "--batch" in completed.stdout
    assert "config differs" in " ".join(completed.stdout.split())


@pytest.fixture(scope="module")
def processor_lines() -> dict[str, dict]:
    """Every processor vector through one run of the command, its output line by case id."""
    stdin = "".join(json.dumps({"config": c["config"], "message": c["message"]}) + "\n" for c in PROCESSOR)
    results = command(stdin)
    assert len(results) == len(PROCESSOR)
    return {case["id"]: result for case, result in zip(PROCESSOR, results, strict=True)}


@pytest.mark.parametrize("case", PROCESSOR, ids=[case["id"] for case in PROCESSOR])
def test_every_processor_case_agrees_through_the_command(case, processor_lines):
    # given a processor vector, previewed with all the others as lines of one run
    result = processor_lines[case["id"]]
    # then its line agrees with the case
    if "expected_error" in case:
        assert "error" in result
        return
    assert len(result["requests"]) == len(case["expected"])
    for expected, request in zip(case["expected"], result["requests"], strict=True):
        assert_request_matches(expected, request)


@pytest.mark.parametrize("case", ROUTER, ids=[case["id"] for case in ROUTER])
def test_every_router_case_agrees_through_the_command(case):
    # given one destination's stream as lines
    stdin = "".join(json.dumps({"config": case["config"], "message": m}) + "\n" for m in case["messages"])
    # when the command previews it as a batch
    results = command(stdin, "--batch")
    # then the lines are the reference's results, in its order
    assert_router_results_match(case["expected"], results)
