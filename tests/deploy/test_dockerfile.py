"""deploy/Dockerfile checked without a Docker engine: its stages and run-time user read from
the file, and its build stage replayed here (the same files copied, the same wheel built and
installed apart from this checkout) to prove the installed package has what it loads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

import pytest
from dockerfile_parse import DockerfileParser

from tests.deploy.manifests import DEPLOY, SETTING_NAMES, parse_command_line

ROOT = DEPLOY.parent
PARSED = DockerfileParser(str(DEPLOY / "Dockerfile"))
BUILD_TOOLS = ("apt-get", "apk ", "gcc", "build-essential", "pip install", "pip wheel", "make ")


class Instruction(TypedDict):
    """What the tests read of one item of ``DockerfileParser.structure``."""

    instruction: str
    value: str


def stages() -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for instruction in PARSED.structure:
        if instruction["instruction"] == "FROM":
            found.append([])
        if found and instruction["instruction"] != "COMMENT":
            found[-1].append(instruction)
    return found


def values(stage: list[Instruction], instruction: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == instruction]


def test_two_stages_on_a_slim_python_matching_the_project() -> None:
    build, _ = stages()
    assert values(build, "FROM")[0].endswith(" AS build")
    assert all("slim" in image for image in PARSED.parent_images)
    assert all(image.startswith("python:3.11") for image in PARSED.parent_images)


def test_run_stage_has_no_build_tools_and_runs_as_a_non_root_user() -> None:
    _, run = stages()
    for command in values(run, "RUN"):
        assert not any(tool in command for tool in BUILD_TOOLS), command
    assert values(run, "COPY") == ["--from=build /opt/alertpipe /opt/alertpipe"]
    [user] = values(run, "USER")
    uid = user.split(":")[0]
    assert uid.isdigit()  # numeric, so Kubernetes' runAsNonRoot can verify it
    assert int(uid) != 0


def test_entrypoint_and_default_command_are_alertpipe() -> None:
    _, run = stages()
    assert values(run, "ENTRYPOINT") == ['["alertpipe"]']
    [cmd] = values(run, "CMD")
    assert parse_command_line(json.loads(cmd)) == ["ingress"]
    ports = values(run, "EXPOSE")[0].split()
    assert {"8080", "9464"} <= set(ports)


def test_image_environment_uses_real_settings() -> None:
    settings = {k for k in PARSED.envs if k.startswith(("ALERTPIPE_", "KAFKA_"))}
    assert settings <= SETTING_NAMES
    assert PARSED.envs["ALERTPIPE_WORKER_METRICS_HOST"] == "0.0.0.0"


def build_copies() -> list[tuple[list[str], str]]:
    build, _ = stages()
    copies = []
    for value in values(build, "COPY"):
        *sources, dest = value.split()
        copies.append((sources, dest))
    return copies


def test_build_context_lets_every_copied_path_through() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignore = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*"  # deny by default, then let through what the build copies
    for sources, _ in build_copies():
        for source in sources:
            assert f"!{source}" in ignore or f"!{source}/" in ignore, source


def test_the_image_ships_the_setup_guides_where_the_console_reads_them() -> None:
    guides = PARSED.envs["ALERTPIPE_CONSOLE_GUIDES_DIR"]
    assert (["docs/sources"], guides) in build_copies()
    assert guides.startswith("/opt/alertpipe/")  # inside what the run stage copies
    assert sorted((ROOT / "docs/sources").glob("*.md"))  # and there are guides to copy


@pytest.mark.timeout(600)
def test_the_build_stage_yields_a_package_that_runs_apart_from_the_checkout(
    tmp_path: Path,
) -> None:
    context = tmp_path / "src"  # the build stage's WORKDIR
    for sources, dest in build_copies():
        if dest.startswith("/"):  # into the image, not the wheel (the guides)
            continue
        for source in sources:
            origin = ROOT / source
            # COPY a b ./ puts each into the directory; COPY dir ./dir copies the directory.
            target = context / dest / origin.name if dest.endswith("/") else context / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(origin, target)
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(context)],
                   check=True, timeout=300, capture_output=True)  # fmt: skip
    [wheel] = wheels.glob("alertpipe-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, timeout=120, capture_output=True)  # fmt: skip
    probe = (
        "import schemas.registry as r, importlib.resources as res, sys; "
        f"assert r.__file__.startswith({str(site)!r}), r.__file__; "
        "assert {'generic', 'pingometer', 'thousandeyes'} <= set(r.load_sources()); "
        "assert res.files('ingest').joinpath('openapi.base.json').read_bytes(); "
        "from alertpipe.cli import cli; cli(['--help'])"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ingress" in result.stdout
    assert "worker" in result.stdout
