"""A frozen copy of the pure core's outputs, to change the core's code without changing a byte.

The corpus: every fixture under several envelopes, and bodies derived from the fixtures by a
seeded generator (keys removed or replaced by odd JSON: big integers, floats, unicode, nesting,
lists of alerts; broken JSON; forms; unknown sources; missing headers); then the same for the
sample bodies of every source folder (``catalog_samples``: the declarative sources), appended
so the first 609 cases stay as they were. Each case is run
through stage 1 (``processors.stage_one.stage_one``) and every alert it yields through stage 2
(``processors.stage_two.decide_alert``), in order, against the states the earlier cases left,
so redeliveries, duplicates, escalations and recoveries are all decided. The file stores the
inputs and what came out: the records published, the decisions, the emitted bytes and the
encoded states.

    python -m tests.processors.golden   # rewrite the file (only for a deliberate change)
"""

from __future__ import annotations

import base64
import gzip
import json
import random
from pathlib import Path
from typing import Any

from processors.incidents import IncidentPolicy, IncidentState, decode_state, encode_state
from processors.pipeline import RawInput
from processors.routing import RoutingConfig, config_from_json
from processors.stage_one import stage_one
from processors.stage_two import decide_alert
from schemas.raw import RawHeaders
from schemas.registry import load_sources
from tests.processors.helpers import FIXTURES

GOLDEN = Path(__file__).parent / "golden" / "core-outputs.jsonl.gz"
SEED = 20261201
GENERATED = 600
CATALOG_SEED = 20261202
CATALOG_GENERATED = 900
NOW = 1_742_240_900_000
POLICY = IncidentPolicy(resolved_ttl_ms=60_000, open_ttl_ms=600_000, max_fingerprints=4)
ROUTES = {
    "acme": config_from_json(
        "acme",
        {
            "routes": {"web": ["web-oncall"], "dba": ["dba", "dba-lead"], "net": ["netops"]},
            "default_teams": ["noc"],
            "rules": [
                {
                    "name": "disks",
                    "match": {"entity_id": "diskspace/*", "message_type": "CRITICAL"},
                    "set_routing_key": "dba",
                },
                {
                    "name": "bgp",
                    "match": {"source": "thousandeyes", "entity_display_name": {"regex": "(?i)a"}},
                    "set_routing_key": "net",
                },
            ],
        },
    )
}
ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**64 + 3,
    -(2**70),
    1.5,
    1e300,
    -0.0,
    "",
    "é☃\U0001f600",
    "\u2028\x00\x1f",
    "2025-03-17T19:43:20Z",
    "1742240600",
    [],
    [1, "two", None],
    {},
    {"a": {"b": {"c": [1, {"d": 2}]}}},
    "x" * 300,
]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain"]


def fixtures() -> list[tuple[str, str, bytes]]:
    """(source, content type, body) of every fixture."""
    out = []
    for path in sorted(FIXTURES.glob("*/*")):
        if path.suffix not in (".json", ".form"):
            continue
        ctype = (
            "application/x-www-form-urlencoded" if path.suffix == ".form" else "application/json"
        )
        out.append((path.parent.name, ctype, path.read_bytes()))
    return out


def catalog_samples() -> list[tuple[str, str, bytes]]:
    """(source, content type, body) of every sample body in a source folder's ``samples/``."""
    out = []
    for name, info in sorted(load_sources().items()):
        for path in info.samples:
            if path.suffix == ".json":
                out.append((name, "application/json", path.read_bytes()))
    return out


def _mutate(rng: random.Random, body: Any) -> Any:
    for _ in range(rng.randrange(4)):
        target = body
        nested = [v for v in body.values() if isinstance(v, dict)]
        if nested and rng.random() < 0.5:
            target = rng.choice(nested)
        keys = sorted(target) or ["x"]
        key = rng.choice([*keys, "extra"])
        if rng.random() < 0.4:
            target.pop(key, None)
        else:
            target[key] = rng.choice(ODD_VALUES)
    return body


def _body(rng: random.Random, source: str, ctype: str, raw: bytes) -> tuple[str, str, bytes]:
    roll = rng.random()
    if ctype.endswith("urlencoded"):
        if roll < 0.2:
            return source, ctype, raw + b"&extra=%E2%98%83"
        return source, ctype, raw
    data = json.loads(raw)
    if roll < 0.05:
        return source, ctype, raw[: rng.randrange(1, len(raw))]  # cut short: invalid JSON
    if roll < 0.1 and source == "thousandeyes" and "alert" in data:
        data = {**data, "alerts": [data["alert"], _mutate(rng, dict(data["alert"]))]}
        data.pop("alert")
    elif roll < 0.75:
        data = _mutate(rng, json.loads(raw))
    ctype = rng.choice(CONTENT_TYPES) if rng.random() < 0.2 else ctype
    text = json.dumps(
        data, ensure_ascii=rng.random() < 0.5, separators=rng.choice([None, (",", ":")])
    )
    return source, ctype, text.encode()


