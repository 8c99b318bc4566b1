"""Command line of numba-mlp: ``python -m numba_mlp <command> [options]``.

Commands:

- ``demo``: train numba-mlp's and scikit-learn's MLPClassifier on the digits
  data set with the same parameters; compare accuracy, fit time and weights.
- ``bench``: time both libraries on the performance table's shapes.
- ``trace``: one training step of the handouts' worked examples, node by node.
- ``compile``: compile the kernels of the chosen kinds of fit into the cache.

A command is a function ``add_<name>(subparsers)`` that declares its parser
and sets ``handler`` to a callable taking the parsed arguments and returning
an exit code; add it to ``COMMANDS``. Handlers import their module lazily so
``--help`` stays fast.
"""

import argparse
import sys


def _hidden_layer_sizes(text):
    """Parse ``"100"`` or ``"256,128"`` into a tuple of positive ints."""
    try:
        sizes = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer sizes such as 100 or 256,128, got {text!r}"
        )
    return sizes


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _run_demo(args):
    from ._demo import run_demo

    return run_demo(
        hidden_layer_sizes=args.hidden,
        max_iter=args.max_iter,
        repeats=args.repeats,
        plot=None if args.no_plot else args.plot,
    )


def add_demo(subparsers):
    parser = subparsers.add_parser(
        "demo",
        help="numba-mlp vs scikit-learn MLPClassifier on the digits data set",
        description=(
            "Train numba_mlp.MLPClassifier and sklearn.neural_network.MLPClassifier "
            "with the same parameters (solver='adam', random_state=0) on scikit-learn's "
            "digits data set (standardised, 75/25 split with random_state=0). Prints test "
            "accuracy, median fit time, the speed-up and how far the learned weights are "
            "from scikit-learn's."
        ),
    )
    parser.add_argument(
        "--max-iter",
        type=_positive_int,
        default=50,
        metavar="N",
        help="training epochs (default: %(default)s)",
    )
    parser.add_argument(
        "--hidden",
        type=_hidden_layer_sizes,
        default=(100,),
        metavar="SIZES",
        help="hidden layer sizes, comma separated, e.g. 100 or 256,128 (default: 100)",
    )
    parser.add_argument(
        "--repeats",
        type=_positive_int,
        default=3,
        metavar="N",
        help="fits per library; the median time is reported (default: %(default)s)",
    )
    parser.add_argument(
        "--plot",
        default="numba_mlp_loss_curve.png",
        metavar="PATH",
        help="PNG of both libraries' loss curves, written when matplotlib is installed "
        "(default: %(default)s in the current directory)",
    )
    parser.add_argument(
        "--no-plot",
        action="store_true",
        help="do not draw the loss curves",
    )
    parser.set_defaults(handler=_run_demo)


def _run_bench(args):
    from ._bench import run_bench

    return run_bench(quick=args.quick, load=not args.no_load, compile_only=args.compile)


