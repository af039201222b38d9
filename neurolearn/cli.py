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
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

from neurolearn.cli_options import (
    TRAINING_TIME,
    Progress,
    area_fits,
    assignment,
    check_named_columns,
    check_where,
    finite_float,
    non_negative_int,
    parse_areas,
    parse_coding,
    positive_float,
    positive_int,
    read_training_times,
    reading_kwargs,
    training_times_for,
)
from neurolearn.cli_output import fixed_outside_bounds, format_fit
from neurolearn.errors import DataError, NeurolearnError
from neurolearn.files import one_line, read_fits, read_statistics, write_fits, write_statistics

# write_statistics & co. live in neurolearn.files; re-exported here for code that imported them from the CLI
__all__ = ["main", "build_parser", "format_fit", "write_statistics", "read_statistics", "write_fits",
           "read_fits"]

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
#: seconds one file may take to open in its child process before the batch gives up on it
DEFAULT_TIMEOUT = 300.0


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
        return _fail(one_line(error))
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

    summarize = commands.add_parser(
        "summarize", help="NWB sessions -> statistics of learning (NetCDF)",
        description="Read sessions recorded across learning and write their summary statistics, with "
        "bootstrap intervals, as a NetCDF file (an xarray Dataset over dim 'session'; with --by-area, over "
        "'area' and 'session', each area's units summarized alone). Statistics the data cannot support are NaN "
        "with their reason in '<name>_flag' and one warning line each.",
    )
    summarize.add_argument("paths", nargs="+", metavar="FILE",
                           help="NWB files or glob patterns, one per session")
    summarize.add_argument("-o", "--out", required=True, metavar="STATS.nc",
                           help="where to write the statistics")
    _reading_options(summarize)
    summarize.add_argument("--target", default="target", metavar="COLUMN[:VALUE=LABEL,...]",
                           help="trial column holding the task label, optionally recoded, e.g. "
                                "'side:left=-1,right=1'; 'none' for a task without a label (default: target)")
    summarize.add_argument("--by", default="stimulus",
                           help="trial column defining conditions (default: stimulus)")
    summarize.add_argument("--behavior", default="correct", metavar="COLUMN[:VALUE=1,VALUE=0,...]",
                           help="trial column scoring behaviour (1/True = correct), or a column and which of "
                                "its values count as correct (1) and incorrect (0), e.g. "
                                "'outcome:correct=1,incorrect=0' (other values are left out, counted); "
                                "'none' to skip (default: correct)")
    summarize.add_argument("--min-trials", type=positive_int, default=None, metavar="N",
                           help="leave out, per session, conditions with fewer than N trials (named in a "
                                "warning)")
    summarize.add_argument("--nan-policy", choices=("omit", "raise"), default=None,
                           help="trials whose label or behaviour is NaN: leave them out with a count "
                                "('omit', the default) or stop with an error ('raise')")
    summarize.add_argument("--training-time", default=None, metavar="FILE|NAME",
                           help="training time of each session: a CSV (columns session,training_time) or "
                                "JSON ({session: time}) file, or the name of a session attribute or a trial "
                                "column constant within each session; stored as coord 'training_time', "
                                "which 'neurolearn fit' uses instead of the session order")
    summarize.add_argument("--n-boot", type=non_negative_int, default=200,
                           help="bootstrap resamples, 0 for none (default: 200)")
    summarize.add_argument("--random-state", type=int, default=0, help="seed of the bootstrap (default: 0)")
    summarize.add_argument("--no-readout", action="store_true",
                           help="skip the decoding statistics (accuracy, margin, ...), e.g. for few trials")
    summarize.add_argument("--no-dynamics", action="store_true",
                           help="skip the dynamics statistics (timescale, outlier eigenvalue, ...)")
    summarize.add_argument("--by-area", nargs="?", const="location", default=None, metavar="COLUMN",
                           help="statistics per recorded area: split each session's units by this Units/ROI "
                                "column (default when given without a value: location, the NWB Units column) "
                                "and summarize each area alone; every statistic gets a dim 'area' (a session "
                                "without an area has NaN there, with the reason). 'neurolearn report' shows "
                                "each area; 'neurolearn fit -m deep-linear --areas V1=1,LM=2' fits them jointly")
    summarize.add_argument("--indicator-tau", type=_non_negative_float, default=None, metavar="SECONDS",
                           help="decay time of a calcium indicator, deconvolved before the dynamics fit (0: "
                                "the recording has none)")
    _progress_option(summarize)
    summarize.set_defaults(handler=_run_summarize)

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
    _progress_option(fit)
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
    _progress_option(report)
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


