"""Amazon SNS carrying CloudWatch alarms, a declarative source whose Message is JSON text
(embedded_json): every sample through parse -> validate -> map -> route, field by field, an
alarm's ALARM and OK on one incident through stage 2, and what is not an alarm."""

from __future__ import annotations

import json
from typing import Any

import pytest

from processors.pipeline import process_raw
from schemas.registry import load_sources
from tests.processors.helpers import SourceUnderTest, decide_in_order, raw_input

SOURCE = "amazon_sns"
MAPPED = SourceUnderTest(SOURCE)
alerts_of, sample = MAPPED.alerts_of, MAPPED.sample
ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high-web-1"
SNS_TYPE = "text/plain; charset=UTF-8"  # what SNS sends


def test_every_sample_maps_to_one_valid_alert_with_the_content_type_sns_sends() -> None:
    samples = load_sources()[SOURCE].samples
    assert {p.name for p in samples} == {
        "alarm.json",
        "ok.json",
        "insufficient-data.json",
        "plain-message.json",
        "subscription-confirmation.json",
        "unsubscribe-confirmation.json",
    }
    for path in samples:
        assert len(alerts_of(path.read_bytes(), content_type=SNS_TYPE)) == 1, path.name


def test_an_alarm_is_critical_on_the_alarm_arn() -> None:
    [alert] = alerts_of(sample("alarm.json"))
    assert alert["message_type"] == "CRITICAL"
    assert alert["entity_id"] == f"amazon_sns:{ALARM_ARN}"
    assert alert["incident_key"] == f"acme/amazon_sns:{ALARM_ARN}"
    assert alert["entity_display_name"] == "cpu-high-web-1"
    assert alert["state_message"].startswith("Threshold Crossed: 1 out of the last 1 datapoints")
    assert alert["monitoring_tool"] == "Amazon CloudWatch"
    assert alert["event_time"] == 1_710_238_836_210  # StateChangeTime, +0000
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "CloudWatch alarm",
            "value": "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
            "#alarmsV2:alarm/cpu-high-web-1",
        }
    ]
    details = alert["details"]
    assert details["sns_topic_arn"] == "arn:aws:sns:us-east-1:123456789012:alertpipe-alarms"
    assert details["sns_message_id"] == "b1b0a35e-4c2b-5b8e-9e6d-4f0c1f3b8a21"
    assert details["sns_subject"] == 'ALARM: "cpu-high-web-1" in US East (N. Virginia)'
    assert (details["old_state"], details["new_state"]) == ("OK", "ALARM")
    assert details["region"] == "US East (N. Virginia)"
    assert details["aws_account_id"] == "123456789012"
    assert details["metric_name"] == "CPUUtilization"
    assert details["namespace"] == "AWS/EC2"
    assert details["dimensions"] == [{"value": "i-0a1b2c3d4e5f67890", "name": "InstanceId"}]
    assert (details["comparison_operator"], details["threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        80.0,
    )
    assert details["trigger"]["Period"] == 300
    assert not {"Signature", "SigningCertURL", "Token", "SubscribeURL"} & set(details)


def test_ok_resolves_the_same_incident_and_insufficient_data_is_a_warning() -> None:
    [ok] = alerts_of(sample("ok.json"))
    assert (ok["message_type"], ok["entity_id"]) == ("RECOVERY", f"amazon_sns:{ALARM_ARN}")
    [gap] = alerts_of(sample("insufficient-data.json"))
    assert gap["message_type"] == "WARNING"
    assert gap["entity_display_name"] == "api latency p99 / eu"
    assert "description" not in gap["details"]  # AlarmDescription null: left out
    # the name is percent-encoded in the console link (spaces, "/")
    assert gap["annotations"][0]["value"] == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#alarmsV2:alarm/api%20latency%20p99%20%2F%20eu"
    )
    decided = decide_in_order(
        [
            process_raw(raw_input(SOURCE, sample(name), offset=i), {})
            for i, name in enumerate(["alarm.json", "alarm.json", "ok.json"])
        ],
        1_710_240_400_000,
    )
    assert [(emitted, reason) for _, emitted, reason in decided] == [
        (True, "open"),
        (False, "redelivery"),  # SNS retried: same MessageId
        (True, "resolve"),
    ]


