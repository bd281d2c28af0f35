"""The random-generator checks of mx.test_utils: gen_buckets_probs_with_ppf, mean_check, var_check,
chi_square_check and verify_generator (re-exported by mxcy.test_utils under MXNet's names)."""
import numpy as np


def gen_buckets_probs_with_ppf(ppf, nbuckets):
    """nbuckets equal-probability buckets [(ppf(i/n), ppf((i+1)/n)), ...] and their probabilities 1/n."""
    assert nbuckets > 0
    edges = [ppf(i / float(nbuckets)) for i in range(nbuckets + 1)]
    return list(zip(edges[:-1], edges[1:])), [1.0 / nbuckets] * nbuckets


def mean_check(generator, mu, sigma, nsamples=1000000):
    """Whether the mean of generator(nsamples) lies within mu +- 3 sigma / sqrt(nsamples)."""
    mean = np.array(generator(nsamples)).mean()
    half_width = 3 * sigma / np.sqrt(nsamples)
    return bool(mu - half_width < mean < mu + half_width)


def var_check(generator, sigma, nsamples=1000000):
    """Whether the sample variance of generator(nsamples) lies within
    sigma^2 +- 3 sqrt(2 sigma^4 / (nsamples - 1)) (its standard error for normal samples)."""
    var = np.array(generator(nsamples)).var(ddof=1)
    half_width = 3 * np.sqrt(2 * sigma ** 4 / (nsamples - 1))
    return bool(sigma ** 2 - half_width < var < sigma ** 2 + half_width)


def chi_square_check(generator, buckets, probs, nsamples=1000000):
    """Pearson's chi-square test of generator(nsamples) against bucket probabilities.

    `buckets` is a list of (low, high) ranges in ascending order without overlap (continuous
    samples: a sample counts in the range with low <= x < high) or of the values a discrete
    generator produces. Returns (p value, observed counts, expected counts)."""
    from scipy import stats
    assert isinstance(buckets, list) and len(probs) == len(buckets)
    samples = np.asarray(generator(nsamples))
    expected = (nsamples * np.array(probs, dtype=np.float32)).astype(np.int32)
    if isinstance(buckets[0], (list, tuple)):
        for i, (low, high) in enumerate(buckets):
            assert low <= high, f"bucket {i} ({low}, {high}) is reversed"
            assert i == len(buckets) - 1 or high <= buckets[i + 1][0], "buckets overlap or are out of order"
        edges = np.array([e for bucket in buckets for e in bucket], dtype=np.float32)
        # side='right' puts x == low inside its bucket; as in MXNet, a sample in the gap before a
        # bucket (or below the first) counts in that bucket, one above the last in none
        position = np.searchsorted(edges, samples, side="right") // 2
        observed = np.bincount(position.ravel(), minlength=len(buckets) + 1)[:len(buckets)]
    else:
        observed = np.array([np.count_nonzero(samples == value) for value in buckets])
    # expected counts are truncated to integers (MXNet's), so they need not add up to the observed total,
    # which SciPy >= 1.9 refuses: the test uses the expected frequencies scaled to the observed total
    _, p = stats.chisquare(f_obs=observed, f_exp=expected * (observed.sum() / expected.sum()))
    return p, observed, expected


def verify_generator(generator, buckets, probs, nsamples=1000000, nrepeat=5, success_rate=0.2, alpha=0.05):
    """Run chi_square_check nrepeat times; AssertionError unless at least nrepeat * success_rate of
    the p values exceed alpha. Returns the p values."""
    runs = [chi_square_check(generator, buckets, probs, nsamples) for _ in range(nrepeat)]
    p_values = [p for p, _, _ in runs]
    if np.count_nonzero(np.array(p_values) > alpha) < nrepeat * success_rate:
        raise AssertionError(f"Generator test fails, Chi-square p={p_values}, "
                             f"obs_freq={[o for _, o, _ in runs]}, expected_freq={[e for _, _, e in runs]}."
                             f"\nbuckets={buckets}, probs={probs}")
    return p_values
