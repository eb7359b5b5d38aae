"""Amazon SNS's subscription confirmation through a running ingress on the real broker, its
key minted and followed through the keys topic, against the loopback stand-in for SNS: the
confirmation is in alerts.raw byte for byte before SNS is asked to confirm, and a forged one
is neither recorded nor confirmed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from alertpipe.harness import fresh_topics
from schemas.raw import RawHeaders
from schemas.registry import load_sources
from tests.ingest.kafka_helpers import enable, read_all, running_app, wait_for_key
from tests.ingest.sns_loopback import LoopbackSns, loopback_sns

pytestmark = pytest.mark.kafka
TOPIC = "arn:aws:sns:us-east-1:123456789012:alertpipe-alarms"
SAMPLES = {p.name: p for p in load_sources()["amazon_sns"].samples}
SNS_HEADERS = {"content-type": "text/plain; charset=UTF-8"}


@pytest.fixture
def sns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSns]:
    with loopback_sns(tmp_path_factory.mktemp("sns")) as server:
        yield server


async def test_a_subscription_is_recorded_then_confirmed_and_its_alarms_arrive(
    kafka_bootstrap: str, sns: LoopbackSns
) -> None:
    topics = await fresh_topics(kafka_bootstrap)
    key, item = await enable(kafka_bootstrap, topics, "amazon_sns", topic_arns=(TOPIC,))
    confirmation = sns.signed_body(SAMPLES["subscription-confirmation.json"])
    alarm = sns.signed_body(SAMPLES["alarm.json"])
    forged = json.loads(confirmation) | {"Token": "0" * 32}  # signature no longer matches
    url = f"/integrations/amazon_sns/v1/{key}/db"
    async with running_app(kafka_bootstrap, topics, sns=sns.trust) as (app, client):
        await wait_for_key(app, key, "amazon_sns")
        refused = await client.post(url, content=json.dumps(forged), headers=SNS_HEADERS)
        assert refused.status_code == 403
        assert sns.confirmations() == []
        headers = SNS_HEADERS | {"x-amz-sns-message-type": "SubscriptionConfirmation"}
        confirmed = await client.post(url, content=confirmation, headers=headers)
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["confirmed"] == TOPIC
        assert len(sns.confirmations()) == 1
        sent = await client.post(url, content=alarm, headers=SNS_HEADERS)
        assert sent.status_code == 200, sent.text
    records = await read_all(kafka_bootstrap, topics.raw, expected=2)
    assert [r.value for r in records] == [confirmation, alarm]
    raw = RawHeaders.from_kafka(records[0].headers)
    assert (raw.source, raw.org, raw.key_id, raw.routing_key) == (
        "amazon_sns",
        "acme",
        item.key_id,
        "db",
    )
    assert raw.content_type == "text/plain; charset=UTF-8"
    assert sns.cert_requests() == 1  # cached across the three messages
