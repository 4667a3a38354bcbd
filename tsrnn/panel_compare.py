"""Cross-series statistics: is a model better than a baseline across many series?

Three questions, three tools (Demsar 2006, "Statistical comparisons of classifiers over
multiple data sets", JMLR 7; the M4 competition used ranks the same way):

- **On which series is the model significantly better?** A Diebold-Mariano test per
  series (:func:`tsrnn.compare.compare_forecasts` on that series' folds), with the
  p-values of one model's tests over all series adjusted by **Holm's step-down
  method** (:func:`holm`). Holm controls the family-wise error rate (the chance of even
  one false "significantly better" among the series) at ``alpha`` under any dependence
  between the series, which matters because stock or weather series move together; it
  is uniformly more powerful than Bonferroni. "Significantly better on 2 of 5" then
  means: each of the 2 survives the correction.
- **Across the panel, does the model beat the baseline?** A Wilcoxon signed-rank test
  over series of the per-series difference in MASE (model - baseline), the test
  Demsar recommends for two methods over many data sets (scale-free because MASE is,
  and not dominated by one series as a pooled loss would be).
- **Which models rank ahead of which?** Mean ranks of the per-series MASE (1 = best,
  ties share the average rank), the Friedman test that all models rank alike (with
  scipy's tie correction, and the Iman-Davenport F version), and the Nemenyi critical
  difference ``CD = q_alpha * sqrt(k (k + 1) / (6 N))``: two models whose mean ranks
  differ by less than CD are not significantly different. ``q_alpha`` is the
  studentized range quantile over ``sqrt(2)`` (Demsar's Table 5).

This module never imports torch; scipy is imported when a test runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tsrnn.compare import compare_forecasts
from tsrnn.exceptions import InputError

__all__ = [
    "holm",
    "nemenyi_q",
    "nemenyi_critical_difference",
    "RankTest",
    "rank_test",
    "compare_per_series",
    "panel_verdicts",
]


def holm(pvalues: np.ndarray | list[float]) -> np.ndarray:
    """Holm-adjusted p-values (step-down, family-wise error control).

    With ``m`` finite p-values sorted ascending, the i-th smallest (from 0) becomes
    ``max over j <= i of min(1, (m - j) p_(j))``. NaN p-values (tests that could not
    run) stay NaN and do not count in ``m``.

    Parameters
    ----------
    pvalues : array-like of float

    Returns
    -------
    np.ndarray
        Adjusted p-values in the input order; reject where ``adjusted < alpha``.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """The Nemenyi ``q_alpha`` for ``k`` models: studentized range quantile / sqrt(2).

    Matches Demsar (2006), Table 5(a): 1.960, 2.343, 2.569, 2.728, 2.850 for k = 2..6
    at alpha = 0.05.
    """
    from scipy.stats import studentized_range

    if k < 2:
        raise InputError(f"the Nemenyi test needs at least 2 models; got {k}.")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1; got {alpha!r}.")
    return float(studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2))


