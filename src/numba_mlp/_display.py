"""``LossCurveDisplay``: the training loss per epoch, in scikit-learn's Display style.

matplotlib is optional (extra ``plot``): it is imported when something is
drawn, never when numba_mlp is imported.
"""

from sklearn.utils.validation import check_is_fitted


def _pyplot():
    """matplotlib.pyplot, or an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "LossCurveDisplay needs matplotlib: pip install matplotlib "
            "(or, in a clone of numba-mlp, pip install -e '.[plot]')."
        ) from error
    return plt


def _final_estimator(estimator):
    """The estimator itself, or the last step of a Pipeline."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


class LossCurveDisplay:
    """Training loss per epoch and, with early stopping, validation score per epoch.

    Build it with :meth:`from_estimator` from a model fitted with
    ``solver='sgd'`` or ``'adam'`` (L-BFGS records no per-epoch loss), or
    directly from the numbers and then call :meth:`plot`.

    Parameters
    ----------
    loss_curve : list of float
        Training loss at the end of each epoch (``loss_curve_``).
    validation_scores : list of float or None, default=None
        Validation score after each epoch (``validation_scores_``); drawn on
        a second y axis on the right.
    estimator_name : str or None, default=None
        Name used in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss.
    validation_line_ : matplotlib Line2D or None
        The validation score, if there is one.
    ax_ : matplotlib Axes
        Axes of the training loss.
    ax_validation_ : matplotlib Axes or None
        The twin axes (sharing the epochs) of the validation score.
    figure_ : matplotlib Figure
        Figure holding the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from numba_mlp import LossCurveDisplay, MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=300, early_stopping=True, random_state=0).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> display.figure_.savefig("loss_curve.png")
    """

    def __init__(self, *, loss_curve, validation_scores=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, loss_kwargs=None, validation_kwargs=None, logy=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.
        name : str, default=None
            Legend name; defaults to ``estimator_name``.
        loss_kwargs, validation_kwargs : dict, default=None
            Keyword arguments for ``Axes.plot`` of each line.
        logy : bool, default=False
            Logarithmic loss axis (useful when the loss falls by decades).

        Returns
        -------
        display : LossCurveDisplay
            ``self``, with ``line_``, ``ax_``, ``figure_`` (and the
            validation attributes) set.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = f"{name}: " if name else ""
        epochs = range(1, len(self.loss_curve) + 1)

        loss_style = {"color": "C0", "label": f"{prefix}training loss"}
        loss_style.update(loss_kwargs or {})
        (self.line_,) = ax.plot(epochs, self.loss_curve, **loss_style)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        if logy:
            ax.set_yscale("log")
        lines = [self.line_]

        self.ax_validation_ = None
        self.validation_line_ = None
        if self.validation_scores is not None:
            self.ax_validation_ = ax.twinx()
            validation_style = {"color": "C1", "label": f"{prefix}validation score"}
            validation_style.update(validation_kwargs or {})
            (self.validation_line_,) = self.ax_validation_.plot(
                range(1, len(self.validation_scores) + 1),
                self.validation_scores,
                **validation_style,
            )
            self.ax_validation_.set_ylabel("validation score")
            lines.append(self.validation_line_)

        # the twin axes are drawn on top: a legend there is not hidden by its line
        # (loss usually falls and the score rises, leaving the right middle free)
        legend_ax = ax if self.ax_validation_ is None else self.ax_validation_
        legend_ax.legend(
            lines,
            [line.get_label() for line in lines],
            loc="best" if self.ax_validation_ is None else "center right",
        )
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Plot the loss curve of a fitted MLPClassifier / MLPRegressor.

        Parameters
        ----------
        estimator : fitted MLPClassifier, MLPRegressor or Pipeline ending in one
            Trained with ``solver='sgd'`` or ``'adam'``. scikit-learn's own
            MLP estimators work too (same attributes).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.
        name : str, default=None
            Legend name; defaults to the estimator's class name.
        **kwargs
            Passed to :meth:`plot` (``loss_kwargs``, ``validation_kwargs``,
            ``logy``).

        Returns
        -------
        display : LossCurveDisplay
        """
        model = _final_estimator(estimator)
        check_is_fitted(model)
        loss_curve = getattr(model, "loss_curve_", None)
        if loss_curve is None:
            raise ValueError(
                f"{type(model).__name__} has no loss_curve_: only solver='sgd' "
                f"and solver='adam' record the loss per epoch (solver={model.solver!r})."
            )
        display = cls(
            loss_curve=list(loss_curve),
            validation_scores=(
                None
                if getattr(model, "validation_scores_", None) is None
                else list(model.validation_scores_)
            ),
            estimator_name=type(model).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)
