"""Bad inputs and faults: each gets one clear line (and the right exit code), never a
traceback or a silent wrong result, and nothing half-written is left behind."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import tiny_config
from csacgan.cli import main

TINY = ["--g-channels", "16,8,8,8,4", "--d-channels", "8,8,16,16", "--batch-size", "16", "--no-progress"]


def run_cli(argv, capsys):
    """(exit code, stderr + the exit message) of ``csacgan ARGV`` run in this process."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    code = info.value.code
    err = capsys.readouterr().err
    if isinstance(code, str):
        return 1, err + code
    return code, err


# (argv, expected exit code, fragment of the message); no data is read for any of these.
PARSE_CASES = [
    (["train", "--out", "x", "--epochs", "0"], 2, "--epochs: must be an integer >= 1, got 0"),
    (["train", "--out", "x", "--epochs", "three"], 2, "--epochs: expected an integer, got 'three'"),
    (["train", "--out", "x", "--batch-size", "-1"], 2, "--batch-size: must be an integer >= 2"),
    (["train", "--out", "x", "--batch-size", "1"], 2, "--batch-size: must be an integer >= 2"),
    (["train", "--out", "x", "--checkpoint-every", "0"], 2, "--checkpoint-every: must be an integer >= 1"),
    (["train", "--out", "x", "--g-channels", "1,2"], 2, "--g-channels: takes 5 comma-separated integers"),
    (["train", "--out", "x", "--d-channels", "8,8,0,8"], 2, "--d-channels: takes 4 comma-separated integers >= 1"),
    (["train", "--out", "x", "--d-strides", "2,2"], 2, "--d-strides: takes 4"),
    (["train", "--out", "x", "--seed", "-1"], 2, "--seed: must be an integer in [0, 2147483647]"),
    (["train", "--out", "x", "--lr", "inf"], 2, "--lr: must be a finite number > 0"),
    (["train", "--out", "x", "--lr", "nan"], 2, "--lr: must be a finite number > 0"),
    (["train", "--out", "x", "--lr", "-0.1"], 2, "--lr: must be a finite number > 0"),
    (["train", "--out", "x", "--tau", "0"], 2, "--temperature/--tau: must be a finite number > 0"),
    (["train", "--out", "x", "--cost-momentum", "1.5"], 2, "--cost-momentum: must be a finite number in (0, 1]"),
    (["train", "--out", "x", "--imbalance-ratio", "0.5"], 2, "--imbalance-ratio: must be a finite number >= 1"),
    (["train", "--out", "x", "--drop-fraction", "1"], 2, "--drop-fraction: must be a finite number in [0, 1)"),
    (["train", "--out", "x", "--max-per-class", "0"], 2, "--max-per-class: must be an integer >= 1"),
    (["train", "--out", "x", "--autoencoder-epochs", "0"], 2, "--autoencoder-epochs: must be an integer >= 1"),
    (["train", "--out", "x", "--method", "acgan", "--tau", "0.1"], 1, "--method acgan takes no option temperature"),
    (["train", "--out", "x", "--method", "bagan", "--cost-momentum", "0.5"], 1, "takes no option momentum"),
    (["train", "--out", "x", "--max-steps", "0"], 2, "--max-steps: must be an integer >= 1"),
    (["train", "--out", "x", "--fake-labels", "balanced"], 2, "--fake-labels: invalid choice"),
    (["train"], 1, "--out RUN_DIR is required"),
    (["train", "--resume", "no-such-run"], 1, "no checkpoint.pt in no-such-run"),
    (["generate", "--run", "r", "--class", "-1", "--out", "a.npz"], 2, "--class: must be at least 0"),
    (["generate", "--run", "r", "--class", "0", "--n", "0", "--out", "a.npz"], 2, "--n: must be at least 1"),
    (["generate", "--run", "no-such-run", "--class", "0", "--out", "a.npz"], 1, "no checkpoint.pt"),
    (["evaluate", "r", "--n-per-class", "1"], 2, "--n-per-class: must be at least 2"),
    (["evaluate", "r", "--evaluator-epochs", "nan"], 2, "--evaluator-epochs: must be at least"),
    (["reproduce", "--jobs", "0"], 2, "--jobs: must be at least 1"),
    (["reproduce", "--seeds", "0"], 2, "--seeds: must be at least 1"),
    (["augment", "--run", "no-such-run", "--out", "o"], 1, "no checkpoint.pt"),
]


