"""Amazon SNS through the in-process ingress, against a loopback stand-in for SNS (a test CA,
an HTTPS server on 127.0.0.1 serving the signing certificate and answering
ConfirmSubscription): signatures of both versions, what is refused and never written, the
certificate cache, and subscription confirmation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from processors.pipeline import RawInput, process_raw
from schemas.registry import load_sources
from tests.ingest.conftest import Ingress, make_app
from tests.ingest.sns_loopback import LoopbackSns, loopback_sns

SNS_HEADERS = {"content-type": "text/plain; charset=UTF-8"}
SAMPLES = load_sources()["amazon_sns"].samples
TOPICS = ("arn:aws:sns:*:123456789012:alertpipe-alarms",)


def sample(name: str) -> Path:
    [path] = [p for p in SAMPLES if p.name == name]
    return path


@pytest.fixture(scope="module")
def sns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSns]:
    with loopback_sns(tmp_path_factory.mktemp("sns")) as server:
        yield server


@pytest.fixture
async def ingress(sns: LoopbackSns) -> AsyncIterator[Ingress]:
    sns.requests.clear()
    sns.confirm_status = 200
    app, sink, keys = make_app(sns=sns.trust)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
        yield Ingress(app, sink, keys, client)


async def post(ingress: Ingress, key: str, body: bytes, **headers: str) -> httpx.Response:
    try:
        kind = json.loads(body).get("Type")
    except (ValueError, AttributeError):
        kind = None
    sent = SNS_HEADERS | ({"x-amz-sns-message-type": kind} if isinstance(kind, str) else {})
    return await ingress.client.post(
        ingress.url("amazon_sns", key), content=body, headers=sent | headers
    )


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
async def test_every_signed_sample_is_recorded_verbatim_and_maps(
    ingress: Ingress, sns: LoopbackSns, path: Path
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    body = sns.signed_body(path)
    response = await post(ingress, key, body)
    assert response.status_code == 200, response.text
    [(_, _, value, headers)] = ingress.sink.records
    assert value == body
    result = process_raw(RawInput(value, headers, "alerts.raw", 0, 1), {})
    assert result.dead_letter is None, result.dead_letter
    [alert] = result.alerts
    assert alert.source == "amazon_sns"


@pytest.mark.parametrize("version", ["1", "2"])
async def test_both_signature_versions_verify_and_a_tampered_body_does_not(
    ingress: Ingress, sns: LoopbackSns, version: str
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    signed = json.loads(sns.signed_body(sample("alarm.json"), SignatureVersion=version))
    assert (await post(ingress, key, json.dumps(signed).encode())).status_code == 200
    tampered = signed | {"Message": signed["Message"].replace('"ALARM"', '"OK"')}
    refused = await post(ingress, key, json.dumps(tampered).encode())
    assert refused.status_code == 403
    assert "Signature not verified" in refused.json()["message"]
    other = signed | {"SignatureVersion": "2" if version == "1" else "1"}  # the other hash
    assert (await post(ingress, key, json.dumps(other).encode())).status_code == 403
    assert len(ingress.sink.records) == 1  # only the genuine one


async def test_a_signature_by_another_key_is_refused_and_never_written(
    ingress: Ingress, sns: LoopbackSns
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = sns.sign(json.loads(sample("alarm.json").read_text()), key=forger)
    response = await post(ingress, key, json.dumps(message).encode())
    assert response.status_code == 403
    not_base64 = message | {"Signature": "***"}
    assert (await post(ingress, key, json.dumps(not_base64).encode())).status_code == 403
    assert ingress.sink.records == []


async def test_a_topic_the_key_was_not_enabled_for_is_refused_before_any_fetch(
    ingress: Ingress, sns: LoopbackSns
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=("arn:aws:sns:*:123456789012:other",))
    for name in ("alarm.json", "subscription-confirmation.json"):
        response = await post(ingress, key, sns.signed_body(sample(name)))
        assert response.status_code == 403
        assert response.json()["message"] == "Topic not enabled for this integration key"
    no_topics = ingress.keys.enable("amazon_sns")
    assert (
        await post(ingress, no_topics, sns.signed_body(sample("alarm.json")))
    ).status_code == 403
    assert sns.requests == []  # nothing fetched, nothing confirmed
    assert ingress.sink.records == []


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-a.pem",
        "http://127.0.0.1:{port}/SimpleNotificationService-loopback.pem",
        "https://127.0.0.1:1/SimpleNotificationService-loopback.pem",
        "https://x@127.0.0.1:{port}/SimpleNotificationService-loopback.pem",
        "https://127.0.0.1:{port}/SimpleNotificationService-loopback.pem?x=1",
    ],
)
async def test_a_certificate_url_that_is_not_snss_is_refused_and_never_fetched(
    ingress: Ingress, sns: LoopbackSns, cert_url: str
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    message = json.loads(sns.signed_body(sample("alarm.json")))
    message["SigningCertURL"] = cert_url.format(port=sns.port)
    response = await post(ingress, key, json.dumps(message).encode())
    assert response.status_code == 403
    assert "SigningCertURL refused" in response.json()["message"]
    assert sns.requests == []
    assert ingress.sink.records == []


async def test_a_certificate_that_cannot_be_fetched_is_503_and_not_cached(
    ingress: Ingress, sns: LoopbackSns
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    message = json.loads(sns.signed_body(sample("alarm.json")))
    missing = message | {"SigningCertURL": f"{sns.base}/SimpleNotificationService-gone.pem"}
    response = await post(ingress, key, json.dumps(missing).encode())
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert ingress.sink.records == []
    assert (await post(ingress, key, json.dumps(message).encode())).status_code == 200


async def test_a_burst_fetches_the_certificate_once(ingress: Ingress, sns: LoopbackSns) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    bodies = [sns.signed_body(sample("alarm.json"), MessageId=f"burst-{i}") for i in range(40)]
    answers = await asyncio.gather(*(post(ingress, key, b) for b in bodies))
    assert {a.status_code for a in answers} == {200}
    assert sns.cert_requests() == 1
    assert ingress.app.sns.certs.fetches == 1
    assert len(ingress.sink.records) == 40


async def test_a_subscription_is_confirmed_only_after_it_verified_and_was_recorded(
    ingress: Ingress, sns: LoopbackSns
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    body = sns.signed_body(sample("subscription-confirmation.json"))
    response = await post(ingress, key, body)
    assert response.status_code == 200, response.text
    assert response.json()["confirmed"] == json.loads(body)["TopicArn"]
    [confirmation] = sns.confirmations()
    message = json.loads(body)
    assert confirmation == message["SubscribeURL"].removeprefix(sns.base)
    [(_, _, value, _)] = ingress.sink.records
    assert value == body


async def test_a_confirmation_sns_does_not_accept_is_502_and_still_recorded(
    ingress: Ingress, sns: LoopbackSns
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    sns.confirm_status = 403
    response = await post(ingress, key, sns.signed_body(sample("subscription-confirmation.json")))
    assert response.status_code == 502
    assert len(sns.confirmations()) == 1
    assert len(ingress.sink.records) == 1


async def test_a_subscribe_url_that_is_not_snss_is_never_visited(
    ingress: Ingress, sns: LoopbackSns
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    message = json.loads(sample("subscription-confirmation.json").read_text())
    signed = sns.sign(message)
    for url in (
        f"https://evil.example/?Action=ConfirmSubscription&TopicArn={message['TopicArn']}",
        signed["SubscribeURL"].replace("ConfirmSubscription", "Subscribe"),
        signed["SubscribeURL"] + "&Endpoint=https://evil.example",
        signed["SubscribeURL"].replace("https://", "http://"),
    ):
        # signed as SNS would sign it: only the URL rule stops it
        forged = sns.sign(message)
        forged["SubscribeURL"] = url
        forged = resign(sns, forged)
        response = await post(ingress, key, json.dumps(forged).encode())
        assert response.status_code == 403, url
        assert "SubscribeURL refused" in response.json()["message"]
    assert sns.confirmations() == []
    assert ingress.sink.records == []


def resign(sns: LoopbackSns, message: dict[str, Any]) -> dict[str, Any]:
    """``message`` signed as it is (its SubscribeURL kept)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from ingest.snsmessage import string_to_sign

    digest = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    signed = sns.signing_key.sign(string_to_sign(message), padding.PKCS1v15(), digest)
    return message | {"Signature": base64.b64encode(signed).decode()}


