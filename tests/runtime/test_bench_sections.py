"""The bench command's pieces that are not timings: the busy core of the
"under load" section (running during the block, gone after it however the
block ends, even when the bench itself is killed), the interleaved timer, the
grid-search case, and the report's sections and columns.

The report tests replace the timers by fixed figures, so they check what is
printed and when the load runs, not how fast anything is; the real timers
run in ``tests/integrations/test_cli.py``.
"""

import contextlib
import io
import os
import re
import signal
import time

import pytest
import sklearn.dummy

from numba_mlp import _bench, benchmark_cases
from numba_mlp.__main__ import main
from numba_mlp.benchmark_cases import FitCase, GridSearchCase, PredictCase, busy_core

pytestmark = pytest.mark.filterwarnings("ignore")

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")


def is_running(pid):
    """Whether process ``pid`` exists and has not exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def cpu_seconds(pid):
    """User plus system CPU time of process ``pid``, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -------------------------------------------------------------- busy_core


@needs_proc
def test_busy_core_spins_during_the_block_and_is_gone_after():
    with busy_core() as process:
        assert process.poll() is None
        before = cpu_seconds(process.pid)
        time.sleep(0.5)
        assert cpu_seconds(process.pid) > before  # spinning, not waiting
    assert process.returncode is not None
    assert not is_running(process.pid)


@needs_proc
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_busy_core_is_gone_when_the_block_raises(error):
    with pytest.raises(error), busy_core() as process:
        raise error("stopped inside the block")
    assert process.returncode is not None
    assert not is_running(process.pid)


@pytest.mark.slow  # a fresh interpreter
@needs_proc
def test_busy_process_stops_by_itself_when_the_bench_is_killed(run_python):
    """A process killed outright runs no ``finally``: the busy child notices
    that its parent is gone and stops."""
    result = run_python(
        """
        import os, signal
        from numba_mlp.benchmark_cases import busy_core
        with busy_core() as process:
            print(process.pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """,
        timeout=30,
    )
    assert result.returncode == -signal.SIGKILL
    child = int(result.stdout.split()[0])
    deadline = time.monotonic() + 10
    while is_running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_running(child)


# ------------------------------------------------------------ the timers


def test_interleaved_medians_calls_the_functions_in_turn(monkeypatch):
    """Each function's own durations, on a fake clock that only the functions
    move: the median of each, whatever the other one took; every round calls
    each once, and no function always follows the same one."""
    clock = [0.0]
    calls = []
    monkeypatch.setattr(benchmark_cases.time, "perf_counter", lambda: clock[0])

    def function(name, durations):
        durations = iter(durations)

        def call():
            calls.append(name)
            clock[0] += next(durations)

        return call

    medians = benchmark_cases.interleaved_medians(
        {
            "a": function("a", [1.0, 5.0, 2.0, 4.0, 3.0]),
            "b": function("b", [30.0, 10.0, 20.0, 50.0, 40.0]),
            "c": function("c", [7.0, 8.0, 9.0, 6.0, 5.0]),
        },
        repeats=5,
    )
    rounds = [calls[i : i + 3] for i in range(0, 15, 3)]
    assert rounds[0] == ["a", "b", "c"]
    assert all(sorted(round_) == ["a", "b", "c"] for round_ in rounds)
    next_ones = {name: set() for name in "abc"}
    for name, next_one in zip(calls, calls[1:]):
        next_ones[name].add(next_one)
    assert all(len(followers) > 1 for followers in next_ones.values())
    assert medians == {"a": 3.0, "b": 30.0, "c": 7.0}


def test_interleaved_medians_pause_after_each_call_untimed(monkeypatch):
    clock, pauses = [0.0], []
    monkeypatch.setattr(benchmark_cases.time, "perf_counter", lambda: clock[0])

    def sleep(seconds):
        pauses.append(seconds)
        clock[0] += seconds  # the pause moves the clock, between two timings

    monkeypatch.setattr(benchmark_cases.time, "sleep", sleep)

    def call():
        clock[0] += 1.0

    medians = benchmark_cases.interleaved_medians({"a": call, "b": call}, repeats=2, pause=7.0)
    assert pauses == [7.0] * 4
    assert medians == {"a": 1.0, "b": 1.0}