@pytest.mark.parametrize("argv, code, fragment", PARSE_CASES, ids=[" ".join(c[0]) for c in PARSE_CASES])
def test_bad_option_gets_one_clear_line(argv, code, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    got, message = run_cli(argv, capsys)
    assert got == code and fragment in message, message
    assert "Traceback" not in message
    assert not (tmp_path / "x").exists()  # nothing created for a refused command


def _npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def test_bad_outputs_and_data_files_are_refused_in_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("mine")
    (tmp_path / "a-file").write_text("")
    images, labels = np.zeros((40, 28, 28), np.uint8), np.arange(40) % 2
    np.save(tmp_path / "arr.npy", images)
    cases = [
        (["train", "--out", "mine"], "not empty and holds no run (thesis.tex)"),
        (["train", "--out", "a-file"], "--out must be a folder"),
        (["train", "--out", "a-file/run"], "a-file/run: Not a directory"),
        (["train", "--dataset", "npz", "--data-dir", "arr.npy", "--out", "r1"], "a single array (.npy), not an .npz"),
        (["train", "--dataset", "npz", "--data-dir", str(_npz(tmp_path / "t.npz", images=images, labels=labels,
                                                              test_images=images)), "--out", "r2"],
         "has test_images but no test_labels"),
        (["train", "--dataset", "npz", "--data-dir", str(_npz(tmp_path / "n.npz", images=images)), "--out", "r3"],
         "missing array(s) ['labels']"),
        (["train", "--dataset", "npz", "--data-dir", "absent.npz", "--out", "r4"], "absent.npz: no such file"),
    ]
    for argv, fragment in cases:
        code, message = run_cli(argv + TINY, capsys)
        assert code == 1 and fragment in message and "Traceback" not in message, (argv, message)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["thesis.tex"]


def test_divergence_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, synthetic_path, capsys):
    out = tmp_path / "run"
    code, message = run_cli(["train", "--out", str(out), "--data-dir", str(synthetic_path), "--lr", "10",
                             "--max-steps", "40", "--checkpoint-every", "1"] + TINY, capsys)
    assert code == 1 and "training diverged at step" in message and "lower --lr" in message, message
    if (out / "checkpoint.pt").exists():  # named only if one was written, and it is finite
        assert "last good checkpoint" in message
        ckpt = torch.load(out / "checkpoint.pt", weights_only=False)
        assert all(torch.isfinite(v).all() for v in ckpt["generator"].values() if v.is_floating_point())
    else:
        assert "no checkpoint was written" in message
    assert not (out / "samples" / "final.png").exists() and not list(out.glob("*.tmp"))


def test_resume_refuses_fewer_epochs_and_other_data(tmp_path, synthetic_path, capsys):
    from csacgan.train import train
    run = train(tiny_config(tmp_path, synthetic_path, max_per_class=40, imbalance_ratio=4, epochs=2, max_steps=None))
    before = (run / "config.json").read_text()
    code, message = run_cli(["train", "--resume", str(run), "--epochs", "1"], capsys)
    assert code == 1 and "--epochs 1 is fewer than the 2 epochs" in message, message
    other = tmp_path / "other"
    other.mkdir()
    for name in os.listdir(synthetic_path):  # same file names, other training labels
        (other / name).symlink_to(synthetic_path / name)
    (other / "train-labels-idx1-ubyte.gz").unlink()
    import gzip
    raw = gzip.decompress((synthetic_path / "train-labels-idx1-ubyte.gz").read_bytes())
    (other / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw[:8] + bytes(reversed(raw[8:]))))
    code, message = run_cli(["train", "--resume", str(run), "--epochs", "3", "--data-dir", str(other)], capsys)
    assert code == 1 and "differs from the data" in message, message
    assert (run / "config.json").read_text() == before  # a refused resume rewrites nothing


def test_a_full_disk_gives_one_line_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    from csacgan import files

    def full(*args, **kwargs):  # what torch.save says when its zip writer hits a full disk
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")
    monkeypatch.setattr(files.torch, "save", full)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10, 10, 0))
    with pytest.raises(OSError, match="cannot write .*checkpoint.pt: no space left on the device"):
        files.atomic_save({"a": 1}, tmp_path / "checkpoint.pt")
    assert list(tmp_path.iterdir()) == []


