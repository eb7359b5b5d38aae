"""Scenario 6: the security battery, against a real ingress and worker on the real broker.

Unknown, revoked and other-source keys are refused with nothing written; two orgs with the
same entity id get separate incidents; oversize bodies get 413 without being read to the
end; slow clients are cut off; hostile routing keys are rejected or default-routed; the rate
limit answers 429; and, searched last, no integration key appears in any Kafka record,
header, log line or metric.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from kafkaio.admin import connected_admin
from processors.routestore import publish_routes
from processors.routing import RoutingConfig
from tests.faults.accounting import read_to_end
from tests.faults.figures import Figures
from tests.faults.pipeline import Pipeline, assert_worker_healthy, decoded, running_pipeline
from tests.faults.processes import running_ingress

pytestmark = [pytest.mark.kafka, pytest.mark.faults]

JSON = {"content-type": "application/json"}
HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 3.0


@pytest.fixture(scope="module")
def pipeline(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    yield from running_pipeline(
        kafka_bootstrap,
        tmp_path_factory.mktemp("security"),
        ALERTPIPE_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S),
        ALERTPIPE_BODY_TIMEOUT_S=str(BODY_TIMEOUT_S),
    )


def raw_count(pipeline: Pipeline) -> int:
    return len(asyncio.run(read_to_end(pipeline.bootstrap, pipeline.topics.raw)))


def alerts_of(
    pipeline: Pipeline, org: str, want: int, timeout: float = 60
) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        records = asyncio.run(read_to_end(pipeline.bootstrap, pipeline.topics.normalized))
        found = [decoded(r.value) for r in records if (r.key or b"").startswith(f"{org}/".encode())]
        if len(found) >= want or time.monotonic() > deadline:
            return found
        time.sleep(1.0)


def test_unknown_revoked_and_other_source_keys_are_refused_and_nothing_is_written(
    pipeline: Pipeline, figures: Figures
) -> None:
    org = f"s{uuid.uuid4().hex[:8]}"
    revoked = pipeline.new_key("generic", org)
    pipeline.revoke(revoked)
    other_source = pipeline.new_key("thousandeyes", org)
    unknown = str(uuid.uuid4())
    body = b'{"message_type":"CRITICAL","entity_id":"intruder"}'
    before = raw_count(pipeline)
    answers: list[int] = []
    deadline = time.monotonic() + 10  # the revocation reaches the ingress within seconds
    for key in (unknown, revoked, other_source, unknown.upper(), "not-a-uuid"):
        for _ in range(5):
            status = httpx.post(
                pipeline.url("generic", key), content=body, headers=JSON
            ).status_code
            while status == 200 and key == revoked and time.monotonic() < deadline:
                time.sleep(0.2)
                status = httpx.post(
                    pipeline.url("generic", key), content=body, headers=JSON
                ).status_code
            answers.append(status)
    time.sleep(2)
    after = raw_count(pipeline)
    figures.update(
        requests=len(answers), refused_404=answers.count(404), raw_written=after - before
    )
    assert set(answers) == {404}, answers
    assert after == before


def test_two_orgs_with_the_same_entity_id_get_separate_incidents(
    pipeline: Pipeline, figures: Figures
) -> None:
    orgs = [f"s{uuid.uuid4().hex[:8]}" for _ in range(2)]
    body = b'{"message_type":"CRITICAL","entity_id":"db01/disk"}'
    for org in orgs:
        key = pipeline.new_key("generic", org)
        for _ in range(2):  # the second is a duplicate within the org only
            response = httpx.post(pipeline.url("generic", key), content=body, headers=JSON)
            assert response.status_code == 200, response.text
    found = [alerts_of(pipeline, org, want=1) for org in orgs]
    time.sleep(2)
    found = [alerts_of(pipeline, org, want=1, timeout=0) for org in orgs]
    figures.update(alerts_per_org=[len(f) for f in found])
    for org, alerts in zip(orgs, found, strict=True):
        assert [(a["incident_key"], a["message_type"], a["org"]) for a in alerts] == [
            (f"{org}/db01/disk", "CRITICAL", org)
        ]


def send_until_answered(port: int, head: bytes, chunk: bytes, total: int) -> tuple[bytes, int]:
    """Send ``head`` then ``chunk`` repeatedly (up to ``total`` bytes) until the server answers
    or closes; returns (what it answered, body bytes we managed to send)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        while sent < total:
            try:
                answer += sock.recv(65536)
                if answer:
                    break
            except BlockingIOError:
                pass
            try:
                sent += sock.send(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.01)
        sock.settimeout(10)
        try:
            while b"\r\n\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
    return answer, sent


