"""The worker's incident states as its changelog topic holds them, read back without the worker
(``alertpipe incidents``). Pure: records in, the incidents held now out.

The layout is quixstreams' (checked against 3.28.1, ``quixstreams/state/base/transaction.py``,
``state/metadata.py``, ``state/rocksdb/ttl_codec.py``; a test builds these records from a real
worker, so an upgrade that changes them fails there first):
- key: the record's message key (our incident key ``<org>/<entity_id>``), ``|``, then the state
  key serialized by the store's ``dumps`` (JSON): ``acme/db-1|"state"``. Under at-least-once
  the same incident also has ``acme/db-1|"applied"`` (``processors.stage_two.Applied``);
- value: with the header ``__ttl_stamped__`` (any non-empty value) an 8-byte big-endian expiry
  (epoch ms of event time; ``0xFF..FF`` = never) and then our bytes
  (``processors.incidents.encode_state``); without it our bytes alone (a store from before
  quixstreams' TTL);
- a tombstone (no value) deletes the key: a state the worker dropped, or one quixstreams'
  TTL sweep removed;
- header ``__column_family__``: only ``default`` holds states; ``__ttl_system__`` carries a
  marker record of quixstreams' own.
The latest record of a key wins: a compacted topic read to its end is the table.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from processors.incidents import IncidentPolicy, IncidentState, decode_state, is_expired
from schemas.errors import AlertpipeError
from schemas.records import record

# processors.worker.topology.STATE_KEY as quixstreams writes it after the incident key (a
# test checks the two agree: the core cannot import the worker)
STATE_KEY = "state"
STATE_SUFFIX = b'|"' + STATE_KEY.encode() + b'"'
CF_HEADER = "__column_family__"
TTL_STAMPED_HEADER = "__ttl_stamped__"
DEFAULT_CF = "default"
NEVER = 0xFFFF_FFFF_FFFF_FFFF
_STAMP = struct.Struct(">Q")

Headers = Sequence[tuple[str, bytes | None]]


class ChangelogFormatError(AlertpipeError, ValueError):
    """A state record this module cannot read (a quixstreams layout it does not know)."""


@record
class HeldIncident:
    """One incident state as the changelog last recorded it."""

    org: str
    entity_id: str
    state: IncidentState
    expires_at: int | None  # quixstreams' TTL stamp, epoch ms (event time); None: never
    partition: int  # where in the changelog (for `show`)
    offset: int

    @property
    def incident_key(self) -> str:
        return f"{self.org}/{self.entity_id}"

    def expired(self, now: int, policy: IncidentPolicy) -> bool:
        """Gone for the worker: past the incident TTL it decides with, or past quixstreams'
        stamp (the sweep that deletes it waits for a later record of its partition)."""
        stamped = self.expires_at is not None and self.expires_at <= now
        return stamped or is_expired(self.state, now, policy)


def incident_key_of(key: bytes | None) -> str | None:
    """The incident key of a state record's key; None for any other key of the store."""
    if key is None or not key.endswith(STATE_SUFFIX):
        return None
    return key[: -len(STATE_SUFFIX)].decode("utf-8", "replace")


def unstamped(value: bytes, headers: Headers) -> tuple[int | None, bytes]:
    """(expiry ms or None for never, our bytes) of a state record's value."""
    if not any(name == TTL_STAMPED_HEADER and stamp for name, stamp in headers):
        return None, value
    if len(value) < _STAMP.size:
        raise ChangelogFormatError(f"a TTL-stamped value of {len(value)} bytes has no stamp")
    (expires,) = _STAMP.unpack_from(value)
    return (None if expires == NEVER else expires), value[_STAMP.size :]


class IncidentTable:
    """The changelog folded into the latest state per incident: ``feed`` its records in offset
    order per partition (partitions in any order: an incident key lives on one)."""

    def __init__(self) -> None:
        self._held: dict[str, HeldIncident] = {}
        self.records = 0

    def feed(
        self,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        partition: int,
        offset: int,
    ) -> None:
        self.records += 1
        family = next((v for n, v in headers if n == CF_HEADER), DEFAULT_CF.encode())
        if family not in (None, DEFAULT_CF.encode()):
            return
        incident_key = incident_key_of(key)
        if incident_key is None:
            return
        if value is None:
            self._held.pop(incident_key, None)
            return
        expires, ours = unstamped(value, headers)
        try:
            state = decode_state(ours)
        except (ValueError, TypeError) as exc:
            raise ChangelogFormatError(
                f"state of {incident_key} at partition {partition} offset {offset}: {exc}"
            ) from exc
        org, _, entity_id = incident_key.partition("/")
        self._held[incident_key] = HeldIncident(org, entity_id, state, expires, partition, offset)

    def get(self, org: str, entity_id: str) -> HeldIncident | None:
        return self._held.get(f"{org}/{entity_id}")

    def held(self) -> list[HeldIncident]:
        """Every state the changelog holds, expired ones included, by incident key."""
        return [self._held[k] for k in sorted(self._held)]


@record
class IncidentFilter:
    org: str | None = None
    status: str | None = None
    source: str | None = None
    team: str | None = None  # one of the teams of the incident's latest alert

    def matches(self, incident: HeldIncident) -> bool:
        return (
            (self.org is None or incident.org == self.org)
            and (self.status is None or incident.state.status == self.status)
            and (self.source is None or source_of(incident) == self.source)
            and (self.team is None or self.team in incident.state.teams)
        )


EVERY = IncidentFilter()


def source_of(incident: HeldIncident) -> str | None:
    """The source that opened the incident, when its state records it (None: a state
    written before it did)."""
    return incident.state.source


def current(
    incidents: Iterable[HeldIncident],
    now: int,
    policy: IncidentPolicy,
    wanted: IncidentFilter = EVERY,
) -> list[HeldIncident]:
    """The incidents the worker holds at ``now`` (epoch ms) that ``wanted`` matches."""
    return [i for i in incidents if not i.expired(now, policy) and wanted.matches(i)]