def test_generate_writes_its_npz_atomically(tmp_path, synthetic_path, monkeypatch):
    from csacgan import generate as gen
    from csacgan.train import train
    run = train(tiny_config(tmp_path, synthetic_path))

    def broken(f, **arrays):
        f.write(b"half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(gen.np, "savez_compressed", broken)
    with pytest.raises(OSError, match="cannot write .*zeros.npz"):
        gen.generate(run, 0, 5, tmp_path / "zeros.npz")
    assert not (tmp_path / "zeros.npz").exists() and not (tmp_path / "zeros.npz.tmp").exists()


def test_augment_removes_partial_folders_a_killed_run_left(tmp_path, synthetic_path):
    from csacgan.augment import augment
    from csacgan.train import train
    run = train(tiny_config(tmp_path, synthetic_path, max_per_class=30, imbalance_ratio=3))
    stale = tmp_path / ".copy.partial-abc123"
    stale.mkdir()
    (stale / "half.png").write_bytes(b"")
    augment(run, tmp_path / "copy", "auto", "npz", 0)
    assert not stale.exists() and (tmp_path / "copy" / "augment.json").is_file()


def test_a_few_dozen_images_train_with_a_batch_that_fits(tmp_path, capsys):
    from PIL import Image

    from csacgan.config import TrainConfig
    from csacgan.train import train
    rng = np.random.default_rng(0)
    for i in range(66):
        folder = tmp_path / "data" / ("ok" if i % 3 else "defect")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8)).save(folder / f"{i}.png")
    cfg = TrainConfig(out=str(tmp_path / "run"), dataset="imagefolder", data_dir=str(tmp_path / "data"),
                      epochs=1, g_channels=[16, 8, 8, 8, 4], d_channels=[8, 8, 16, 16], progress=False)
    run = train(cfg)
    assert "fewer than --batch-size 64; training with batches of 52" in capsys.readouterr().err
    assert json.loads((run / "config.json").read_text())["config"]["batch_size"] == 52


def test_a_class_with_one_image_stays_in_the_training_split():
    from csacgan.data.arrays import image_set_from_arrays
    labels = np.array([0] * 30 + [1] * 30 + [2])
    data = image_set_from_arrays("x", np.zeros((61, 28, 28), np.uint8), labels)
    assert int((data.train_labels == 2).sum()) == 1 and int((data.test_labels == 2).sum()) == 0
    assert len(data.test_labels) == 12  # 20% of the other 60, stratified
    assert torch.bincount(data.test_labels, minlength=3).tolist() == [6, 6, 0]


def _params(run_dir):
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=False)
    return {**ckpt["generator"], **{"D." + k: v for k, v in ckpt["discriminator"].items()}}, ckpt


def _timeless(path):
    drop = ("seconds", "images_per_s")
    return [{k: v for k, v in json.loads(line).items() if k not in drop} for line in path.read_text().splitlines()]


def test_kill_9_loses_at_most_one_checkpoint_interval_and_resumes_exactly(tmp_path, synthetic_path):
    argv = ["train", "--data-dir", str(synthetic_path), "--method", "cs-acgan", "--max-per-class", "40",
            "--imbalance-ratio", "4", "--epochs", "3", "--checkpoint-every", "5"] + TINY
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    subprocess.run([sys.executable, "-m", "csacgan.cli", *argv, "--out", str(straight)], check=True, env=env,
                   capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "csacgan.cli", *argv, "--out", str(killed)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:  # kill once the run is well into epoch 2
        log = killed / "log.jsonl"
        if log.is_file() and log.read_text().count("\n") >= 1:
            time.sleep(0.3)
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ckpt = torch.load(killed / "checkpoint.pt", weights_only=False)
    last_logged = max(json.loads(line)["step"] for line in (killed / "log.jsonl").read_text().splitlines())
    assert ckpt["global_step"] % 5 == 0 or ckpt["step_in_epoch"] == 0
    assert last_logged <= ckpt["global_step"] + 5  # at most one checkpoint interval lost
    subprocess.run([sys.executable, "-m", "csacgan.cli", "train", "--resume", str(killed), "--no-progress"],
                   check=True, env=env, capture_output=True)
    p_straight, c_straight = _params(straight)
    p_killed, c_killed = _params(killed)
    assert c_killed["global_step"] == c_straight["global_step"] == 3 * (370 // 16)
    for key in p_straight:
        assert torch.equal(p_straight[key], p_killed[key]), key
    assert _timeless(killed / "log.jsonl") == _timeless(straight / "log.jsonl")
    assert not list(killed.glob("*.tmp")) and not list((killed / "snapshots").glob("*.tmp"))
