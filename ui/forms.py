"""The problem-and-training form shared by the Train and Compare pages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from collections.abc import Mapping

import streamlit as st

from seqattn.training.budget import budget_problem, estimate_job
from seqattn.configuration import Setting, settings_of
from seqattn.model.config import ModelConfig
from seqattn.problem.config import MAX_LENGTH, ProblemConfig
from seqattn.training.config import PROTOCOL_DEFAULTS, TrainConfig
from ui.numbers import number_field

PROTOCOL_LABELS = {"batched": "Batched (fast)", "tutorial": "Tutorial (one pair per update)"}


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


def config_form(prefix: str, default_protocol: str = "batched", swept: Mapping[str, int] | None = None,
                xla: bool = True, until: int | None = None, cap: int | None = None) -> FormResult:
    """Draw the configuration inputs and validate them as the user types.

    Every input has a key (``<prefix>_<setting>``): keys are the interface tests use. Every input
    keeps its value for the session, so "Train another" comes back with the settings
    just used, not the defaults.
    ``swept`` holds the settings a sweep sets per cell (e.g. ``{"n_in": 40}``, the
    largest value): those are not asked for, and validation uses the given value.
    ``xla`` is the recipe's ``jit_compile`` (not asked: the page decides). ``until`` is the
    recipe's threshold (asked by the page, e.g. the Sweep's): Updates is then asked as the cap,
    its default ``cap``.

    Number inputs are text fields our code parses (:mod:`ui.numbers`): a value one cannot
    hold (``1e20``, ``1e3``, ``1e5`` for the cardinality) is the form's ``error``, naming the
    field and its range, so the page refuses to start instead of training with another value.
    Valid settings get an estimate of time and peak memory under the form, and a refusal
    (``error``) when over the budget.
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
        cardinality = whole(problem_settings["cardinality"], "cardinality")
        n_in = whole(problem_settings["n_in"], "n_in")
        n_out = whole(problem_settings["n_out"], "n_out", low=1, high=MAX_LENGTH)  # at most n_in: checked below
        pad_spec = problem_settings["pad_target"]
        pad = st.toggle(pad_spec.label, value=pad_spec.default, key=f"{prefix}_pad", help=pad_spec.help,
                        persist_state="session")
    with middle:
        st.markdown("**Models**")
        units = whole(model_settings["units"], "units")
        encoder_spec = model_settings["encoder"]
        encoder_choices = list(encoder_spec.choices or (encoder_spec.default,))
        encoder = st.selectbox(encoder_spec.label, encoder_choices, index=encoder_choices.index(encoder_spec.default),
                               key=f"{prefix}_encoder", help=encoder_spec.help,
                               persist_state="session")
        protocol_label = st.radio(train_settings["protocol"].label, list(PROTOCOL_LABELS.values()),
                                  index=list(PROTOCOL_LABELS).index(default_protocol), key=f"{prefix}_protocol",
                                  persist_state="session")
        protocol = next(k for k, v in PROTOCOL_LABELS.items() if v == protocol_label)
    updates_default, batch_default, lr_default, _ = PROTOCOL_DEFAULTS[protocol]
    with right:
        st.markdown("**Training**")
        # Keys carry the protocol so switching protocol brings its own defaults.
        updates_spec = train_settings["updates"]
        if until is not None:
            updates_spec = replace(updates_spec, label="Cap on updates",
                                   help=f"Each model trains until {until} % exact match or this many updates.")
        updates = whole(updates_spec, f"updates_{protocol}", cap or updates_default)
        batch_size = whole(train_settings["batch_size"], f"batch_{protocol}", batch_default,
                           disabled=protocol == "tutorial")
        lr_spec = train_settings["learning_rate"]
        learning_rate, typo = number_field(lr_spec.label, f"{prefix}_lr_{protocol}", lr_default, 0.0, 1.0, whole=False,
                                           help=lr_spec.help)
        typos += [typo] if typo else []
        seed = whole(train_settings["seed"], "seed")
    if typos:
        return FormResult(None, None, typos[0])
    try:
        problem = ProblemConfig(int(cardinality), int(n_in), int(n_out), bool(pad))
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