def _run_summarize(args) -> int:
    out = _output_path(args.out, ".nc")
    paths = _expand(args.paths)
    progress = Progress(args.progress)
    training = read_training_times(args.training_time) if args.training_time else None  # fail before reading
    from neurolearn.io import read_sessions
    from neurolearn.stats import summarize
    with progress.step(f"reading {len(paths)} file(s)"):
        tree = read_sessions(paths, **reading_kwargs(args), **_api_defaults(args, timeout=True))
    sessions = list(tree.children)
    check_named_columns(tree, args)
    times = training_times_for(training, tree, sessions) if training is not None else None
    options = {"target": args.target, "by": args.by, "behavior": args.behavior, "n_boot": args.n_boot,
               "random_state": args.random_state}
    options.update({key: value for key, value in (("min_trials", args.min_trials), ("nan_policy", args.nan_policy))
                    if value is not None})
    if args.no_readout:
        options["readout"] = False
    if args.no_dynamics:
        options["dynamics"] = False
    if args.indicator_tau is not None:
        options["indicator_tau"] = args.indicator_tau
    with progress.step(f"summarizing {len(sessions)} session(s) ({args.n_boot} bootstrap resamples)"
                       + (f" per area of {args.by_area}" if args.by_area else "")):
        if args.by_area:
            from neurolearn.stats.areas import summarize_areas

            stats = summarize_areas(tree, area=args.by_area, **options, **_api_defaults(args))
        else:
            stats = summarize(tree, **options, **_api_defaults(args))
    if times is not None:
        order = [str(s) for s in stats["session"].values]
        by_session = dict(zip(map(str, sessions), times))
        unknown = [s for s in order if s not in by_session]
        if unknown:  # summarize names sessions as the reader did; anything else is a bug worth naming
            raise DataError(f"--training-time: statistics sessions {unknown} are not among the sessions read "
                            f"({list(by_session)})")
        stats = stats.assign_coords({TRAINING_TIME: ("session", [by_session[s] for s in order])})
        stats[TRAINING_TIME].attrs["source"] = str(args.training_time)
    write_statistics(stats, out)
    areas = [str(a) for a in stats["area"].values] if "area" in stats.dims else []
    where = f" in {len(areas)} areas ({', '.join(areas)})" if areas else ""
    print(f"wrote {len(stats.data_vars)} variables over {stats.sizes.get('session', 0)} sessions{where} to {out}")
    return EXIT_OK


def _run_fit(args) -> int:
    import pandas as pd

    out = _output_path(args.out, ".json")
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
    if outside:
        print(f"neurolearn: error: {outside}", file=sys.stderr)
        return EXIT_FAILED
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

    out = _output_path(args.out, ".html")
    stats = read_statistics(args.stats)
    fits = [fit for path in args.fits for fit in read_fits(path)]
    title = args.title or f"neurolearn report: {Path(args.stats).name}"
    name = Path(args.stats).stem
    progress = Progress(args.progress)
    with progress.step(f"drawing the report's figures ({len(fits)} fit(s))"):
        build_report(out, {name: stats}, {name: fits}, title=title, **_api_defaults(args))
    print(f"wrote {out}")
    return EXIT_OK


def _run_demo(args) -> int:
    from neurolearn.demo import run_demo

    run_demo(args.out, data_dir=args.data, quick=args.quick)
    return EXIT_OK


