"""The worker's table of maintenance windows, as the follower applies the topic's records (the
follower itself is the routes' one, tested on the broker by tests/alertpipe)."""

from __future__ import annotations

from processors.maintenance import MaintenanceWindow, encode_window, ended
from processors.maintenancestore import WindowTable


def window(wid: str, org: str = "acme") -> MaintenanceWindow:
    return MaintenanceWindow(wid, org, 1_000, 9_000, "db upgrade")


def test_records_add_update_and_delete_windows_per_org() -> None:
    table = WindowTable()
    table.apply(b"mw-2", encode_window(window("mw-2")))
    table.apply(b"mw-1", encode_window(window("mw-1")))
    table.apply(b"mw-3", encode_window(window("mw-3", "other")))
    assert [w.id for w in table.by_org["acme"]] == ["mw-1", "mw-2"]  # by id: one order
    over = ended(window("mw-1"), 2_000)
    table.apply(b"mw-1", encode_window(over))
    assert table.by_org["acme"][0] == over  # the latest record of a window wins
    table.apply(b"mw-3", None)  # a tombstone forgets it
    assert "other" not in table.by_org
    assert set(table.by_id) == {"mw-1", "mw-2"}


def test_a_bad_record_keeps_what_was_there() -> None:
    table = WindowTable()
    table.apply(b"mw-1", encode_window(window("mw-1")))
    table.apply(b"mw-1", b"not json")
    table.apply(None, b"{}")
    assert table.by_org["acme"] == (window("mw-1"),)
