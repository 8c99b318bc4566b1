"""
Loss curves of numba-mlp and scikit-learn
=========================================

numba-mlp draws the same initial weights, the same shuffles and the same
early-stopping split as scikit-learn for the same ``random_state``, so the two
libraries train the same network: their loss curves coincide, epoch for epoch.

Both models are fitted on the digits data set with the same parameters, and
:class:`numba_mlp.LossCurveDisplay` draws each one's training loss and
validation score (early stopping is on). It accepts scikit-learn's own MLP
estimators too.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.preprocessing import StandardScaler

from numba_mlp import LossCurveDisplay, MLPClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)

params = dict(
    hidden_layer_sizes=(64,), max_iter=60, early_stopping=True, n_iter_no_change=60, random_state=0
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 60 epochs on purpose
    ours = MLPClassifier(**params).fit(X, y)
    theirs = SklearnMLPClassifier(**params).fit(X, y)

# %%
# Side by side
# ------------
# One :class:`~numba_mlp.LossCurveDisplay` per library, on axes sharing the
# epoch axis.

fig, (ax_ours, ax_theirs) = plt.subplots(1, 2, figsize=(11, 4), sharex=True, sharey=True)
LossCurveDisplay.from_estimator(ours, ax=ax_ours, name="numba_mlp")
LossCurveDisplay.from_estimator(theirs, ax=ax_theirs, name="scikit-learn")
ax_ours.set_title("numba_mlp.MLPClassifier")
ax_theirs.set_title("sklearn.neural_network.MLPClassifier")
fig.tight_layout()

# %%
# How close they are
# ------------------
# The largest difference between the two curves, and between the learned
# weights, is at the level of floating-point rounding.

loss_gap = np.max(np.abs(np.subtract(ours.loss_curve_, theirs.loss_curve_)))
weight_gap = max(np.max(np.abs(a - b)) for a, b in zip(ours.coefs_, theirs.coefs_))
print(f"epochs: numba_mlp {ours.n_iter_}, scikit-learn {theirs.n_iter_}")
print(f"largest |loss difference| over the epochs: {loss_gap:.2e}")
print(f"largest |weight difference| after training: {weight_gap:.2e}")
print(
    f"best validation score: numba_mlp {ours.best_validation_score_:.4f}, "
    f"scikit-learn {theirs.best_validation_score_:.4f}"
)

# %%
# Drawn on the same axes, the scikit-learn curve (dashed) lies on top of
# numba-mlp's. A :class:`~numba_mlp.LossCurveDisplay` can also be built from
# numbers you already have, and then plotted.

fig, ax = plt.subplots(figsize=(6, 4))
LossCurveDisplay(loss_curve=ours.loss_curve_, estimator_name="numba_mlp").plot(
    ax=ax, logy=True, loss_kwargs={"linewidth": 5, "alpha": 0.4}
)
ax.plot(
    range(1, theirs.n_iter_ + 1), theirs.loss_curve_, "k--", label="scikit-learn: training loss"
)
ax.legend(loc="upper right")
ax.set_title("The two training losses, one axis (log scale)")
fig.tight_layout()
plt.show()
