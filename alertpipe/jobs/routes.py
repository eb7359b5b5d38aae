"""``alertpipe routes test`` as a function (the console's Routes page runs it too): a body
through validation, mapping and an org's routing, as the worker would, writing nothing."""

from __future__ import annotations

from processors.pipeline import RawInput, StageOneResult, process_raw
from processors.routing import RoutingConfig
from processors.validate import SchemaSet
from schemas.raw import RawHeaders


def routes_test_headers(
    source: str, org: str, routing_key: str, content_type: str, protocol: str
) -> RawHeaders:
    return RawHeaders(
        source=source,
        org=org,
        key_id="test",
        routing_key=routing_key,
        content_type=content_type,
        received_at=0,
        request_id="routes-test",
        remote_addr="",
        user_agent="alertpipe routes test",
        # the VictorOps REST protocol's ingress answers an entity id for a body without one
        entity_id="(generated)" if protocol == "victorops_rest" else None,
    )


def route_test(
    schemas: SchemaSet,
    config: RoutingConfig,
    source: str,
    routing_key: str,
    body: bytes,
    content_type: str,
) -> StageOneResult:
    """Stage 1 of ``body`` as ``source`` sent it for ``config.org`` with ``routing_key``; the
    source must be one ``schemas`` serves (KeyError otherwise)."""
    served = schemas.sources[source]
    headers = routes_test_headers(source, config.org, routing_key, content_type, served.protocol)
    return process_raw(
        RawInput(body, headers.to_kafka(), "(test)", 0, 0), {config.org: config}, schemas
    )
