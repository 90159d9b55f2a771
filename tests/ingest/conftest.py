"""Fixtures for ingest tests."""

from __future__ import annotations

import pytest
from data.badfiles import Corpus, write_corpus


@pytest.fixture
def corpus(tmp_path) -> Corpus:
    """The bad-file corpus (good days, a duplicate, one file per bad case) in a fresh directory."""
    return write_corpus(tmp_path / "corpus")
