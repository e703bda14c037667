"""The statistics of trends and comparisons (SPEC §11, §12), on SciPy's distributions.

Two proportions x/n and x0/n0 are compared with the pooled two-proportion z-test; a rate's
interval is Wilson's score interval; many comparisons are held at one level by Holm–Bonferroni.
SciPy is imported only when a test runs.
"""

import math
from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

MIN_N = 30
"""The least n (and baseline or control n) a test needs (SPEC §11, §12)."""


def pooled_z(x: int, n: int, x0: int, n0: int) -> float:
    """The pooled two-proportion z of x/n against x0/n0 (0 when the pooled rate is 0 or 1).

    >>> round(pooled_z(30, 100, 20, 100), 3)
    1.633
    """
    pooled = (x + x0) / (n + n0)
    if pooled in (0.0, 1.0):
        return 0.0
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n0))
    return (x / n - x0 / n0) / spread


def two_sided_p(z: float) -> float:
    """erfc(|z|/√2): the two-sided p-value of a standard normal z.

    >>> round(two_sided_p(1.959964), 6)
    0.05
    """
    from scipy.special import erfc

    return float(erfc(abs(z) / math.sqrt(2)))


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (``z*`` = ``normal_quantile(1 − alpha/2)``).

    >>> round(normal_quantile(0.975), 6)
    1.959964
    """
    from scipy.stats import norm

    return float(norm.ppf(probability))


def wilson(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson's score interval of x/n at the quantile ``z``.

    >>> [round(b, 6) for b in wilson(0, 10, 1.959964)]
    [0.0, 0.277533]
    """
    rate = x / n
    centre = rate + z * z / (2 * n)
    spread = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def holm(p_values: Sequence[float | None], alpha: float) -> list[bool | None]:
    """Holm–Bonferroni at level ``alpha``: the i-th smallest of the m p-values is significant
    while it and every smaller one satisfy p_(i) ≤ alpha / (m − i + 1); None stays None.

    >>> holm([0.01, 0.04, None, 0.03], 0.05)
    [True, False, None, False]
    """
    ranked = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    significant: list[bool | None] = [None if p is None else False for p in p_values]
    m = len(ranked)
    for rank, (p, index) in enumerate(ranked, start=1):
        if p > alpha / (m - rank + 1):
            break
        significant[index] = True
    return significant


def chi_square_p(observed: Sequence[int], expected_shares: Sequence[float]) -> float:
    """The p-value of a chi-square goodness-of-fit test of counts against shares.

    >>> round(chi_square_p([50, 50], [0.5, 0.5]), 6)
    1.0
    """
    from scipy.stats import chisquare

    total = sum(observed)
    weights = sum(expected_shares)
    expected = [total * share / weights for share in expected_shares]
    return float(chisquare(list(observed), expected).pvalue)


def divided(numerator: NDArray[np.float64], denominator: NDArray[np.float64] | float) -> pl.Series:
    """``numerator / denominator`` element by element, null where the denominator is 0. NumPy
    divides exactly; Polars multiplies by the reciprocal of a scalar, 1 ulp off
    (pola-rs/polars#23741: 3 / 5 gives 0.6000000000000001).

    >>> divided(np.array([3.0, 1.0]), np.array([5.0, 0.0])).to_list()
    [0.6, None]
    """
    below = np.broadcast_to(np.asarray(denominator, dtype=np.float64), numerator.shape)
    safe = np.where(below > 0, below, 1.0)
    return pl.Series(np.where(below > 0, numerator / safe, np.nan)).fill_nan(None)
