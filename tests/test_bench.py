"""The ``bench`` command on tiny cases: it times both libraries and reports
a ratio per case (the figures themselves are for the README, not for tests)."""

import io
import re

import numpy as np

from numba_mlp import _bench


def test_bench_reports_every_case_with_a_ratio(monkeypatch):
    fit_case = _bench.FitCase(300, 5, (4,), target=1.0)
    online_case = _bench.FitCase(50, 5, (3,), target=1.0, batch_size=1, solver="sgd")
    predict_case = _bench.PredictCase(1, 5, (4,), target=1.0)
    monkeypatch.setattr(_bench, "FIT_CASES", (fit_case, online_case))
    monkeypatch.setattr(_bench, "PREDICT_CASES", (predict_case,))
    monkeypatch.setattr(_bench, "SKLEARN_ONLINE_SAMPLES", 20)
    monkeypatch.setattr(_bench, "gemm_rate", lambda dtype: 1.0)
    out = io.StringIO()
    assert _bench.run_bench(quick=True, out=out) == 0
    report = out.getvalue()
    for case in (fit_case, online_case, predict_case):
        line = next(line for line in report.splitlines() if line.startswith(case.name))
        ratio = float(re.search(r"([0-9.]+)x ", line).group(1))
        assert np.isfinite(ratio) and ratio > 0


def test_epoch_flops_count_six_per_weight_and_sample():
    # forward (2), back signal (2) and gradient (2) multiply-adds per weight
    case = _bench.FitCase(10, 3, (4,), target=1.0)
    assert case.flops == 6 * (3 * 4 + 4 * 1) * 10
