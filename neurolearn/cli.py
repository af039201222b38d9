"""The ``neurolearn`` command: ``info | summarize | fit | report | demo``.

Each subcommand is a thin shell around the Python API and writes plain files (:mod:`neurolearn.files`):
statistics as NetCDF (``.nc``), fits as JSON (:meth:`neurolearn.fitting.FitResult.to_dict`), reports as one
self-contained HTML file. Options are checked before any long step runs (:mod:`neurolearn.cli_options`).

Exit status: 0 on success; 1 when the command ran but its result must not be used as is (a fit that did not
converge, a fixed value outside its parameter's bounds); 2 on bad input, after one line on stderr,
``neurolearn: error: ...``, never a traceback. Long steps print progress on stderr (``--no-progress`` to
silence it); the results go to stdout.

The package's modules are imported inside each subcommand, not at the top: ``neurolearn --help`` then starts
in 1.8 s instead of 5.4 s (importing io, stats, fit and theory brings xarray, dask, pynwb and scikit-learn;
measured on the project's two-core machine under load).

Examples
--------
>>> main(["--version"])  # doctest: +ELLIPSIS
neurolearn ...
0
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

from neurolearn.cli_options import Progress, area_fits, assignment, parse_areas, parse_coding
from neurolearn.cli_output import fixed_outside_bounds, format_fit
from neurolearn.cli_summarize import add_summarize, api_defaults, output_path, progress_option
from neurolearn.errors import NeurolearnError
from neurolearn.files import one_line, read_fits, read_statistics, write_fits, write_statistics

# write_statistics & co. live in neurolearn.files; re-exported here for code that imported them from the CLI
__all__ = ["main", "build_parser", "format_fit", "write_statistics", "read_statistics", "write_fits",
           "read_fits"]

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """Bad command-line arguments (argparse's complaint, turned into our one-line error)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage block and exit; we want one line
        raise UsageError(f"{message} (see '{self.prog} --help')")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit status.

    Returns 0 on success, 1 when a result failed (see the module docstring) and 2 on bad input, after
    printing ``neurolearn: error: <message>`` to stderr.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
        if not getattr(args, "command", None):
            return _fail("expected a command: info, summarize, fit, report or demo (see 'neurolearn --help')")
        _check_args(args)
        with _warnings_as_lines():
            return int(args.handler(args) or EXIT_OK)
    except SystemExit as done:  # --help and --version exit through argparse
        return int(done.code or 0) if not isinstance(done.code, str) else _fail(done.code)
    except UsageError as error:
        return _fail(str(error))
    except BrokenPipeError:
        # the reader closed the pipe (`neurolearn info FILE | head -3`): nothing is wrong with the input
        _silence_stdout()
        return EXIT_OK
    except (NeurolearnError, OSError) as error:
        return _fail(in_option_words(one_line(error), parser))
    except KeyboardInterrupt:
        print("neurolearn: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug, not bad input: still one line, with the way to the traceback
        if os.environ.get("NEUROLEARN_DEBUG"):
            raise
        return _fail(f"unexpected {type(error).__name__}: {one_line(error)} (a bug in neurolearn: please "
                     "report it; NEUROLEARN_DEBUG=1 shows the traceback)")


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not raise into a closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a captured or replaced stdout has no file descriptor
        pass


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neurolearn`` command (one sub-parser per subcommand)."""
    from neurolearn import __version__

    parser = _Parser(
        prog="neurolearn",
        description="Link learning theory to neural recordings: NWB sessions -> statistics of learning -> "
        "fitted theory models -> figures and a report.",
    )
    parser.add_argument("--version", action="version", version=f"neurolearn {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{info,summarize,fit,report,demo}",
                                     parser_class=_Parser)

    info = commands.add_parser(
        "info", help="describe what an NWB file holds (sources, trial tables, sessions)",
        description="Describe what NWB files hold: neural sources, trial tables, metadata.",
    )
    info.add_argument("paths", nargs="+", metavar="FILE", help="NWB file(s)")
    info.set_defaults(handler=_run_info)

    add_summarize(commands)  # neurolearn.cli_summarize: its options and its run
    fit = commands.add_parser(
        "fit", help="fit theory models to statistics (JSON)",
        description="Fit reduced theory models to a statistics file, print each model's parameters with "
        "intervals and flags and the model comparison, and write each FitResult.to_dict() as JSON (one "
        "object for one model, a list for several). Statistics per area (summarize --by-area) take --areas: "
        "a deep-linear model fits the areas jointly as its layers, another model one area. Exit status 1 if a "
        "fit failed.",
    )
    fit.add_argument("stats", metavar="STATS.nc", help="statistics written by 'neurolearn summarize'")
    fit.add_argument("-m", "--model", action="append", required=True, metavar="NAME",
                     help="model name from neurolearn.theory.MODELS; repeat to fit several")
    fit.add_argument("-o", "--out", required=True, metavar="FITS.json", help="where to write the fits")
    fit.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE", type=assignment,
                     help="hold a parameter fixed, e.g. --fix chance=0.5 --fix onset=0 (repeatable)")
    fit.add_argument("--observables", default=None, metavar="A,B",
                     help="comma-separated statistics to fit (default: every one the model predicts); with "
                          "--areas, a statistic the model predicts per layer stands for it in every area fitted")
    fit.add_argument("--areas", type=parse_areas, default=None, metavar="NAME=LAYER,...",
                     help="statistics per area (summarize --by-area): the areas to fit. A per-layer model "
                          "(deep-linear) fits them jointly, each as the layer given (bare names NAME,...: "
                          "layers 1, 2, ... in that order), with as many layers as the deepest named (at least "
                          "2); a one-population model (lazy-rich, ...) takes one area, --areas NAME")
    fit.add_argument("--random-state", type=int, default=0,
                     help="seed of the multi-start search (default: 0)")
    progress_option(fit)
    fit.set_defaults(handler=_run_fit)

    report = commands.add_parser(
        "report", help="statistics + fits -> self-contained HTML report",
        description="Build one self-contained HTML report (figures inlined) from a statistics file and fits. "
        "Statistics per area (summarize --by-area) are drawn one line per area, tabled per area, and a joint "
        "fit over areas over each area's data.",
    )
    report.add_argument("stats", metavar="STATS.nc", help="statistics written by 'neurolearn summarize'")
    report.add_argument("fits", nargs="*", metavar="FITS.json", help="fits written by 'neurolearn fit'")
    report.add_argument("-o", "--out", required=True, metavar="REPORT.html", help="where to write the report")
    report.add_argument("--title", default=None, help="report title (default: the statistics file name)")
    progress_option(report)
    report.set_defaults(handler=_run_report)

    demo = commands.add_parser(
        "demo", help="run the whole pipeline on the bundled example data",
        description="Load the bundled example NWB datasets, summarise them, fit the theory models, print "
        "which regime each dataset is in, and write figures plus an HTML report.",
    )
    demo.add_argument("-o", "--out", default="neurolearn-demo", metavar="DIR",
                      help="output folder (default: ./neurolearn-demo)")
    demo.add_argument("--data", default=None, metavar="DIR",
                      help="folder with the example data (default: data/ beside the installed package)")
    demo.add_argument("--quick", action="store_true",
                      help="fewer bootstrap resamples and fit starts (for tests)")
    demo.set_defaults(handler=_run_demo)
    return parser


# --- subcommands ---------------------------------------------------------------------------------------


def _run_info(args) -> int:
    from neurolearn.io import describe_file
    from neurolearn.io import format_description
    for index, path in enumerate(args.paths):
        if index:
            print()
        print(format_description(describe_file(path)))
    return EXIT_OK


def _run_fit(args) -> int:
    import pandas as pd

    out = output_path(args.out, ".json")
    stats = read_statistics(args.stats)
    from neurolearn.fitting import fit
    from neurolearn.fit_records import comparable_groups
    from neurolearn.fitting import compare
    from neurolearn.theory import get_model
    models = [get_model(name) for name in args.model]  # an unknown name fails before any fitting
    fixed = dict(args.fix)
    for model in models:  # before any fitting: a name one model lacks would stop the run after the others
        unknown = sorted(set(fixed) - {*model.params, "time_scale", "onset"})
        if unknown:
            raise UsageError(f"--fix {', '.join(unknown)}: not a parameter of model {model.name!r}, whose "
                             f"parameters are {[*model.params, 'time_scale', 'onset']}; fit it in its own run")
    outside = fixed_outside_bounds(models, fixed)
    if outside:  # bad input, as the README's exit statuses say: 2 (it exited 1, a failed result's status)
        raise UsageError(outside)
    options = {"random_state": args.random_state}
    if fixed:
        options["fixed"] = fixed
    observables = None
    if args.observables:
        observables = [name.strip() for name in args.observables.split(",") if name.strip()]
    plans = area_fits(stats, models, args.areas, source=str(args.stats), observables=observables)  # before fitting
    progress = Progress(args.progress)
    results = []
    for number, (model, data, extra) in enumerate(plans, 1):
        if model.n_layers > get_model(model.name).n_layers:
            print(f"fitting {model.name} with {model.n_layers} layers (the deepest --areas names)")
        with progress.step(f"fitting {model.name} ({number} of {len(models)})"):
            results.append(fit(data, model, **options, **extra))
        print(format_fit(results[-1]))
        print()
    write_fits(results, out)
    groups, alone = comparable_groups(results)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", None,
                           "display.max_colwidth", None):
        for group in groups:
            print(f"model comparison (fits to {', '.join(group[0].observables)}):")
            print(compare(group).to_string())
            print()
    if len(results) > 1 and alone:
        # AIC compares only fits to the same values: not a failure, nothing to rank
        print("not compared (fitted to statistics no other fit used): "
              + "; ".join(f"{r.label} ({', '.join(r.observables)})" for r in alone))
    print(f"wrote {len(results)} fit(s) to {out}")
    failed = [r for r in results if not r.success]
    for result in failed:
        print(f"neurolearn: error: fit of model {result.label!r} failed: {result.message}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _run_report(args) -> int:
    from neurolearn.report import build_report

    out = output_path(args.out, ".html")
    stats = read_statistics(args.stats)
    fits = [fit for path in args.fits for fit in read_fits(path)]
    title = args.title or f"neurolearn report: {Path(args.stats).name}"
    name = Path(args.stats).stem
    progress = Progress(args.progress)
    with progress.step(f"drawing the report's figures ({len(fits)} fit(s))"):
        build_report(out, {name: stats}, {name: fits}, title=title, **api_defaults(args))
    print(f"wrote {out}")
    return EXIT_OK


def _run_demo(args) -> int:
    from neurolearn.demo import run_demo

    run_demo(args.out, data_dir=args.data, quick=args.quick)
    return EXIT_OK


# --- helpers -------------------------------------------------------------------------------------------


def _check_args(args) -> None:
    """Checks that need more than one value or a file; argparse's types did the rest."""
    window = getattr(args, "window", None)
    if window is not None and not window[0] < window[1]:
        raise UsageError(f"--window: expected START < STOP, found {window[0]:g} {window[1]:g}")
    timeout = getattr(args, "timeout", None)
    if timeout is not None and not (timeout >= 0 and timeout < float("inf")):
        raise UsageError(f"--timeout: expected a number of seconds >= 0, found {timeout:g}")
    by_area = getattr(args, "by_area", None)
    if by_area is not None and (by_area.lower().endswith(".nwb") or any(c in by_area for c in "*?/")):
        raise UsageError(f"--by-area: took {by_area!r} as the Units column naming areas; give the files first "
                         "(summarize FILE... --by-area) or the column after it (--by-area location FILE...)")
    table = getattr(args, "tracked_table", None)
    if table is not None and not Path(table).is_file():
        raise UsageError(f"--tracked-table: expected a CSV file, found no such file {table}")
    for option, binary in (("behavior", True), ("target", False)):
        if hasattr(args, option):
            # the syntax now, before any file is read; the text kept for resolve_coding, which reads the keys
            # against the column's values once the sessions are read (go:True=1 names a boolean column)
            setattr(args, f"{option}_text", getattr(args, option))
            try:
                setattr(args, option, parse_coding(getattr(args, option), binary=binary, option=f"--{option}"))
            except argparse.ArgumentTypeError as error:
                raise UsageError(str(error)) from None


@contextmanager
def _warnings_as_lines():
    """Show each warning as one line ``neurolearn: warning: ...`` on stderr (no source line)."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"neurolearn: warning: {' '.join(str(message).split())}", file=sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown


def in_option_words(message: str, parser: argparse.ArgumentParser) -> str:
    """``message`` with the Python keywords the library's errors name (``source=<path>``, ``(by=)``) in the
    command line's words (``--source <path>``, ``(--by)``), for each keyword the command line has an option
    taking a value for.

    Examples
    --------
    >>> in_option_words("found several series; pass source=<one of them> (by=)", build_parser())
    'found several series; pass --source <one of them> (--by)'
    >>> in_option_words("declare the held-out value, e.g. heldout={'split': ...}", build_parser())
    'declare the held-out value, e.g. --heldout split:<value>'
    """
    options = {}
    for action in _all_actions(parser):
        longest = max(action.option_strings, key=len, default="")
        if longest.startswith("--") and action.nargs != 0:  # a flag (--tracked) takes no value to name
            options.setdefault(action.dest, longest)
    for dest, option in options.items():
        message = re.sub(rf"(?<![\w.-]){dest}=<", f"{option} <", message)
        message = message.replace(f"({dest}=)", f"({option})")
        # a coding to declare, heldout={'split': ...}: the command line's column:value (adversary S9-4)
        message = re.sub(rf"(?<![\w.-]){dest}=\{{'([^']+)': \.\.\.\}}", rf"{option} \1:<value>", message)
    return message


def _all_actions(parser):
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_actions(sub)


def _fail(message: str) -> int:
    print(f"neurolearn: error: {message}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover - `python -m neurolearn.cli`
    sys.exit(main())