def _headers(rng: random.Random, source: str, ctype: str, n: int) -> list[tuple[str, bytes]]:
    headers = RawHeaders(
        source=source if rng.random() > 0.02 else "nosuchsource",
        org=rng.choice(["acme", "acme", "other"]),
        key_id="k1",
        routing_key=rng.choice(["web", "DBA", "", "$routing_key", "nope"]),
        content_type=ctype,
        received_at=NOW - 300_000 + n * 250 + rng.randrange(-500, 500),
        request_id=f"r{n}",
        remote_addr="203.0.113.9",
        user_agent="golden",
        entity_id=f"e{rng.randrange(5)}" if source == "generic" and rng.random() < 0.5 else None,
    ).to_kafka()
    if rng.random() < 0.02:
        headers = headers[1:]  # no source header: an invalid envelope
    if rng.random() < 0.02:
        headers = [(k, b"soon" if k == "received_at" else v) for k, v in headers]
    return headers


def _generated(
    rng: random.Random, pool: list[tuple[str, str, bytes]], count: int, first: int
) -> list[dict[str, Any]]:
    """``count`` bodies derived from ``pool``, some sent twice (a redelivery: same body and
    headers, a new offset)."""
    cases: list[dict[str, Any]] = []
    for i in range(first, first + count):
        if cases and rng.random() < 0.15:
            cases.append(dict(rng.choice(cases)))
            continue
        source, ctype, raw = rng.choice(pool)
        source, ctype, body = _body(rng, source, ctype, raw)
        cases.append({"body": body, "headers": _headers(rng, source, ctype, i)})
    return cases


def _plain(pool: list[tuple[str, str, bytes]], first: int) -> list[dict[str, Any]]:
    return [
        {"body": b, "headers": _headers(random.Random(i), s, c, i)}
        for i, (s, c, b) in enumerate(pool, start=first)
    ]


def corpus() -> list[dict[str, Any]]:
    """The inputs: every fixture once, then GENERATED derived bodies; then every source
    folder's samples once, then CATALOG_GENERATED bodies derived from them."""
    pool = fixtures()
    cases = _plain(pool, 0) + _generated(random.Random(SEED), pool, GENERATED, 0)
    catalog = catalog_samples()
    first = len(cases)
    cases += _plain(catalog, first)
    cases += _generated(random.Random(CATALOG_SEED), catalog, CATALOG_GENERATED, first)
    return [
        {**case, "key": f"acme/k{n % 3}".encode(), "offset": 1000 + n}
        for n, case in enumerate(cases)
    ]


def run_core(
    cases: list[dict[str, Any]], routes: dict[str, RoutingConfig] | None = None
) -> list[dict[str, Any]]:
    """Each case through stage 1 and its alerts through stage 2: what came out, as JSON data."""
    routes = ROUTES if routes is None else routes
    states: dict[bytes, bytes] = {}
    results = []
    for case in cases:
        raw = RawInput(case["body"], list(case["headers"]), "alerts.raw", 3, case["offset"])
        result, outputs = stage_one(raw, case["key"], routes, None)
        published = []
        for out in outputs:
            record: dict[str, Any] = {
                "dead_letter": out.dead_letter,
                "key": _text(out.key),
                "value": _text(out.value),
                "headers": [[k, _text(v)] for k, v in out.headers],
            }
            if not out.dead_letter:
                assert out.key is not None
                stored = states.get(out.key)
                current: IncidentState | None = decode_state(stored) if stored else None
                decided = decide_alert(current, out.value, out.headers, NOW, POLICY)
                if decided.state is None:
                    states.pop(out.key, None)
                else:
                    states[out.key] = encode_state(decided.state)
                record["decision"] = [decided.decision.emit, decided.decision.reason]
                record["emitted"] = _text(decided.emitted)
                record["state"] = _text(states.get(out.key))
            published.append(record)
        results.append({"source": result.source, "published": published})
    return results


def _text(value: bytes | None) -> str | None:
    """Bytes as JSON text: UTF-8 where it decodes, else base64 marked with a prefix."""
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return "b64:" + base64.b64encode(value).decode()


def _case_json(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "body": base64.b64encode(case["body"]).decode(),
        "headers": [[k, base64.b64encode(v).decode()] for k, v in case["headers"]],
        "key": case["key"].decode(),
        "offset": case["offset"],
    }


def _case_from_json(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "body": base64.b64decode(data["body"]),
        "headers": [(k, base64.b64decode(v)) for k, v in data["headers"]],
        "key": data["key"].encode(),
        "offset": data["offset"],
    }


def load() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(case, its frozen outputs) pairs from the file."""
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [(_case_from_json(row["case"]), row["outputs"]) for row in rows]


def write() -> int:
    cases = corpus()
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(GOLDEN, "wb", mtime=0) as f:
        for case, outputs in zip(cases, run_core(cases), strict=True):
            row = {"case": _case_json(case), "outputs": outputs}
            f.write(json.dumps(row, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return len(cases)


if __name__ == "__main__":
    print(f"wrote {write()} cases to {GOLDEN}")
