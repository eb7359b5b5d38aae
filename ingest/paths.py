"""Service URL parsing: ``/integrations/<source path>/<integration key>[/<routing key>][/]``.

Works on the raw (still percent-encoded) path so an encoded ``%2F`` can never forge an extra
segment. Pure: the source table comes in as an argument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from schemas.registry import SourceInfo

MAX_ROUTING_KEY_BYTES = 256
# Integration keys are UUIDs (what ThousandEyes' URL field expects); anything else is unknown.
_KEY = re.compile(rb"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ServiceRoute:
    source: str
    integration_key: str
    # As received, percent-decoded; "" when the URL had no routing key segment.
    routing_key: str


@dataclass(frozen=True)
class PathRejected:
    status: int  # 404: not a service URL we serve; 400: a service URL with a bad routing key
    message: str


def build_prefix_table(sources: Mapping[str, SourceInfo]) -> dict[tuple[bytes, ...], str]:
    """Map each source path prefix (split into segments) to its source name."""
    table: dict[tuple[bytes, ...], str] = {}
    for info in sources.values():
        for path in info.paths:
            table[tuple(path.encode().split(b"/"))] = info.name
    return table


def match_service_path(
    raw_path: bytes, prefixes: Mapping[tuple[bytes, ...], str]
) -> ServiceRoute | PathRejected:
    segments = raw_path.split(b"/")
    if len(segments) < 3 or segments[0] != b"" or segments[1] != b"integrations":
        return PathRejected(404, "Not found")
    rest = segments[2:]
    if rest and rest[-1] == b"":  # one trailing slash is tolerated
        rest = rest[:-1]
    for length in (3, 2, 1):
        source = prefixes.get(tuple(rest[:length]))
        if source is None:
            continue
        tail = rest[length:]
        if len(tail) not in (1, 2) or not _KEY.match(tail[0]):
            return PathRejected(404, "Not found")
        routing = _decode_routing_key(tail[1] if len(tail) == 2 else b"")
        if isinstance(routing, PathRejected):
            return routing
        return ServiceRoute(source, tail[0].decode().lower(), routing)
    return PathRejected(404, "Not found")


def _decode_routing_key(segment: bytes) -> str | PathRejected:
    try:
        text = unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        return PathRejected(400, "Invalid routing key: not UTF-8")
    if len(text.encode()) > MAX_ROUTING_KEY_BYTES:
        return PathRejected(400, f"Invalid routing key: longer than {MAX_ROUTING_KEY_BYTES} bytes")
    if "/" in text or _CONTROL.search(text):
        return PathRejected(400, "Invalid routing key: contains '/' or control characters")
    return text
