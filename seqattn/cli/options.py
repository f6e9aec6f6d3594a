"""The command line's options: one per setting, written once beside its config field, and the parser."""

from __future__ import annotations

import argparse
from typing import Any

from seqattn.configuration import settings_of
from seqattn.model.config import ModelConfig
from seqattn.model.registry import MODEL_NAMES
from seqattn.problem.config import ProblemConfig
from seqattn.problem.parsing import parse_whole_numbers
from seqattn.problem.registry import DEFAULT_TASK, task_named, task_names
from seqattn.runs.layout import validate_run_name
from seqattn.sweeps.grid import CELL_XLA, DEFAULT_CAP, DEFAULT_LENGTHS, DEFAULT_SEEDS, DEFAULT_UNTIL, SweepConfig
from seqattn.training.config import PROTOCOLS, TrainConfig


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: what is wrong and where to look."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# Extra spellings (each bool option also gets its --no- form: --jit, --no-jit).
_ALIASES = {"updates": ("--steps",), "jit_compile": ("--jit",)}
# Problem and model settings whose default depends on the task (resolve_defaults fills them in).
_NONE_DEFAULTS = {"cardinality": None, "n_in": None, "n_out": None, "pad_target": None, "units": None,
                  "encoder": None}
_RECIPE = ("updates", "batch_size", "learning_rate")
# Settings whose None means "not used" (the other None defaults mean "the protocol's"): `off` gives None.
_OFF_BY_DEFAULT = ("until",)


def _int_or_off(text: str) -> int | None:
    """A whole number, or ``off`` (None)."""
    if text.strip().lower() == "off":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'off', got {text!r}") from None


def _add_setting_options(group: Any, cls: type, skip: tuple[str, ...] = (), **defaults: Any) -> None:
    """One option per :func:`~seqattn.configuration.setting` field of ``cls`` (label, help, range written once there)."""
    for name, spec in settings_of(cls).items():
        if name in skip:
            continue
        default = defaults.get(name, spec.default)
        if spec.boolean:
            # --jit-compile / --no-jit-compile (and --jit / --no-jit): either way, whatever the command's default.
            shown = ("the protocol's" if name == "jit_compile" else "the task's") if default is None else (
                "on" if default else "off")
            group.add_argument(spec.flag, *_ALIASES.get(name, ()), dest=name, action=argparse.BooleanOptionalAction,
                               default=default, help=f"{spec.label}: {spec.help} (default {shown})")
            continue
        kind = float if name == "learning_rate" else (str if isinstance(spec.default, str) else int)
        if name in _OFF_BY_DEFAULT:
            kind = _int_or_off
        shown = ("off" if name in _OFF_BY_DEFAULT else "the task's" if name in _NONE_DEFAULTS
                 else "the task's, else this command's" if name == "protocol" else "the protocol's"
                 ) if default is None else default
        choices = spec.choices or (PROTOCOLS if name == "protocol" else None)
        # argparse answers a value outside the choices with a one-line usage error (exit 2).
        extra: dict[str, Any] = {"choices": choices} if choices else {}
        group.add_argument(spec.flag, *_ALIASES.get(name, ()), dest=name, type=kind, default=default,
                           help=f"{spec.help_with_range} (default {shown})", **extra)


def _add_task_option(group: Any) -> None:
    group.add_argument("--task", choices=task_names(), default=DEFAULT_TASK,
                       help="what the models learn (default echo, the tutorial's); the other settings "
                            "default to the task's demo settings (README, Tasks)")


def _add_problem_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("problem")
    _add_task_option(group)
    # None: the task's default (its demo settings), else the setting's; see resolve_defaults.
    _add_setting_options(group, ProblemConfig, skip=("task",), **_NONE_DEFAULTS)


def _add_train_options(parser: argparse.ArgumentParser, default_protocol: str = "tutorial", units: bool = True,
                       **defaults: Any) -> None:
    """The model options (all but ``--units`` where a sweep takes it as a list) and the recipe's.

    ``defaults`` replaces recipe defaults for this command (the sweep's ``jit_compile``).
    """
    _add_setting_options(parser.add_argument_group("models"), ModelConfig, skip=() if units else ("units",),
                         **_NONE_DEFAULTS)
    # None: the task's protocol if it names one (the tutorial's one-pair protocol is Echo's), else this command's.
    _add_setting_options(parser.add_argument_group("training"), TrainConfig, protocol=None, **defaults)
    parser.set_defaults(command_protocol=default_protocol)


def _run_name(text: str) -> str:
    """A run's name (``--name``), checked where the option is read: a bad one is a one-line usage error."""
    try:
        return validate_run_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _name_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--name", type=_run_name, default=None,
                        help=f"a name for the {what} (1-40 letters, digits, - _ .), shown in listings; a talk's "
                             "scenes name runs by it, the newest of that name winning")


def _add_talk_parser(sub: Any) -> None:
    p = sub.add_parser("talk", help="check a talk's scenes, or train the runs they name (talks/*.toml)")
    talk = p.add_subparsers(dest="talk_command", required=True, parser_class=_Parser)
    prepare = talk.add_parser("prepare", help="train every run the talk's scenes name that is not there yet")
    check = talk.add_parser("check", help="say which scenes would not open, and why (exit 1 if any)")
    for q in (prepare, check):
        q.add_argument("talk", help="a talk's file, or its name in talks/ ($SEQATTN_TALKS_DIR)")
        _runs_option(q)
    prepare.add_argument("--quick", action="store_true",
                         help="tiny models (8 units, 30 updates) on the same problems, for a rehearsal or a test")
    prepare.add_argument("--quiet", action="store_true", help="no progress lines")


