"""
Prediction intervals with ``loss='quantile'``
=============================================

With the pinball loss, an :class:`numba_mlp.MLPRegressor` predicts a quantile
of ``y`` given ``x`` instead of its mean. Three networks, for the 5 %, 50 %
and 95 % quantiles, draw a 90 % band around a noisy sine whose noise grows with
``x`` (so the band must widen). On new samples the band should hold about 90 %
of them; the printed coverage says how close it comes.

``loss='quantile'`` (and ``loss='huber'``) are numba-mlp's: scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor` has only the squared error and
the Poisson deviance.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from numba_mlp import MLPRegressor

# the loss still creeps down after 300 epochs; the band no longer moves
warnings.filterwarnings("ignore", category=ConvergenceWarning)

rng = np.random.RandomState(0)


def sample(n):
    x = rng.uniform(0, 10, n)
    y = np.sin(x) + rng.normal(scale=0.1 + 0.06 * x)
    return x.reshape(-1, 1), y


X_train, y_train = sample(2000)
X_test, y_test = sample(2000)
grid = np.linspace(0, 10, 400).reshape(-1, 1)

predictions = {}
for quantile in (0.05, 0.5, 0.95):
    model = MLPRegressor(
        hidden_layer_sizes=(64, 64),
        loss="quantile",
        quantile=quantile,
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    ).fit(X_train / 10, y_train)
    predictions[quantile] = (model.predict(grid / 10), model.predict(X_test / 10))

low, high = predictions[0.05][1], predictions[0.95][1]
coverage = np.mean((y_test >= low) & (y_test <= high))
print(f"share of new samples inside the 5 %-95 % band: {coverage:.3f} (aim: 0.90)")

fig, ax = plt.subplots(figsize=(8, 4.5))
ax.scatter(X_test[:, 0], y_test, s=4, color="0.6", label="new samples")
ax.fill_between(
    grid[:, 0],
    predictions[0.05][0],
    predictions[0.95][0],
    alpha=0.3,
    label=f"5 %-95 % band (holds {coverage:.1%} of new samples)",
)
ax.plot(grid[:, 0], predictions[0.5][0], color="C1", label="median (quantile=0.5)")
ax.plot(grid[:, 0], np.sin(grid[:, 0]), "k--", linewidth=1, label="sin(x)")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend(loc="lower left")
ax.set_title("numba_mlp.MLPRegressor(loss='quantile')")
fig.tight_layout()
plt.show()
