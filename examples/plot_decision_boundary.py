"""
Decision boundary on two moons
==============================

An :class:`numba_mlp.MLPClassifier` learns the curved boundary between the two
half-moons of :func:`sklearn.datasets.make_moons`.
scikit-learn's :class:`~sklearn.inspection.DecisionBoundaryDisplay` draws the
predicted probability of the second class over the plane; the estimator is a
drop-in for scikit-learn's, so the display works with it as it is.

The three panels differ only in the hidden layers: two hidden nodes can draw
little more than a bent line; two layers of 32 nodes follow the moons.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from numba_mlp import MLPClassifier

X, y = make_moons(n_samples=300, noise=0.25, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True, sharey=True)
for ax, hidden in zip(axes, ((2,), (8,), (32, 32))):
    clf = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=hidden, max_iter=2000, random_state=0),
    ).fit(X_train, y_train)
    DecisionBoundaryDisplay.from_estimator(
        clf,
        X,
        response_method="predict_proba",
        plot_method="contourf",
        cmap="RdBu",
        alpha=0.7,
        ax=ax,
        grid_resolution=200,
    )
    ax.scatter(
        X_train[:, 0], X_train[:, 1], c=y_train, cmap="RdBu", edgecolors="k", s=20, label="training"
    )
    ax.scatter(
        X_test[:, 0],
        X_test[:, 1],
        c=y_test,
        cmap="RdBu",
        edgecolors="k",
        marker="^",
        s=30,
        label="test",
    )
    mlp = clf[-1]
    ax.set_title(
        f"hidden_layer_sizes={hidden}\n"
        f"test accuracy {clf.score(X_test, y_test):.2f} ({mlp.n_iter_} epochs)"
    )
    print(
        f"hidden_layer_sizes={hidden}: {mlp.n_iter_} epochs, final loss {mlp.loss_:.4f}, "
        f"test accuracy {clf.score(X_test, y_test):.3f}"
    )
axes[0].legend(loc="lower right")
fig.suptitle("numba_mlp.MLPClassifier on make_moons: probability of the blue class")
fig.tight_layout()
plt.show()
