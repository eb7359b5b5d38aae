"""The pure parts of Amazon SNS in the ingress: the canonical string SNS signs (AWS's own
example), reading a message, the topic allow-list, and which URLs may ever be fetched."""

from __future__ import annotations

import json

import pytest

from ingest.snsmessage import SnsMessage, read_message, string_to_sign, topic_allowed
from ingest.snstrust import SnsTrust, cert_url_target, subscribe_url_target
from schemas.registry import load_sources

PROD = SnsTrust()
TOPIC = "arn:aws:sns:us-east-1:123456789012:alertpipe-alarms"
TOKEN = "2336412f37fb"
CERT = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5ca.pem"


def sample(name: str) -> bytes:
    [path] = [p for p in load_sources()["amazon_sns"].samples if p.name == name]
    return path.read_bytes()


def test_the_string_to_sign_of_a_notification_is_awss_example() -> None:
    # AWS's example (sns-verify-signature-of-message): byte order of names, Subject included
    fields = {
        "Type": "Notification",
        "MessageId": "4d4dc071-ddbf-465d-bba8-08f81c89da64",
        "TopicArn": "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
        "Subject": "My subject",
        "Message": "My Test Message",
        "Timestamp": "2019-01-31T04:37:04.321Z",
        "SignatureVersion": "1",
        "UnsubscribeURL": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe",
    }
    assert string_to_sign(fields) == (
        b"Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\n"
        b"Subject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\n"
        b"TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n"
        b"Type\nNotification\n"
    )
    del fields["Subject"]  # published without one: the name is left out too
    assert b"Subject" not in string_to_sign(fields)


def test_the_string_to_sign_of_a_confirmation_has_subscribe_url_and_token() -> None:
    for name in ("subscription-confirmation.json", "unsubscribe-confirmation.json"):
        fields = json.loads(sample(name))
        expected = "".join(
            f"{key}\n{fields[key]}\n"
            for key in ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn")
        )
        assert string_to_sign(fields).decode() == expected + f"Type\n{fields['Type']}\n"
    # the Message's newline is the character itself, as AWS requires
    signed = string_to_sign(json.loads(sample("subscription-confirmation.json"))).decode()
    assert "subscribe to the topic " + TOPIC + ".\nTo confirm" in signed


def test_a_sample_reads_as_a_message() -> None:
    found = read_message(sample("alarm.json"), "Notification")
    assert isinstance(found, SnsMessage)
    assert (found.type, found.topic_arn, found.signature_version) == ("Notification", TOPIC, "1")
    confirmation = read_message(sample("subscription-confirmation.json"), None)
    assert isinstance(confirmation, SnsMessage)
    assert confirmation.token
    assert confirmation.subscribe_url


@pytest.mark.parametrize(
    ("body", "header", "says"),
    [
        (b"not json", None, "not JSON"),
        (b"[]", None, "not a JSON object"),
        # raw message delivery: the alarm alone
        (json.loads(sample("alarm.json"))["Message"].encode(), None, "raw message delivery"),
        (sample("alarm.json"), "SubscriptionConfirmation", "does not match"),
        (json.dumps({"Type": "Notification"}).encode(), None, "missing or not text"),
        (
            json.dumps(json.loads(sample("alarm.json")) | {"SignatureVersion": "3"}).encode(),
            None,
            "SignatureVersion",
        ),
        (
            json.dumps(json.loads(sample("alarm.json")) | {"TopicArn": "arn:aws:s3:::b"}).encode(),
            None,
            "TopicArn",
        ),
    ],
)
def test_what_is_not_a_signed_sns_message(body: bytes, header: str | None, says: str) -> None:
    found = read_message(body, header)
    assert isinstance(found, str)
    assert says in found


def test_the_topic_allow_list() -> None:
    assert topic_allowed(TOPIC, (TOPIC,))
    assert topic_allowed(TOPIC, ("arn:aws:sns:*:123456789012:*",))
    assert not topic_allowed(TOPIC, ())  # no topics: none
    assert not topic_allowed(TOPIC, ("arn:aws:sns:us-east-1:123456789012:alertpipe",))
    assert not topic_allowed(TOPIC, ("arn:aws:sns:*:210987654321:*",))