def test_grid_search_case_fits_every_candidate_for_the_same_epochs():
    from numba_mlp import MLPClassifier

    case = GridSearchCase(
        90, 4, (3,), alphas=(1e-4, 1e-2), cv=3, epochs=4, target=1, parallel_target=1
    )
    X, y = benchmark_cases.make_data(case.n_samples, case.n_features)
    serial = case.search(MLPClassifier)
    assert serial.n_jobs == 1 and serial.cv == 3
    assert serial.param_grid == {"alpha": [1e-4, 1e-2]}
    search = case.run(MLPClassifier, X, y, backend="threading")
    assert search.n_jobs == 2
    assert len(search.cv_results_["params"]) == 2
    assert search.best_estimator_.n_iter_ == case.epochs
    assert search.best_estimator_.tol == 0


def test_the_large_shapes_are_left_out_under_load_only_with_quick():
    fits, predicts = benchmark_cases.FIT_CASES, benchmark_cases.PREDICT_CASES
    assert _bench.under_load_cases(fits, predicts, quick=False) == (fits, predicts)
    quick_fits, quick_predicts = _bench.under_load_cases(fits, predicts, quick=True)
    assert 0 < len(quick_fits) < len(fits) and 0 < len(quick_predicts) < len(predicts)
    assert all(case.n_samples <= 20_000 and case.batch_size == "auto" for case in quick_fits)


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_predict_cases_time_the_method_they_name(monkeypatch, method):
    called = []

    def recording(name):
        class Recording(sklearn.dummy.DummyClassifier):
            def predict(self, X):
                called.append((name, "predict"))
                return super().predict(X)

            def predict_proba(self, X):
                called.append((name, "predict_proba"))
                return super().predict_proba(X)

        return lambda hidden_layer_sizes, max_iter, random_state: Recording()

    monkeypatch.setattr(
        _bench, "_classifiers", lambda: {name: recording(name) for name in ("numba_mlp", "sklearn")}
    )
    case = PredictCase(1, 5, (4,), target=1.0, method=method)
    assert case.name == f"{method} 1 row x 5, (4,)"
    times = _bench.time_predicts(case, repeats=1)
    assert set(times) == {"numba_mlp", "sklearn"}
    assert set(called) == {("numba_mlp", method), ("sklearn", method)}


# ------------------------------------------------------------ the report

#: per sample, 6 flops per weight but 2 fewer for each of the first layer's:
#: (6 x (10 x 10 + 10 x 1) - 2 x 10 x 10) x 1,000 = 460,000 flops an epoch
FIT_CASE = FitCase(1_000, 10, (10,), target=2.0)
PREDICT_CASE = PredictCase(1, 10, (10,), target=3.0)
GRID_CASE = GridSearchCase(
    60, 4, (3,), alphas=(1e-4,), cv=2, epochs=2, target=4, parallel_target=1.6
)


