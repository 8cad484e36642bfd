"""The image installs the project as a wheel (``pip install .``), not from the source tree:
everything a service reads from disk at run time must be inside that wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(REPO),
        ],
        check=True,
        cwd=build,
        timeout=300,
    )
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_every_migration_history_is_in_the_wheel(wheel_names: set[str]) -> None:
    for env in REPO.glob("services/*/migrations/env.py"):
        service_dir = env.parent
        for source in [env, service_dir / "script.py.mako", *service_dir.glob("versions/*.py")]:
            assert source.relative_to(REPO).as_posix() in wheel_names


def test_templates_and_pages_are_in_the_wheel(wheel_names: set[str]) -> None:
    for pattern in ("services/*/templates/**/*.j2", "services/*/web/*"):
        files = list(REPO.glob(pattern))
        assert files, pattern
        for source in files:
            assert source.relative_to(REPO).as_posix() in wheel_names


def test_the_image_ships_the_channel_policy_and_the_cjk_font() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY config ./config" in dockerfile
    # Contacts plans the channels and dispatch applies them: both read the unprefixed name.
    assert "ENV CHANNEL_POLICY=/app/config/channel-policy.yaml" in dockerfile
    assert "fonts-wqy-zenhei" in dockerfile
    assert "!config/" in (REPO / ".dockerignore").read_text(encoding="utf-8")
