"""deploy/compose.yaml checked without a Docker engine: against the Compose Specification's
JSON schema (vendored by check-jsonschema), then what the schema cannot see: references
between services, files it mounts, settings and commands that exist, ports that agree with
the Prometheus scrape config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import DEPLOY, SETTING_NAMES, parse_command_line

COMPOSE = DEPLOY / "compose.yaml"
SPEC = yaml.safe_load(COMPOSE.read_text())
SERVICES: dict[str, Any] = SPEC["services"]
ALERTPIPE = [name for name, s in SERVICES.items() if s.get("image", "").startswith("alertpipe")]


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_compose_file_matches_the_compose_specification() -> None:
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    broken = {**SPEC, "services": {**SERVICES, "worker": {**SERVICES["worker"], "restart": 3}}}
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    assert check_jsonschema(tmp_path / "compose.yaml").returncode == 1


def test_the_whole_stack_is_there() -> None:
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert {"init", "ingress", "worker"} <= set(ALERTPIPE)
    assert {"prometheus", "grafana"} <= set(SERVICES)


def test_alertpipe_services_build_the_image_and_reach_kafka() -> None:
    for name in ALERTPIPE:
        service = SERVICES[name]
        context = (DEPLOY / service["build"]["context"]).resolve()
        assert (context / service["build"]["dockerfile"]).is_file()
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert set(service["environment"]) <= SETTING_NAMES, name


@pytest.mark.parametrize("name", ALERTPIPE)
def test_service_commands_are_alertpipe_commands(name: str) -> None:
    parse_command_line(SERVICES[name]["command"])


def test_init_creates_the_internal_topics_of_the_workers_group() -> None:
    """`topics create` names the worker's internal topics after ALERTPIPE_WORKER_GROUP: init
    and the workers must read the same one. No instance id: scaled workers would share it."""
    init, worker = SERVICES["init"]["environment"], SERVICES["worker"]["environment"]
    assert init["ALERTPIPE_WORKER_GROUP"] == worker["ALERTPIPE_WORKER_GROUP"]
    assert "ALERTPIPE_WORKER_INSTANCE_ID" not in worker


def test_start_order_waits_for_kafka_then_topics() -> None:
    for name, service in SERVICES.items():
        for needed in service.get("depends_on", []):
            assert needed in SERVICES, (name, needed)
    assert SERVICES["init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ("ingress", "worker"):
        condition = SERVICES[name]["depends_on"]["init"]["condition"]
        assert condition == "service_completed_successfully"


def test_mounted_files_exist() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), (name, source)
            else:
                assert source in SPEC["volumes"], (name, source)


def test_prometheus_scrapes_the_ports_the_services_listen_on() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        sd["names"][0]: sd["port"]
        for job in config["scrape_configs"]
        for sd in job["dns_sd_configs"]
    }
    ingress_port = SERVICES["ingress"]["command"][
        SERVICES["ingress"]["command"].index("--port") + 1
    ]
    assert targets["ingress"] == int(ingress_port)
    assert targets["worker"] == int(
        SERVICES["worker"]["environment"]["ALERTPIPE_WORKER_METRICS_PORT"]
    )
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_grafana_is_provisioned_with_the_dashboard() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "alertpipe.yaml").read_text())[
        "providers"
    ]
    mounts = dict(v.split(":")[:2] for v in SERVICES["grafana"]["volumes"])
    dashboards_dir = next(src for src, dst in mounts.items() if dst == provider["options"]["path"])
    assert (DEPLOY / dashboards_dir / "alertpipe.json").is_file()
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
