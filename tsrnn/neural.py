"""The neural core: one scikit-learn estimator over any network of :mod:`tsrnn.nn.networks`.

:class:`NeuralForecaster` owns the whole pipeline; a network (LSTM, GRU, RNN, or one you
register) is a row of the table :data:`tsrnn.nn.networks.NETWORKS`, named by the class
attribute ``_network``. This module does not import torch; :mod:`tsrnn.nn` is imported on
the first ``fit`` or ``load``. Its array entry point takes a list of series (a single
series is a list of one), so the same code trains a local model on one series and ONE
global network on a panel. ``fit``:

1. split each series' windows in time: training windows, a gap of ``horizon - 1``
   windows (so no training target overlaps a validation target), then the validation
   tail (``validation_fraction`` of that series' windows);
2. fit one scaler per series on the rows its training windows cover, and scale it;
3. train the network on the training windows of all series, shuffled together (Adam,
   mini-batches, gradient clipping, early stopping on the validation tails with
   best-weights restore, learning rate halved on plateaus). Windows are zero-copy views
   of the concatenated series plus per-series offsets (:mod:`tsrnn.nn.windows`);
4. keep each series' validation errors per horizon step, in that series' units, for
   split-conformal prediction intervals calibrated per series (:mod:`tsrnn.conformal`;
   without a validation tail, the training windows' in-sample errors, which give
   narrower intervals).

When every series is constant there is nothing to learn: the network's ``head`` is
zeroed and not trained, so it forecasts exactly the constant. In a panel that mixes
constant and varying series, the constant ones (``series_constant_``) are forecast by
their last value (exactly the constant, with zero-width intervals) rather than by a
network trained on the others. ``update`` moves each
series' input window to its newest rows (and, with ``fine_tune_epochs``, trains briefly on
the windows that end in them); ``predict`` beyond ``horizon`` feeds forecasts back in.

By default each input window is normalised by its last target value
(``window_normalization='last_value'``): the network forecasts changes from the last
observation, so it starts out as the naive forecast and is not thrown off by levels
outside the training range (prices at a new high). With per-series scaling this is what
lets a $40 and a $700 stock train one network.
"""

from __future__ import annotations

import math

import numpy as np

from tsrnn import conformal
from tsrnn._neural_checks import check_declared_shapes, check_rollout
from tsrnn._neural_params import NeuralParams
from tsrnn.base import BaseForecaster
from tsrnn.conformal import half_widths, loo_coverage
from tsrnn.exceptions import InputError
from tsrnn.features import calendar_features
from tsrnn.scaling import inverse_target, make_scaler, restore_scaler, scaler_state

__all__ = ["NeuralForecaster"]

#: Per-series fitted state; a single-series model also exposes element 0 under the name
#: on the right (the attribute names of model files written before panels).
_SINGLE = {
    "series_scalers_": "scaler_",
    "series_recent_": "recent_",
    "series_context_": "context_",
    "series_residuals_": "calibration_residuals_",
    "series_conformal_": "conformal_",
}


def _rows(y: np.ndarray, covariates: np.ndarray | None) -> np.ndarray:
    return y[:, None] if covariates is None else np.column_stack([y, covariates])


def _single(name: str):
    """A read/write view of element 0 of the per-series list ``name``."""
    alias = _SINGLE[name]

    def get(self):
        values = self.__dict__.get(name)
        if values is None:
            raise AttributeError(alias)
        if len(values) != 1:
            raise AttributeError(
                f"{alias} exists for a single series; this model holds "
                f"{len(values)} series: use {name}[k], in the order of series_ids_."
            )
        return values[0]

    def set_(self, value):
        self.__dict__[name] = [value]

    return property(get, set_, doc=f"Single-series view of ``{name}[0]``.")