@pytest.mark.parametrize(
    "url",
    [
        CERT,
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem",
        "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-a.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-a.pem",
    ],
)
def test_the_sns_services_certificate_urls_pass(url: str) -> None:
    target = cert_url_target(url, PROD)
    assert not isinstance(target, str), target
    assert target.port == 443
    assert target.host.startswith("sns.")


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-a.pem",
        "https://evil.com@sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
        "https://user:pw@sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com\\@evil.com/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com:0/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com:99999/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com./SimpleNotificationService-a.pem",
        "https://SNS.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
        "https://s3.amazonaws.com/bucket/SimpleNotificationService-a.pem",  # anyone's bucket
        "https://bucket.s3.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.co/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com.cn.evil.com/SimpleNotificationService-a.pem",
        "https://snsXus-east-1.amazonaws.com/SimpleNotificationService-a.pem",
        "https://sns.x.amazonaws.com/SimpleNotificationService-a.pem",  # region too short
        "https://evil-amazonaws.com/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem?x=1",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem#x",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.txt",
        "https://sns.us-east-1.amazonaws.com/../etc/x.pem",
        "https://sns.us-east-1.amazonaws.com/a b.pem",
        "https://sns.us-east-1.amazonaws.com/a\n.pem",
        "https://[::1]/SimpleNotificationService-a.pem",
        "https://127.0.0.1/SimpleNotificationService-a.pem",
        "https://sns.us-east-1.amazonaws.com%2eevil.com/a.pem",
        "https://sns.us-east-1.am\u0430zonaws.com/a.pem",  # a Cyrillic a
        "//sns.us-east-1.amazonaws.com/a.pem",
        "",
        7,
        None,
    ],
)
def test_hostile_certificate_urls_are_never_fetched(url: object) -> None:
    assert isinstance(cert_url_target(url, PROD), str)


def subscribe(query: str, host: str = "sns.us-east-1.amazonaws.com") -> str:
    return f"https://{host}/?{query}"


GOOD_QUERY = f"Action=ConfirmSubscription&TopicArn={TOPIC}&Token={TOKEN}"


def test_the_subscribe_url_of_the_message_passes() -> None:
    target = subscribe_url_target(subscribe(GOOD_QUERY), TOPIC, TOKEN, PROD)
    assert not isinstance(target, str), target
    assert (target.host, target.port, target.path) == (
        "sns.us-east-1.amazonaws.com",
        443,
        f"/?{GOOD_QUERY}",
    )


@pytest.mark.parametrize(
    "url",
    [
        subscribe(GOOD_QUERY).replace("https:", "http:"),
        subscribe(GOOD_QUERY, "sns.us-east-1.amazonaws.com.evil.com"),
        subscribe(GOOD_QUERY, "evil.com@sns.us-east-1.amazonaws.com"),
        subscribe(GOOD_QUERY, "sns.us-east-1.amazonaws.com:444"),
        subscribe(GOOD_QUERY, "sns.eu-west-1.amazonaws.com"),  # not the topic's region
        subscribe(GOOD_QUERY.replace("ConfirmSubscription", "Unsubscribe")),
        subscribe(GOOD_QUERY + "&Action=Unsubscribe"),
        subscribe(GOOD_QUERY + "&Endpoint=https://evil.com"),
        subscribe(GOOD_QUERY.replace(TOPIC, TOPIC + "-other")),
        subscribe(GOOD_QUERY.replace(TOKEN, "other")),
        f"https://sns.us-east-1.amazonaws.com/redirect?{GOOD_QUERY}",
        subscribe(GOOD_QUERY) + "#frag",
        "https://evil.com/?" + GOOD_QUERY,
    ],
)
def test_any_other_subscribe_url_is_never_visited(url: str) -> None:
    assert isinstance(subscribe_url_target(url, TOPIC, TOKEN, PROD), str)


def test_a_test_trust_names_its_own_host_and_port_only() -> None:
    trust = SnsTrust(host_pattern=r"127\.0\.0\.1", port=8443, ca_file=None)
    assert not isinstance(cert_url_target("https://127.0.0.1:8443/x.pem", trust), str)
    assert isinstance(cert_url_target("https://127.0.0.1:8444/x.pem", trust), str)
    assert isinstance(cert_url_target("https://127.0.0.1/x.pem", trust), str)
    assert isinstance(cert_url_target(CERT, trust), str)
