"""Fixtures for the neural core: both implementations of the stacked cells."""

from __future__ import annotations

import pytest

from tsrnn.nn import fused


@pytest.fixture(params=["python", "compiled"])
def cell_path(request, monkeypatch):
    """Run a test through the Python stacked cells and through the compiled ones
    (:mod:`tsrnn.nn.fused`, built here once; skipped where no C++ compiler works)."""
    if request.param == "python":
        monkeypatch.setattr(fused, "available", lambda: False)
    else:
        try:
            fused.build()
        except RuntimeError as error:
            pytest.skip(f"the fused kernels cannot be built here: {str(error)[:200]}")
    return request.param
