"""The ``neurolearn`` command: ``info | summarize | fit | report | demo``.

Each subcommand is a thin shell around the Python API and writes plain files: statistics as NetCDF (``.nc``),
fits as JSON (:meth:`neurolearn.fit.FitResult.to_dict`), reports as one self-contained HTML file. Bad input
gives one line on stderr, ``neurolearn: error: ...``, and exit status 2, never a traceback.

Examples
--------
>>> main(["--version"])  # doctest: +ELLIPSIS
neurolearn ...
0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from neurolearn.errors import DataError, NeurolearnError

__all__ = ["main", "build_parser", "write_statistics", "read_statistics", "write_fits", "read_fits"]

EXIT_OK, EXIT_ERROR = 0, 2


class UsageError(Exception):
    """Bad command-line arguments (argparse's complaint, turned into our one-line error)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage block and exit; we want one line
        raise UsageError(f"{message} (see '{self.prog} --help')")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit status.

    Returns 0 on success and 2 on bad input, after printing ``neurolearn: error: <message>`` to stderr.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
        if not getattr(args, "command", None):
            return _fail("expected a command: info, summarize, fit, report or demo (see 'neurolearn --help')")
        return int(args.handler(args) or EXIT_OK)
    except SystemExit as done:  # --help and --version exit through argparse
        return int(done.code or 0) if not isinstance(done.code, str) else _fail(done.code)
    except UsageError as error:
        return _fail(str(error))
    except (NeurolearnError, OSError) as error:
        return _fail(_one_line(error))
    except KeyboardInterrupt:
        print("neurolearn: interrupted", file=sys.stderr)
        return 130


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
        "bootstrap intervals, as a NetCDF file (an xarray Dataset over dim 'session').",
    )
    summarize.add_argument("paths", nargs="+", metavar="FILE",
                           help="NWB files or glob patterns, one per session")
    summarize.add_argument("-o", "--out", required=True, metavar="STATS.nc",
                           help="where to write the statistics")
    _reading_options(summarize)
    summarize.add_argument("--target", default="target",
                           help="trial column holding the task label (default: target)")
    summarize.add_argument("--by", default="stimulus",
                           help="trial column defining conditions (default: stimulus)")
    summarize.add_argument("--behavior", default="correct",
                           help="trial column scoring behaviour, or 'none' (default: correct)")
    summarize.add_argument("--n-boot", type=_positive_int, default=200,
                           help="bootstrap resamples (default: 200)")
    summarize.add_argument("--random-state", type=int, default=0, help="seed of the bootstrap (default: 0)")
    summarize.add_argument("--no-readout", action="store_true",
                           help="skip the decoding statistics (accuracy, margin, ...), e.g. for few trials")
    summarize.set_defaults(handler=_run_summarize)

    fit = commands.add_parser(
        "fit", help="fit theory models to statistics (JSON)",
        description="Fit reduced theory models to a statistics file and write each FitResult.to_dict() as "
        "JSON (one object for one model, a list for several).",
    )
    fit.add_argument("stats", metavar="STATS.nc", help="statistics written by 'neurolearn summarize'")
    fit.add_argument("-m", "--model", action="append", required=True, metavar="NAME",
                     help="model name from neurolearn.theory.MODELS; repeat to fit several")
    fit.add_argument("-o", "--out", required=True, metavar="FITS.json", help="where to write the fits")
    fit.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE", type=_assignment,
                     help="hold a parameter fixed, e.g. --fix chance=0.5 --fix onset=0 (repeatable)")
    fit.add_argument("--observables", default=None, metavar="A,B",
                     help="comma-separated statistics to fit (default: every one the model predicts)")
    fit.add_argument("--random-state", type=int, default=0,
                     help="seed of the multi-start search (default: 0)")
    fit.set_defaults(handler=_run_fit)

    report = commands.add_parser(
        "report", help="statistics + fits -> self-contained HTML report",
        description="Build one self-contained HTML report (figures inlined) from a statistics file and fits.",
    )
    report.add_argument("stats", metavar="STATS.nc", help="statistics written by 'neurolearn summarize'")
    report.add_argument("fits", nargs="*", metavar="FITS.json", help="fits written by 'neurolearn fit'")
    report.add_argument("-o", "--out", required=True, metavar="REPORT.html", help="where to write the report")
    report.add_argument("--title", default=None, help="report title (default: the statistics file name)")
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
    describe_file = _require("neurolearn.io", "describe_file")
    format_description = _require("neurolearn.io", "format_description")
    for index, path in enumerate(args.paths):
        if index:
            print()
        print(format_description(describe_file(path)))
    return EXIT_OK


def _run_summarize(args) -> int:
    out = _output_path(args.out, ".nc")
    paths = _expand(args.paths)
    read_sessions = _require("neurolearn.io", "read_sessions")
    summarize = _require("neurolearn.stats", "summarize")
    tree = read_sessions(paths, **_reading_kwargs(args))
    behavior = None if str(args.behavior).lower() == "none" else args.behavior
    extra = {"readout": False} if args.no_readout else {}
    stats = summarize(tree, target=args.target, by=args.by, behavior=behavior, n_boot=args.n_boot,
                      random_state=args.random_state, **extra)
    write_statistics(stats, out)
    print(f"wrote {len(stats.data_vars)} variables over {stats.sizes.get('session', 0)} sessions to {out}")
    return EXIT_OK