async def test_an_unsubscribe_confirmation_is_recorded_and_never_resubscribed(
    ingress: Ingress, sns: LoopbackSns
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    response = await post(ingress, key, sns.signed_body(sample("unsubscribe-confirmation.json")))
    assert response.status_code == 200
    assert sns.confirmations() == []  # its SubscribeURL would subscribe again
    assert len(ingress.sink.records) == 1


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{not json", {}),
        (b"just text", {}),
        # raw message delivery: the alarm without SNS's envelope and signature
        (json.loads(sample("alarm.json").read_text())["Message"].encode(), {}),
        (None, {"x-amz-sns-message-type": "SubscriptionConfirmation"}),
    ],
)
async def test_what_is_not_a_signed_sns_message_is_400_and_never_written(
    ingress: Ingress, sns: LoopbackSns, body: bytes | None, headers: dict[str, str]
) -> None:
    key = ingress.keys.enable("amazon_sns", topic_arns=TOPICS)
    sent = body if body is not None else sns.signed_body(sample("alarm.json"))
    response = await post(ingress, key, sent, **headers)
    assert response.status_code == 400
    assert response.json()["message"].startswith("Not a signed Amazon SNS message")
    assert sns.requests == []
    assert ingress.sink.records == []


async def test_an_expired_signing_certificate_is_refused(sns: LoopbackSns) -> None:
    app, sink, keys = make_app(sns=sns.trust)
    app.sns.clock = lambda: 4_102_444_800.0  # 2100: long after the test certificate
    key = keys.enable("amazon_sns", topic_arns=TOPICS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
        response = await client.post(
            f"/integrations/amazon_sns/v1/{key}/ops",
            content=sns.signed_body(sample("alarm.json")),
            headers=SNS_HEADERS,
        )
    assert response.status_code == 403
    assert "not valid now" in response.json()["message"]
    assert sink.records == []