class FakeBench:
    """Fixed figures in place of the bench's timers, noting whether the busy
    process runs when each is called: our epoch takes 0.1 ms (4.6 GFLOP/s,
    46% of a 10 GFLOP/s GEMM rate), scikit-learn's 0.4 ms, numpy's products
    of an epoch 0.08 ms quiet and 0.2 ms under load."""

    def __init__(self, monkeypatch):
        self.busy = []  # the busy processes started, in order
        self.loaded_calls = []  # per timer call: was the core busy?
        self.products_calls = []  # per products_time call: was the core busy?
        monkeypatch.setattr(_bench, "FIT_CASES", (FIT_CASE,))
        monkeypatch.setattr(_bench, "PREDICT_CASES", (PREDICT_CASE,))
        monkeypatch.setattr(_bench, "GRID_SEARCH_CASE", GRID_CASE)
        monkeypatch.setattr(_bench, "gemm_rate", lambda dtype: 10.0)
        monkeypatch.setattr(_bench, "busy_core", self.busy_core)
        monkeypatch.setattr(_bench, "time_fits", self.time_fits)
        monkeypatch.setattr(_bench, "products_time", self.products_time)
        monkeypatch.setattr(_bench, "time_predicts", self.time_predicts)
        monkeypatch.setattr(_bench, "time_grid_searches", self.time_grid_searches)

    @contextlib.contextmanager
    def busy_core(self):
        with busy_core() as process:
            self.busy.append(process)
            yield process

    def core_is_busy(self):
        return any(process.poll() is None for process in self.busy)

    def time_fits(self, case, repeats, runs):
        self.loaded_calls += [self.core_is_busy()] * 2  # both libraries
        assert set(runs) == {"numba_mlp", "sklearn", _bench.ONE_THREAD}
        return {"numba_mlp": (1e-4, 1.0), "sklearn": (4e-4, 2.0), _bench.ONE_THREAD: (1.1e-4, 0)}

    def products_time(self, shapes, dtype, repeats):
        self.products_calls.append(self.core_is_busy())
        return 2e-4 if self.core_is_busy() else 8e-5

    def time_predicts(self, case, repeats):
        self.loaded_calls += [self.core_is_busy()] * 2  # both libraries
        return {"numba_mlp": 1e-5, "sklearn": 6e-5}

    def time_grid_searches(self, case, repeats):
        assert not self.core_is_busy()
        seconds = {None: 1.0, "threading": 0.5, "loky": 0.625}
        return {
            (library, backend): value * (1 if library == "numba_mlp" else 5)
            for backend, value in seconds.items()
            for library in ("numba_mlp", "sklearn")
        }


