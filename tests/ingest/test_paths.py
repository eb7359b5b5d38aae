from __future__ import annotations

import pytest

from ingest.paths import PathRejected, ServiceRoute, build_prefix_table, match_service_path
from schemas.registry import load_sources

KEY = "0f8fad5b-d9cb-469f-a165-70867728950e"
PREFIXES = build_prefix_table(load_sources())


def match(path: str) -> ServiceRoute | PathRejected:
    return match_service_path(path.encode(), PREFIXES)


@pytest.mark.parametrize(
    ("path", "source", "routing_key"),
    [
        (f"/integrations/thousandeyes/v1/{KEY}/team-a", "thousandeyes", "team-a"),
        (f"/integrations/thousandeyes/v1/{KEY}/team-a/", "thousandeyes", "team-a"),
        (f"/integrations/thousandeyes/v1/{KEY}", "thousandeyes", ""),
        (f"/integrations/thousandeyes/v1/{KEY}/", "thousandeyes", ""),
        (f"/integrations/thousandeyes/v1/{KEY}//", "thousandeyes", ""),
        (f"/integrations/pingometer/v1/{KEY}/$routing_key", "pingometer", "$routing_key"),
        (f"/integrations/generic/20131114/alert/{KEY}/Ops_1", "generic", "Ops_1"),
        (f"/integrations/generic/v1/{KEY}/ops", "generic", "ops"),
        (f"/integrations/generic/20131114/alert/{KEY.upper()}/x", "generic", "x"),
        (f"/integrations/thousandeyes/v1/{KEY}/caf%C3%A9", "thousandeyes", "café"),
    ],
)
def test_service_urls_are_recognised(path: str, source: str, routing_key: str) -> None:
    assert match(path) == ServiceRoute(source, KEY, routing_key)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/integrations",
        "/integrations/",
        f"/integrations/nosuchsource/v1/{KEY}/x",
        f"/integrations/thousandeyes/v2/{KEY}/x",
        "/integrations/thousandeyes/v1/not-a-uuid/x",
        f"/integrations/thousandeyes/v1/{KEY}/a/b",
        f"/other/thousandeyes/v1/{KEY}/x",
    ],
)
def test_anything_else_is_not_found(path: str) -> None:
    assert match(path) == PathRejected(404, "Not found")


@pytest.mark.parametrize(
    "segment",
    ["a%2Fb", "..%2F..%2Fetc", "bell%07", "nl%0A", "%FF", "x" * 257],
)
def test_unusable_routing_keys_are_refused(segment: str) -> None:
    result = match(f"/integrations/thousandeyes/v1/{KEY}/{segment}")
    assert isinstance(result, PathRejected)
    assert result.status == 400
