"""Print the oldest release of every run-time dependency and of Python that
pyproject.toml admits, one requirement a line (``numba==0.60``), with
``python==3.11`` first: what CI's oldest environment installs.

Reading the bounds from pyproject.toml keeps that environment at the declared
floor as the floor moves: a bound that names no installable release, or one
the other floors cannot be installed with, fails CI.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1]).read_text())["project"]
print("python==" + re.fullmatch(r">=\s*([\d.]+)", project["requires-python"]).group(1))
for requirement in project["dependencies"]:
    bound = re.match(r"([A-Za-z0-9_.\-]+)\s*>=\s*([\d.]+)", requirement)
    if bound is None:
        sys.exit(f"{requirement!r} in pyproject.toml has no lower bound (>=) to test")
    print("{}=={}".format(*bound.groups()))
