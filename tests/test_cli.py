import numpy as np
import pytest

from csacgan.cli import main

TINY = ["--g-channels", "16,8,8,8,4", "--d-channels", "8,8,16,16", "--batch-size", "16", "--no-progress",
        "--device", "cpu"]


def test_train_resume_generate(tmp_path, synthetic_path, capsys):
    run = tmp_path / "run"
    main(["train", "--method", "acgan", "--data-dir", str(synthetic_path), "--drop-fraction", "0.95",
          "--max-steps", "3", "--out", str(run), *TINY])
    main(["train", "--resume", str(run), "--max-steps", "5", "--no-progress"])
    assert "colour images" not in capsys.readouterr().err  # the architecture line is for colour images only
    import json
    config = json.loads((run / "config.json").read_text())
    assert config["imbalance"]["protocol"] == "drop" and config["imbalance"]["counts"][0] == 50
    assert config["config"]["max_steps"] == 5
    out = tmp_path / "zeros.npz"
    main(["generate", "--run", str(run), "--class", "0", "--n", "12", "--out", str(out),
          "--grid", str(tmp_path / "zeros.png")])
    saved = np.load(out)
    assert saved["images"].shape == (12, 28, 28) and saved["images"].dtype == np.uint8
    assert saved["labels"].dtype == np.int64 and (saved["labels"] == 0).all()
    assert (tmp_path / "zeros.png").stat().st_size > 0
    with pytest.raises(SystemExit, match="--class 10 does not exist"):
        main(["generate", "--run", str(run), "--class", "10", "--n", "2", "--out", str(out)])
    with pytest.raises(SystemExit, match="already holds a run"):
        main(["train", "--data-dir", str(synthetic_path), "--max-steps", "1", "--out", str(run), *TINY])


@pytest.mark.parametrize("args, message", [
    (["--minority", "11"], "do not exist"),
    (["--data-dir", "/nonexistent"], "does not hold the mnist IDX files"),
])
def test_bad_requests_exit_with_a_clear_message(tmp_path, synthetic_path, args, message):
    base = ["train", "--out", str(tmp_path / "r"), "--max-steps", "1", *TINY]
    if "--data-dir" not in args:
        base += ["--data-dir", str(synthetic_path)]
    with pytest.raises(SystemExit, match=message):
        main(base + args)


def test_generate_from_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint.pt"):
        main(["generate", "--run", str(tmp_path), "--class", "0", "--out", str(tmp_path / "x.npz")])


@pytest.mark.parametrize("command", ["train", "generate", "augment", "reproduce", "evaluate", "downstream"])
def test_help_states_each_default_once_and_never_none(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines: join them
    assert "(default: None)" not in text
    options = text.split(" --")
    assert not [o for o in options if o.count("default") > 1 and "(default:" in o.split("default", 2)[-1]]
