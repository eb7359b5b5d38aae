"""A KRaft cluster of several local brokers (three for the fault tests), each a ``LocalBroker``
in its own folder under one state directory, every node both broker and controller.

``cluster.json`` keeps the cluster id and each node's ports, so a node stopped or killed on
purpose comes back on the same address and clients reconnect. Each node runs with a modest
heap; with three nodes, topics default to ``min.insync.replicas=2``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from alertpipe.localbroker.broker import LocalBroker, Membership
from alertpipe.localbroker.config import new_cluster_id
from alertpipe.localbroker.jars import CACHE_DIR, Echo, LocalKafkaError
from alertpipe.localbroker.process import BrokerStatus
from alertpipe.ports import free_port, port_is_free
from kafkaio.admin import KafkaUnreachable, fetch_cluster


def default_cluster_dir() -> Path:
    return CACHE_DIR / "cluster"


@dataclass(frozen=True)
class NodePorts:
    broker_port: int
    controller_port: int


@dataclass(frozen=True)
class ClusterPlan:
    """What ``cluster.json`` records: fixed once, until every node is stopped."""

    cluster_id: str
    nodes: dict[int, NodePorts]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{p.broker_port}" for _, p in sorted(self.nodes.items()))

    def membership(self, node_id: int) -> Membership:
        controllers = {n: p.controller_port for n, p in self.nodes.items()}
        return Membership(node_id, controllers, len(self.nodes), self.cluster_id)


@dataclass(frozen=True)
class ClusterStatus:
    bootstrap_servers: str | None
    nodes: dict[int, BrokerStatus]

    @property
    def running(self) -> int:
        return sum(1 for s in self.nodes.values() if s.running)

    def to_json(self) -> dict[str, object]:
        return {
            "running": self.running,
            "size": len(self.nodes),
            "bootstrap_servers": self.bootstrap_servers,
            "nodes": {str(n): s.to_json() for n, s in sorted(self.nodes.items())},
        }


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


class LocalCluster:
    """``size`` brokers under ``state_dir``: ``node-1/``, ``node-2/``, ... plus ``cluster.json``."""

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        size: int = 3,
        heap: str = "384m",
        cache_dir: Path = CACHE_DIR,
        echo: Echo = print,
    ) -> None:
        if size < 1:
            raise LocalKafkaError("a cluster needs at least one broker")
        self.state_dir = (state_dir or default_cluster_dir()).resolve()
        self.plan_file = self.state_dir / "cluster.json"
        self.echo = echo
        self.nodes = {
            n: LocalBroker(self.state_dir / f"node-{n}", heap=heap, cache_dir=cache_dir, echo=echo)
            for n in range(1, size + 1)
        }

    # -- plan -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def read_plan(self) -> ClusterPlan | None:
        try:
            raw = json.loads(self.plan_file.read_text())
            nodes = {int(n): NodePorts(**p) for n, p in raw["nodes"].items()}
            return ClusterPlan(str(raw["cluster_id"]), nodes)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _usable_plan(self) -> ClusterPlan:
        """The recorded plan when it fits (same size; ports free or held by our own nodes);
        otherwise, with no node running, a new cluster: new id, new ports, data wiped."""
        plan = self.read_plan()
        running = {n for n, b in self.nodes.items() if b.status().running}
        if plan is not None and set(plan.nodes) == set(self.nodes):
            ports_ok = all(
                n in running or (port_is_free(p.broker_port) and port_is_free(p.controller_port))
                for n, p in plan.nodes.items()
            )
            if ports_ok:
                return plan
        if running:
            raise LocalKafkaError(
                f"nodes {sorted(running)} of the cluster in {self.state_dir} run with another "
                "layout; stop the cluster first"
            )
        ports = _distinct_free_ports(2 * len(self.nodes))
        plan = ClusterPlan(
            new_cluster_id(),
            {
                n: NodePorts(ports[2 * i], ports[2 * i + 1])
                for i, n in enumerate(sorted(self.nodes))
            },
        )
        for broker in self.nodes.values():  # formatted for another cluster id: start afresh
            shutil.rmtree(broker.layout.data_dir, ignore_errors=True)
        raw = {
            "cluster_id": plan.cluster_id,
            "nodes": {n: asdict(p) for n, p in plan.nodes.items()},
        }
        self.plan_file.write_text(json.dumps(raw, indent=2) + "\n")
        return plan

    # -- start ------------------------------------------------------------------------------
    def start(self, *, timeout: float = 180.0) -> ClusterStatus:
        """Start every node that is not running; return once all answer and are registered."""
        started = time.monotonic()
        with self._locked():
            plan = self._usable_plan()
            for node_id, broker in self.nodes.items():
                broker.launch(plan.nodes[node_id].broker_port, plan.membership(node_id))
            self._wait_registered(plan, set(self.nodes), timeout)
        self.echo(
            f"Kafka cluster of {len(self.nodes)} ready at {plan.bootstrap_servers} "
            f"({time.monotonic() - started:.1f}s; state: {self.state_dir})"
        )
        return self.status()

    def start_node(self, node_id: int, *, timeout: float = 120.0) -> BrokerStatus:
        """(Re)start one stopped node on its recorded ports; return once it is registered."""
        with self._locked():
            plan = self.read_plan()
            if plan is None:
                raise LocalKafkaError(f"no cluster recorded in {self.state_dir}; start it first")
            broker = self._node(node_id)
            broker.launch(plan.nodes[node_id].broker_port, plan.membership(node_id))
            running = {n for n, b in self.nodes.items() if b.status().running}
            self._wait_registered(plan, running, timeout)
        return broker.status()

    def _wait_registered(self, plan: ClusterPlan, node_ids: set[int], timeout: float) -> None:
        """Each of ``node_ids`` answers, and the cluster lists all of them as brokers."""
        deadline = time.monotonic() + timeout
        for node_id in sorted(node_ids):
            self.nodes[node_id].wait_ready(max(1.0, deadline - time.monotonic()))
        ports = {plan.nodes[n].broker_port for n in node_ids}
        bootstrap = ",".join(f"127.0.0.1:{p}" for p in sorted(ports))
        while True:
            try:
                description = asyncio.run(fetch_cluster(bootstrap, 5.0))
                brokers = description.get("brokers")
                listed = {int(b["port"]) for b in brokers} if isinstance(brokers, list) else set()
                if ports <= listed:
                    return
            except KafkaUnreachable:
                pass
            if time.monotonic() > deadline:
                raise LocalKafkaError(
                    f"nodes {sorted(node_ids)} did not all register within {timeout:.0f}s"
                )
            time.sleep(0.5)

    # -- stop -------------------------------------------------------------------------------
    def stop_node(
        self, node_id: int, *, first: signal.Signals = signal.SIGTERM, timeout: float = 30.0
    ) -> bool:
        """Stop one node; ``first=SIGKILL`` crashes it. False if it was not running."""
        return self._node(node_id).stop(timeout=timeout, first=first)

    def stop(self, *, timeout: float = 30.0) -> int:
        """Stop every node (SIGTERM, then SIGKILL); returns how many were running."""
        with self._locked():
            return sum(b.stop(timeout=timeout) for b in self.nodes.values())

    # -- queries ----------------------------------------------------------------------------
    def _node(self, node_id: int) -> LocalBroker:
        if node_id not in self.nodes:
            raise LocalKafkaError(f"no node {node_id}: nodes are 1-{len(self.nodes)}")
        return self.nodes[node_id]

    def status(self) -> ClusterStatus:
        plan = self.read_plan()
        return ClusterStatus(
            plan.bootstrap_servers if plan else None,
            {n: b.status() for n, b in self.nodes.items()},
        )

    def node_of_port(self, port: int) -> int | None:
        """The node whose client port is ``port`` (partition leaders are named by address)."""
        plan = self.read_plan()
        if plan is None:
            return None
        return next((n for n, p in plan.nodes.items() if p.broker_port == port), None)