def add_bench(subparsers):
    parser = subparsers.add_parser(
        "bench",
        help="numba-mlp vs scikit-learn, fit and predict, on the performance table's shapes",
        description=(
            "Time numba_mlp and scikit-learn side by side (same data, parameters and "
            "random_state; float64, adam, default batch size) on each shape of the "
            "performance table; print per-epoch times, the speed-up, GFLOP/s and their "
            "share of numpy's GEMM rate, peak traced memory, and PyTorch/JAX columns when "
            "those are installed. The cases are then timed again while another process "
            "keeps one core busy, and a small GridSearchCV is timed with n_jobs=1 and "
            "with n_jobs=2 on joblib's threading and loky backends. A few minutes; "
            "--quick one or two."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 runs per case instead of 5, large shapes cut to 5,000 samples, no float32 "
        "rows; under load, only the minibatch shapes of at most 20,000 rows",
    )
    parser.add_argument(
        "--no-load",
        action="store_true",
        help="skip the cases timed with one core busy",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="only the compile section: cold and warm first fits, each further kind of fit's "
        "first compile, import time; fresh processes, medians of 3 (--quick: 1); minutes",
    )
    parser.set_defaults(handler=_run_bench)


def _run_trace(args):
    from .worked_examples import run_trace

    return run_trace(example=args.example, learning_rate=args.learning_rate)


def _positive_float(text):
    from ._validation import check_learning_rate

    try:
        return check_learning_rate(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive, finite number, got {text!r}"
        ) from None


def add_trace(subparsers):
    parser = subparsers.add_parser(
        "trace",
        help="one training step of the handouts' worked examples, node by node",
        description=(
            "Print every node's net input, activation and delta, and every weight's "
            "gradient and change, for one plain gradient-descent step on one example, "
            "computed by numba-mlp's training kernels (numba_mlp.trace_step). 'alice' is "
            "the 2-2-1 network of 'Introduction to Neural Networks' (all weights 1, "
            "biases 0, sigmoid everywhere, squared error); 'handout' is the 3-4-1 network "
            "of 'Neural Networks from Scratch'. Footnotes compare with the documents' "
            "numbers (which use the full squared error, twice scikit-learn's half)."
        ),
    )
    parser.add_argument(
        "--example",
        choices=("alice", "handout"),
        default="alice",
        help="which worked example (default: %(default)s)",
    )
    parser.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=None,
        metavar="ETA",
        help="step size of the weight changes (default: 0.1 for alice, 0.01 for handout)",
    )
    parser.set_defaults(handler=_run_trace)


def _run_compile(args):
    from ._compile import INPUTS, TRAININGS, kinds, run_compile

    if args.all:
        chosen = kinds()
    else:
        chosen = kinds(args.dtype or ("float64",), args.input or INPUTS, args.training or TRAININGS)
    if args.list:
        print("\n".join(chosen))
        return 0
    return run_compile(chosen, args.jobs)


def add_compile(subparsers):
    from ._compile import DTYPES, INPUTS, TRAININGS, default_jobs

    parser = subparsers.add_parser(
        "compile",
        help="compile the kernels of the chosen kinds of fit into the cache, ahead of time",
        description=(
            "Compile the kernels that fits of the chosen kinds run into the kernel cache "
            "(NUMBA_CACHE_DIR when set), by fitting a tiny problem of each kind, several "
            "kinds at once in separate processes. For an image build, a CI cache or a "
            "cluster's workers: later fits of these kinds load their kernels instead of "
            "compiling them. A kind is a dtype, an input and a way of training; the "
            "default is every float64 kind, --all adds float32."
        ),
    )
    parser.add_argument("--all", action="store_true", help="every kind (float64 and float32)")
    parser.add_argument(
        "--dtype", action="append", choices=DTYPES, help="repeatable (default: float64)"
    )
    parser.add_argument(
        "--input", action="append", choices=INPUTS, help="repeatable (default: both)"
    )
    parser.add_argument(
        "--training",
        action="append",
        choices=TRAININGS,
        help="minibatch: adam or sgd; online: batch_size=1; lbfgs (repeatable; default: all)",
    )
    parser.add_argument(
        "--jobs",
        type=_positive_int,
        default=default_jobs(),
        metavar="N",
        help="kinds compiled at once, each in its own process (default: the cores, %(default)s)",
    )
    parser.add_argument(
        "--list", action="store_true", help="print the chosen kinds and compile nothing"
    )
    parser.set_defaults(handler=_run_compile)


COMMANDS = (add_demo, add_bench, add_trace, add_compile)


def _version_line():
    """numba-mlp's version and those of the libraries it runs on."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    from . import __version__

    others = ", ".join(f"{name} {installed(name)}" for name in ("numba", "numpy", "scikit-learn"))
    return f"numba-mlp {__version__} ({others}; Python {sys.version.split()[0]})"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m numba_mlp",
        description="numba-mlp: scikit-learn's MLPClassifier/MLPRegressor as Numba kernels.",
    )
    parser.add_argument("--version", action="version", version=_version_line())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None):
    """Entry point of ``python -m numba_mlp`` and the ``numba-mlp`` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
