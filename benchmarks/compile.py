"""asv suite: what compiling the kernels costs a user, in seconds.

The cases of ``python -m numba_mlp bench --compile`` (``numba_mlp._bench_compile``),
each in fresh processes: the cold first fit in an empty kernel cache, each
further kind's first fit in the cache it filled, the warm first fit and the
import. ``setup_cache`` measures them all once per run (a few minutes); each
``track_`` method reports one, so that ``asv continuous`` shows a change that
makes compiling slower like any other regression.
"""

import statistics

from numba_mlp._bench_compile import FURTHER_KINDS, compile_profile


class CompileTime:
    timeout = 1800
    repeat = 1
    number = 1

    def setup_cache(self):
        reports, imports = compile_profile(repeats=1)
        return {"reports": reports, "imports": imports}

    def track_cold_first_fit(self, measured):
        (report,) = measured["reports"]["cold"]
        return report["import"] + report["first"]

    track_cold_first_fit.unit = "seconds"

    def track_further_kind_first_fit(self, measured, kind):
        (report,) = measured["reports"][kind]
        return report["first"] - report["second"]

    track_further_kind_first_fit.unit = "seconds"
    track_further_kind_first_fit.params = list(FURTHER_KINDS)
    track_further_kind_first_fit.param_names = ["kind"]

    def track_warm_first_fit(self, measured):
        (report,) = measured["reports"]["warm"]
        return report["first"] - report["second"]

    track_warm_first_fit.unit = "seconds"

    def track_import(self, measured):
        return statistics.median(measured["imports"]["numba_mlp"])

    track_import.unit = "seconds"

    def track_kernels_compiled_by_cold_fit(self, measured):
        (report,) = measured["reports"]["cold"]
        return report["compiled"]

    track_kernels_compiled_by_cold_fit.unit = "kernels"
