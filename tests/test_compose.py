"""docker-compose.yml is accepted by `docker compose config` (no container engine needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _compose_available() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _compose_available(), reason="the docker compose plugin is not installed here")
def test_compose_file_is_valid() -> None:
    env = dict(os.environ, NEO4J_PASSWORD="not-a-real-secret")
    done = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    import json

    config = json.loads(done.stdout)
    assert config["services"]["neo4j"]["image"] == "neo4j:5.26-community"
    assert config["services"]["api"]["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert "healthcheck" in config["services"]["neo4j"]


@pytest.mark.skipif(not _compose_available(), reason="the docker compose plugin is not installed here")
def test_compose_refuses_missing_password() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NEO4J_PASSWORD"}
    done = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config"], capture_output=True, text=True, env=env
    )
    assert done.returncode != 0 and "NEO4J_PASSWORD" in done.stderr


def _config(**env: str) -> dict[str, Any]:
    import json

    base = {k: v for k, v in os.environ.items() if k not in ("API_BIND", "API_PORT")}
    done = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env={**base, "NEO4J_PASSWORD": "not-a-real-secret", **env},
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


@pytest.mark.skipif(not _compose_available(), reason="the docker compose plugin is not installed here")
def test_compose_publishes_on_loopback_unless_told_otherwise() -> None:
    config = _config()
    published = [(s, p.get("host_ip"), int(p["target"])) for s, v in config["services"].items() for p in v["ports"]]
    assert sorted(published) == [("api", "127.0.0.1", 8000), ("neo4j", "127.0.0.1", 7687)]  # no 7474: HTTP off
    assert config["services"]["neo4j"]["environment"]["NEO4J_server_http_enabled"] == "false"
    opened = _config(API_BIND="0.0.0.0")
    assert [p.get("host_ip") for p in opened["services"]["api"]["ports"]] == ["0.0.0.0"]
