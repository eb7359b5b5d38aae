"""Integration keys: minted as UUIDs (or, for a source whose senders expect PagerDuty's
format, 32 lower-case hex digits), stored and compared only as SHA-256 hashes.

The keys are 122 (or 128) random bits, so a plain SHA-256 is enough (no salt or slow hash
needed: there is nothing to brute-force). Records live in a compacted topic keyed by ``key_id``;
this module is the pure part: the record, its codec, and the in-memory table each ingress
process keeps.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import asdict, dataclass

import orjson

ORG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Integration:
    key_id: str
    org: str
    source: str
    key_sha256: str
    created_at: int  # epoch ms
    revoked_at: int | None = None
    # The alertpipe routing key its alerts go to, for a source whose URL has no routing key
    # segment (PagerDuty's key is in the body). None: the URL's, or the default route.
    routing_key: str | None = None
    # Amazon SNS: the topics (ARNs or globs) whose messages the key takes; none: no topic.
    topic_arns: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_key() -> str:
    return str(uuid.uuid4())


def new_hex_key() -> str:
    """32 lower-case hex digits: what PagerDuty Events API v2 clients expect a key to be."""
    return secrets.token_hex(16)


def new_key_id() -> str:
    """Short public id of a key: safe to log, to put in Kafka headers and to type."""
    return "k" + secrets.token_hex(6)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.strip().lower().encode()).hexdigest()


def encode_integration(integration: Integration) -> bytes:
    """A record without a routing key or topics is written as before it had them (older
    readers)."""
    fields = asdict(integration)
    if fields["routing_key"] is None:
        del fields["routing_key"]
    if not fields["topic_arns"]:
        del fields["topic_arns"]
    else:
        fields["topic_arns"] = list(fields["topic_arns"])
    return orjson.dumps(fields)


def decode_integration(value: bytes) -> Integration:
    """Raises ValueError on a record that is not an integration."""
    try:
        raw = orjson.loads(value)
        return Integration(
            key_id=str(raw["key_id"]),
            org=str(raw["org"]),
            source=str(raw["source"]),
            key_sha256=str(raw["key_sha256"]),
            created_at=int(raw["created_at"]),
            revoked_at=None if raw.get("revoked_at") is None else int(raw["revoked_at"]),
            # records written before routing keys were kept have none
            routing_key=None if raw.get("routing_key") is None else str(raw["routing_key"]),
            topic_arns=_topics(raw.get("topic_arns")),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an integration record: {exc}") from exc


def _topics(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise TypeError("topic_arns is not a list of text")
    return tuple(value)


class KeyTable:
    """The latest record per key id, and an index of active keys by hash."""

    def __init__(self) -> None:
        self._by_id: dict[str, Integration] = {}
        self._active: dict[str, Integration] = {}

    def apply(self, integration: Integration) -> None:
        previous = self._by_id.get(integration.key_id)
        if previous is not None:
            self._active.pop(previous.key_sha256, None)
        self._by_id[integration.key_id] = integration
        if integration.active:
            self._active[integration.key_sha256] = integration

    def lookup(self, key: str, sources: str | frozenset[str]) -> Integration | None:
        """The active integration for ``key`` if it belongs to one of ``sources``."""
        allowed = {sources} if isinstance(sources, str) else sources
        found = self._active.get(hash_key(key))
        return found if found is not None and found.source in allowed else None

    def all(self) -> list[Integration]:
        return sorted(self._by_id.values(), key=lambda i: (i.org, i.source, i.created_at))