def _run_fit(args) -> int:
    out = _output_path(args.out, ".json")
    stats = read_statistics(args.stats)
    fit = _require("neurolearn.fit", "fit")
    compare = _require("neurolearn.fit", "compare")
    options = {"random_state": args.random_state}
    if args.fix:
        options["fixed"] = dict(args.fix)
    if args.observables:
        options["observables"] = [name.strip() for name in args.observables.split(",") if name.strip()]
    results = [fit(stats, name, **options) for name in args.model]
    write_fits(results, out)
    print(compare(results).to_string())
    print(f"wrote {len(results)} fit(s) to {out}")
    return EXIT_OK


def _run_report(args) -> int:
    from neurolearn.report import build_report

    out = _output_path(args.out, ".html")
    stats = read_statistics(args.stats)
    fits = [fit for path in args.fits for fit in read_fits(path)]
    title = args.title or f"neurolearn report: {Path(args.stats).name}"
    build_report(out, {Path(args.stats).stem: stats}, {Path(args.stats).stem: fits}, title=title)
    print(f"wrote {out}")
    return EXIT_OK


def _run_demo(args) -> int:
    from neurolearn.demo import run_demo

    run_demo(args.out, data_dir=args.data, quick=args.quick)
    return EXIT_OK


# --- files ---------------------------------------------------------------------------------------------


def write_statistics(stats, path) -> Path:
    """Write a statistics Dataset to NetCDF (``.nc``).

    NetCDF attributes hold only strings and numbers, so other attribute values (dicts, tuples, booleans,
    None) are stored as JSON text; the values of the statistics are untouched. Uses xarray's scipy backend
    (NetCDF 3), which needs no extra library.
    """
    import xarray as xr

    if not isinstance(stats, xr.Dataset):
        raise DataError(f"statistics: expected an xarray.Dataset, found {type(stats).__name__}")
    clean = stats.copy()
    clean.attrs = _netcdf_attrs(stats.attrs)
    for name in list(clean.variables):
        clean[name].attrs = _netcdf_attrs(stats[name].attrs)
        clean[name].encoding = {}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean.to_netcdf(path, engine="scipy")
    return path


def read_statistics(path):
    """Read a statistics file written by :func:`write_statistics` (:class:`DataError` naming it if not)."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: expected a statistics file (.nc), found no such file")
    try:
        return xr.load_dataset(path, engine="scipy")
    except (ValueError, TypeError, OSError) as error:
        raise DataError(
            f"{path}: expected a NetCDF statistics file written by 'neurolearn summarize', found an "
            f"unreadable file ({_one_line(error)})"
        ) from error


def write_fits(results, path) -> Path:
    """Write fits as JSON: one ``FitResult.to_dict()`` object, or a list of them for several fits."""
    dicts = [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in results]
    payload = dicts[0] if len(dicts) == 1 else dicts
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=_json_default, allow_nan=True), encoding="utf-8")
    return path


def read_fits(path) -> list[dict]:
    """The fit dictionaries in a JSON file written by :func:`write_fits` (always a list)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: expected a fits file (.json), found no such file")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(
            f"{path}: expected JSON written by 'neurolearn fit', found invalid JSON ({error})"
        ) from error
    fits = payload if isinstance(payload, list) else [payload]
    for fit in fits:
        if not isinstance(fit, dict) or "model" not in fit:
            raise DataError(
                f"{path}: expected FitResult dictionaries with a 'model' key, found {type(fit).__name__}"
            )
    return fits


# --- helpers -------------------------------------------------------------------------------------------


def _reading_options(parser) -> None:
    parser.add_argument("--source", default="auto", help="neural data object (default: auto)")
    parser.add_argument("--trials", default="trials", help="trials/intervals table (default: trials)")
    parser.add_argument("--align", default="start_time",
                        help="trial column to align to (default: start_time)")
    parser.add_argument("--window", nargs=2, type=float, default=(0.0, 1.0), metavar=("START", "STOP"),
                        help="window around the alignment event in s (default: 0 1)")
    parser.add_argument("--bin-size", type=float, default=None,
                        help="bin width in s for time-resolved responses (default: one bin per trial)")
    parser.add_argument("--inputs", action="append", default=None, metavar="PATH",
                        help="TimeSeries inside the file read onto the same trials/bins as a trial coord "
                             "(e.g. the input a trial received; repeatable)")


def _reading_kwargs(args) -> dict:
    return dict(source=args.source, trials=args.trials, align=args.align, window=tuple(args.window),
                bin_size=args.bin_size, inputs=args.inputs)


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
    return path


def _netcdf_attrs(attrs: dict) -> dict:
    clean = {}
    for key, value in attrs.items():
        if isinstance(value, bool) or value is None:
            clean[key] = json.dumps(value)
        elif isinstance(value, (str, int, float)):
            clean[key] = value
        else:
            try:
                import numpy as np

                array = np.asarray(value)
                if array.dtype.kind in "iuf" and array.ndim <= 1:
                    clean[key] = array
                    continue
            except (ValueError, TypeError):
                pass
            clean[key] = json.dumps(value, default=_json_default)
    return clean


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def _require(module: str, name: str):
    """``module.name``, or a :class:`NeurolearnError` saying this installation lacks it (no traceback)."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise NeurolearnError(
            f"this command needs {module}.{name}, which this installation of neurolearn lacks ({error})"
        ) from error


def _assignment(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, found {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {value}")
    return value


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    text = " ".join(str(error).split()) or type(error).__name__
    return text


def _fail(message: str) -> int:
    print(f"neurolearn: error: {message}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover - `python -m neurolearn.cli`
    sys.exit(main())
