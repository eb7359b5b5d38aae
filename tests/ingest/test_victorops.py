from __future__ import annotations

from ingest.victorops import GenericVerdict, check_generic_body


def test_entity_id_from_body_or_generated() -> None:
    assert check_generic_body(b'{"message_type":"ok","entity_id":"e1"}', "new") == GenericVerdict(
        "e1", None
    )
    assert check_generic_body(b'{"message_type":"ok","entity_id":"  "}', "new").entity_id == "new"
    assert check_generic_body(b'{"message_type":"ok","entity_id":7}', "new").entity_id == "new"


def test_failures_use_victorops_messages() -> None:
    assert check_generic_body(b'{"entity_id":"e"}', "n") == GenericVerdict(
        "e", "Missing fields: message_type"
    )
    assert check_generic_body(b'{"message_type":""}', "n").failure == "Missing fields: message_type"
    assert check_generic_body(b"not json", "n").failure == "Invalid JSON body"
    assert check_generic_body(b"[1]", "n").failure == "Body must be a JSON object"
