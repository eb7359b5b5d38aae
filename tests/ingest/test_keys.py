from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.keys import (
    ORG_PATTERN,
    Integration,
    KeyTable,
    decode_integration,
    encode_integration,
    hash_key,
    new_key,
    new_key_id,
)


def make(source: str = "generic", key: str | None = None) -> tuple[str, Integration]:
    key = key or new_key()
    return key, Integration(new_key_id(), "acme", source, hash_key(key), 1_700_000_000_000)


def test_lookup_needs_the_right_key_and_the_right_source() -> None:
    table = KeyTable()
    key, item = make("generic")
    table.apply(item)
    assert table.lookup(key, "generic") == item
    assert table.lookup(key.upper(), "generic") == item  # UUIDs are case-insensitive
    assert table.lookup(key, "thousandeyes") is None
    assert table.lookup(new_key(), "generic") is None


def test_revocation_wins_and_is_kept_for_listing() -> None:
    table = KeyTable()
    key, item = make()
    table.apply(item)
    revoked = replace(item, revoked_at=item.created_at + 1)
    table.apply(revoked)
    assert table.lookup(key, "generic") is None
    assert table.all() == [revoked]


def test_records_round_trip_and_never_hold_the_key() -> None:
    key, item = make()
    encoded = encode_integration(item)
    assert key.encode() not in encoded
    assert decode_integration(encoded) == item
    with pytest.raises(ValueError, match="not an integration"):
        decode_integration(b'{"key_id": 1}')
    with pytest.raises(ValueError, match="not an integration"):
        decode_integration(b"\xff")


def test_org_names() -> None:
    assert ORG_PATTERN.match("acme-eu_1")
    for bad in ("", "Acme", "-acme", "a" * 65, "ac me", "acme/x"):
        assert not ORG_PATTERN.match(bad)
