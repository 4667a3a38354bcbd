"""Rolling-origin splitters that cut folds from the end of a series backwards.

Both splitters yield ``(train_index, test_index)`` pairs of integer positions,
like scikit-learn's ``TimeSeriesSplit``, earliest fold first. The last fold's test
window always ends at the last observation; earlier folds are ``step``
observations apart. The *cutoff* of a fold is the position of its last training
observation; ``gap`` observations are skipped between the cutoff and the test
window.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["ExpandingWindowSplitter", "SlidingWindowSplitter"]


def _check_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def _n_obs(y: Any) -> int:
    """Number of observations in ``y``: an int length, an array, a Series or DataFrame."""
    if isinstance(y, (int, np.integer)) and not isinstance(y, bool):
        return _check_int("y", y, 0)
    try:
        return len(y)
    except TypeError:
        raise TypeError(
            f"y must be a length (int), an array, a pd.Series or a pd.DataFrame; "
            f"got {type(y).__name__}"
        ) from None


class _BaseSplitter:
    """Shared fold geometry; subclasses define ``_min_train`` and ``_train_start``.

    ``__init__`` of a subclass only stores its arguments (scikit-learn style), so
    validation happens when the folds are computed.
    """

    horizon: int
    n_folds: int
    step: int | None
    gap: int

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters by name, as given.

        Parameters
        ----------
        deep : bool, default=True
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        dict
            Parameter names mapped to their stored values.
        """
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> _BaseSplitter:
        """Set constructor parameters by name and return ``self``.

        Raises
        ------
        ValueError
            If a name is not a constructor parameter.
        """
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def get_n_splits(self, y: Any = None, X: Any = None, groups: Any = None) -> int:
        """Number of folds (``n_folds``); ``y``, ``X`` and ``groups`` are ignored.

        Parameters
        ----------
        y, X, groups : ignored
            Present for scikit-learn compatibility.

        Returns
        -------
        int
            ``n_folds``.
        """
        return _check_int("n_folds", self.n_folds, 1)

    def split(
        self, y: Any, X: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_index, test_index)`` integer position arrays, earliest first.

        Parameters
        ----------
        y : int, array-like, pd.Series or pd.DataFrame
            The series, or just its length; only its length is used.
        X, groups : ignored
            Present so the splitter works as ``cv=`` in scikit-learn, which calls
            ``split(X, y, groups)`` (its first argument then supplies the length).

        Yields
        ------
        train_index, test_index : np.ndarray of int
            Positions of the training and test observations of one fold.

        Raises
        ------
        ValueError
            If a parameter is out of range or the series is too short for the folds.
        TypeError
            If a parameter is not an integer or ``y`` has no length.
        """
        for train_start, cutoff, test_start in self._folds(_n_obs(y)):
            train = np.arange(train_start, cutoff + 1)
            yield train, np.arange(test_start, test_start + self.horizon)

    def cutoffs(self, y: Any) -> np.ndarray:
        """Position of the last training observation of each fold, earliest first.

        Parameters
        ----------
        y : int, array-like, pd.Series or pd.DataFrame
            The series, or just its length.

        Returns
        -------
        np.ndarray of int, shape (n_folds,)
            Cutoff positions, ``step`` apart.

        Raises
        ------
        ValueError, TypeError
            As for :meth:`split`.
        """
        return np.array([cutoff for _, cutoff, _ in self._folds(_n_obs(y))], dtype=np.intp)

    def _folds(self, n: int) -> list[tuple[int, int, int]]:
        """``(train_start, cutoff, test_start)`` per fold for a series of length ``n``."""
        horizon = _check_int("horizon", self.horizon, 1)
        n_folds = _check_int("n_folds", self.n_folds, 1)
        step = horizon if self.step is None else _check_int("step", self.step, 1)
        gap = _check_int("gap", self.gap, 0)
        min_train = self._min_train()
        needed = min_train + gap + horizon + (n_folds - 1) * step
        if n < needed:
            fit = max((n - min_train - gap - horizon) // step + 1, 0)
            raise ValueError(
                f"{type(self).__name__} needs at least {needed} observations for "
                f"n_folds={n_folds}, horizon={horizon}, step={step}, gap={gap}, "
                f"{self._train_description(min_train)}; got {n} (only {fit} fold(s) fit)"
            )
        folds = []
        for k in range(n_folds):
            test_start = n - horizon - (n_folds - 1 - k) * step
            cutoff = test_start - gap - 1
            folds.append((self._train_start(cutoff), cutoff, test_start))
        return folds

    def _min_train(self) -> int:
        raise NotImplementedError

    def _train_description(self, min_train: int) -> str:
        raise NotImplementedError

    def _train_start(self, cutoff: int) -> int:
        raise NotImplementedError


class ExpandingWindowSplitter(_BaseSplitter):
    """Rolling-origin folds whose training data always start at the first observation.

    Folds are cut from the end backwards: the last test window ends at the last
    observation and the cutoffs are ``step`` apart. With ``n=12, horizon=2,
    n_folds=3, step=2, gap=0`` (``*`` = training, ``t`` = test, ``.`` = unused)::

        fold 0  ******tt....   train 0-5,  test 6-7
        fold 1  ********tt..   train 0-7,  test 8-9
        fold 2  **********tt   train 0-9,  test 10-11

    Parameters
    ----------
    horizon : int, default=7
        Length of each test window.
    n_folds : int, default=10
        Number of folds.
    step : int or None, default=None
        Distance between consecutive cutoffs; ``None`` means ``horizon``
        (back-to-back test windows). ``step < horizon`` makes them overlap.
    initial : int or None, default=None
        Minimum training size of the first fold; ``None`` means 1.
    gap : int, default=0
        Observations skipped between the last training observation and the test
        window (``train 0-5, gap 6, test 7-8`` for ``gap=1``).

    Raises
    ------
    ValueError
        From :meth:`split` and :meth:`cutoffs` when a parameter is out of range or
        the series is shorter than ``initial + gap + horizon + (n_folds - 1) * step``;
        the message names that minimum and how many folds would fit.

    Examples
    --------
    >>> splitter = ExpandingWindowSplitter(horizon=2, n_folds=3, step=1)
    >>> for train, test in splitter.split(10):
    ...     print(train.min(), train.max(), test)
    0 5 [6 7]
    0 6 [7 8]
    0 7 [8 9]
    >>> splitter.cutoffs(10)
    array([5, 6, 7])
    """

    def __init__(
        self,
        horizon: int = 7,
        n_folds: int = 10,
        step: int | None = None,
        initial: int | None = None,
        gap: int = 0,
    ) -> None:
        self.horizon = horizon
        self.n_folds = n_folds
        self.step = step
        self.initial = initial
        self.gap = gap

    def _min_train(self) -> int:
        return 1 if self.initial is None else _check_int("initial", self.initial, 1)

    def _train_description(self, min_train: int) -> str:
        return f"initial={min_train}"

    def _train_start(self, cutoff: int) -> int:
        return 0


class SlidingWindowSplitter(_BaseSplitter):
    """Rolling-origin folds trained on the ``window`` observations before each cutoff.

    Folds are cut from the end backwards: the last test window ends at the last
    observation and the cutoffs are ``step`` apart. With ``n=12, horizon=2,
    n_folds=3, step=2, window=4, gap=0`` (``*`` = training, ``t`` = test,
    ``.`` = unused)::

        fold 0  ..****tt....   train 2-5,  test 6-7
        fold 1  ....****tt..   train 4-7,  test 8-9
        fold 2  ......****tt   train 6-9,  test 10-11

    Parameters
    ----------
    horizon : int, default=7
        Length of each test window.
    n_folds : int, default=10
        Number of folds.
    step : int or None, default=None
        Distance between consecutive cutoffs; ``None`` means ``horizon``.
    window : int, default=500
        Number of training observations in every fold.
    gap : int, default=0
        Observations skipped between the last training observation and the test
        window.

    Raises
    ------
    ValueError
        From :meth:`split` and :meth:`cutoffs` when a parameter is out of range or
        the series is shorter than ``window + gap + horizon + (n_folds - 1) * step``;
        the message names that minimum and how many folds would fit.

    Examples
    --------
    >>> splitter = SlidingWindowSplitter(horizon=2, n_folds=2, window=3)
    >>> for train, test in splitter.split(8):
    ...     print(train, test)
    [1 2 3] [4 5]
    [3 4 5] [6 7]
    """

    def __init__(
        self,
        horizon: int = 7,
        n_folds: int = 10,
        step: int | None = None,
        window: int = 500,
        gap: int = 0,
    ) -> None:
        self.horizon = horizon
        self.n_folds = n_folds
        self.step = step
        self.window = window
        self.gap = gap

    def _min_train(self) -> int:
        return _check_int("window", self.window, 1)

    def _train_description(self, min_train: int) -> str:
        return f"window={min_train}"

    def _train_start(self, cutoff: int) -> int:
        return cutoff + 1 - self.window
