"""The ``summarize`` subcommand of ``neurolearn``: its options and its run, with the helpers every subcommand
shares (reading options, progress, output paths, the API defaults the command sets).

The ``--target`` and ``--behavior`` codings are parsed as text by :func:`neurolearn.cli._check_args` before
any file is read (their syntax) and resolved against the trial columns once the sessions are read
(:func:`neurolearn.cli_codings.resolve_coding`: ``go:True=1,False=-1`` codes a boolean column).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurolearn.cli_options import (
    TRAINING_TIME,
    Progress,
    check_named_columns,
    check_where,
    finite_float,
    non_negative_int,
    positive_float,
    positive_int,
    read_training_times,
    reading_kwargs,
    resolve_coding,
    training_times_for,
)
from neurolearn.cli_codings import resolve_heldout
from neurolearn.errors import DataError
from neurolearn.files import write_statistics

__all__ = ["add_summarize", "run_summarize", "reading_options", "progress_option", "api_defaults", "expand",
           "output_path", "DEFAULT_TIMEOUT"]

EXIT_OK = 0
#: seconds one file may take to open in its child process before the batch gives up on it
DEFAULT_TIMEOUT = 300.0


def add_summarize(commands) -> None:
    """The ``summarize`` sub-parser of ``commands`` (argparse sub-parsers), run by :func:`run_summarize`."""
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
    reading_options(summarize)
    summarize.add_argument("--target", default="target", metavar="COLUMN[:VALUE=LABEL,...]",
                           help="trial column holding the task label, optionally recoded, e.g. "
                                "'side:left=-1,right=1' or the conditions' own labels 'stimulus:A=1,B=-1,...' "
                                "(VALUEs are read as the column holds them: 'go:True=1,False=-1' for a boolean "
                                "column); 'none' for a task without a label (default: target)")
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
    summarize.add_argument("--heldout", default="heldout", metavar="COLUMN[:VALUE]",
                           help="trial column marking trials of stimuli never used in training (True/1 = held "
                                "out), or a column and the value meaning held out, e.g. 'is_train:False'; where "
                                "present, generalization_error and heldout_behavior are computed; 'none' to skip "
                                "(default: heldout)")
    summarize.add_argument("--generalization", choices=("readout", "behavior"), default="readout",
                           help="generalization_error of a readout of the representation trained on the "
                                "training stimuli (what kernel-learning-curve predicts, the default) or 1 - "
                                "fraction correct on held-out trials (what grokking predicts)")
    summarize.add_argument("--indicator-tau", type=non_negative_float, default=None, metavar="SECONDS",
                           help="decay time of a calcium indicator, deconvolved before the dynamics fit (0: "
                                "the recording has none)")
    progress_option(summarize)
    summarize.set_defaults(handler=run_summarize)


def run_summarize(args) -> int:
    """``neurolearn summarize``: read the sessions, resolve the codings against their columns, summarize, write."""
    out = output_path(args.out, ".nc")
    paths = expand(args.paths)
    progress = Progress(args.progress)
    training = read_training_times(args.training_time) if args.training_time else None  # fail before reading
    from neurolearn.io import read_sessions
    from neurolearn.stats import summarize
    with progress.step(f"reading {len(paths)} file(s)"):
        tree = read_sessions(paths, **reading_kwargs(args), **api_defaults(args, timeout=True))
    sessions = list(tree.children)
    check_named_columns(tree, args)
    for option, binary in (("target", False), ("behavior", True)):  # keys read against the values recorded
        text = getattr(args, f"{option}_text", None)  # the option as typed (cli._check_args keeps it)
        if isinstance(text, str):
            setattr(args, option, resolve_coding(text, tree, binary=binary, option=f"--{option}"))
    times = training_times_for(training, tree, sessions) if training is not None else None
    options = {"target": args.target, "by": args.by, "behavior": args.behavior, "n_boot": args.n_boot,
               "random_state": args.random_state, "heldout": resolve_heldout(args.heldout, tree),
               "generalization": args.generalization}
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

            stats = summarize_areas(tree, area=args.by_area, **options, **api_defaults(args))
        else:
            stats = summarize(tree, **options, **api_defaults(args))
    if times is not None:
        order = [str(s) for s in stats["session"].values]
        by_session = dict(zip(map(str, sessions), times))
        unknown = [s for s in order if s not in by_session]
        if unknown:  # summarize names sessions as the reader did; anything else is a bug worth naming
            raise DataError(f"--training-time: statistics sessions {unknown} are not among the sessions read "
                            f"({list(by_session)})")
        stats = stats.assign_coords({TRAINING_TIME: ("session", [by_session[s] for s in order])})
        stats[TRAINING_TIME].attrs["source"] = str(args.training_time)
    if tree.attrs.get("left_out"):  # --on-error skip: the file records which files it lacks, and why (one a line)
        stats.attrs["left_out"] = "\n".join(tree.attrs["left_out"])
    write_statistics(stats, out)
    areas = [str(a) for a in stats["area"].values] if "area" in stats.dims else []
    where = f" in {len(areas)} areas ({', '.join(areas)})" if areas else ""
    print(f"wrote {len(stats.data_vars)} variables over {stats.sizes.get('session', 0)} sessions{where} to {out}")
    return EXIT_OK


def reading_options(parser) -> None:
    parser.add_argument("--source", default="auto", help="neural data object (default: auto)")
    parser.add_argument("--trials", default="trials", help="trials/intervals table (default: trials)")
    parser.add_argument("--align", default="start_time", metavar="COLUMN[:relative]",
                        help="trial column to align to; 'COLUMN:relative' when its times are relative to the "
                             "trial start (default: start_time)")
    parser.add_argument("--window", nargs=2, type=finite_float, default=None, metavar=("START", "STOP"),
                        help="window around the alignment event in s (default: 0 1, with a warning where it "
                             "reaches past a trial)")
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
    tracked.add_argument("--untracked", action="store_true",
                         help="declare that unit/ROI ids name different cells in different sessions (what "
                              "files that say nothing are read as; silences the warning about repeated ids)")
    parser.add_argument("--where", type=check_where, default=None, metavar="EXPR",
                        help="keep trials matching a pandas query on trial columns, e.g. "
                             "\"contrast > 0.1 and block == 2\"")
    parser.add_argument("--allow-same-identifier", action="store_true",
                        help="read files that share one NWB identifier as different sessions (refused by "
                             "default: the same recording read twice would count as two)")
    parser.add_argument("--on-error", choices=("raise", "skip"), default=None,
                        help="a file that cannot be read stops the run ('raise', the default) or is left out "
                             "with a warning giving the reason ('skip'; the statistics file's left_out attribute "
                             "lists such files, one a line)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help=f"open each file in a child process and give up on one that takes longer "
                             f"(default: {DEFAULT_TIMEOUT:g}; 0 reads in this process without a limit)")


def non_negative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, found {text!r}")
    return value


def progress_option(parser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="show progress of long steps on stderr (default: on)")


def api_defaults(args, timeout: bool = False) -> dict:
    """The command's own defaults the API functions take: progress on stderr, files read in a child process."""
    defaults = {"progress": True} if args.progress else {}
    if timeout and args.timeout is None:
        defaults["timeout"] = DEFAULT_TIMEOUT
    return defaults


def expand(patterns) -> list[str]:
    import glob

    paths: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        if not matches:
            raise DataError(f"{pattern}: expected NWB files matching this pattern, found none")
        paths.extend(matches)
    return paths


def output_path(path, suffix: str) -> Path:
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: expected an output file name ending in {suffix}, found a directory")
    if path.exists() and path.suffix.lower() != suffix:
        # `summarize -o day1.nwb` or `fit -o stats.nc` would replace a user's recording or statistics
        raise DataError(f"{path}: expected a new or {suffix} output file, found an existing {path.suffix or 'other'} "
                        "file, which is not overwritten (an input recording or statistics file?)")
    return path