class NeuralForecaster(NeuralParams, BaseForecaster):
    """Neural forecaster over the network named by ``_network`` (see the presets).

    The parameters are those of :class:`tsrnn.LSTMForecaster`. Subclass it and set
    ``_network`` to a key of :data:`tsrnn.nn.networks.NETWORKS` to train another network.
    It is a global model (``_global_model = True``): given a panel it trains one network
    on the windows of every series, with per-series scaling and intervals.

    Attributes
    ----------
    series_scalers_, series_recent_, series_context_, series_residuals_ : list
        Per series (in the order of ``series_ids_`` for a panel): the fitted scaler, the
        raw input window, the rows fine-tuning needs, and the calibration errors of shape
        (n_windows, horizon). A single-series model also has them as ``scaler_``,
        ``recent_``, ``context_`` and ``calibration_residuals_``.
    """

    _network = "lstm"
    _uses_covariates = True
    _global_model = True

    scaler_ = _single("series_scalers_")
    recent_ = _single("series_recent_")
    context_ = _single("series_context_")
    calibration_residuals_ = _single("series_residuals_")
    conformal_ = _single("series_conformal_")

    # ------------------------------------------------------------ hooks
    def _fit(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        self._fit_series([y], [covariates], [self.cutoff_])

    def _predict(self, horizon: int) -> np.ndarray:
        return self._forecast(horizon, [self.cutoff_])[0]

    def _predict_interval(self, horizon: int, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        return self._intervals(horizon, coverage, [self.cutoff_])[0]

    def _update(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        self._update_series({0: (y, covariates)}, [self.cutoff_])

    def _fit_panel(self, ys: list[np.ndarray], covariates: list[np.ndarray | None]) -> None:
        self._fit_series(ys, covariates, list(self.cutoffs_))

    def _predict_panel(self, horizon: int) -> list[np.ndarray]:
        return self._forecast(horizon, list(self.cutoffs_))

    def _predict_interval_panel(
        self, horizon: int, coverage: float
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        return self._intervals(horizon, coverage, list(self.cutoffs_))

    def _update_panel(self, updates: dict[int, tuple[np.ndarray, np.ndarray | None]]) -> None:
        self._update_series(updates, list(self.cutoffs_))

    # ---------------------------------------------------------------- fit
    def _fit_series(
        self,
        ys: list[np.ndarray],
        covariates: list[np.ndarray | None],
        cutoffs: list,
    ) -> None:
        """Train one network on all series; each array is one series' rows in time order."""
        from tsrnn.nn import forecasting

        keep = None if self.max_history is None else max(self.max_history, self._min_length())
        ys = [y if keep is None else y[-keep:] for y in ys]
        covariates = [c if c is None or keep is None else c[-keep:] for c in covariates]
        values = [_rows(y, c) for y, c in zip(ys, covariates, strict=True)]
        device = self._device()  # fails before any work if CUDA is asked for but missing
        splits = [self._split(len(v)) for v in values]
        reuse = (
            self.warm_start
            and getattr(self, "n_inputs_", None) == values[0].shape[1]
            and len(self.__dict__.get("series_scalers_") or ()) == len(values)
        )
        if not reuse:
            self.series_scalers_ = [
                make_scaler(self.scaler).fit(v[:covered])
                for v, (_, _, covered) in zip(values, splits, strict=True)
            ]
            self.n_inputs_ = values[0].shape[1]
        futures = self._calendars(
            [self._past_index(len(v), end=c) for v, c in zip(values, cutoffs, strict=True)]
        )
        self.future_size_ = 0 if futures is None else futures[0].shape[1]
        seed = self._seed()
        if not reuse:
            self.net_ = self._build_net(seed)
        flat = [bool(np.ptp(y) == 0) for y in ys]
        constant = all(flat)
        # mixed panels only: a lone or all-constant panel zeroes the head instead
        self.series_constant_ = flat if len(ys) > 1 and not constant else None
        if constant:  # nothing to learn: forecast "no change", which is exactly the constant
            forecasting.zero_output(self.net_)
        settings = dict(
            self._settings(seed, device),
            epochs=0 if constant else self.epochs,
            early_stopping=self.early_stopping,
            max_steps=self.max_steps,
        )
        call = dict(
            net=self.net_,
            series=self._scaled(values),
            future=futures,
            lookback=self.lookback,
            horizon=self.horizon,
            train_idx=[s[0] for s in splits],
            val_idx=[s[1] for s in splits],
            calib_idx=[val if len(val) else train for train, val, _ in splits],
            settings=settings,
            n_threads=self.n_threads,
        )
        if self.__dict__.get("_deferred") is not None:  # tsrnn.neural_batch trains it
            self._deferred.append((call, values))
            return
        self._finish_fit(forecasting.fit_network(**call), values)

    def _finish_fit(self, outcome, values: list[np.ndarray]) -> None:
        """Keep the training report, calibration errors and input windows of a fit."""
        ys = [v[:, 0] for v in values]
        splits = [self._split(len(v)) for v in values]
        self.history_ = outcome.result.history
        self.best_epoch_ = outcome.result.best_epoch
        self.stopped_early_ = outcome.result.stopped_early
        self.series_residuals_ = [
            np.abs(self._inverse(k, target) - self._inverse(k, forecast))
            * (0.0 if self._is_constant(k) else 1.0)
            for k, (forecast, target) in enumerate(
                zip(outcome.val_forecasts, outcome.val_targets, strict=True)
            )
        ]
        self.series_conformal_ = [
            conformal.fit_state(
                y,
                (val if len(val) else train) + self.lookback - 1,
                self._inverse(k, forecast),
                self.horizon,
            )
            for k, (y, (train, val, _), forecast) in enumerate(
                zip(ys, splits, outcome.val_forecasts, strict=True)
            )
        ]
        coverages = [loo_coverage(r, 0.9) for r in self.series_residuals_]
        self.interval_coverage_ = (
            coverages[0] if len(coverages) == 1 else float(np.nanmean(coverages))
        )
        self.series_recent_ = [v[-self.lookback :].copy() for v in values]
        self.series_context_ = [v[-(self.lookback + self.horizon - 1) :].copy() for v in values]

    def _scaled(self, values: list[np.ndarray], which: list[int] | None = None) -> list:
        which = range(len(values)) if which is None else which
        return [self.series_scalers_[k].transform(v) for k, v in zip(which, values, strict=True)]

    def _inverse(self, k: int, scaled: np.ndarray) -> np.ndarray:
        return inverse_target(self.series_scalers_[k], scaled, self.n_inputs_)

    def _settings(self, seed: int, device: str) -> dict:
        """Training settings shared by ``fit`` and the fine-tuning in ``update``."""
        return dict(
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            loss=self.loss,
            gradient_clip=self.gradient_clip,
            seed=seed,
            device=device,
            verbose=self.verbose,
        )

    def _build_net(self, seed: int):
        from tsrnn.nn import forecasting

        try:
            return forecasting.build_network(
                self._network,
                self.n_inputs_,
                self.hidden_size,
                self.num_layers,
                self.dropout,
                self.horizon,
                self.future_size_,
                self.window_normalization == "last_value",
                seed,
                lookback=self.lookback,
            )
        except ValueError as error:  # a name missing from the network table
            raise InputError(f"{type(self).__name__}: {error}") from error

    def _calendars(self, indexes: list) -> list[np.ndarray] | None:
        if not self.calendar_features:
            return None
        return [calendar_features(index, self.freq_) for index in indexes]

    # ------------------------------------------------------------ predict
    def _forecast_from(self, recents: list[np.ndarray], starts: list) -> list[np.ndarray]:
        """One direct multi-horizon forecast per series (original units) from raw windows."""
        from tsrnn.nn import forecasting

        futures = self._calendars([self._future_index(self.horizon, cutoff=s) for s in starts])
        scaled = forecasting.forecast_windows(
            self.net_,
            np.stack(self._scaled(recents)),
            None if futures is None else np.stack(futures),
            self._device(),
            self.n_threads,
        )
        return [
            np.full(self.horizon, recents[k][-1, 0])
            if self._is_constant(k)
            else self._inverse(k, row)
            for k, row in enumerate(scaled)
        ]

    def _is_constant(self, k: int) -> bool:
        """Whether series ``k`` of a mixed panel was constant in training (naive forecast)."""
        flags = getattr(self, "series_constant_", None)
        return bool(flags is not None and flags[k])

    def _forecast(self, horizon: int, cutoffs: list) -> list[np.ndarray]:
        if horizon > self.horizon and self.n_inputs_ > 1:
            raise InputError(
                f"horizon={horizon} exceeds the trained horizon {self.horizon}, and the model "
                "uses covariates whose future values are unknown; refit with a larger horizon."
            )
        check_rollout(horizon, self.horizon)
        recents, starts = list(self.series_recent_), list(cutoffs)
        rounds = [self._forecast_from(recents, starts)]
        for _ in range(1, math.ceil(horizon / self.horizon)):
            # Beyond the trained horizon: recursive roll-out, feeding forecasts back in.
            recents = [
                np.concatenate([r, out[:, None]])[-self.lookback :]
                for r, out in zip(recents, rounds[-1], strict=True)
            ]
            starts = [self._future_index(self.horizon, cutoff=s)[-1] for s in starts]
            rounds.append(self._forecast_from(recents, starts))
        return [np.concatenate(parts)[:horizon] for parts in zip(*rounds, strict=True)]

    def _intervals(self, horizon: int, coverage: float, cutoffs: list) -> list[tuple]:
        points = self._forecast(horizon, cutoffs)
        states = self.__dict__.get("series_conformal_") or [None] * len(points)
        out = []
        for residuals, state, point in zip(self.series_residuals_, states, points, strict=True):
            if self.interval == "conformal" and conformal.state_is_usable(state):
                half = conformal.adaptive_half_widths(state, coverage, horizon)
            else:
                half = half_widths(residuals, coverage, horizon)
            out.append((point - half, point + half))
        return out

    def _origin_forecasts(self, k: int, rows: np.ndarray, n_new: int, cutoff) -> np.ndarray:
        """Forecasts from the last ``n_new`` rows of series ``k`` as origins (the new
        observations of an ``update``; at most ``conformal.WINDOW``), for the scores."""
        from tsrnn.nn import forecasting

        first = max(n_new - conformal.WINDOW, n_new - (len(rows) - self.lookback + 1), 0)
        ends = [len(rows) - n_new + i + 1 for i in range(first, n_new)]
        if not ends:
            return np.empty((0, self.horizon))
        dates = self._future_index(n_new, cutoff=cutoff)[first:]
        futures = self._calendars([self._future_index(self.horizon, cutoff=d) for d in dates])
        scaled = forecasting.forecast_windows(
            self.net_,
            np.stack(
                self._scaled([rows[end - self.lookback : end] for end in ends], [k] * len(ends))
            ),
            None if futures is None else np.stack(futures),
            self._device(),
            self.n_threads,
        )
        return np.stack([self._inverse(k, row) for row in scaled])

    # ------------------------------------------------------------- update
    def _update_series(self, updates: dict[int, tuple], cutoffs: list) -> None:
        rows = {
            k: np.concatenate([self.series_context_[k], _rows(y, c)])
            for k, (y, c) in updates.items()
        }
        if self.fine_tune_epochs and rows:
            self._fine_tune(rows, cutoffs)
        states = self.__dict__.get("series_conformal_")
        for k, (y, _) in updates.items():
            if states is not None and states[k] is not None:
                forecasts = self._origin_forecasts(k, rows[k], len(y), cutoffs[k])
                states[k] = conformal.update_state(states[k], y, forecasts)
        for k, r in rows.items():
            self.series_recent_[k] = r[-self.lookback :].copy()
            self.series_context_[k] = r[-(self.lookback + self.horizon - 1) :].copy()

    def _fine_tune(self, rows: dict[int, np.ndarray], cutoffs: list) -> None:
        """Train ``fine_tune_epochs`` epochs on the windows whose targets reach the new rows.

        One pass over the updated series together; the scalers and the calibration
        residuals stay as fitted; ``history_`` is unchanged.
        """
        from tsrnn.nn import forecasting

        which = list(rows)
        indexes = []
        for k in which:
            n_old = len(self.series_context_[k])
            past = self._past_index(n_old, end=cutoffs[k])
            indexes.append(past.append(self._future_index(len(rows[k]) - n_old, cutoff=cutoffs[k])))
        forecasting.fine_tune(
            self.net_,
            self._scaled([rows[k] for k in which], which),
            self._calendars(indexes),
            lookback=self.lookback,
            horizon=self.horizon,
            settings=dict(
                self._settings(self._seed(), self._device()),
                epochs=self.fine_tune_epochs,
                early_stopping=None,
                lr_patience=None,
            ),
            n_threads=self.n_threads,
        )

    # -------------------------------------------------------- persistence
    def _get_state(self) -> dict:
        from tsrnn.nn import forecasting

        state = super()._get_state()
        state["net_"] = forecasting.export_weights(self.net_)
        state["series_scalers_"] = [scaler_state(s) for s in self.series_scalers_]
        return state

    def _set_state(self, state: dict) -> None:
        from tsrnn.nn import forecasting

        weights = state.pop("net_")
        check_declared_shapes(self._network, self.hidden_size, self.num_layers, weights)
        if "series_scalers_" in state:
            fitted = state.pop("series_scalers_")
        else:  # a model file written before panels: one series, old attribute names
            fitted = [state.pop("scaler_")]
            for name, alias in _SINGLE.items():
                if alias in state and alias != "scaler_":
                    state[name] = [state.pop(alias)]
            state.setdefault("series_context_", state["series_recent_"])
        super()._set_state(state)
        self.series_scalers_ = [restore_scaler(self.scaler, s) for s in fitted]
        self.net_ = self._build_net(seed=0)
        forecasting.import_weights(self.net_, weights)
        self.net_.eval()