def with_message(**changes: Any) -> bytes:
    body = json.loads(sample("alarm.json"))
    message = json.loads(body["Message"]) | changes
    body["Message"] = json.dumps(message)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("arn", "console"),
    [
        (
            "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:a",
            "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1",
        ),
        (
            "arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:a",
            "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1",
        ),
    ],
)
def test_the_console_link_follows_the_partition(arn: str, console: str) -> None:
    [alert] = alerts_of(with_message(AlarmArn=arn, AlarmName="a"))
    assert alert["annotations"][0]["value"] == console + "#alarmsV2:alarm/a"


def test_without_an_alarm_arn_the_entity_is_the_account_and_name_and_there_is_no_link() -> None:
    body = json.loads(sample("alarm.json"))
    message = json.loads(body["Message"])
    del message["AlarmArn"]
    body["Message"] = json.dumps(message)
    [alert] = alerts_of(json.dumps(body).encode())
    assert alert["entity_id"] == "amazon_sns:aws:123456789012:cpu-high-web-1"
    assert alert["annotations"] == []


@pytest.mark.parametrize(
    ("name", "message_start"),
    [
        ("plain-message.json", "Hello from the Amazon SNS console"),
        ("subscription-confirmation.json", "Amazon SNS asked to confirm the subscription"),
        ("unsubscribe-confirmation.json", "This endpoint was unsubscribed from arn:aws:sns:"),
    ],
)
def test_what_is_not_an_alarm_is_info_and_never_an_incident(name: str, message_start: str) -> None:
    [alert] = alerts_of(sample(name))
    assert alert["message_type"] == "INFO"
    assert alert["monitoring_tool"] == "Amazon SNS"
    assert alert["entity_id"].startswith("amazon_sns:message:")
    assert alert["state_message"].startswith(message_start)
    assert "Token" not in json.dumps(alert["details"])
    [(_, _, reason)] = decide_in_order([process_raw(raw_input(SOURCE, sample(name)), {})], 1)
    assert reason == "info"


def test_a_message_that_is_some_other_json_object_is_info() -> None:
    body = json.loads(sample("plain-message.json"))
    body["Message"] = json.dumps({"Records": [{"eventSource": "aws:s3"}]})
    [alert] = alerts_of(json.dumps(body).encode())
    assert alert["message_type"] == "INFO"
    assert json.loads(alert["state_message"]) == {"Records": [{"eventSource": "aws:s3"}]}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (with_message(NewStateValue="BROKEN"), "$.Message"),
        (with_message(AlarmName=7), "$.Message"),
        (b'{"Type": "Notification"}', "$"),
        (json.dumps(json.loads(sample("alarm.json")) | {"Type": "Other"}).encode(), "$.Type"),
        (
            json.dumps(
                {
                    k: v
                    for k, v in json.loads(sample("subscription-confirmation.json")).items()
                    if k != "Token"
                }
            ).encode(),
            "$",
        ),
        # raw message delivery: the alarm alone, no SNS envelope
        (json.loads(sample("alarm.json"))["Message"].encode(), "$"),
    ],
)
def test_bodies_that_are_not_sns_messages_of_alarms_are_schema_dead_letters(
    body: bytes, path: str
) -> None:
    letter = process_raw(raw_input(SOURCE, body), {}).dead_letter
    assert letter is not None
    assert (letter.code, letter.path) == ("schema", path), letter


def test_insufficient_data_of_an_alarm_in_alarm_neither_closes_nor_escalates_it() -> None:
    gap = json.loads(sample("alarm.json"))
    message = json.loads(gap["Message"]) | {"NewStateValue": "INSUFFICIENT_DATA"}
    gap |= {"Message": json.dumps(message), "MessageId": "another"}
    bodies = [sample("alarm.json"), json.dumps(gap).encode(), sample("ok.json")]
    decided = decide_in_order(
        [process_raw(raw_input(SOURCE, b, offset=i), {}) for i, b in enumerate(bodies)],
        1_710_240_400_000,
    )
    assert [(emitted, reason) for _, emitted, reason in decided] == [
        (True, "open"),
        (False, "duplicate"),  # a WARNING while CRITICAL: counted, the incident stays open
        (True, "resolve"),
    ]
