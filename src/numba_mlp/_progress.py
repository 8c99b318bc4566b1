"""What a stochastic fit reports after each epoch, by ``verbose`` level.

- ``verbose=0`` / ``False``: nothing.
- ``verbose=1`` / ``True``: scikit-learn's lines, character for character
  (``Iteration 3, loss = 0.12345678`` and, with early stopping,
  ``Validation score: 0.912000``), on stdout.
- ``verbose>=2``: a tqdm progress bar over the epochs of ``fit`` (on stderr,
  or a widget in a notebook) whose postfix shows the current loss and, with
  early stopping, the validation score. Without tqdm installed (extra
  ``progress``), and for ``partial_fit`` (one epoch per call), the lines of
  ``verbose=1`` instead.

``_fit_stochastic`` makes one ``EpochProgress`` before its epoch loop, calls
``epoch_ends`` once per epoch, prints its stopping messages through ``say``
(above the bar, never into it) and calls ``close`` before any warning.
"""


def _tqdm():
    """tqdm's notebook-aware bar class, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class EpochProgress:
    """Per-epoch report of one ``fit`` / ``partial_fit`` call."""

    def __init__(self, estimator, incremental=False):
        verbose = estimator.verbose
        self.verbose = bool(verbose)
        self.bar = None
        if verbose is not True and verbose >= 2 and not incremental:
            tqdm = _tqdm()
            if tqdm is not None:
                self.bar = tqdm(
                    total=estimator.max_iter,
                    desc=type(estimator).__name__,
                    unit="epoch",
                    dynamic_ncols=True,
                )

    def epoch_ends(self, estimator, early_stopping):
        """Report the epoch that just ended (``n_iter_``, ``loss_``, validation score)."""
        validation_score = estimator.validation_scores_[-1] if early_stopping else None
        if self.bar is not None:
            postfix = {"loss": f"{estimator.loss_:.6f}"}
            if validation_score is not None:
                postfix["validation score"] = f"{validation_score:.4f}"
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(1)
        elif self.verbose:
            # scikit-learn's _fit_stochastic and _update_no_improvement_count
            print("Iteration %d, loss = %.8f" % (estimator.n_iter_, estimator.loss_))
            if validation_score is not None:
                print("Validation score: %f" % validation_score)

    def say(self, message):
        """Print a message (the stopping messages) on its own line, above the bar."""
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message)

    def close(self):
        """Finish the bar (it stays on screen, at the epoch training stopped)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
