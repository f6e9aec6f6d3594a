"""The command line: train a tiny run, evaluate and predict it, reject bad arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, runs: Path | None = None, timeout: float = 300,
            fake_trainer: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m seqattn *args``; ``fake_trainer`` swaps in tests/fake_trainer where the CLI, not training, is tested."""
    paths = [str(ROOT / "tests" / "fake_trainer")] if fake_trainer else []
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*paths, str(ROOT)]))
    if runs is not None:
        env["SEQATTN_RUNS_DIR"] = str(runs)
    return subprocess.run([sys.executable, "-m", "seqattn", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def run_here(*args: str, capsys: pytest.CaptureFixture[str], runs: Path | None = None) -> tuple[int, str, str]:
    """``seqattn.cli.commands.main(args)`` in this process (no TensorFlow start-up per call): (exit code, stdout, stderr)."""
    from seqattn.cli.commands import main

    with pytest.MonkeyPatch.context() as patch:
        if runs is not None:
            patch.setenv("SEQATTN_RUNS_DIR", str(runs))
        capsys.readouterr()
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "runs"
    result = run_cli("train", "--protocol", "batched", "--units", "16", "--cardinality", "10",
                     "--updates", "60", "--seed", "1", "--out", str(out), "--no-jit")
    assert result.returncode == 0, result.stderr[-2000:]
    run_path = Path(result.stdout.strip().splitlines()[-1])
    return out, run_path, result


def test_train_writes_a_run_the_dashboard_can_list(trained):
    out, run_path, result = trained
    assert run_path.parent == out and (run_path / "attention.keras").is_file()
    assert "attention: exact match" in result.stdout
    listing = run_cli("runs", "--runs-dir", str(out))
    assert listing.returncode == 0 and run_path.name in listing.stdout and "done" in listing.stdout


def test_evaluate_by_directory_and_by_id(trained, capsys):
    out, run_path, _ = trained
    code, by_dir, err = run_here("evaluate", str(run_path), "--n", "200", capsys=capsys)
    assert code == 0, err[-2000:]
    assert "baseline: exact match" in by_dir and "attention: exact match" in by_dir
    code, by_id, err = run_here("evaluate", run_path.name, "--n", "200", capsys=capsys, runs=out)
    assert code == 0, err[-2000:]
    assert by_id == by_dir


def test_predict_prints_both_models_and_attention(trained, capsys):
    _, run_path, _ = trained
    code, out, err = run_here("predict", str(run_path), "[1, 2, 3, 4, 5]", capsys=capsys)
    assert code == 0, err[-2000:]
    assert "expected: 1 2 0 0 0" in out
    assert "baseline:" in out and "attention:" in out
    assert out.count("step ") == 5


def test_a_dates_run_trains_from_the_task_flag_and_predicts_a_typed_date(tmp_path, capsys):
    out = tmp_path / "runs"
    code, printed, err = run_here("train", "--task", "dates", "--units", "8", "--updates", "20", "--eval-every", "10",
                                  "--eval-size", "50", "--no-jit", "--quiet", "--out", str(out), capsys=capsys)
    assert code == 0, err[-2000:]
    run_path = Path(printed.strip().splitlines()[-1])
    meta = json.loads((run_path / "run.json").read_text())
    # The task's demo defaults fill in what was not given: its protocol and batch; its sizes are its own.
    assert meta["problem"]["task"] == "dates" and meta["problem"]["n_in"] == 29
    assert meta["train"]["protocol"] == "batched" and meta["train"]["batch_size"] == 64
    assert "dates (human → ISO)" in run_cli("runs", "--runs-dir", str(out)).stdout
    code, printed, err = run_here("predict", str(run_path), "Wednesday 9 May 2018", capsys=capsys)
    assert code == 0, err[-2000:]
    assert "input:    wednesday 9 may 2018" in printed and "expected: 2018-05-09" in printed
    assert printed.count("step ") == 10  # the attention model's ten output steps
    code, _, err = run_here("predict", str(run_path), "30 february 2018", capsys=capsys)
    assert code != 0 and "february" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (("train", "--n-out", "9"), "n_out must be from 1 to 5; got 9"),
        (("train", "--cardinality", "1"), "cardinality must be from 2 to 1000; got 1"),
        (("train", "--protocol", "fast"), "invalid choice: 'fast'"),
        (("train", "--encoder", "sideways"), "invalid choice: 'sideways'"),
        (("compare", "--encoder", "sideways"), "invalid choice: 'sideways'"),
        (("train", "--units", "many"), "invalid int value: 'many'"),
        (("train", "--learning-rate", "-1"), "learning_rate must be a number above 0"),
        (("bogus",), "invalid choice: 'bogus'"),
        (("evaluate", "../../etc"), "neither a run id nor a run directory"),
        (("train", "--name", "two words"), "argument --name: a run name is 1 to 40 letters, digits"),
        (("sweep", "--name", "x" * 41), "argument --name: a run name is 1 to 40 letters, digits"),
        (("talk", "check", "no-such-talk"), "there is no such talk file, nor a talk of that name"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message):
    result = run_cli(*args)
    assert result.returncode == 2 or (args[0] == "evaluate" and result.returncode == 1)
    lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in result.stderr


def test_predict_bad_sequence_is_one_clear_line(trained):
    _, run_path, _ = trained
    result = run_cli("predict", str(run_path), "1 2 x 4 5")
    assert result.returncode == 2
    assert "Value 3 ('x') is not a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_compare_writes_csvs_and_a_table(tmp_path, capsys):
    # In this process: the command's files and table are under test, not a new process (which would only
    # add a TensorFlow start-up); `compare` trains its repeats in the process that runs it either way.
    csv = tmp_path / "cmp.csv"
    code, out, err = run_here("compare", "--repeats", "2", "--protocol", "batched", "--units", "8", "--cardinality",
                              "6", "--n-in", "4", "--updates", "40", "--eval-size", "50", "--no-jit", "--csv", str(csv),
                              capsys=capsys)
    assert code == 0, err[-2000:]
    import pandas as pd

    results = pd.read_csv(csv)
    assert sorted(results["repeat"].unique()) == [0, 1]
    assert set(results["model"]) == {"baseline", "attention"}
    losses = pd.read_csv(tmp_path / "cmp_losses.csv")
    assert len(losses) == 2 * 2 * 40
    assert "attention" in out and "mean" in out


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A two-cell sweep run through the CLI on its own local Dask cluster."""
    base = tmp_path_factory.mktemp("sweep")
    csv, runs = base / "sweep.csv", base / "runs"
    result = run_cli("sweep", "--n-in", "3,4", "--seeds", "1", "--units", "8", "--cardinality", "6", "--updates", "40",
                     "--eval-size", "50", "--no-jit", "--csv", str(csv), "--runs-dir", str(runs), fake_trainer=True)
    return csv, runs, result


def test_sweep_writes_a_csv_progress_lines_and_a_table(swept):
    csv, _, result = swept
    assert result.returncode == 0, result.stderr[-2000:]
    import pandas as pd

    cells = pd.read_csv(csv)
    assert len(cells) == 2 * 2
    assert cells["n_in"].tolist() == [3, 3, 4, 4] and set(cells["model"]) == {"baseline", "attention"}
    assert set(cells["status"]) == {"done"} and cells["exact_match"].between(0, 1).all()
    assert "cell 1/2" in result.stderr and "cell 2/2" in result.stderr
    assert result.stdout.startswith("trained until 95 % held-out exact match, at most 40 updates; 1 seeds from 0")
    table = [line for line in result.stdout.splitlines() if line.startswith("input length")]
    # The fake trainer's baseline needs 40 * n_in / 4 updates: 30 at length 3, 40 at 4; attention 8.
    assert len(table) == 4 and all("updates to threshold" in line and "exact match at the end" in line
                                   for line in table)
    assert "attention  updates to threshold 8 (min 8, max 8) " in table[0]
    assert "baseline   updates to threshold 30 (min 30, max 30) " in table[1]
    assert result.stderr.strip().splitlines()[-1].endswith("2 done, 0 failed")
    assert cells["reached"].tolist() == [30, 8, 40, 8] and set(cells["until"]) == {95} and set(cells["cap"]) == {40}


def test_a_sweep_with_a_failed_cell_exits_1_and_says_how_many(tmp_path):
    from fake_trainer.sitecustomize import FAILING_SEED

    result = run_cli("sweep", "--n-in", "3", "--seeds", "2", "--seed", str(FAILING_SEED - 1), "--units", "8",
                     "--cardinality", "6", "--updates", "40", "--csv", str(tmp_path / "s.csv"),
                     "--runs-dir", str(tmp_path / "runs"), fake_trainer=True)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith("1 done, 1 failed: RuntimeError: this fake cell fails on purpose"), last


def test_runs_lists_the_sweep(swept):
    _, runs, result = swept
    assert result.returncode == 0, result.stderr[-2000:]
    listing = run_cli("runs", "--runs-dir", str(runs))
    assert listing.returncode == 0
    assert "sweep n_in = 3,4 · 2/2 cells · done" in listing.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("--n-in", "5,x"), "--n-in: 'x' is not a whole number. Type whole numbers separated by commas"),
        (("--n-in", "3,4", "--units", "8,16"), "sweep one setting at a time; got lists for n_in, units"),
        (("--seeds", "0"), "seeds must be from 1 to 100; got 0"),
        (("--n-in", "3,4,5", "--seeds", "67"), "this grid has 201 cells (3 values x 67 seeds); at most 200 run"),
        (("--scheduler", "notanaddress"), "a Dask scheduler address looks like tcp://host:8786; got 'notanaddress'"),
    ],
)
def test_sweep_bad_arguments_exit_2_with_one_line_and_start_nothing(tmp_path, args, message):
    result = run_cli("sweep", *args, "--runs-dir", str(tmp_path / "runs"), "--csv", str(tmp_path / "x.csv"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m seqattn sweep: error: ") and message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists() and not (tmp_path / "x.csv").exists()


def test_train_with_a_bidirectional_encoder_records_it(tmp_path, capsys):
    import json

    # What the option records is under test, not the training (tests/test_encoder.py trains this encoder).
    out = tmp_path / "runs"
    result = run_cli("train", "--encoder", "bidirectional", "--protocol", "batched", "--units", "8",
                     "--cardinality", "6", "--n-in", "4", "--updates", "30", "--eval-size", "50", "--no-jit",
                     "--out", str(out), "--quiet", fake_trainer=True)
    assert result.returncode == 0, result.stderr[-2000:]
    run_path = Path(result.stdout.strip().splitlines()[-1])
    meta = json.loads((run_path / "run.json").read_text())
    assert meta["model"] == {"units": 8, "encoder": "bidirectional"}
    code, listing, err = run_here("runs", "--runs-dir", str(out), capsys=capsys)
    assert code == 0, err[-2000:]
    assert "bidirectional encoder" in listing


@pytest.mark.parametrize("command", ["train", "compare"])
def test_encoder_option_defaults_to_the_tutorials(command):
    from seqattn.cli.options import build_parser, model_config_of_args as _model_config

    assert _model_config(build_parser().parse_args([command])).encoder == "unidirectional"
    chosen = build_parser().parse_args([command, "--encoder", "bidirectional"])
    assert _model_config(chosen).encoder == "bidirectional"


def test_sweep_settings_carry_the_encoder():
    from seqattn.cli.options import build_parser, sweep_settings

    args = build_parser().parse_args(["sweep", "--units", "8,16", "--n-in", "4", "--encoder", "bidirectional"])
    _, _, model, sweep = sweep_settings(args)
    assert model.encoder == "bidirectional" and sweep.axis == "units"
    default = sweep_settings(build_parser().parse_args(["sweep"]))[2]
    assert default.encoder == "unidirectional"


def test_sweeps_train_without_xla_unless_asked_and_single_trainings_with_it():
    from seqattn.cli.options import build_parser, sweep_settings, train_config_of as _train_config

    parse = build_parser().parse_args
    assert sweep_settings(parse(["sweep"]))[1].jit_compile is False
    assert sweep_settings(parse(["sweep", "--jit"]))[1].jit_compile is True
    assert _train_config(parse(["train"])).jit_compile is True
    assert _train_config(parse(["train", "--no-jit"])).jit_compile is False
    assert _train_config(parse(["compare", "--no-jit-compile"])).jit_compile is False


def test_sweep_lists_take_spaces_as_the_form_does():
    # "5 10" is two lengths (it was once read as 510); the Sweep form parses lists the same way.
    from seqattn.cli.options import build_parser, sweep_settings

    args = build_parser().parse_args(["sweep", "--n-in", "5 10", "--seeds", "1"])
    assert sweep_settings(args)[3].values == (5, 10)


def test_train_until_stops_each_model_at_the_threshold_and_says_where(tmp_path, capsys):
    import json

    out = tmp_path / "runs"
    code, stdout, err = run_here("train", "--protocol", "batched", "--units", "16", "--cardinality", "5", "--n-in", "4",
                                 "--updates", "400", "--learning-rate", "0.02", "--eval-every", "20",
                                 "--eval-size", "200", "--seed", "1", "--no-jit", "--until", "90", "--out", str(out),
                                 "--quiet", capsys=capsys)
    assert code == 0, err[-2000:]
    run_path = Path(stdout.strip().splitlines()[-1])
    assert json.loads((run_path / "run.json").read_text())["train"]["until"] == 90
    stops = json.loads((run_path / "result.json").read_text())["stops"]
    for name in ("baseline", "attention"):
        line = next(line for line in stdout.splitlines() if line.startswith(name + ":"))
        assert f"reached 90 % at update {stops[name]['reached']:,}" in line, line
    assert json.loads((run_path / "result.json").read_text())["updates_done"] == max(
        s["updates"] for s in stops.values()) < 400, "the run ended once both had stopped"


TALK = '''\
title = "A talk for the command line"

[[run]]
name = "cli-echo"
problem = { task = "echo", cardinality = 6, n_in = 4, n_out = 2 }

[[run]]
name = "cli-reverse"
problem = { task = "reverse", cardinality = 6, n_in = 4 }

[[scene]]
title = "Echo"
run = "cli-echo"
sequence = "1 2 3 4"

[[scene]]
title = "Reverse"
page = "train"
run = "cli-reverse"
'''


def test_talk_check_and_prepare_say_what_is_missing_train_it_once_and_then_all_scenes_open(tmp_path):
    # The command's lines and exit codes are under test (the fake trainer trains): tests/test_talks.py trains for real.
    talk, runs = tmp_path / "demo.toml", tmp_path / "runs"
    talk.write_text(TALK)
    check = run_cli("talk", "check", str(talk), "--runs-dir", str(runs))
    assert check.returncode == 1, check.stderr[-2000:]
    lines = check.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("scene 1 (Echo): there is no run named `cli-echo`")
    assert lines[1].startswith("scene 2 (Reverse): ") and f"talk prepare {talk}`" in lines[1]
    prepare = run_cli("talk", "prepare", str(talk), "--quick", "--runs-dir", str(runs), fake_trainer=True)
    assert prepare.returncode == 0, prepare.stderr[-2000:]
    out = prepare.stdout.strip().splitlines()
    assert out[0] == "training cli-echo: echo K=6 n_in=4 n_out=2, 8 units, 30 updates of 16"
    assert out[1] == "training cli-reverse: reverse K=6 n_in=4, 8 units, 30 updates of 16"
    assert out[2].startswith("cli-echo: run ") and "exact match baseline" in out[2]
    assert out[-1] == "2 trained, 0 already there"
    again = run_cli("talk", "prepare", str(talk), "--quick", "--runs-dir", str(runs), fake_trainer=True)
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == "0 trained, 2 already there"
    check = run_cli("talk", "check", str(talk), "--runs-dir", str(runs))
    assert check.returncode == 0 and check.stdout.strip() == "all 2 scenes open", check.stdout
    listing = run_cli("runs", "--runs-dir", str(runs)).stdout
    assert " · cli-echo · echo K=6" in listing and " · cli-reverse · reverse K=6" in listing


def test_a_talk_is_found_by_name_in_the_talks_folder(tmp_path, monkeypatch, capsys):
    (tmp_path / "demo.toml").write_text(TALK.replace('sequence = "1 2 3 4"', 'sequence = "1 2 3"'))
    monkeypatch.setenv("SEQATTN_TALKS_DIR", str(tmp_path))
    code, out, err = run_here("talk", "check", "demo", "--runs-dir", str(tmp_path / "runs"), capsys=capsys)
    assert code == 1, err
    assert "scene 1 (Echo): there is no run named `cli-echo`" in out


@pytest.mark.parametrize("text, line", [
    (TALK.replace('title = "Echo"', 'title = "Echo"\nsequnce = "1 2 3 4"'), 13),
    (TALK.replace('run = "cli-echo"\n', 'run = "cli-echo\n'), 13),
])
def test_a_malformed_talk_is_one_line_naming_the_line_and_exit_2(tmp_path, capsys, text, line):
    talk = tmp_path / "bad.toml"
    talk.write_text(text)
    for command in ("check", "prepare"):
        code, out, err = run_here("talk", command, str(talk), "--runs-dir", str(tmp_path / "runs"), capsys=capsys)
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and f"{talk}, line {line}: " in err, err
    assert not (tmp_path / "runs").exists()


def test_train_stores_the_name_given_and_runs_lists_it(tmp_path):
    out = tmp_path / "runs"
    result = run_cli("train", "--name", "tiny-demo", "--protocol", "batched", "--units", "8", "--cardinality", "6",
                     "--n-in", "4", "--updates", "30", "--eval-size", "50", "--no-jit", "--out", str(out), "--quiet",
                     fake_trainer=True)
    assert result.returncode == 0, result.stderr[-2000:]
    run_path = Path(result.stdout.strip().splitlines()[-1])
    assert json.loads((run_path / "run.json").read_text())["name"] == "tiny-demo"
    assert f"{run_path.name} · tiny-demo · echo K=6" in run_cli("runs", "--runs-dir", str(out)).stdout