# --- helpers -------------------------------------------------------------------------------------------


def _reading_options(parser) -> None:
    parser.add_argument("--source", default="auto", help="neural data object (default: auto)")
    parser.add_argument("--trials", default="trials", help="trials/intervals table (default: trials)")
    parser.add_argument("--align", default="start_time", metavar="COLUMN[:relative]",
                        help="trial column to align to; 'COLUMN:relative' when its times are relative to the "
                             "trial start (default: start_time)")
    parser.add_argument("--window", nargs=2, type=finite_float, default=(0.0, 1.0), metavar=("START", "STOP"),
                        help="window around the alignment event in s (default: 0 1)")
    parser.add_argument("--bin-size", type=positive_float, default=None,
                        help="bin width in s for time-resolved responses (default: one bin per trial)")
    parser.add_argument("--inputs", action="append", default=None, metavar="PATH",
                        help="TimeSeries inside the file read onto the same trials/bins as a trial coord "
                             "(e.g. the input a trial received; repeatable)")
    parser.add_argument("--subject", default=None, metavar="ID",
                        help="read only the sessions of this subject (NWB Subject, else the sub-... file name); "
                             "a run that mixes subjects is refused")
    tracked = parser.add_mutually_exclusive_group()
    tracked.add_argument("--tracked", action="store_true",
                         help="declare that unit/ROI ids name the same cell in every session (chronic "
                              "recording with matched cells)")
    tracked.add_argument("--tracked-table", default=None, metavar="CELLS.csv",
                         help="table mapping (session, unit/ROI id) to cell id, as exported by CellReg, "
                              "suite2p or ROICaT matching")
    tracked.add_argument("--tracked-column", default=None, metavar="COLUMN",
                         help="a Units (or ROI) table column naming each unit's cell across sessions, as "
                              "written by in-file matching (e.g. global_id)")
    parser.add_argument("--where", type=check_where, default=None, metavar="EXPR",
                        help="keep trials matching a pandas query on trial columns, e.g. "
                             "\"contrast > 0.1 and block == 2\"")
    parser.add_argument("--on-error", choices=("raise", "skip"), default=None,
                        help="a file that cannot be read stops the run ('raise', the default) or is left out "
                             "with a warning giving the reason ('skip')")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help=f"open each file in a child process and give up on one that takes longer "
                             f"(default: {DEFAULT_TIMEOUT:g}; 0 reads in this process without a limit)")


def _non_negative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, found {text!r}")
    return value


def _progress_option(parser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="show progress of long steps on stderr (default: on)")


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
            try:
                setattr(args, option, parse_coding(getattr(args, option), binary=binary, option=f"--{option}"))
            except argparse.ArgumentTypeError as error:
                raise UsageError(str(error)) from None


def _api_defaults(args, timeout: bool = False) -> dict:
    """The command's own defaults the API functions take: progress on stderr, files read in a child process."""
    defaults = {"progress": True} if args.progress else {}
    if timeout and args.timeout is None:
        defaults["timeout"] = DEFAULT_TIMEOUT
    return defaults


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


def _expand(patterns) -> list[str]:
    import glob

    paths: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        if not matches:
            raise DataError(f"{pattern}: expected NWB files matching this pattern, found none")
        paths.extend(matches)
    return paths


def _output_path(path, suffix: str) -> Path:
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: expected an output file name ending in {suffix}, found a directory")
    if path.exists() and path.suffix.lower() != suffix:
        # `summarize -o day1.nwb` or `fit -o stats.nc` would replace a user's recording or statistics
        raise DataError(f"{path}: expected a new or {suffix} output file, found an existing {path.suffix or 'other'} "
                        "file, which is not overwritten (an input recording or statistics file?)")
    return path


def _fail(message: str) -> int:
    print(f"neurolearn: error: {message}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover - `python -m neurolearn.cli`
    sys.exit(main())