def table_after(report, title):
    """The lines of the first table after the line starting with ``title``:
    its header, its rule and its rows."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title)) + 1
    while not lines[start]:
        start += 1
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


def cells(line):
    return re.split(r"\s{2,}", line.strip())


def test_report_has_the_quiet_and_loaded_tables_and_the_grid_searches(monkeypatch):
    fake = FakeBench(monkeypatch)
    out = io.StringIO()
    assert _bench.run_bench(quick=True, out=out) == 0
    report = out.getvalue()

    quiet = table_after(report, "fit: time per epoch")
    loaded = table_after(report, "under load (one core busy)")
    for table in (quiet, loaded):
        header = cells(table[0])
        assert header[: len(_bench.CASE_HEADER)] == _bench.CASE_HEADER
        fit_row = dict(zip(header, cells(next(row for row in table if row.startswith("fit ")))))
        assert fit_row["speed-up"] == "4.00x"
        assert fit_row["GFLOP/s"] == "4.6"
        assert fit_row["% peak"] == "46%"
        # under load too, against the bound of the quiet machine
        assert fit_row["% GEMM bound"] == "80%"
        assert fit_row["vs our 1 thread"] == "1.10x"
        predict_row = dict(zip(header, cells(next(r for r in table if r.startswith("predict")))))
        assert predict_row["speed-up"] == "6.00x"
        assert predict_row["% GEMM bound"] == "-"
        assert predict_row["vs our 1 thread"] == "-"

    # four quiet timer calls (fit and predict, both libraries), then four loaded
    assert fake.loaded_calls == [False] * 4 + [True] * 4
    assert fake.products_calls == [False]  # the bound is timed once, quiet
    assert len(fake.busy) == 1 and fake.busy[0].returncode is not None

    serial, threading, loky = (cells(row) for row in table_after(report, "grid search:")[2:])
    assert serial == ["GridSearchCV n_jobs=1", "1.00 s", "5.00 s", "5.00x", "-", "-", "-"]
    assert threading == [
        "GridSearchCV n_jobs=2 threading",
        "500.0 ms",
        "2.50 s",
        "5.00x",
        ">= 4x",
        "2.00x",
        ">= 1.6x",
    ]
    assert loky[0] == "GridSearchCV n_jobs=2 loky" and loky[5] == "1.60x"  # 1 s / 0.625 s


def test_no_load_leaves_out_the_loaded_table(monkeypatch, capsys):
    fake = FakeBench(monkeypatch)
    assert main(["bench", "--quick", "--no-load"]) == 0
    report = capsys.readouterr().out
    assert "under load" not in report
    assert "GridSearchCV n_jobs=2 loky" in report
    assert fake.busy == [] and not any(fake.loaded_calls)


@needs_proc
def test_the_busy_process_is_gone_when_a_timer_raises_under_load(monkeypatch):
    fake = FakeBench(monkeypatch)

    def failing_time_fits(*args):
        if fake.core_is_busy():
            raise KeyboardInterrupt
        return {"numba_mlp": (1e-4, 1.0), "sklearn": (4e-4, 2.0)}

    monkeypatch.setattr(_bench, "time_fits", failing_time_fits)
    with pytest.raises(KeyboardInterrupt):
        _bench.run_bench(quick=True, out=io.StringIO())
    assert len(fake.busy) == 1
    assert fake.busy[0].returncode is not None
    assert not is_running(fake.busy[0].pid)


def test_noisy_times_print_a_dash_not_nan(monkeypatch):
    FakeBench(monkeypatch)
    noisy = (float("nan"), 1.0)
    monkeypatch.setattr(_bench, "time_fits", lambda *args: {"numba_mlp": noisy, "sklearn": noisy})
    out = io.StringIO()
    _bench.run_bench(quick=True, load=False, out=out)
    row = next(line for line in out.getvalue().splitlines() if line.startswith("fit "))
    assert "nan" not in row and "noisy: rerun" in row


# -------------------------------------------------------------- bench --compile


def fake_report(first, second, compiled, imported=1.0):
    return {"import": imported, "first": first, "second": second, "compiled": compiled}


def test_the_compile_section_prints_medians_of_the_fresh_processes(monkeypatch):
    from numba_mlp import _bench_compile

    kinds = {name: [fake_report(3.0, 1.0, 4)] * 3 for name in _bench_compile.FURTHER_KINDS}
    kinds["float32"] = [fake_report(f, 1.0, 50) for f in (21.0, 25.0, 22.0)]
    reports = {
        "cold": [fake_report(f, 1.0, 60, imported=1.5) for f in (20.0, 30.0, 18.0)],
        "warm": [fake_report(1.25, 1.0, 0)] * 3,
        **kinds,
    }
    imports = {"numba_mlp": [1.2, 1.4, 1.3], "sklearn.neural_network": [1.0, 1.1, 0.9]}
    monkeypatch.setattr(_bench_compile, "compile_profile", lambda repeats: (reports, imports))
    monkeypatch.setattr(_bench_compile, "cold_under_load", lambda repeats: [40.0, 44.0, 41.0])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["bench", "--compile", "--no-load"]) == 0
    assert "cold, with one core busy" not in out.getvalue()
    out = io.StringIO()
    assert _bench.run_bench(compile_only=True, out=out) == 0
    report = out.getvalue()
    lines = {line.split("  ")[0]: line for line in report.splitlines()}
    assert "21.5 s" in lines["cold: import + first MLPClassifier().fit (digits)"]  # 1.5 + 20
    assert "41.0 s" in lines["cold, with one core busy"]
    assert "+21.0 s" in lines["then, first float32 fit: over its second"]  # 22 - 1
    assert lines["then, first float32 fit: over its second"].rstrip().endswith("50")
    assert "+0.25 s" in lines["warm: first fit in a new process, over its second"]
    assert "import numba_mlp: 1.30 s; import sklearn.neural_network: 1.00 s" in report
    assert "grid search" not in report  # the compile section alone
