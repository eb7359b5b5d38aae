from __future__ import annotations

import pytest

from kafkaio.settings import DAY_MS, SettingsError, TopicSettings, describe, load_settings


def test_defaults_match_the_brief() -> None:
    settings = load_settings({})
    assert settings.bootstrap_servers is None
    assert settings.topics == TopicSettings()
    assert (settings.topics.raw, settings.topics.normalized, settings.topics.dead_letter) == (
        "alerts.raw",
        "alerts.normalized",
        "alerts.dead-letter",
    )
    assert settings.topics.raw_retention_ms == 7 * DAY_MS


def test_environment_overrides() -> None:
    settings = load_settings(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "k:9092",
            "ALERTPIPE_TOPIC_RAW": "raw",
            "ALERTPIPE_TOPIC_PARTITIONS": "12",
            "ALERTPIPE_REPLICATION_FACTOR": "3",
            "ALERTPIPE_MIN_INSYNC_REPLICAS": "2",
            "ALERTPIPE_RAW_RETENTION_MS": "1000",
        }
    )
    assert settings.bootstrap_servers == "k:9092"
    assert settings.topics.raw == "raw"
    assert settings.topics.partitions == 12
    assert settings.topics.replication_factor == 3
    assert settings.topics.min_insync_replicas == 2
    assert settings.topics.raw_retention_ms == 1000
    assert describe(settings)["topics.raw"] == "raw"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALERTPIPE_TOPIC_PARTITIONS": "many"}, "not an integer"),
        ({"ALERTPIPE_TOPIC_PARTITIONS": "0"}, "at least 1"),
        ({"ALERTPIPE_TOPIC_RAW": "alerts.normalized"}, "names must differ"),
        ({"ALERTPIPE_TOPIC_RAW": "r" * 250}, "1-249"),
    ],
)
def test_bad_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_kafka_env_is_the_inverse_of_load_settings() -> None:
    from dataclasses import fields

    from kafkaio.settings import TOPIC_ENV, kafka_env

    topics = TopicSettings(
        raw="r", normalized="n", dead_letter="d", integrations="i", routes="o", maintenance="m"
    )
    loaded = load_settings(kafka_env("k:1", topics))
    assert loaded.bootstrap_servers == "k:1"
    assert loaded.topics == topics
    names = {f.name for f in fields(TopicSettings) if isinstance(getattr(topics, f.name), str)}
    assert set(TOPIC_ENV) == names  # every topic name has its variable
