"""Every code example of the README and docs/*.md runs, and the printed outputs
the pages show are what the commands print now.

The fenced ``python`` blocks of one page run in order in one namespace (a
later block may use an earlier block's names), in a temporary directory. A
block not meant to run (a sketch, a real cluster's address) has the line
``<!-- not run: why -->`` just before its fence; the markdown renders it as
nothing.
"""

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

BLOCK = re.compile(
    r"^(?:<!-- not run: (?P<reason>[^\n]+?) -->\n)?```(?P<language>[\w-]*)\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


def blocks_of(page):
    """``(first line number, code, reason not run or None)`` of each python block."""
    text = page.read_text()
    return [
        (text[: match.start("code")].count("\n") + 1, match["code"], match["reason"])
        for match in BLOCK.finditer(text)
        if match["language"] == "python"
    ]


def fenced_output(page, first_line):
    """The lines of the plain fenced block whose first line is ``first_line``."""
    for match in BLOCK.finditer(page.read_text()):
        if match["language"] == "" and match["code"].startswith(first_line):
            return match["code"].splitlines()
    raise AssertionError(f"{page.name} shows no output starting {first_line!r}")


@pytest.mark.slow  # digits fits, searches, a dask cluster in this process: ~30 s in all
@pytest.mark.parametrize(
    "page", [p for p in PAGES if blocks_of(p)], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_the_examples_of_a_page_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files an example writes land here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    for line, code, reason in blocks_of(page):
        if reason is not None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # examples stop at max_iter; their output is theirs
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, f"{page.name}, line {line}", "exec"), namespace)


def test_blocks_not_run_say_why_and_are_few():
    not_run = [
        (page.name, line, reason)
        for page in PAGES
        for line, _, reason in blocks_of(page)
        if reason is not None
    ]
    assert all(len(reason) > 10 for _, _, reason in not_run), not_run
    assert len(not_run) <= 4, not_run


def printed(*argv):
    """What ``python -m numba_mlp <argv>`` prints."""
    from numba_mlp.__main__ import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(list(argv))
    return out.getvalue().splitlines()


@pytest.mark.parametrize(
    "argv, first_line",
    [
        ((), "The 2-2-1 network"),
        (("--example", "handout"), "The 3-4-1 network"),
    ],
)
def test_the_trace_tables_shown_are_what_the_command_prints(argv, first_line):
    output = printed("trace", *argv)
    assert fenced_output(ROOT / "docs" / "trace.md", first_line) == output
    # the README shows the start of the first, "..." for the rest
    if not argv:
        shown = fenced_output(ROOT / "README.md", "forward pass")
        assert shown[-1] == "..."
        start = output.index(shown[0])
        assert output[start : start + len(shown) - 1] == shown[:-1]
