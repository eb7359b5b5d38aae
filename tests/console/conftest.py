"""One real pipeline for the console's browser tests: fresh topics, an `alertpipe ingress`, an
`alertpipe worker` (its probes on a port, for the Health page) and an `alertpipe console`, and
one headless Debian chromium driven by Playwright. Module-scoped: the flows of a module run
in order against the same stack and the same browser page."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from alertpipe.harness import (
    CLI,
    Proc,
    fresh_topics,
    spawn,
    wait_http_ready,
    wait_worker_ready,
    worker_env,
)
from alertpipe.ports import free_port
from kafkaio.settings import TopicSettings

CHROMIUM = "/usr/bin/chromium"
TOKEN = "browser-test-token-0123456789"
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
# `make console-shots` sets it: the screenshots replace those of docs/console/ (committed, the
# README shows one); otherwise they go to a temporary directory, so a test run leaves the
# checkout as it was.
SHOTS_ENV = "ALERTPIPE_CONSOLE_SHOTS"
ORG = "acme"
# The routes of ORG, set with the CLI before the stack starts: (args of `alertpipe routes`).
ROUTES = (("set", ORG, "ops", "--team", "operations"), ("default", ORG, "--team", "noc"))


@dataclass
class Stack:
    topics: TopicSettings
    env: dict[str, str]  # the CLI's environment for this stack
    ingress: Proc
    worker: Proc
    console: Proc
    schema_dir: Path  # the console's ALERTPIPE_SCHEMA_DIR (empty until a test fixes a schema)

    @property
    def console_url(self) -> str:
        return self.console.base_url


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=2, prefix="console"))
    data = tmp_path_factory.mktemp("console-stack")
    schema_dir = data / "schema-fixes"
    schema_dir.mkdir()
    ingress_port, worker_port, console_port = free_port(), free_port(), free_port()
    env = worker_env(
        kafka_bootstrap, topics, data / "worker-state",
        ALERTPIPE_WORKER_METRICS_PORT=str(worker_port),
        ALERTPIPE_WORKER_COMMIT_INTERVAL_S="0.2",
    )  # fmt: skip
    console_env = {
        **env,
        "ALERTPIPE_CONSOLE_TOKEN": TOKEN,
        "ALERTPIPE_CONSOLE_PORT": str(console_port),
        "ALERTPIPE_CONSOLE_INGRESS_URL": f"http://127.0.0.1:{ingress_port}",
        "ALERTPIPE_CONSOLE_WORKER_URL": f"http://127.0.0.1:{worker_port}",
        "ALERTPIPE_SCHEMA_DIR": str(schema_dir),
    }
    ingress = spawn("ingress", ["ingress", "--port", str(ingress_port)], env, data / "ingress.log",
                    ingress_port)  # fmt: skip
    worker = spawn("worker", ["worker"], env, data / "worker.log")
    console = spawn("console", ["console"], console_env, data / "console.log", console_port)
    procs = (ingress, worker, console)
    try:
        for args in ROUTES:
            done = subprocess.run([*CLI, "routes", *args], env=env, capture_output=True,
                                  text=True, timeout=60)  # fmt: skip
            assert done.returncode == 0, done.stderr
        wait_http_ready(ingress, f"{ingress.base_url}/readyz", 90)
        wait_http_ready(console, f"{console.base_url}/healthz", 60)
        wait_worker_ready(worker, 120)
        yield Stack(topics, console_env, ingress, worker, console, schema_dir)
    finally:
        for proc in reversed(procs):
            proc.stop()
    for proc in procs:
        assert "Traceback" not in proc.text(), proc.tail()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium package "
            "(apt-get install chromium); Playwright's own browsers are not used",
            False,
        )
    playwright: Playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A laptop-sized page of a context allowed to use the clipboard (the copy button)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.console_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=15_000)  # a machine shared with other work answers late
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return DOCS_SHOTS if os.environ.get(SHOTS_ENV) == "docs" else tmp_path_factory.mktemp("shots")


def shot(page: Page, where: Path, name: str, full_page: bool = False) -> None:
    """A screenshot of the page as it is (a PNG of the viewport, or of the whole page)."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.read_bytes().startswith(b"\x89PNG"), path
