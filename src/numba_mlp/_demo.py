"""``python -m numba_mlp demo``: numba-mlp against scikit-learn on digits.

Both libraries train an MLPClassifier with identical parameters on the
standardised digits data set (shipped with scikit-learn, no download). The
JIT is warmed up first with a tiny fit so compilation is not timed.
"""

import statistics
import sys
import time
import warnings

import numpy as np

from ._text import text_table

# Weights closer than this to scikit-learn's are reported as matching.
MATCH_TOLERANCE = 1e-6


def _load_digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _timed_fits(makers, X, y, repeats):
    """Fit a fresh estimator of each maker ``repeats`` times, the makers taking
    turns (so that a busy moment on the machine does not fall on one library
    only); for each maker, its last estimator and its median time."""
    times = {name: [] for name in makers}
    estimators = {}
    for _ in range(repeats):
        for name, make in makers.items():
            estimator = make()
            start = time.perf_counter()
            estimator.fit(X, y)
            times[name].append(time.perf_counter() - start)
            estimators[name] = estimator
    return {name: (estimators[name], statistics.median(times[name])) for name in makers}


def _max_abs_diff(a, b):
    """Largest |difference| over coefs_ and intercepts_; inf if shapes differ."""
    arrays_a = list(a.coefs_) + list(a.intercepts_)
    arrays_b = list(b.coefs_) + list(b.intercepts_)
    if len(arrays_a) != len(arrays_b):
        return float("inf")
    worst = 0.0
    for left, right in zip(arrays_a, arrays_b):
        left, right = np.asarray(left), np.asarray(right)
        if left.shape != right.shape:
            return float("inf")
        worst = max(worst, float(np.max(np.abs(left - right))) if left.size else 0.0)
    return worst


def _save_loss_curves(results, path, say):
    """Draw both libraries' loss curves into a PNG at ``path`` (needs matplotlib)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        say("loss-curve plot skipped: matplotlib is not installed (pip install matplotlib)")
        return
    from pathlib import Path

    from numba_mlp import LossCurveDisplay

    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = figure.subplots()
    numba_est, sklearn_est = results["numba_mlp"][0], results["sklearn"][0]
    LossCurveDisplay.from_estimator(
        numba_est, ax=ax, name="numba_mlp", loss_kwargs={"linewidth": 3, "alpha": 0.6}
    )
    LossCurveDisplay.from_estimator(
        sklearn_est, ax=ax, name="sklearn", loss_kwargs={"color": "C3", "linestyle": "--"}
    )
    ax.legend()
    ax.set_title("digits: training loss per epoch")
    path = Path(path)
    figure.savefig(path, dpi=100)
    say(f"loss curves saved to {path.resolve()}")


def run_demo(hidden_layer_sizes=(100,), max_iter=50, repeats=3, out=None, plot=None):
    """Run the demo, print its report to ``out`` (stdout) and return 0.

    ``plot``: path of a PNG of both libraries' loss curves (skipped, with a
    note, when matplotlib is not installed); None draws nothing.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

    from numba_mlp import MLPClassifier as NumbaMLPClassifier

    out = sys.stdout if out is None else out

    def say(text=""):
        print(text, file=out, flush=True)

    params = dict(
        hidden_layer_sizes=tuple(hidden_layer_sizes),
        solver="adam",
        max_iter=max_iter,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = _load_digits_split()
    n_classes = len(np.unique(y_train))
    shown = ", ".join(f"{key}={value!r}" for key, value in params.items())
    say(
        f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
        f"{X_train.shape[1]} features, {n_classes} classes (StandardScaler)"
    )
    say(f"MLPClassifier({shown})")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)

        start = time.perf_counter()
        tiny = NumbaMLPClassifier(**{**params, "max_iter": 2}).fit(X_train[:100], y_train[:100])
        tiny.predict_proba(X_test[:10])
        warm_up = time.perf_counter() - start
        say(f"Warmed up the Numba JIT with a tiny fit (100 samples, 2 epochs): {warm_up:.2f} s")
        say()

        makers = {
            "numba_mlp": lambda: NumbaMLPClassifier(**params),
            "sklearn": lambda: SklearnMLPClassifier(**params),
        }
        results = {
            name: (estimator, fit_time, estimator.score(X_test, y_test))
            for name, (estimator, fit_time) in _timed_fits(
                makers, X_train, y_train, repeats
            ).items()
        }

    header = ["library", "test accuracy", f"fit time (median of {repeats})", "epochs", "final loss"]
    rows = [
        [name, f"{accuracy:.4f}", f"{fit_time * 1000:.1f} ms", str(est.n_iter_), f"{est.loss_:.6f}"]
        for name, (est, fit_time, accuracy) in results.items()
    ]
    say(text_table(header, rows))
    say()

    numba_est, numba_time, _ = results["numba_mlp"]
    sklearn_est, sklearn_time, _ = results["sklearn"]
    say(f"speed-up (sklearn / numba_mlp fit time): {sklearn_time / numba_time:.2f}x")
    diff = _max_abs_diff(numba_est, sklearn_est)
    verdict = "yes" if diff <= MATCH_TOLERANCE else "NO"
    say(
        f"final weights match sklearn's: {verdict} "
        f"(max |diff| over coefs_ and intercepts_ = {diff:.3g}, tolerance {MATCH_TOLERANCE:g})"
    )
    agreement = float(np.mean(numba_est.predict(X_test) == sklearn_est.predict(X_test)))
    say(f"test predictions identical to sklearn's: {agreement:.2%}")
    if plot is not None:
        _save_loss_curves(results, plot, say)
    return 0
