"""Shared test configuration.

Markers are declared in pyproject.toml ([tool.pytest.ini_options]):

- ``slow``: tests of more than a few seconds each: fresh interpreters (the
  JIT-cache tests), new worker processes, clusters, kernels compiled again.
  They run by default, and CI runs them; deselect them locally with
  ``-m "not slow"`` for a quick loop (under a minute once the kernels are
  compiled).

Shared data, builders and checkers are in ``helpers.py`` (``from helpers
import ...``); the NumPy reference of the kernels is ``reference.py``.
"""

import os
import subprocess
import sys
import textwrap

import pytest


@pytest.fixture
def run_python(tmp_path):
    """Run a Python snippet in a fresh interpreter; return the CompletedProcess.

    ``env`` entries are added to this run's environment (a value of None
    removes the variable). The child never inherits NUMBA_DISABLE_JIT unless
    asked for, and its working directory is a temporary one.
    """

    def run(code, env=None, timeout=600, cwd=None, python=sys.executable):
        child_env = dict(os.environ)
        child_env.pop("NUMBA_DISABLE_JIT", None)
        for key, value in (env or {}).items():
            if value is None:
                child_env.pop(key, None)
            else:
                child_env[key] = str(value)
        return subprocess.run(
            [python, "-c", textwrap.dedent(code)],
            env=child_env,
            cwd=str(cwd or tmp_path),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