def _runs_option(parser: argparse.ArgumentParser, flag: str = "--runs-dir") -> None:
    parser.add_argument(flag, dest="runs_dir", default=None,
                        help="runs folder (default $SEQATTN_RUNS_DIR or ./runs)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m seqattn", description="Train, evaluate, compare and sweep the models; list saved runs; "
                                                           "check and prepare talks.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("train", help="train models and save a run the dashboard can open")
    p.add_argument("--model", choices=(*MODEL_NAMES, "both"), default="both",
                   help="which model to train (default both: every model)")
    _add_problem_options(p)
    _add_train_options(p)
    _runs_option(p, "--out")
    _name_option(p, "run")
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
    _add_task_option(group)
    group.add_argument("--n-in", default=",".join(map(str, DEFAULT_LENGTHS)),
                       help=f"input length(s) (default {','.join(map(str, DEFAULT_LENGTHS))})")
    group.add_argument("--n-out", default="2", help="echo length, or 'half' of each input length (default 2)")
    group.add_argument("--cardinality", default=None, help="K, number of distinct tokens (default the task's: 50 for echo)")
    group.add_argument("--units", default=None, help="LSTM/decoder units (default the task's: 150 for echo)")
    group.add_argument("--seeds", type=int, default=DEFAULT_SEEDS,
                       help=f"trainings per grid value (default {DEFAULT_SEEDS})")
    group.add_argument("--no-pad-target", dest="pad_target", action="store_false", default=True,
                       help="target of n_out steps instead of zero-padded")
    # Each model trains to a threshold within a cap (--until, --updates), not a fixed number of updates.
    _add_train_options(p, default_protocol="batched", units=False, jit_compile=CELL_XLA, until=DEFAULT_UNTIL,
                       updates=DEFAULT_CAP)
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler, e.g. tcp://host:8786 (default $SEQATTN_DASK_SCHEDULER, else a local cluster)")
    p.add_argument("--csv", default="sweep.csv", help="per-cell results CSV (default sweep.csv)")
    _runs_option(p)
    _name_option(p, "sweep's run")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser("runs", help="list saved runs, newest first")
    _runs_option(p)
    _add_talk_parser(sub)
    return parser


def from_options(cls: type, args: argparse.Namespace, **override: Any) -> Any:
    """``cls`` from the options; an option left at None takes the task's default (:func:`task_default`)."""
    task = task_named(getattr(args, "task", DEFAULT_TASK))
    values = {name: getattr(args, name) for name in settings_of(cls) if hasattr(args, name)}
    # The task's recipe (updates, batch, rate) is for its protocol: another protocol keeps its own defaults.
    own_recipe = values.get("protocol") in (None, task.defaults.get("protocol"))
    for name, value in values.items():
        if value is None and name in task.defaults and (own_recipe or name not in _RECIPE):
            values[name] = task.defaults[name]
    if values.get("protocol", "") is None:
        values["protocol"] = getattr(args, "command_protocol", "tutorial")
    values = {name: value for name, value in values.items()
              if value is not None or name not in _NONE_DEFAULTS}  # the setting's own default
    if cls is ProblemConfig:
        values["task"] = task.name
    return cls(**{**values, **override})


def problem_of(args: argparse.Namespace) -> ProblemConfig:
    return from_options(ProblemConfig, args)


def train_config_of(args: argparse.Namespace) -> Any:
    return from_options(TrainConfig, args)


def model_config_of_args(args: argparse.Namespace) -> ModelConfig:
    return from_options(ModelConfig, args)


def _int_list(name: str, text: str) -> list[int]:
    """The whole numbers of option ``--<name>`` (one, or a comma-separated list: the swept axis)."""
    try:
        return parse_whole_numbers(text, f"value of --{name}", distinct=False, example="5,10,15")
    except ValueError as exc:
        raise ValueError(f"--{name}: {exc}") from None


def sweep_settings(args: argparse.Namespace) -> tuple[ProblemConfig, Any, ModelConfig, Any]:
    """The sweep command's (problem, recipe, model settings, SweepConfig) from its options.

    Raises:
        ValueError: more than one list, or a bad value (one line for the user).
    """
    task = task_named(args.task)
    half = args.n_out.strip().lower() == "half"
    given = {"cardinality": args.cardinality, "units": args.units}
    given = {name: str(task.defaults.get(name, default)) if text is None else text
             for (name, text), default in zip(given.items(), (ProblemConfig.cardinality, ModelConfig.units))}
    lists = {"n_in": _int_list("n-in", args.n_in), "cardinality": _int_list("cardinality", given["cardinality"]),
             "units": _int_list("units", given["units"]), "n_out": [] if half else _int_list("n-out", args.n_out)}
    if not task.has_length and len(lists["n_in"]) > 1:
        lists["n_in"] = lists["n_in"][:1]  # the task fixes its length: nothing to sweep along it
    axes = [name for name, values in lists.items() if len(values) > 1]
    if len(axes) > 1:
        raise ValueError(f"sweep one setting at a time; got lists for {', '.join(axes)}.")
    axis = axes[0] if axes else ("n_in" if task.has_length else None)
    # The base problem only has to be valid: each cell sets the swept value itself.
    n_in = max(lists["n_in"]) if axis == "n_in" else lists["n_in"][0]
    n_out = max(1, n_in // 2) if half else min(lists["n_out"])
    problem = ProblemConfig(lists["cardinality"][0], n_in, n_out, args.pad_target, task=task.name)
    encoder = args.encoder or task.defaults.get("encoder", ModelConfig.encoder)
    config, model = train_config_of(args), ModelConfig(units=lists["units"][0], encoder=encoder)
    sweep = SweepConfig(axis=axis, values=tuple(lists[axis]) if axis else (), seeds=args.seeds,
                        n_out_rule="half" if half else "fixed")
    return problem, config, model, sweep
