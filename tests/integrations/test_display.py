"""LossCurveDisplay draws real PNG files (matplotlib, Agg backend)."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from numba_mlp import LossCurveDisplay, MLPClassifier, MLPRegressor  # noqa: E402


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(120, 4)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def fitted(**params):
    def fit(X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return MLPClassifier(hidden_layer_sizes=(6,), random_state=0, **params).fit(X, y)

    return fit


def assert_real_png(path):
    """A non-empty PNG, readable back, with more than one colour in it."""
    assert path.stat().st_size > 1000
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.shape[2] in (3, 4)
    assert np.unique(image.reshape(-1, image.shape[2]), axis=0).shape[0] > 10


def test_loss_curve_png(data, tmp_path):
    clf = fitted(max_iter=15)(*data)
    display = LossCurveDisplay.from_estimator(clf)
    try:
        assert display.ax_.figure is display.figure_
        np.testing.assert_array_equal(display.line_.get_ydata(), clf.loss_curve_)
        np.testing.assert_array_equal(display.line_.get_xdata(), np.arange(1, 16))
        assert display.validation_line_ is None and display.ax_validation_ is None
        assert display.ax_.get_xlabel() == "epoch"
        path = tmp_path / "loss.png"
        display.figure_.savefig(path)
        assert_real_png(path)
    finally:
        plt.close(display.figure_)


def test_validation_scores_on_a_twin_axis(data, tmp_path):
    clf = fitted(max_iter=20, early_stopping=True, validation_fraction=0.2)(*data)
    fig, ax = plt.subplots()
    try:
        display = LossCurveDisplay.from_estimator(clf, ax=ax, name="mlp", logy=True)
        assert display.ax_ is ax and display.figure_ is fig
        assert display.ax_validation_ is not ax
        assert display.ax_validation_.get_shared_x_axes().joined(ax, display.ax_validation_)
        np.testing.assert_array_equal(display.validation_line_.get_ydata(), clf.validation_scores_)
        assert display.validation_line_.get_label() == "mlp: validation score"
        assert ax.get_yscale() == "log"
        path = tmp_path / "loss_validation.png"
        fig.savefig(path)
        assert_real_png(path)
    finally:
        plt.close(fig)


def test_plot_from_numbers_and_pipelines(data):
    display = LossCurveDisplay(loss_curve=[1.0, 0.5, 0.25], estimator_name="by hand")
    display.plot(loss_kwargs={"color": "k"})
    assert display.line_.get_color() == "k"
    plt.close(display.figure_)
    pipe = make_pipeline(
        StandardScaler(), MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(data[0], data[0][:, 0])
    display = LossCurveDisplay.from_estimator(pipe)
    assert len(display.line_.get_ydata()) == 5
    plt.close(display.figure_)


def test_lbfgs_has_no_loss_curve(data):
    clf = fitted(solver="lbfgs", max_iter=5)(*data)
    with pytest.raises(ValueError, match="only solver='sgd' and solver='adam'"):
        LossCurveDisplay.from_estimator(clf)
