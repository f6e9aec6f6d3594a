"""Command line: ``python -m seqattn {train,evaluate,predict,compare,sweep,runs}``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any
from collections.abc import Sequence

from seqattn.model.config import ModelConfig
from seqattn.problem.echo import ProblemConfig
from seqattn.model.registry import MODEL_NAMES
from seqattn.runs import RunError, runs_root
from seqattn.sweeps.grid import CELL_XLA, DEFAULT_LENGTHS
from seqattn.training.loop import PROTOCOLS


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: what is wrong and where to look."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# Extra spellings (each bool option also gets its --no- form: --jit, --no-jit).
_ALIASES = {"updates": ("--steps",), "jit_compile": ("--jit",)}


def _add_setting_options(group: Any, cls: type, skip: tuple[str, ...] = (), **defaults: Any) -> None:
    """One option per :func:`~seqattn.configuration.setting` field of ``cls`` (label, help, range written once there)."""
    from seqattn.configuration import settings_of

    for name, spec in settings_of(cls).items():
        if name in skip:
            continue
        default = defaults.get(name, spec.default)
        if isinstance(spec.default, bool):
            # --jit-compile / --no-jit-compile (and --jit / --no-jit): either way, whatever the command's default.
            group.add_argument(spec.flag, *_ALIASES.get(name, ()), dest=name, action=argparse.BooleanOptionalAction,
                               default=default, help=f"{spec.label}: {spec.help} (default {'on' if default else 'off'})")
            continue
        kind = float if name == "learning_rate" else (str if isinstance(default, str) else int)
        shown = "the protocol's" if default is None else default
        choices = spec.choices or (PROTOCOLS if name == "protocol" else None)
        # argparse answers a value outside the choices with a one-line usage error (exit 2).
        extra: dict[str, Any] = {"choices": choices} if choices else {}
        group.add_argument(spec.flag, *_ALIASES.get(name, ()), dest=name, type=kind, default=default,
                           help=f"{spec.help_with_range} (default {shown})", **extra)


def _add_problem_options(parser: argparse.ArgumentParser) -> None:
    _add_setting_options(parser.add_argument_group("problem"), ProblemConfig)


def _add_train_options(parser: argparse.ArgumentParser, default_protocol: str = "tutorial", units: bool = True,
                       **defaults: Any) -> None:
    """The model options (all but ``--units`` where a sweep takes it as a list) and the recipe's.

    ``defaults`` replaces recipe defaults for this command (the sweep's ``jit_compile``).
    """
    from seqattn.training.loop import TrainConfig

    _add_setting_options(parser.add_argument_group("models"), ModelConfig, skip=() if units else ("units",))
    _add_setting_options(parser.add_argument_group("training"), TrainConfig, protocol=default_protocol, **defaults)


def _runs_option(parser: argparse.ArgumentParser, flag: str = "--runs-dir") -> None:
    parser.add_argument(flag, dest="runs_dir", default=None,
                        help="runs folder (default $SEQATTN_RUNS_DIR or ./runs)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m seqattn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("train", help="train models and save a run the dashboard can open")
    p.add_argument("--model", choices=(*MODEL_NAMES, "both"), default="both",
                   help="which model to train (default both: every model)")
    _add_problem_options(p)
    _add_train_options(p)
    _runs_option(p, "--out")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser("evaluate", help="exact-match accuracy of a saved run's models")
    p.add_argument("run", help="run id or run directory")
    p.add_argument("--n", type=int, default=1000, help="fresh pairs to score (default 1000)")
    p.add_argument("--seed", type=int, default=2024, help="seed of those pairs")
    _runs_option(p)

    p = sub.add_parser("predict", help="predict one typed sequence with a saved run's models")
    p.add_argument("run", help="run id or run directory")
    p.add_argument("sequence", help='input, e.g. "12 20 36 40 12"')
    _runs_option(p)

    p = sub.add_parser("compare", help="the tutorial's comparison: repeat training, compare accuracy")
    p.add_argument("--repeats", type=int, default=10)
    _add_problem_options(p)
    _add_train_options(p)
    p.add_argument("--csv", default="comparison.csv", help="per-repeat results CSV (default comparison.csv)")
    p.add_argument("--losses-csv", default=None, help="per-update losses CSV (default: <csv stem>_losses.csv)")

    p = sub.add_parser("sweep", help="train both models over a grid (input lengths x seeds) on a Dask cluster")
    group = p.add_argument_group("grid (exactly one setting may be a comma-separated list: the swept axis)")
    group.add_argument("--n-in", default=",".join(map(str, DEFAULT_LENGTHS)),
                       help="input length(s) (default 5,10,15,20,30,40)")
    group.add_argument("--n-out", default="2", help="echo length, or 'half' of each input length (default 2)")
    group.add_argument("--cardinality", default="50", help="K, number of distinct tokens (default 50)")
    group.add_argument("--units", default="150", help="LSTM/decoder units (default 150)")
    group.add_argument("--seeds", type=int, default=3, help="trainings per grid value (default 3)")
    group.add_argument("--no-pad-target", dest="pad_target", action="store_false", default=True,
                       help="target of n_out steps instead of zero-padded")
    _add_train_options(p, default_protocol="batched", units=False, jit_compile=CELL_XLA)
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler, e.g. tcp://host:8786 (default $SEQATTN_DASK_SCHEDULER, else a local cluster)")
    p.add_argument("--csv", default="sweep.csv", help="per-cell results CSV (default sweep.csv)")
    _runs_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser("runs", help="list saved runs, newest first")
    _runs_option(p)
    return parser


def _from_options(cls: type, args: argparse.Namespace, **override: Any) -> Any:
    from seqattn.configuration import settings_of

    values = {name: getattr(args, name) for name in settings_of(cls) if hasattr(args, name)}
    return cls(**{**values, **override})


def _problem(args: argparse.Namespace) -> ProblemConfig:
    return _from_options(ProblemConfig, args)


def _train_config(args: argparse.Namespace) -> Any:
    from seqattn.training.loop import TrainConfig

    return _from_options(TrainConfig, args)


def _model_config(args: argparse.Namespace) -> ModelConfig:
    return _from_options(ModelConfig, args)


def _resolve_run(value: str, runs_dir: str | None) -> tuple[str, Path]:
    """A run id or a run directory path -> (run id, runs root)."""
    from seqattn.runs import RUN_ID_PATTERN

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
    from seqattn.training.budget import check_budget
    from seqattn.runs import create_run, get_run, run_dir
    from seqattn.jobs.worker import Worker

    problem, config, model = _problem(args), _train_config(args), _model_config(args)
    check_budget(problem, config, model)  # over budget: one line, exit 2, no run written
    names = MODEL_NAMES if args.model == "both" else (args.model,)
    run_id = create_run(problem, config.to_dict(), model=model.to_dict(), names=names, root=args.runs_dir)
    directory = run_dir(run_id, args.runs_dir)
    print(f"run {run_id}: training {', '.join(names)} in {directory}", file=sys.stderr)
    Worker(directory, sinks=[_progress_printer(args.quiet)]).run()
    summary = get_run(run_id, args.runs_dir)
    if summary.state != "done":
        print(f"run {run_id} ended {summary.state}: {summary.error or ''}", file=sys.stderr)
        return 1
    for name, acc in summary.accuracy.items():
        print(f"{name}: exact match {acc:.1%}")
    print(directory)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from seqattn.evaluation.scoring import evaluate
    from seqattn.runs import load_models, read_problem

    run_id, root = _resolve_run(args.run, args.runs_dir)
    problem = read_problem(run_id, root)
    for name, model in load_models(run_id, root).items():
        acc = evaluate(model, problem, n=args.n, seed=args.seed)
        positions = " ".join(f"{v:.1%}" for v in acc.per_position)
        print(f"{name}: exact match {acc.exact_match:.1%} on {acc.n} pairs; by position {positions}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from seqattn.problem.parsing import parse_sequence
    from seqattn.problem.echo import targets_for
    from seqattn.runs import load_models, read_problem

    run_id, root = _resolve_run(args.run, args.runs_dir)
    # The run's own problem (from run.json): a damaged status.json must not swap in the default one.
    problem = read_problem(run_id, root)
    values = parse_sequence(args.sequence, problem)  # before loading TensorFlow: bad input answers at once
    expected = targets_for([values], problem)[0].tolist()
    print(f"input:    {values}")
    print(f"expected: {expected}")
    from seqattn.model.builders import Predictor

    for name, model in load_models(run_id, root).items():
        prediction = Predictor(model)(values)
        tokens = prediction.tokens[0].tolist()
        conf = " ".join(f"{c:.2f}" for c in prediction.confidence[0])
        print(f"{name + ':':10}{tokens}  {'right' if tokens == expected else 'wrong'}  confidence {conf}")
        if prediction.attention is not None:
            print("attention (rows: output steps, columns: input positions):")
            for t, row in enumerate(prediction.attention[0], start=1):
                print(f"  step {t}: " + " ".join(f"{p:.2f}" for p in row))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from seqattn.training.budget import check_budget
    from seqattn.sweeps.compare import TUTORIAL_REFERENCE, compare, is_tutorial_setup

    problem, config, model = _problem(args), _train_config(args), _model_config(args)
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

    outcome = compare(problem, config, args.repeats, model=model, on_progress=on_progress, on_repeat=on_repeat)
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


def _int_list(name: str, text: str) -> list[int]:
    try:
        values = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise ValueError(f"--{name} takes whole numbers separated by commas; got {text!r}.") from None
    if not values:
        raise ValueError(f"--{name} needs at least one value.")
    return values


def sweep_settings(args: argparse.Namespace) -> tuple[ProblemConfig, Any, ModelConfig, Any]:
    """The sweep command's (problem, recipe, model settings, SweepConfig) from its options.

    Raises:
        ValueError: more than one list, or a bad value (one line for the user).
    """
    from seqattn.sweeps.grid import SweepConfig

    half = args.n_out.strip().lower() == "half"
    lists = {"n_in": _int_list("n-in", args.n_in), "cardinality": _int_list("cardinality", args.cardinality),
             "units": _int_list("units", args.units), "n_out": [] if half else _int_list("n-out", args.n_out)}
    axes = [name for name, values in lists.items() if len(values) > 1]
    if len(axes) > 1:
        raise ValueError(f"sweep one setting at a time; got lists for {', '.join(axes)}.")
    axis = axes[0] if axes else "n_in"
    # The base problem only has to be valid: each cell sets the swept value itself.
    n_in = max(lists["n_in"]) if axis == "n_in" else lists["n_in"][0]
    n_out = max(1, n_in // 2) if half else min(lists["n_out"])
    problem = ProblemConfig(lists["cardinality"][0], n_in, n_out, args.pad_target)
    config, model = _train_config(args), ModelConfig(units=lists["units"][0], encoder=args.encoder)
    sweep = SweepConfig(axis=axis, values=tuple(lists[axis]), seeds=args.seeds,
                        n_out_rule="half" if half else "fixed")
    return problem, config, model, sweep


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
    from seqattn.sweeps.cluster import close_local_cluster, scheduler_address
    from seqattn.runs import create_run, get_run, run_dir
    from seqattn.sweeps.records import cells_of
    from seqattn.sweeps.grid import grid_cells, summary_table
    from seqattn.jobs.worker import Worker

    problem, config, model, sweep = sweep_settings(args)
    cells = grid_cells(problem, config, sweep, model=model)  # refuses an oversized grid before anything starts
    address = scheduler_address(args.scheduler)
    extra: dict[str, Any] = {"sweep": sweep.to_dict()}
    if address:
        extra["scheduler"] = address
    run_id = create_run(problem, config.to_dict(), model=model.to_dict(), kind="sweep", extra=extra,
                        root=args.runs_dir)
    where = address or "a local Dask cluster"
    print(f"run {run_id}: {len(cells)} cells ({sweep.axis} = {', '.join(map(str, sweep.values))}, "
          f"{sweep.seeds} seeds) on {where}", file=sys.stderr, flush=True)
    try:
        Worker(run_dir(run_id, args.runs_dir), sinks=[_cell_printer(args.quiet, len(cells))]).run()
    finally:
        close_local_cluster()
    results = cells_of(run_id, args.runs_dir)
    results.to_csv(args.csv, index=False)
    table = summary_table(results, sweep.axis)
    for row in table.itertuples():
        print(f"{sweep.axis} {getattr(row, sweep.axis):>5}  {row.model:10} mean {row.mean:7.1%}  "
              f"min {row.min:7.1%}  max {row.max:7.1%}  seeds {row.seeds}")
    summary = get_run(run_id, args.runs_dir)
    print(f"wrote {args.csv}; run {run_id} {summary.state} in {summary.elapsed or 0:.1f} s", file=sys.stderr)
    return 0 if summary.state == "done" else 1


def cmd_runs(args: argparse.Namespace) -> int:
    from seqattn.runs import list_runs

    summaries = list_runs(args.runs_dir)
    if not summaries:
        print(f"no runs in {runs_root(args.runs_dir)}")
    for s in summaries:
        print(s.label())  # a broken run's label says what is damaged
    return 0


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "compare": cmd_compare,
            "sweep": cmd_sweep, "runs": cmd_runs}


def _quiet_stdout() -> None:
    """After a closed pipe (``... | head -1``): send what is left to /dev/null, so exit flushes nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (e.g. captured in a test): nothing to flush
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
