"""
Class imbalance: ``class_weight='balanced'``
============================================

Three classes, the rarest 20 times less frequent than the most common. Trained
on plain log loss, the network can score a high accuracy by neglecting the rare
classes; ``class_weight='balanced'`` weighs every sample by
``n_samples / (n_classes * count of its class)``, so each class counts as much
in the loss as the others. The balanced accuracy (the mean of the per-class
recalls) shows the difference; the confusion matrices show where it comes from.

``class_weight`` is numba-mlp's: scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`
only takes ``sample_weight`` (which gives the very same model, see the test suite).
"""

import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from numba_mlp import MLPClassifier

X, y = make_classification(
    n_samples=3000,
    n_features=10,
    n_informative=4,
    n_classes=3,
    n_clusters_per_class=1,
    weights=[0.84, 0.12, 0.04],
    class_sep=0.7,
    random_state=3,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
for ax, class_weight in zip(axes, (None, "balanced")):
    clf = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(32,), class_weight=class_weight, max_iter=300, random_state=0
        ),
    ).fit(X_train, y_train)
    predicted = clf.predict(X_test)
    balanced = balanced_accuracy_score(y_test, predicted)
    accuracy = accuracy_score(y_test, predicted)
    ConfusionMatrixDisplay.from_predictions(y_test, predicted, ax=ax, colorbar=False)
    scores = f"balanced accuracy {balanced:.3f}, accuracy {accuracy:.3f}"
    ax.set_title(f"class_weight={class_weight!r}\n{scores}")
    print(f"class_weight={class_weight!r}: {scores}")
fig.tight_layout()
plt.show()
