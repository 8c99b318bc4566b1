"""The scikit-learn releases numba-mlp is tested with, and the warning for others.

numba-mlp reproduces scikit-learn's random draws and bookkeeping, which a new
minor release may change; outside the tested window the results may stop
being scikit-learn's, so importing numba_mlp says so (once).
"""

import warnings

#: Minor releases of scikit-learn the test suite runs against.
TESTED_SCIKIT_LEARN = ((1, 8), (1, 9))


def untested_scikit_learn_message(version):
    """A warning text if ``version`` (e.g. '1.10.0') is outside the tested window."""
    try:
        minor = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return None  # a development build: its version says nothing we can check
    if minor in TESTED_SCIKIT_LEARN:
        return None
    tested = " and ".join(f"{major}.{minor_}" for major, minor_ in TESTED_SCIKIT_LEARN)
    return (
        f"numba-mlp is tested with scikit-learn {tested}, and scikit-learn {version} is "
        "installed: results may differ from scikit-learn's. Install a tested release "
        f'(pip install "scikit-learn>={tested.split()[0]},<{TESTED_SCIKIT_LEARN[-1][0]}.'
        f'{TESTED_SCIKIT_LEARN[-1][1] + 1}") or a numba-mlp release that supports yours.'
    )


def warn_if_untested(version):
    """Warn (RuntimeWarning) if scikit-learn ``version`` is outside the tested window."""
    message = untested_scikit_learn_message(version)
    if message is not None:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
