"""Command line: ``python -m seqattn {train,evaluate,predict,compare,sweep,runs,talk}``.

pandas is imported by the commands that write tables (compare, sweep), not on start-up: it
would triple the time every other command takes to answer.

An entry point: it turns on XLA's disk cache and trains with the speed machinery's setups
(a comparison's or sweep's next seed reuses the traced step of the one before).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any
from collections.abc import Sequence

from seqattn.cli.talk import cmd_talk_check, cmd_talk_prepare
from seqattn.cli.options import (
    build_parser,
    model_config_of_args,
    problem_of,
    sweep_settings,
    train_config_of,
)
from seqattn.evaluation.held_out import evaluate
from seqattn.jobs.control import disk_needed, launch_worker
from seqattn.jobs.worker import Worker
from seqattn.model.registry import MODEL_NAMES
from seqattn.problem.batches import targets_for
from seqattn.problem.parsing import parse_sequence
from seqattn.runs import (RUN_ID_PATTERN, RunError, create_run, get_run, list_runs, load_models, read_problem,
                          read_result, run_dir, runs_root)
from seqattn.runs.files import is_no_space
from seqattn.settings import SettingError, check_all
from seqattn.speed import xla_cache
from seqattn.speed.setups import FastSetups
from seqattn.sweeps.cluster import close_local_cluster, scheduler_address
from seqattn.sweeps.grid import format_threshold_table, grid_cells, summary_table, threshold_table
from seqattn.training.budget import check_budget
from seqattn.training.data import fresh_pairs


def _resolve_run(value: str, runs_dir: str | None) -> tuple[str, Path]:
    """A run id or a run directory path -> (run id, runs root)."""
    path = Path(value)
    if RUN_ID_PATTERN.fullmatch(path.name) and (path.is_dir() or not RUN_ID_PATTERN.fullmatch(value)):
        return path.name, path.parent
    if RUN_ID_PATTERN.fullmatch(value):
        return value, runs_root(runs_dir)
    raise RunError(f"{value!r} is neither a run id nor a run directory.")


def _progress_printer(quiet: bool) -> Any:
    def show(progress: Any) -> None:
        if quiet or not (progress.accuracy or progress.final):
            return
        acc = ", ".join(f"{k} {v:.1%}" for k, v in (progress.accuracy or {}).items())
        loss = ", ".join(f"{k} {v:.3f}" for k, v in progress.smoothed.items())
        print(f"update {progress.update}/{progress.total}  {progress.elapsed:6.1f}s  loss {loss}  exact match {acc}",
              file=sys.stderr, flush=True)

    return show


def cmd_train(args: argparse.Namespace) -> int:
    problem, config, model = problem_of(args), train_config_of(args), model_config_of_args(args)
    check_budget(problem, config, model)  # over budget: one line, exit 2, no run written
    names = MODEL_NAMES if args.model == "both" else (args.model,)
    run_id = create_run(problem, config.to_dict(), model=model.to_dict(), names=names, root=args.runs_dir,
                        needed_bytes=disk_needed(problem, config, model),  # too little disk: one line, no run
                        name=args.name)
    directory = run_dir(run_id, args.runs_dir)
    print(f"run {run_id}: training {', '.join(names)} in {directory}", file=sys.stderr)
    Worker(directory, sinks=[_progress_printer(args.quiet)], setups=FastSetups()).run()
    summary = get_run(run_id, args.runs_dir)
    if summary.state != "done":
        print(f"run {run_id} ended {summary.state}: {summary.error or ''}", file=sys.stderr)
        return 1
    stops = (read_result(run_id, args.runs_dir).get("stops") or {}) if config.until is not None else {}
    for name, acc in summary.accuracy.items():
        stop = stops.get(name) or {}
        reached = (f"; reached {config.until} % at update {stop['reached']:,}" if stop.get("reached") else
                   f"; not {config.until} % within {config.updates:,} updates") if stop else ""
        print(f"{name}: exact match {acc:.1%}{reached}")
    print(directory)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    run_id, root = _resolve_run(args.run, args.runs_dir)
    problem = read_problem(run_id, root)
    inputs, targets = fresh_pairs(problem, args.n, args.seed)
    # TensorFlow loads here, once the run is known to be readable: a bad id answers at once.
    from seqattn.model.builders import Predictor

    for name, model in load_models(run_id, root).items():
        acc = evaluate(Predictor(model), inputs, targets)
        positions = " ".join(f"{v:.1%}" for v in acc.per_position)
        print(f"{name}: exact match {acc.exact_match:.1%} on {acc.n} pairs; by position {positions}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    run_id, root = _resolve_run(args.run, args.runs_dir)
    # The run's own problem (from run.json): a damaged status.json must not swap in the default one.
    problem = read_problem(run_id, root)
    values = parse_sequence(args.sequence, problem)  # before loading TensorFlow: bad input answers at once
    expected = targets_for([values], problem)[0].tolist()
    task = problem.task_spec
    print(f"input:    {task.typed(problem, values)}")
    print(f"expected: {task.shown(problem, expected)}")
    from seqattn.model.builders import Predictor  # TensorFlow loads here, after the input was checked

    for name, model in load_models(run_id, root).items():
        prediction = Predictor(model)(values)
        tokens = prediction.tokens[0].tolist()
        conf = " ".join(f"{c:.2f}" for c in prediction.confidence[0])
        print(f"{name + ':':10}{task.shown(problem, tokens)}  {'right' if tokens == expected else 'wrong'}  "
              f"confidence {conf}")
        if prediction.attention is not None:
            print("attention (rows: output steps, columns: input positions):")
            for t, row in enumerate(prediction.attention[0], start=1):
                print(f"  step {t}: " + " ".join(f"{p:.2f}" for p in row))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from seqattn.sweeps.compare import TUTORIAL_REFERENCE, compare, is_tutorial_setup  # pandas

    problem, config, model = problem_of(args), train_config_of(args), model_config_of_args(args)
    check_budget(problem, config, model)
    csv_path = Path(args.csv)
    losses_path = Path(args.losses_csv) if args.losses_csv else csv_path.with_name(csv_path.stem + "_losses.csv")

    def on_progress(repeat: int, progress: Any) -> None:
        if progress.final or progress.update % max(1, config.updates // 10) == 0:
            print(f"\rrepeat {repeat + 1}/{args.repeats}: update {progress.update}/{progress.total}",
                  end="", file=sys.stderr, flush=True)

    def on_repeat(repeat: int, rows: Any) -> None:
        accs = "  ".join(f"{r.model} {r.exact_match:.1%}" for r in rows.itertuples())
        print(f"\rrepeat {repeat + 1}/{args.repeats}: {accs}" + " " * 20, file=sys.stderr, flush=True)

    outcome = compare(problem, config, args.repeats, model=model, on_progress=on_progress, on_repeat=on_repeat,
                      setups=FastSetups())
    outcome.results.to_csv(csv_path, index=False)
    outcome.losses.to_csv(losses_path, index=False)
    summary = outcome.summary()
    reference = is_tutorial_setup(problem, config, model)
    print(f"{'model':10} {'mean':>8} {'std':>8} {'min':>8} {'max':>8}" + ("  tutorial" if reference else ""))
    for model, row in summary.iterrows():
        line = f"{model:10} {row['mean']:8.2%} {row['std']:8.2%} {row['min']:8.2%} {row['max']:8.2%}"
        if reference:
            line += f"  {TUTORIAL_REFERENCE[model]:8.2%}"
        print(line)
    print(f"wrote {csv_path} and {losses_path}", file=sys.stderr)
    return 0


def _cell_printer(quiet: bool, total: int) -> Any:
    def show(event: Any) -> None:
        if quiet or not hasattr(event, "exact_match"):
            return
        where = " ".join(f"{k}={v}" for k, v in event.values.items())
        if event.status == "failed":
            outcome = f"failed: {event.error}"
        else:
            outcome = "  ".join(f"{k} {v:.1%}" for k, v in event.exact_match.items())
        print(f"cell {event.index + 1}/{total} {where} seed {event.seed}: {outcome}  ({event.seconds:.1f} s)",
              file=sys.stderr, flush=True)

    return show


def cmd_sweep(args: argparse.Namespace) -> int:
    from seqattn.sweeps.records import cells_of  # pandas

    problem, config, model, sweep = sweep_settings(args)
    cells = grid_cells(problem, config, sweep, model=model)  # refuses an oversized grid before anything starts
    address = scheduler_address(args.scheduler)
    extra: dict[str, Any] = {"sweep": sweep.to_dict()}
    if address:
        extra["scheduler"] = address
    run_id = create_run(problem, config.to_dict(), model=model.to_dict(), kind="sweep", extra=extra,
                        root=args.runs_dir, needed_bytes=disk_needed(problem, config, model, kind="sweep", extra=extra),
                        name=args.name)
    where = address or "a local Dask cluster"
    print(f"run {run_id}: {len(cells)} cells ({sweep.axis} = {', '.join(map(str, sweep.values))}, "
          f"{sweep.seeds} seeds) on {where}", file=sys.stderr, flush=True)
    try:
        Worker(run_dir(run_id, args.runs_dir), sinks=[_cell_printer(args.quiet, len(cells))], setups=FastSetups()).run()
    finally:
        close_local_cluster()
    results = cells_of(run_id, args.runs_dir)
    summary = get_run(run_id, args.runs_dir)
    if results.empty:
        print(f"run {run_id} {summary.state}: {summary.error or 'no cell finished'}", file=sys.stderr)
        return 1
    results.to_csv(args.csv, index=False)
    if config.until is not None:
        print(f"trained until {config.until} % held-out exact match, at most {config.updates:,} updates; "
              f"{sweep.seeds} seeds from {config.seed}, {config.protocol} protocol")
        print("\n".join(format_threshold_table(threshold_table(results, sweep.axis), sweep.axis)))
    else:
        for row in summary_table(results, sweep.axis).itertuples():
            print(f"{sweep.axis} {getattr(row, sweep.axis):>5}  {row.model:10} mean {row.mean:7.1%}  "
                  f"min {row.min:7.1%}  max {row.max:7.1%}  seeds {row.seeds}")
    per_cell = results.drop_duplicates("cell")
    failed = per_cell[per_cell["status"] == "failed"]
    outcome = f"{len(per_cell) - len(failed)} done, {len(failed)} failed"
    if len(failed):
        outcome += f": {failed['error'].iloc[0]}" + (" (and others: see the CSV)" if len(failed) > 1 else "")
    print(f"wrote {args.csv}; run {run_id} {summary.state} in {summary.elapsed or 0:.1f} s; {outcome}",
          file=sys.stderr)
    return 0 if summary.state == "done" and not len(failed) else 1


def cmd_runs(args: argparse.Namespace) -> int:
    summaries = list_runs(args.runs_dir)
    if not summaries:
        print(f"no runs in {runs_root(args.runs_dir)}")
    for s in summaries:
        print(s.label())  # a broken run's label says what is damaged
    return 0


def cmd_talk(args: argparse.Namespace) -> int:
    if args.talk_command == "check":
        return cmd_talk_check(args)
    # Each run in a job process with the speed machinery (XLA's disk cache, fast setups), as the dashboard's.
    return cmd_talk_prepare(args, launcher=lambda directory: launch_worker(directory, module="seqattn.speed.worker"))


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "compare": cmd_compare,
            "sweep": cmd_sweep, "runs": cmd_runs, "talk": cmd_talk}


def _quiet_stdout() -> None:
    """After a closed pipe (``... | head -1``): send what is left to /dev/null, so exit flushes nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (e.g. captured in a test): nothing to flush
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (2 for bad values or settings, 1 for a damaged or missing run)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: no start-up chatter
    xla_cache.enable()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_all()  # every SEQATTN_* variable, before any command acts on one
    except SettingError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
        return code
    except BrokenPipeError:  # the reader went away (e.g. `| head -1`): stop quietly, like other tools
        _quiet_stdout()
        return 141
    except ValueError as exc:  # bad values: a one-line usage error
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # e.g. `runs > /dev/full`, or a CSV on a full disk: one line, not a traceback
        print(f"{parser.prog} {args.command}: error: {_os_error_line(exc)}", file=sys.stderr)
        return 1


def _os_error_line(exc: OSError) -> str:
    """What went wrong writing or reading, and what to do (a full disk under stdout or a CSV is the output's)."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):  # stdout itself fails: drop what is left, so exit flushes nothing
        _quiet_stdout()
    where = f": {exc.filename}" if exc.filename else ""
    if is_no_space(exc):  # runs refuse a full disk before they start, so this is the output (stdout, --csv)
        return f"cannot write the output ({exc.strerror}{where}); free some space there or write it elsewhere"
    return f"{exc.strerror or exc}{where}"
