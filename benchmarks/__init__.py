"""asv benchmarks of numba-mlp against scikit-learn (see ``asv.json``)."""
