"""Cross-series statistics against reference implementations and published tables."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import friedmanchisquare, wilcoxon
from statsmodels.stats.multitest import multipletests

from tsrnn.compare import compare_forecasts
from tsrnn.exceptions import InputError
from tsrnn.panel_compare import (
    compare_per_series,
    holm,
    nemenyi_critical_difference,
    nemenyi_q,
    panel_verdicts,
    rank_test,
)

# Demsar (2006), Table 5: critical values q_alpha of the two-tailed Nemenyi test, k = 2..10.
DEMSAR_Q05 = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
DEMSAR_Q10 = [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]

# Demsar (2006), Table 6: AUC of four C4.5 variants on 14 data sets (higher is better).
DEMSAR_AUC = np.array(
    [
        [0.763, 0.768, 0.771, 0.798],
        [0.599, 0.591, 0.590, 0.569],
        [0.954, 0.971, 0.968, 0.967],
        [0.628, 0.661, 0.654, 0.657],
        [0.882, 0.888, 0.886, 0.898],
        [0.936, 0.931, 0.916, 0.931],
        [0.661, 0.668, 0.609, 0.685],
        [0.583, 0.583, 0.563, 0.625],
        [0.775, 0.838, 0.866, 0.875],
        [1.000, 1.000, 1.000, 1.000],
        [0.940, 0.962, 0.965, 0.962],
        [0.619, 0.666, 0.614, 0.669],
        [0.972, 0.981, 0.975, 0.975],
        [0.957, 0.978, 0.946, 0.970],
    ]
)


@pytest.mark.parametrize("k", range(2, 11))
def test_nemenyi_q_matches_demsar_table(k):
    assert nemenyi_q(k, 0.05) == pytest.approx(
        DEMSAR_Q05[k - 2], abs=1e-3
    )  # the table truncates to 3 decimals
    assert nemenyi_q(k, 0.10) == pytest.approx(
        DEMSAR_Q10[k - 2], abs=1e-3
    )  # the table truncates to 3 decimals


def test_critical_difference_of_demsars_example():
    # Section 3.2.4: four classifiers, 14 data sets: CD = 2.569 * sqrt(4 * 5 / (6 * 14)) = 1.25
    assert nemenyi_critical_difference(4, 14, 0.05) == pytest.approx(1.25, abs=0.005)


def test_rank_test_reproduces_demsar_ranks_and_scipy_friedman():
    scores = pd.DataFrame(-DEMSAR_AUC, columns=["c45", "c45_m", "c45_cf", "c45_m_cf"])
    result = rank_test(scores)
    # Demsar prints 3.143 and 2.000 for C4.5 and C4.5+m; ranking the table's AUCs (ties
    # share the mean rank) gives 41/14 and 27/14 for the other two.
    expected = {"c45": 3.143, "c45_m": 2.000, "c45_cf": 41 / 14, "c45_m_cf": 27 / 14}
    for model, rank in expected.items():
        assert result.mean_ranks[model] == pytest.approx(rank, abs=5e-4)
    reference = friedmanchisquare(*DEMSAR_AUC.T)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.best == "c45_m_cf"
    assert result.n_series == 14
    # Iman-Davenport F from the chi-square statistic, as in Demsar's equation
    n, k = 14, 4
    f_expected = (n - 1) * result.statistic / (n * (k - 1) - result.statistic)
    assert result.f_statistic == pytest.approx(f_expected)
    # Demsar, section 3.2.4: at 5% (CD 1.25) no pair differs; at 10% (CD 1.12) C4.5 is
    # significantly worse than C4.5+m and C4.5+m+cf, and C4.5+cf belongs to neither group.
    assert result.critical_difference == pytest.approx(1.25, abs=5e-3)
    assert not any(
        result.significantly_different(a, b) for a in expected for b in expected if a < b
    )
    loose = rank_test(scores, alpha=0.10)
    assert loose.critical_difference == pytest.approx(1.12, abs=5e-3)
    pairs = {
        (a, b) for a in expected for b in expected if a < b and loose.significantly_different(a, b)
    }
    assert pairs == {("c45", "c45_m"), ("c45", "c45_m_cf")}


def test_rank_test_on_random_scores_matches_scipy():
    rng = np.random.default_rng(3)
    scores = pd.DataFrame(rng.gamma(2.0, size=(25, 5)), columns=list("abcde"))
    scores["a"] -= 1.0  # a is clearly best
    result = rank_test(scores)
    reference = friedmanchisquare(*scores.to_numpy().T)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.pvalue == pytest.approx(reference.pvalue)
    assert result.best == "a"
    assert "ranks first" in result.verdict()


def test_rank_test_drops_incomplete_series_and_refuses_empty():
    scores = pd.DataFrame({"a": [1.0, np.nan, 2.0], "b": [2.0, 1.0, 3.0]})
    assert rank_test(scores).n_series == 2
    with pytest.raises(InputError, match="at least 2 models"):
        rank_test(scores[["a"]])
    with pytest.raises(InputError, match="no series"):
        rank_test(pd.DataFrame({"a": [np.nan], "b": [1.0]}))


def test_holm_matches_statsmodels_and_keeps_nan():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.001, np.nan])
    expected = multipletests(p[:-1], method="holm")[1]
    adjusted = holm(p)
    np.testing.assert_allclose(adjusted[:-1], expected)
    assert np.isnan(adjusted[-1])


def _panel_forecasts(rng, n_series=6, n_folds=8, horizon=3, skill=None):
    rows = []
    for s in range(n_series):
        scale = 10.0**s  # very different magnitudes
        for fold in range(n_folds):
            for step in range(1, horizon + 1):
                actual = rng.normal() * scale
                for model, noise in (("naive", 1.0), ("good", 0.2 if s < 3 else 1.0)):
                    rows.append({"series": f"s{s}", "model": model, "fold": fold, "step": step,
                                 "actual": actual,
                                 "forecast": actual + noise * scale * rng.normal()})  # fmt: skip
    return pd.DataFrame(rows)


def test_compare_per_series_equals_single_series_dm_with_holm():
    rng = np.random.default_rng(0)
    table = _panel_forecasts(rng, n_folds=60)  # the DM test's t has floor(0.4 n^(2/3)) = 6 df
    per_series = compare_per_series(table, "naive", fold_spacing=3)
    raw = []
    for sid in [f"s{s}" for s in range(6)]:
        single = compare_forecasts(table[table["series"] == sid], "naive", fold_spacing=3)
        row = per_series.loc[("good", sid)]
        assert row["statistic"] == pytest.approx(single.loc["good", "statistic"])
        assert row["p_value"] == pytest.approx(single.loc["good", "p_value"])
        raw.append(single.loc["good", "p_value"])
    np.testing.assert_allclose(
        per_series.loc["good", "p_holm"].to_numpy(), multipletests(raw, method="holm")[1]
    )
    # the three series where "good" has a fifth of the noise are significant after Holm; of
    # the three where it is as noisy as naive, none is (s3's raw p = 0.035 does not survive)
    assert per_series.loc["good", "significant"].tolist() == [True] * 3 + [False] * 3


def test_panel_verdicts_count_and_wilcoxon():
    rng = np.random.default_rng(1)
    table = _panel_forecasts(rng, n_series=8)
    per_series = compare_per_series(table, "naive", fold_spacing=3)
    scores = pd.DataFrame(
        {
            m: table[table["model"] == m]
            .assign(e=lambda t: (t["actual"] - t["forecast"]).abs())
            .groupby("series")["e"]
            .mean()
            for m in ("naive", "good")
        }  # fmt: skip
    )
    verdict = panel_verdicts(per_series, scores, "naive").loc["good"]
    part = per_series.loc["good"]
    assert verdict["n_series"] == 8
    assert verdict["n_better"] == int(part["better"].sum())
    assert verdict["n_better_significant"] == int((part["better"] & part["significant"]).sum())
    diff = scores["good"] - scores["naive"]
    assert verdict["wilcoxon_p"] == pytest.approx(wilcoxon(diff, zero_method="zsplit").pvalue)
    assert verdict["verdict"].startswith(
        f"good beats naive on {verdict['n_better']} of 8 series, significantly on "
        f"{verdict['n_better_significant']}"
    )


def test_compare_per_series_needs_three_folds():
    rng = np.random.default_rng(2)
    table = _panel_forecasts(rng, n_series=2, n_folds=2)
    with pytest.raises(InputError, match="at least 3"):
        compare_per_series(table, "naive")


def test_rank_verdict_names_ties_for_first():
    scores = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 1.0, 1.0], "c": [3.0, 3.0, 2.0]})
    result = rank_test(scores)  # a: 1, 2, 3 -> 2.0; b: 2, 1, 1 -> 1.33; c: 3, 3, 2 -> 2.67
    assert result.best == "b" and "b ranks first (mean rank 1.33)" in result.verdict()
    tied = rank_test(pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0], "c": [3.0, 3.0]}))
    assert "a and b share the best mean rank (1.50)" in tied.verdict()


def test_rank_verdict_with_one_series_reads_well():
    one_series = rank_test(pd.DataFrame({"a": [1.0], "b": [2.0]}, index=["s1"]))
    assert one_series.verdict() == "a ranks first, but 1 series is too few for a rank test"
