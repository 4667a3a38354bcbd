"""``tsrnn predict --data``: update a loaded model with the newer rows of a CSV file."""

from __future__ import annotations

from pathlib import Path

from tsrnn.exceptions import DataError, warn


def update_from_file(
    estimator: object,
    newer: Path,
    date_col: str | None,
    date_format: str | None,
    id_col: str | None = None,
) -> None:
    """Read ``newer`` and update ``estimator`` with its rows after the model's data.

    Rows at or before the model's last timestamp are skipped with a warning (the file
    may repeat the history); errors name the file and the dates involved.
    """
    from tsrnn.io import read_csv
    from tsrnn.panel import fitted_on_panel

    panel = fitted_on_panel(estimator)
    if id_col is None and panel:
        id_col = estimator.panel_names_[0]
    loaded = read_csv(
        newer,
        estimator.target_name_,
        date_col,
        freq=estimator.freq_,
        covariates=bool(getattr(estimator, "covariate_names_", None)),
        id_col=id_col,
        date_format=date_format,
    )
    if panel or id_col is not None:  # per-series checks are the panel layer's
        estimator.update(loaded.frame)
        return
    frame, cutoff = loaded.frame, estimator.cutoff_
    if str(frame.index.tz) != str(cutoff.tz):
        raise DataError(
            f"{newer}: timestamps are in time zone {frame.index.tz or 'none (naive)'}, but the "
            f"model was fitted on {cutoff.tz or 'naive'} timestamps; write them the same way "
            "as the training data."
        )
    seen = int((frame.index <= cutoff).sum())
    if seen:
        warn(f"{newer}: skipped {seen} row(s) at or before {cutoff}, which the model has seen.")
        frame = frame[frame.index > cutoff]
    if frame.empty:
        return
    expected = estimator._future_index(1)[0]
    if frame.index[0] != expected:
        raise DataError(
            f"{newer}: the first new row is dated {frame.index[0]}, but the model's data ends "
            f"at {cutoff}, so the next row must be dated {expected}. Add the missing rows "
            "(or refit the model on all the data)."
        )
    estimator.update(frame)
