"""Shared fixtures: the ``../shared`` data folder, a local HTTP server, a temp workspace."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LocalServer

REPO = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path | None:
    env = os.environ.get("REVIEWGAP_SHARED")
    for cand in [Path(env)] if env else [REPO.parent / "shared", REPO / "shared"]:
        if (cand / "fixtures" / "raw").is_dir():
            return cand
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder (real recorded responses and labelled data).

    Absent in a user's clone: the test skips, saying why. Under CI=true absence is a failure.
    """
    found = _shared_dir()
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("../shared is missing under CI=true: real fixtures must be present")
        pytest.skip("../shared (real recorded responses, labelled data) is not beside this clone")
    return found


@pytest.fixture(scope="session")
def raw_fixtures(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "raw"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A fresh local server; the test must leave ``server.unmatched`` empty."""
    with LocalServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory):
    """A one-layer encoder built in the fixture (tests/support/tiny_models.py), fp32 torch,
    four rows a batch."""
    pytest.importorskip("transformers")
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.hub import ModelRef
    from tests.support.tiny_models import build_tiny_encoder

    folder = build_tiny_encoder(tmp_path_factory.mktemp("tiny") / "enc")
    return TransformerEncoder(ModelRef(Path(folder), "tiny"), threads=1, batch_size=4)
