"""docker/: the image refuses to start without VCNODE_BASE_URL, and compose.yaml requires one per
node (no Docker daemon is needed: the image's command is run with sh, compose's text is read)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def _cmd() -> list[str]:
    line = next(line for line in (DOCKER / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    return json.loads(line.removeprefix("CMD "))


@pytest.fixture
def fake_vcnode(tmp_path: Path) -> Path:
    """A ``vcnode`` on PATH that records how it was called."""
    stub = tmp_path / "bin" / "vcnode"
    stub.parent.mkdir()
    stub.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'called'}\n")
    stub.chmod(0o755)
    return tmp_path


def test_the_image_refuses_to_start_without_a_base_url(fake_vcnode: Path) -> None:
    if shutil.which("sh") is None:
        pytest.skip("needs sh")
    env = {"PATH": f"{fake_vcnode / 'bin'}:{os.environ['PATH']}", "VCNODE_HOST": "0.0.0.0"}
    refused = subprocess.run(_cmd(), env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "set VCNODE_BASE_URL" in refused.stderr
    assert not (fake_vcnode / "called").exists()
    started = subprocess.run(_cmd(), env={**env, "VCNODE_BASE_URL": "https://registry.example.edu"}, capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    assert (fake_vcnode / "called").read_text().strip() == "serve"


def test_compose_requires_each_node_s_base_url() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    values = re.findall(r"^\s+VCNODE_BASE_URL: (.+)$", text, re.MULTILINE)
    assert len(values) == 2 and all(re.fullmatch(r"\$\{\w+:\?.+\}", v) for v in values), values
