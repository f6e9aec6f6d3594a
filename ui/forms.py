"""The problem-and-training form shared by the Train and Compare pages."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from seqattn.problem import ProblemConfig
from seqattn.training import PROTOCOL_DEFAULTS, TrainConfig

PROTOCOL_LABELS = {"batched": "Batched (fast)", "tutorial": "Tutorial (one pair per update)"}


@dataclass(frozen=True)
class FormResult:
    """What the form holds: both configs when valid, else the validation message."""

    problem: ProblemConfig | None
    train: TrainConfig | None
    error: str | None


def config_form(prefix: str, default_protocol: str = "batched") -> FormResult:
    """Draw the configuration inputs and validate them as the user types.

    Widget labels are part of the interface (tests find widgets by them).
    """
    left, middle, right = st.columns(3)
    with left:
        st.markdown("**Problem**")
        cardinality = st.number_input("Cardinality", value=50, step=1, key=f"{prefix}_cardinality",
                                      help="K: tokens are the integers 0..K-1 (2 to 1000).")
        n_in = st.number_input("Input length", value=5, step=1, key=f"{prefix}_n_in", help="n_in, 1 to 100.")
        n_out = st.number_input("Echo length", value=2, step=1, key=f"{prefix}_n_out",
                                help="n_out: how many leading inputs the target repeats (1 to n_in).")
        pad = st.toggle("Pad target", value=True, key=f"{prefix}_pad",
                        help="On (the tutorial): the target is padded with zeros to n_in steps. "
                             "Off: the decoder emits only n_out steps.")
    with middle:
        st.markdown("**Models**")
        units = st.number_input("Units", value=150, step=1, key=f"{prefix}_units",
                                help="LSTM and decoder size of both models (1 to 1024).")
        protocol_label = st.radio("Protocol", list(PROTOCOL_LABELS.values()),
                                  index=list(PROTOCOL_LABELS).index(default_protocol), key=f"{prefix}_protocol")
        protocol = next(k for k, v in PROTOCOL_LABELS.items() if v == protocol_label)
    updates_default, batch_default, lr_default, _ = PROTOCOL_DEFAULTS[protocol]
    with right:
        st.markdown("**Training**")
        # Keys carry the protocol so switching protocol brings its own defaults.
        updates = st.number_input("Updates", value=updates_default, step=100, key=f"{prefix}_updates_{protocol}")
        batch_size = st.number_input("Batch size", value=batch_default, step=1, key=f"{prefix}_batch_{protocol}",
                                     disabled=protocol == "tutorial",
                                     help="The tutorial protocol trains on one pair per update.")
        learning_rate = st.number_input("Learning rate", value=lr_default, step=1e-4, format="%.4f",
                                        key=f"{prefix}_lr_{protocol}")
        seed = st.number_input("Seed", value=0, step=1, key=f"{prefix}_seed")
    try:
        problem = ProblemConfig(int(cardinality), int(n_in), int(n_out), bool(pad))
        train = TrainConfig(protocol=protocol, units=int(units), updates=int(updates),
                            batch_size=int(batch_size), learning_rate=float(learning_rate), seed=int(seed))
    except (ValueError, TypeError, OverflowError) as exc:
        return FormResult(None, None, str(exc))
    return FormResult(problem, train, None)
