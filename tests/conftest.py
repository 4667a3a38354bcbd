"""Shared fixtures: small seeded synthetic series on a daily DatetimeIndex."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    """Builds of the compiled cells (``tsrnn.nn.fused``) go to a folder of this session,
    never to the user's cache; worker processes inherit it."""
    previous = os.environ.get("TSRNN_CACHE_DIR")
    os.environ["TSRNN_CACHE_DIR"] = str(tmp_path_factory.mktemp("kernels"))
    yield
    if previous is None:
        os.environ.pop("TSRNN_CACHE_DIR", None)
    else:
        os.environ["TSRNN_CACHE_DIR"] = previous


def make_series(values, start: str = "2024-01-01", freq: str = "D", name: str = "y") -> pd.Series:
    """A float series on a regular index (helper for tests)."""
    index = pd.date_range(start, periods=len(values), freq=freq, name="date")
    return pd.Series(np.asarray(values, dtype=float), index=index, name=name)


@pytest.fixture
def seasonal_series() -> pd.Series:
    """120 days of a weekly sine with a slow trend and a little noise."""
    rng = np.random.default_rng(0)
    t = np.arange(120)
    values = 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, t.size)
    return make_series(values, name="temp")


@pytest.fixture
def random_walk() -> pd.Series:
    """200 business days of a Gaussian random walk."""
    rng = np.random.default_rng(1)
    return make_series(100 + np.cumsum(rng.normal(0, 1, 200)), freq="B", name="close")
