"""The attention model's encoder choice (issue 12): settings, old runs, labels, sweeps, saving."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from seqattn.configuration import DictConfig, Setting, check_settings, setting, settings_of
from seqattn.model.config import ENCODERS, ModelConfig, model_config_of
from seqattn.problem.config import ProblemConfig
from seqattn.runs.summary import RunSummary
from seqattn.sweeps.grid import SweepConfig, grid_cells
from seqattn.training.cost import estimate_cell_seconds, estimate_update_seconds
from seqattn.training.config import TrainConfig

PROBLEM = ProblemConfig(cardinality=8, n_in=4, n_out=2)


# --------------------------------------------------------------------------- the setting


def test_encoder_setting_declares_its_choices() -> None:
    spec = settings_of(ModelConfig)["encoder"]
    assert isinstance(spec, Setting)
    assert spec.label == "Encoder" and spec.default == "unidirectional"
    assert spec.choices == ENCODERS == ("unidirectional", "bidirectional")
    assert spec.help and spec.low is None and spec.high is None
    # Whole-number settings have no choices.
    assert settings_of(ModelConfig)["units"].choices is None


def test_model_config_defaults_and_round_trip() -> None:
    assert ModelConfig().encoder == "unidirectional"
    config = ModelConfig(units=8, encoder="bidirectional")
    assert config.to_dict() == {"units": 8, "encoder": "bidirectional"}
    assert ModelConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("value", ["sideways", "Bidirectional", "", None, 2])
def test_a_bad_encoder_names_the_field_the_choices_and_the_value(value) -> None:
    with pytest.raises(ValueError) as info:
        ModelConfig(encoder=value)
    assert str(info.value) == f"encoder must be one of unidirectional, bidirectional; got {value!r}."


def test_old_runs_without_an_encoder_load_as_unidirectional() -> None:
    assert ModelConfig.from_dict({"units": 32}) == ModelConfig(units=32, encoder="unidirectional")
    assert model_config_of({"model": {"units": 32}}).encoder == "unidirectional"
    assert model_config_of({"train": {"units": 16}}) == ModelConfig(units=16)
    assert model_config_of({"model": {"units": 8, "encoder": "bidirectional"}}).encoder == "bidirectional"


def test_choices_on_any_config() -> None:
    @dataclasses.dataclass(frozen=True)
    class Colour(DictConfig):
        KIND = "colour"
        name: str = setting("red", "Colour", "A colour.", choices=("red", "blue"))

        def __post_init__(self) -> None:
            check_settings(self)

    assert Colour("blue").name == "blue"
    with pytest.raises(ValueError, match="name must be one of red, blue; got 'green'"):
        Colour("green")
    with pytest.raises(ValueError, match="must be one of its choices"):
        setting("green", "Colour", "A colour.", choices=("red", "blue"))


# --------------------------------------------------------------------------- labels and sweeps


def _summary(model: dict) -> RunSummary:
    return RunSummary(id="20260101-000000-abcdef", created=0.0, state="done",
                      problem={"cardinality": 50, "n_in": 5, "n_out": 2}, model=model,
                      accuracy={"attention": 0.97})


def test_label_names_a_bidirectional_encoder_only() -> None:
    plain = _summary({"units": 150, "encoder": "unidirectional"}).label()
    assert plain == "20260101-000000-abcdef · echo K=50 n_in=5 n_out=2 · done · attention 97%"
    assert _summary({"units": 150}).label() == plain  # runs saved before the choice
    assert _summary({"units": 150, "encoder": "bidirectional"}).label() == (
        "20260101-000000-abcdef · echo K=50 n_in=5 n_out=2 · done · bidirectional encoder · attention 97%")


def test_bidirectional_cells_are_estimated_dearer_and_carry_the_encoder() -> None:
    train = TrainConfig(protocol="batched", updates=100)
    uni, bi = ModelConfig(units=16), ModelConfig(units=16, encoder="bidirectional")
    assert estimate_update_seconds(PROBLEM, train, bi) >= estimate_update_seconds(PROBLEM, train, uni)
    assert estimate_cell_seconds(PROBLEM, train, bi) > estimate_cell_seconds(PROBLEM, train, uni)
    cells = grid_cells(PROBLEM, train, SweepConfig(axis="units", values=(8, 16), seeds=2), model=bi)
    assert [c.model for c in cells] == [ModelConfig(8, "bidirectional")] * 2 + [ModelConfig(16, "bidirectional")] * 2


# --------------------------------------------------------------------------- training and saving


@pytest.fixture(scope="module")
def trained_bidirectional():
    from seqattn.training.session import train

    config = TrainConfig(protocol="batched", seed=2, updates=30, eval_size=50, jit_compile=False)
    return train(PROBLEM, config, model=ModelConfig(units=8, encoder="bidirectional"))


def test_training_builds_the_chosen_encoder(trained_bidirectional) -> None:
    import keras

    models = trained_bidirectional.models
    assert isinstance(models["attention"].get_layer("encoder"), keras.layers.Bidirectional)
    assert isinstance(models["baseline"].get_layer("encoder"), keras.layers.LSTM)
    assert trained_bidirectional.updates_done == 30


def test_saved_bidirectional_model_loads_and_predicts_identically(trained_bidirectional, tmp_path) -> None:
    import keras

    from seqattn.model.builders import Predictor
    from seqattn.runs.saved_models import load_model_files, save_result

    save_result(tmp_path, trained_bidirectional)
    loaded = load_model_files(tmp_path, ["baseline", "attention"], "test-run")
    assert isinstance(loaded["attention"].get_layer("encoder"), keras.layers.Bidirectional)
    inputs = np.random.default_rng(0).integers(0, PROBLEM.cardinality, size=(20, PROBLEM.n_in))
    for name in ("baseline", "attention"):
        before = Predictor(trained_bidirectional.models[name])(inputs)
        after = Predictor(loaded[name])(inputs)
        np.testing.assert_array_equal(after.tokens, before.tokens)
        np.testing.assert_allclose(after.probabilities, before.probabilities, atol=1e-6)
        if name == "attention":
            np.testing.assert_allclose(after.attention, before.attention, atol=1e-6)