def test_oversize_bodies_get_413_without_being_read_to_the_end(
    pipeline: Pipeline, figures: Figures
) -> None:
    key = pipeline.new_key("generic", "oversize")
    port = urlsplit(pipeline.ingress.base_url).port
    assert port is not None
    path = urlsplit(pipeline.url("generic", key)).path
    total = 64 * 1024 * 1024  # we offer 64 MiB; the limit is 512 KiB
    before = raw_count(pipeline)
    declared = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {total}\r\n\r\n"
    ).encode()
    chunked = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"x" * 65536
    answer1, sent1 = send_until_answered(port, declared, piece, total)
    answer2, sent2 = send_until_answered(port, chunked, b"10000\r\n" + piece + b"\r\n", total)
    figures.update(declared_bytes_sent=sent1, chunked_bytes_sent=sent2, offered=total)
    assert answer1.startswith(b"HTTP/1.1 413"), answer1[:200]
    assert answer2.startswith(b"HTTP/1.1 413"), answer2[:200]
    assert sent1 < total // 4
    assert sent2 < total // 4
    assert raw_count(pipeline) == before


def test_slow_clients_are_cut_off_and_others_still_served(
    pipeline: Pipeline, figures: Figures
) -> None:
    key = pipeline.new_key("generic", "slow")
    port = urlsplit(pipeline.ingress.base_url).port
    assert port is not None
    path = urlsplit(pipeline.url("generic", key)).path
    slow_headers = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(20)]
    slow_bodies = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(20)]
    started = time.monotonic()
    for sock in slow_headers:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode())
    for sock in slow_bodies:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n{".encode()
        )
    # a well-behaved client is served meanwhile
    good = httpx.post(
        pipeline.url("generic", key), content=b'{"message_type":"INFO"}', headers=JSON
    )
    cut_after: list[float] = []
    answers: list[bytes] = []
    for n, sock in enumerate(slow_headers + slow_bodies):
        got = b""
        try:
            while True:
                if n < 20:
                    sock.send(b"a")  # one header byte at a time, slowloris style
                more = sock.recv(4096) if n >= 20 else _poll(sock)
                if more == b"":
                    break
                got += more or b""
                if n >= 20 and b"\r\n\r\n" in got:
                    break
                time.sleep(0.2)
        except OSError:
            pass
        cut_after.append(time.monotonic() - started)
        answers.append(got)
        sock.close()
    figures.update(
        slow_connections=len(cut_after),
        headers_cut_after_s=max(cut_after[:20]),
        max_cut_after_s=max(cut_after),
        body_408=sum(1 for a in answers[20:] if a.startswith(b"HTTP/1.1 408")),
    )
    assert good.status_code == 200
    assert max(cut_after[:20]) < HEADER_TIMEOUT_S + 10
    assert not any(a.startswith(b"HTTP/1.1 2") for a in answers[:20]), answers[:3]
    assert max(cut_after) < BODY_TIMEOUT_S + 10
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers[20:]), answers[20:]


def _poll(sock: socket.socket) -> bytes | None:
    sock.settimeout(0.2)
    try:
        return sock.recv(4096)
    except TimeoutError:
        return None


HOSTILE_ROUTING_KEYS = [
    "..",
    "..%2F..%2Fetc%2Fpasswd",
    "%2F",
    "%2e%2e",
    "a%00b",
    "a%0d%0aX-Injected:%201",
    "%1b%5b31m",
    "%E2%98%83",
    "caf%C3%A9",
    "%F0%9F%94%A5%F0%9F%94%A5",
    "%ff%fe",
    "x" * 10 * 1024,
    "%24routing_key",
    "ops;drop",
    "%25",
]


# Surrounding white space is trimmed (a pasted URL often carries some): the key itself routes.
PADDED_ROUTING_KEYS = ["ops%20", "OPS%09", "%20ops"]


def routed_teams(alert: dict[str, object]) -> object:
    """The teams of a decoded alert's ``routing`` object."""
    routing = alert["routing"]
    assert isinstance(routing, dict), routing
    return routing["teams"]


