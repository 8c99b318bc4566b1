"""scikit-learn's callbacks (``sklearn.callback``, experimental, new in 1.9).

A fit is one task with one subtask per epoch (per iteration for L-BFGS).
Each subtask's end hands the callbacks the training data and a copy of the
estimator as it stands, ready to predict; a callback whose
``on_fit_task_end`` returns True stops training after that epoch. Without
callbacks nothing is created, so a fit costs what it did.

With scikit-learn 1.8, which has no callback framework, ``set_callbacks``
raises and fits run as they always did.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Stands in for scikit-learn 1.9's mixin when it is not there."""

        def set_callbacks(self, *callbacks):
            """Not available: scikit-learn's callbacks are new in 1.9."""
            raise ImportError(
                "set_callbacks needs scikit-learn's callback framework (sklearn.callback), "
                "new in scikit-learn 1.9: upgrade scikit-learn to use callbacks."
            )


#: Attributes the callback framework keeps on an estimator: held by
#: reference (callbacks may hold threads and sockets) and never rolled back
#: by a failed fit, so the framework can still tear the callbacks down.
CALLBACK_ATTRIBUTES = frozenset(
    {"_skl_callbacks", "_callback_fit_ctx", "_skl_callbacks_to_teardown", "_parent_callback_ctx"}
)


def has_callbacks(estimator):
    """True if callbacks are set on ``estimator`` or propagated to it."""
    return bool(getattr(estimator, "_skl_callbacks", None)) or hasattr(
        estimator, "_parent_callback_ctx"
    )


class FitTasks:
    """The tasks of one fit, as the callbacks see them: ``begin`` the fit,
    then ``step_begins`` / ``step_ends`` around each epoch or iteration, then
    ``end``. Every method does nothing when no callback is set.

    ``X``, ``y`` and ``sample_weight`` are the training data handed to the
    hooks (``y`` as the user gave it, not binarized); ``state`` returns the
    fitted attributes at that moment (a callable, evaluated only if a
    callback asks for the fitted estimator).
    """

    def __init__(self, estimator, max_steps, X, y, sample_weight):
        self.estimator = estimator
        self.active = has_callbacks(estimator)
        self.hook_data = dict(X=X, y=y, metadata={"sample_weight": sample_weight})
        self.root = None
        self.step = None
        if self.active:
            self.root = estimator._init_callback_context(max_subtasks=max_steps)

    def begin(self):
        """The fit begins."""
        if self.active:
            self.root.call_on_fit_task_begin(estimator=self.estimator, **self.hook_data)

    def step_begins(self, name):
        """An epoch (or iteration) ``name`` begins."""
        if self.active:
            self.step = self.root.subcontext(task_name=name)
            self.step.call_on_fit_task_begin(estimator=self.estimator, **self.hook_data)

    def step_ends(self, state):
        """The epoch ends; True if a callback asks to stop training."""
        if not self.active:
            return False
        return self.step.call_on_fit_task_end(
            estimator=self.estimator, reconstruction_attributes=state, **self.hook_data
        )

    def end(self, state):
        """The fit ends, with the fitted attributes ``state()``."""
        if self.active:
            self.root.call_on_fit_task_end(
                estimator=self.estimator, reconstruction_attributes=state, **self.hook_data
            )