def nemenyi_critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Critical difference of mean ranks for ``k`` models over ``n`` series.

    ``CD = q_alpha * sqrt(k (k + 1) / (6 n))`` (Demsar 2006, section 3.2.2).
    """
    if n < 1:
        raise InputError(f"the critical difference needs at least 1 series; got {n}.")
    return nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / (6 * n))


@dataclass
class RankTest:
    """Mean ranks over series, the Friedman test and the Nemenyi critical difference.

    ``mean_ranks`` is sorted best (lowest) first. ``groups`` lists, for each model, the
    models whose mean rank is within ``critical_difference`` of it (not significantly
    different). ``statistic``/``pvalue`` are the Friedman chi-square test with ``k - 1``
    degrees of freedom; ``f_statistic``/``f_pvalue`` the Iman-Davenport F version.
    """

    mean_ranks: pd.Series
    n_series: int
    statistic: float
    pvalue: float
    f_statistic: float
    f_pvalue: float
    critical_difference: float
    alpha: float
    metric: str
    groups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def best(self) -> str:
        """The model with the lowest mean rank."""
        return str(self.mean_ranks.index[0])

    def significantly_different(self, a: str, b: str) -> bool:
        """Whether the mean ranks of ``a`` and ``b`` differ by at least the critical difference."""
        gap = abs(self.mean_ranks[a] - self.mean_ranks[b])
        return bool(self.pvalue < self.alpha and gap >= self.critical_difference)

    def verdict(self, subject: str | None = None) -> str:
        """One sentence: who ranks first and whether that is significant.

        ``subject`` replaces the best model's name as the sentence's subject ("it").
        """
        best = self.best
        who = subject or best
        if len(self.mean_ranks) < 2 or self.n_series < 2:
            few = "1 series is" if self.n_series == 1 else f"{self.n_series} series are"
            return f"{who} ranks first, but {few} too few for a rank test"
        level = f"{self.alpha:.0%}"
        top = self.mean_ranks[best]
        leaders = [m for m in self.mean_ranks.index if math.isclose(self.mean_ranks[m], top)]
        others = [m for m in self.mean_ranks.index if m not in leaders]
        others = [m for m in others if not self.significantly_different(best, m)]
        if len(leaders) > 1:
            names = ", ".join(leaders[:-1]) + " and " + leaders[-1]
            text = f"across {self.n_series} series {names} share the best mean rank ({top:.2f})"
        else:
            text = f"across {self.n_series} series {who} ranks first (mean rank {top:.2f})"
        if self.pvalue >= self.alpha:
            return f"{text}, but the Friedman test finds no significant difference in ranks at the {level} level (p = {self.pvalue:.3g})"
        if not others:
            return f"{text}, significantly ahead of every other model (Nemenyi, {level})"
        if len(leaders) > 1:
            return f"{text}, not significantly ahead of {_join(others)} (Nemenyi CD {self.critical_difference:.2f}, {level})"
        return f"{text}, but not significantly ahead of {_join(others)} (Nemenyi CD {self.critical_difference:.2f}, {level})"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _ranks(scores: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return np.vstack([rankdata(row) for row in scores])


def rank_test(scores: pd.DataFrame, alpha: float = 0.05, metric: str = "mase") -> RankTest:
    """Friedman test and Nemenyi critical difference over a series x model score table.

    Parameters
    ----------
    scores : pd.DataFrame
        One row per series, one column per model, lower is better (e.g. MASE). Rows
        with a missing score are dropped (the test needs every model on every series).
    alpha : float, default=0.05
    metric : str, default="mase"
        Name of the score, for the verdict text.

    Returns
    -------
    RankTest

    Raises
    ------
    InputError
        With fewer than 2 models, or no series scored by every model.

    Examples
    --------
    >>> scores = pd.DataFrame({"a": [1.0, 1.1, 0.9, 1.0], "b": [2.0, 2.1, 1.9, 2.2],
    ...                        "c": [3.0, 2.0, 3.1, 3.3]})
    >>> rank_test(scores).mean_ranks.to_dict()
    {'a': 1.0, 'b': 2.25, 'c': 2.75}
    """
    from scipy.stats import chi2, f

    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1; got {alpha!r}.")
    complete = scores.replace([np.inf, -np.inf], np.nan).dropna()
    n, k = complete.shape
    if k < 2:
        raise InputError(f"a rank test needs at least 2 models; got {k}.")
    if n == 0:
        raise InputError("no series has a score from every model; nothing to rank.")
    ranks = _ranks(complete.to_numpy(dtype=float))
    mean = pd.Series(ranks.mean(axis=0), index=[str(c) for c in complete.columns])
    mean = mean.sort_values(kind="stable")
    sums = ranks.sum(axis=0)
    ties = sum(
        float(np.sum(c**3 - c)) for c in (np.unique(r, return_counts=True)[1] for r in ranks)
    )
    correction = 1 - ties / (n * k * (k * k - 1))
    stat = (12 / (n * k * (k + 1)) * float(np.sum(sums**2)) - 3 * n * (k + 1)) / correction
    pvalue = float(chi2.sf(stat, k - 1)) if correction > 0 else 1.0
    denom = n * (k - 1) - stat
    f_stat = (n - 1) * stat / denom if denom > 0 else math.inf
    f_p = float(f.sf(f_stat, k - 1, (k - 1) * (n - 1))) if n > 1 and denom > 0 else float(n <= 1)
    cd = nemenyi_critical_difference(k, n, alpha)
    groups = {m: [o for o in mean.index if abs(mean[m] - mean[o]) < cd] for m in mean.index}
    return RankTest(mean, n, float(stat), pvalue, float(f_stat), f_p, cd, alpha, metric, groups)


def compare_per_series(
    forecasts: pd.DataFrame,
    baseline: str,
    *,
    loss: str = "squared",
    alpha: float = 0.05,
    fold_spacing: int | None = None,
) -> pd.DataFrame:
    """Diebold-Mariano tests of every model against ``baseline`` on every series, Holm-adjusted.

    Parameters
    ----------
    forecasts : pd.DataFrame
        Tidy panel forecasts with columns ``series, model, fold, step, actual, forecast``.
    baseline : str
    loss : {'squared', 'absolute'}
    alpha : float
    fold_spacing : int, optional
        Steps between cutoffs (for the HAC lags of overlapping folds).

    Returns
    -------
    pd.DataFrame
        Indexed by (model, series): the columns of
        :func:`tsrnn.compare.compare_forecasts` plus ``n_folds``, ``p_holm`` (the two-sided
        p-value Holm-adjusted over the series of that model), ``better`` (lower mean loss
        than the baseline) and ``significant`` (``p_holm < alpha``). A series with fewer
        than 3 common folds has NaN p-values and is not significant.
    """
    rows = []
    for series, part in forecasts.groupby("series", sort=False):
        cells = _common_cells(part)
        n_folds = cells["fold"].nunique()
        if baseline not in set(cells["model"]) or n_folds < 3:
            continue
        table = compare_forecasts(
            cells, baseline, loss=loss, alpha=alpha, fold_spacing=fold_spacing
        ).reset_index()
        table.insert(1, "series", series)
        table["n_folds"] = n_folds
        rows.append(table)
    if not rows:
        raise InputError(
            f"no series has 3 or more folds where {baseline!r} and another model both have "
            "forecasts; a per-series Diebold-Mariano test needs at least 3."
        )
    table = pd.concat(rows, ignore_index=True)
    table["p_holm"] = np.nan
    for _, index in table.groupby("model", sort=False).groups.items():
        table.loc[index, "p_holm"] = holm(table.loc[index, "p_value"].to_numpy(dtype=float))
    table["better"] = table["mean_loss"] < table["baseline_loss"]
    table["significant"] = table["p_holm"] < alpha
    return table.set_index(["model", "series"])


def _common_cells(part: pd.DataFrame) -> pd.DataFrame:
    """The rows of the folds where every model of this series has finite forecasts."""
    finite = part.assign(ok=np.isfinite(part["forecast"].to_numpy(dtype=float)))
    ok = finite.groupby(["fold", "model"])["ok"].all().unstack("model")
    models = part["model"].unique()
    good = ok.index[ok.reindex(columns=models).fillna(False).all(axis=1)]
    return part[part["fold"].isin(good)]


def panel_verdicts(
    per_series: pd.DataFrame, scores: pd.DataFrame, baseline: str, alpha: float = 0.05
) -> pd.DataFrame:
    """One verdict per model across the panel.

    Parameters
    ----------
    per_series : pd.DataFrame
        :func:`compare_per_series` output.
    scores : pd.DataFrame
        Series x model table of a scale-free score (MASE) for the Wilcoxon test.
    baseline : str
    alpha : float

    Returns
    -------
    pd.DataFrame
        Indexed by model: ``n_series`` (series tested), ``n_better`` (lower mean loss than
        the baseline), ``n_better_significant`` / ``n_worse_significant`` (Holm-adjusted
        DM at ``alpha``), ``median_gain`` (median over series of 1 - score / baseline
        score), ``wilcoxon_p`` (two-sided signed-rank test of the score differences over
        series) and ``verdict`` in plain words.
    """
    from scipy.stats import wilcoxon

    rows = {}
    for model, part in per_series.groupby(level="model", sort=False):
        tested = part[part["p_value"].notna()]
        better_sig = int((tested["significant"] & tested["better"]).sum())
        worse_sig = int((tested["significant"] & ~tested["better"]).sum())
        pair = scores[[model, baseline]].replace([np.inf, -np.inf], np.nan).dropna()
        diff = (pair[model] - pair[baseline]).to_numpy()
        if len(diff) >= 2 and np.any(diff != 0):
            w_p = float(wilcoxon(diff, zero_method="zsplit").pvalue)
        else:
            w_p = float("nan")
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = float(np.median(1 - pair[model] / pair[baseline])) if len(pair) else np.nan
        n, n_better = len(tested), int(tested["better"].sum())
        rows[model] = {
            "n_series": n,
            "n_better": n_better,
            "n_better_significant": better_sig,
            "n_worse_significant": worse_sig,
            "median_gain": gain,
            "wilcoxon_p": w_p,
            "verdict": _panel_sentence(
                model, baseline, n, n_better, better_sig, worse_sig, w_p, gain, alpha
            ),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
    table.attrs["test"] = (
        f"Diebold-Mariano test per series (two-sided, autocorrelation-robust), Holm-adjusted "
        f"over the series at the {alpha:.0%} level; across series, a Wilcoxon signed-rank "
        "test of the per-series MASE"
    )
    return table


def _panel_sentence(model, baseline, n, better, better_sig, worse_sig, w_p, gain, alpha) -> str:
    level = f"{alpha:.0%}"
    text = f"{model} beats {baseline} on {better} of {n} series, significantly on {better_sig}"
    if worse_sig:
        text += f" (significantly worse on {worse_sig})"
    if not np.isfinite(w_p):
        return text + "; too few series for a test across them"
    direction = "better" if gain > 0 else "worse"
    if w_p < alpha:
        return (
            text
            + f"; across series it is significantly {direction} (Wilcoxon p = {w_p:.3g}, median gain {gain:+.1%})"
        )
    return (
        text
        + f"; across series the difference is not significant at the {level} level (Wilcoxon p = {w_p:.3g})"
    )
