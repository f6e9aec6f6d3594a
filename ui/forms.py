"""The task, problem and training form shared by the Train, Compare and Sweep pages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from collections.abc import Mapping

import streamlit as st

from seqattn.training.budget import budget_problem, estimate_job
from seqattn.configuration import Setting, settings_of
from seqattn.model.config import ModelConfig
from seqattn.problem.config import MAX_LENGTH, ProblemConfig
from seqattn.problem.registry import DEFAULT_TASK, TASKS, task_named
from seqattn.problem.task import Task
from seqattn.training.config import PROTOCOL_DEFAULTS, TrainConfig
from ui.numbers import number_field

PROTOCOL_LABELS = {"batched": "Batched (fast)", "tutorial": "Tutorial (one pair per update)"}
# Problem settings whose widget key is not the setting's name (kept: tests and sessions use them).
PROBLEM_KEYS = {"pad_target": "pad"}


@dataclass(frozen=True)
class FormResult:
    """What the form holds: the configs when valid (``model`` with units and encoder), else the validation message.

    ``error`` is also set (with the configs) when the settings are valid but over
    the memory or time budget (:mod:`seqattn.training.budget`): pages then refuse to start.
    """

    problem: ProblemConfig | None
    train: TrainConfig | None
    error: str | None
    model: ModelConfig | None = None


def chosen_task(prefix: str) -> Task:
    """The task the form ``prefix``'s Task box holds (the default task before it is first drawn).

    A page that lays out inputs above the form which depend on the task (the Sweep's axes)
    reads it here: a widget's value is in the session before the page's script runs.
    """
    name = st.session_state.get(f"{prefix}_task", DEFAULT_TASK)
    return TASKS.get(name) or task_named(DEFAULT_TASK)


def task_default(task: Task, name: str, fallback: Any, key: str | None = None) -> tuple[str, Any]:
    """The key part and default of the form field for setting ``name`` under ``task``: ``(key, default)``.

    The default task's fields and the fields a task sets no default for share one widget,
    keyed by ``key`` (default ``name``; so the tests' and bookmarks' keys stay those the form always had), with
    the default task's value or ``fallback``. A field another task sets a demo default for is
    its own widget, ``<task>_<key>``: choosing the task brings its defaults, and choosing
    another task and back keeps what was typed for it.
    """
    key = key or name
    if task.name != DEFAULT_TASK and name in task.defaults:
        return f"{task.name}_{key}", task.defaults[name]
    return key, task_named(DEFAULT_TASK).defaults.get(name, fallback)


def task_box(prefix: str) -> Task:
    """The Task selectbox (key ``<prefix>_task``): the registered tasks in order, the default first."""
    names = list(TASKS)
    help_text = "What the models learn. " + " ".join(f"**{t.label}**: {t.summary}" for t in TASKS.values())
    name = st.selectbox("Task", names, index=names.index(DEFAULT_TASK), format_func=lambda n: TASKS[n].label,
                        key=f"{prefix}_task", help=help_text, persist_state="session")
    task = TASKS[name]
    if not task.settings:
        # A task that fixes every size has nothing to set here: say what it is instead.
        shape = ProblemConfig(task=task.name)
        st.caption(f"{task.summary} Its sizes are fixed: inputs of {shape.n_in} steps over {shape.input_size} "
                   f"symbols, outputs of {shape.target_len} steps over {shape.output_size}.")
    return task


def config_form(prefix: str, default_protocol: str = "batched", swept: Mapping[str, int] | None = None,
                xla: bool | None = None, until: int | None = None, cap: int | None = None) -> FormResult:
    """Draw the configuration inputs and validate them as the user types.

    Every input has a key (``<prefix>_<setting>``): keys are the interface tests use. Every input
    keeps its value for the session, so "Train another" comes back with the settings
    just used, not the defaults.

    The Task box comes first (``<prefix>_task``); the problem inputs are then the task's own
    settings only (:attr:`~seqattn.problem.task.Task.settings`), each defaulting to the task's
    demo value where it has one, as do Units, Encoder, Protocol and the recipe's numbers
    (:func:`task_default` says how they are keyed). The task's recipe numbers (updates, batch
    size, learning rate) are for its protocol (its ``protocol`` default, else ``default_protocol``);
    the other protocol keeps its own.
    ``swept`` holds the settings a sweep sets per cell (e.g. ``{"n_in": 40}``, the
    largest value): those are not asked for, and validation uses the given value.
    ``xla`` is the recipe's ``jit_compile`` (not asked: the page decides; None: the chosen
    protocol's, :data:`~seqattn.training.config.PROTOCOL_XLA`). ``until`` is the
    recipe's threshold (asked by the page, e.g. the Sweep's): Updates is then asked as the cap,
    its default ``cap``.

    Number inputs are text fields our code parses (:mod:`ui.numbers`): a value one cannot
    hold (``1e20``, ``1e3``, ``1e5`` for the cardinality) is the form's ``error``, naming the
    field and its range, so the page refuses to start instead of training with another value.
    Valid settings get an estimate of time and peak memory under the form, and a refusal
    (``error``) when over the budget. The problem is built with the chosen task.
    """
    swept = swept or {}
    problem_settings, train_settings = settings_of(ProblemConfig), settings_of(TrainConfig)
    model_settings = settings_of(ModelConfig)

    typos: list[str] = []  # each field's message, in the form's order: the first one is shown

    def whole(spec: Setting, key: str, value: int | None = None, low: int | None = None,
              high: int | None = None, **kw: Any) -> Any:
        if spec.name in swept:
            st.caption(f"{spec.label}: set by the sweep")
            return swept[spec.name]
        low, high = spec.low if spec.low is not None else low, spec.high if spec.high is not None else high
        number, typo = number_field(spec.label, f"{prefix}_{key}", spec.default if value is None else value, low, high,
                                    help=f"{spec.help.rstrip('.')} ({low:,} to {high:,}).", **kw)
        if typo:
            typos.append(typo)
        return number

    left, middle, right = st.columns(3)
    with left:
        st.markdown("**Problem**")
        task = task_box(prefix)
        problem_values: dict[str, Any] = {}
        for name in task.settings:
            spec = problem_settings[name]
            key, default = task_default(task, name, spec.default, PROBLEM_KEYS.get(name))
            if isinstance(spec.default, bool):
                problem_values[name] = st.toggle(spec.label, value=bool(default), key=f"{prefix}_{key}",
                                                 help=spec.help, persist_state="session")
            else:  # the echo length has no range of its own (at most n_in: checked by the config)
                problem_values[name] = whole(spec, key, default, low=1, high=MAX_LENGTH)
    with middle:
        st.markdown("**Models**")
        units = whole(model_settings["units"], *task_default(task, "units", model_settings["units"].default))
        encoder_spec = model_settings["encoder"]
        encoder_choices = list(encoder_spec.choices or (encoder_spec.default,))
        encoder_key, encoder_default = task_default(task, "encoder", encoder_spec.default)
        encoder = st.selectbox(encoder_spec.label, encoder_choices, index=encoder_choices.index(encoder_default),
                               key=f"{prefix}_{encoder_key}", help=encoder_spec.help, persist_state="session")
        protocol_key, task_protocol = task_default(task, "protocol", default_protocol)
        protocol_label = st.radio(train_settings["protocol"].label, list(PROTOCOL_LABELS.values()),
                                  index=list(PROTOCOL_LABELS).index(task_protocol), key=f"{prefix}_{protocol_key}",
                                  persist_state="session")
        protocol = next(k for k, v in PROTOCOL_LABELS.items() if v == protocol_label)
    defaults = dict(zip(("updates", "batch_size", "learning_rate"), PROTOCOL_DEFAULTS[protocol][:3]))

    def recipe(name: str, key: str) -> tuple[str, Any]:
        # Keys carry the protocol so switching protocol brings its own defaults; the task's
        # numbers were chosen for its protocol, so only that protocol takes them.
        part, value = task_default(task, name, defaults[name])
        if part != name:  # the task's own widget
            return f"{task.name}_{key}_{protocol}", value if protocol == task_protocol else defaults[name]
        return f"{key}_{protocol}", defaults[name]

    with right:
        st.markdown("**Training**")
        updates_spec = train_settings["updates"]
        updates_key, updates_default = recipe("updates", "updates")
        if until is not None:
            updates_spec = replace(updates_spec, label="Cap on updates",
                                   help=f"Each model trains until {until} % exact match or this many updates.")
            updates_default = cap or updates_default  # the page's cap, not a training length
        updates = whole(updates_spec, updates_key, updates_default)
        batch_size = whole(train_settings["batch_size"], *recipe("batch_size", "batch"), disabled=protocol == "tutorial")
        lr_spec = train_settings["learning_rate"]
        lr_key, lr_default = recipe("learning_rate", "lr")
        learning_rate, typo = number_field(lr_spec.label, f"{prefix}_{lr_key}", lr_default, 0.0, 1.0, whole=False,
                                           help=lr_spec.help)
        typos += [typo] if typo else []
        seed = whole(train_settings["seed"], "seed")
    if typos:
        return FormResult(None, None, typos[0])
    if protocol == "tutorial":
        batch_size = 1  # the field is disabled: one pair per update, whatever it shows
    try:
        problem = ProblemConfig(**{name: (bool(v) if isinstance(v, bool) else int(v))
                                   for name, v in problem_values.items()}, task=task.name)
        model = ModelConfig(units=int(units), encoder=str(encoder))
        train = TrainConfig(protocol=protocol, updates=int(updates),
                            batch_size=int(batch_size), learning_rate=float(learning_rate), seed=int(seed),
                            jit_compile=xla, until=until)
    except (ValueError, TypeError, OverflowError) as exc:
        return FormResult(None, None, str(exc))
    estimate = estimate_job(problem, train, model)
    st.caption(estimate.describe() + (" per cell, at the largest value" if swept else ""))
    refusal = budget_problem(problem, train, model, estimate=estimate)
    return FormResult(problem, train, refusal, model)