def test_hostile_routing_keys_are_rejected_or_default_routed(
    pipeline: Pipeline, figures: Figures
) -> None:
    org = f"s{uuid.uuid4().hex[:8]}"
    key = pipeline.new_key("generic", org)
    config = RoutingConfig(org, routes={"ops": ("ops-team",)}, default_teams=("noc",))
    asyncio.run(publish_routes(pipeline.bootstrap, pipeline.topics.routes, config))
    time.sleep(2)  # the worker follows the routes topic
    accepted: dict[str, str] = {}
    statuses: list[int] = []
    for n, routing_key in enumerate(HOSTILE_ROUTING_KEYS + PADDED_ROUTING_KEYS):
        entity = f"hostile-{n}"
        body = f'{{"message_type":"CRITICAL","entity_id":"{entity}"}}'.encode()
        response = httpx.post(pipeline.url("generic", key, routing_key), content=body, headers=JSON)
        statuses.append(response.status_code)
        assert response.status_code in (200, 400, 404, 414), (routing_key[:40], response.text)
        if response.status_code == 200:
            accepted[f"{org}/{entity}"] = routing_key
    alerts = alerts_of(pipeline, org, want=len(accepted))
    figures.update(
        routing_keys=len(statuses),
        rejected_4xx=sum(1 for s in statuses if s != 200),
        default_routed=sum(1 for a in alerts if routed_teams(a) == ["noc"]),
    )
    assert sorted(str(a["incident_key"]) for a in alerts) == sorted(accepted)
    for alert in alerts:
        routing = alert["routing"]
        assert isinstance(routing, dict)
        sent_as = accepted[str(alert["incident_key"])]
        if sent_as in PADDED_ROUTING_KEYS:
            assert (routing["reason"], routing["teams"]) == ("matched", ["ops-team"]), routing
        else:
            assert routing["teams"] == ["noc"], (sent_as[:40], routing)
            assert routing["reason"] in ("invalid", "unknown", "placeholder"), routing
    assert_worker_healthy(pipeline)


def test_the_rate_limit_answers_429(pipeline: Pipeline, figures: Figures, tmp_path: Path) -> None:
    key = pipeline.new_key("generic", "limited")
    env = {
        **pipeline.ingress_env,
        "ALERTPIPE_RATE_LIMIT_PER_S": "2",
        "ALERTPIPE_RATE_LIMIT_BURST": "5",
    }
    with running_ingress(env, tmp_path / "limited.log") as limited:
        url = pipeline.url("generic", key).replace(pipeline.ingress.base_url, limited.base_url)
        with httpx.Client() as client:
            answers = [
                client.post(url, content=b'{"message_type":"INFO"}', headers=JSON)
                for _ in range(30)
            ]
    statuses = [a.status_code for a in answers]
    figures.update(sent=len(statuses), ok=statuses.count(200), rate_limited=statuses.count(429))
    assert set(statuses) == {200, 429}
    assert 5 <= statuses.count(200) <= 5 + 2 * 30 // 10  # burst, plus refill while sending
    limited_answer = answers[statuses.index(429)]
    assert int(limited_answer.headers["retry-after"]) >= 1


def test_no_integration_key_in_any_record_header_log_line_or_metric(
    pipeline: Pipeline, figures: Figures
) -> None:
    """Runs last: every key this module minted, searched for everywhere it could leak."""
    assert pipeline.keys
    # one more round of every kind of answer with one more key
    key = pipeline.new_key("generic", "leak")
    for body in (b'{"message_type":"CRITICAL","entity_id":"l"}', b"{not json", b'{"x":1}'):
        httpx.post(pipeline.url("generic", key), content=body, headers=JSON)
    httpx.post(pipeline.url("thousandeyes", key), content=b"{}", headers=JSON)
    httpx.post(pipeline.url("generic", key, "%00"), content=b"{}", headers=JSON)
    time.sleep(3)
    needles = {form.encode() for k in pipeline.keys for form in (k, k.upper(), k.replace("-", ""))}

    async def topics_of_this_pipeline() -> list[str]:
        async with connected_admin(pipeline.bootstrap, 15.0) as admin:
            names = await admin.list_topics()
        prefix = pipeline.topics.raw.rsplit(".", 1)[0]
        return sorted(n for n in names if n.startswith(prefix) or n.startswith(pipeline.group))

    names = asyncio.run(topics_of_this_pipeline())
    records = 0
    leaks: list[str] = []
    for name in names:
        for r in asyncio.run(read_to_end(pipeline.bootstrap, name)):
            records += 1
            blob = b"\0".join(
                [r.key or b"", r.value or b"", *(k.encode() + v for k, v in r.headers)]
            )
            leaks += [f"{name}@{r.partition}/{r.offset}" for n in needles if n in blob]
    logs = {"ingress": pipeline.ingress.text(), "worker": pipeline.worker.text()}
    metrics = {
        "ingress": httpx.get(f"{pipeline.ingress.base_url}/metrics").text,
        "worker": httpx.get(pipeline.worker_metrics_url).text,
    }
    for where, text in {**logs, **{f"{k} metrics": v for k, v in metrics.items()}}.items():
        leaks += [where for n in needles if n.decode() in text]
    figures.update(
        keys=len(pipeline.keys),
        topics=len(names),
        records_searched=records,
        log_lines=sum(t.count("\n") for t in logs.values()),
        metric_lines=sum(t.count("\n") for t in metrics.values()),
        leaks=len(leaks),
    )
    assert "alertpipe_ingress_requests" in metrics["ingress"]
    assert "alertpipe_worker_events" in metrics["worker"]
    assert records > 0
    assert not leaks, leaks[:10]
