"""Nothing silent: a locked run folder, the data checked by every command that reads a
run's, labels that are the user's, a resume that says what it does, evaluate merging its
results, and one line (never a traceback) for every user's mistake and damaged file."""
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
from test_fuzz import TINY, run_cli

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def _cli(*argv, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "csacgan.cli", *map(str, argv)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _timeless(path):
    return [{k: v for k, v in json.loads(line).items() if k not in ("seconds", "images_per_s")}
            for line in path.read_text().splitlines()]


def _holder(lock_file):
    """A process holding ``lock_file`` as a csacgan command would, until killed."""
    code = ("import sys, time; from csacgan.files import FolderLock; "
            f"lock = FolderLock({str(lock_file)!r}, 'train'); lock.__enter__(); print('held', flush=True); "
            "time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code], env=ENV, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_of_a_run_folder_is_refused_naming_the_holder(tmp_path, synthetic_path, capsys):
    run = tmp_path / "run"
    holder = _holder(run / ".lock")
    try:
        code, message = run_cli(["train", "--out", str(run), "--data-dir", str(synthetic_path), "--max-steps", "2"]
                                + TINY, capsys)
        assert code == 1 and f"is in use by process {holder.pid} (csacgan train" in message, message
        assert not (run / "config.json").exists()
        for argv in (["train", "--resume", str(run)], ["evaluate", str(run)]):
            (run / "checkpoint.pt").write_bytes(b"")  # refused at the lock, before the file is read
            code, message = run_cli(argv, capsys)
            assert code == 1 and "is in use by process" in message, (argv, message)
    finally:
        holder.kill()
        holder.wait()


def test_two_trainings_into_one_folder_at_once_leave_one_run(tmp_path, synthetic_path):
    run = tmp_path / "run"
    argv = ["train", "--out", run, "--data-dir", synthetic_path, "--max-per-class", "40", "--imbalance-ratio", "4",
            "--epochs", "2", *TINY]
    first, second = _cli(*argv, "--seed", "0"), _cli(*argv, "--seed", "3")
    results = [(p.wait(timeout=300), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    refused = next(err for code, err in results if code == 1)
    assert "is in use by process" in refused or "already holds a run" in refused, refused
    assert "Traceback" not in refused
    records = _timeless(run / "log.jsonl")
    assert [r["epoch"] for r in records] == [1, 2]  # each epoch once, one run's
    seed = json.loads((run / "config.json").read_text())["config"]["seed"]
    assert torch.load(run / "checkpoint.pt", weights_only=False)["config"]["seed"] == seed


def test_a_stale_lock_of_a_killed_process_is_taken_over(tmp_path, synthetic_path, capsys):
    run = tmp_path / "run"
    holder = _holder(run / ".lock")
    holder.send_signal(signal.SIGKILL)  # kill -9: the kernel drops its lock, its PID stays in the file
    holder.wait()
    main(["train", "--out", str(run), "--data-dir", str(synthetic_path), "--max-steps", "2"] + TINY)
    message = capsys.readouterr().err
    assert f"left by process {holder.pid}, no longer running" in message, message
    assert (run / "checkpoint.pt").is_file() and (run / ".lock").read_text() == ""


def _user_npz(path, labels=(5, 17, 100), per_class=(12, 40, 40), seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(labels, per_class)
    x = (rng.random((len(y), 28, 28)) * 60 + np.searchsorted(labels, y)[:, None, None] * 80).astype(np.uint8)
    np.savez(path, images=x, labels=y)
    return path


@pytest.fixture
def npz_run(tmp_path):
    from csacgan.config import TrainConfig
    from csacgan.train import train
    data = _user_npz(tmp_path / "mine.npz")
    cfg = TrainConfig(out=str(tmp_path / "run"), dataset="npz", data_dir=str(data), epochs=1, max_steps=3,
                      batch_size=16, g_channels=[16, 8, 8, 8, 4], d_channels=[8, 8, 16, 16], progress=False)
    return train(cfg), data


def test_generate_writes_the_users_labels_and_takes_a_class_name_or_index(tmp_path, npz_run, capsys):
    run, _ = npz_run
    for given, label in (("2", 100), ("1", 17)):  # indices, as --minority takes them
        main(["generate", "--run", str(run), "--class", given, "--n", "4", "--out", str(tmp_path / f"g{given}.npz")])
        saved = np.load(tmp_path / f"g{given}.npz")
        assert saved["labels"].tolist() == [label] * 4 and saved["class_names"].tolist() == [str(label)] * 4
    code, message = run_cli(["generate", "--run", str(run), "--class", "7", "--out", str(tmp_path / "x.npz")], capsys)
    assert code == 1 and "--class 7 does not exist; this run has classes 0..2 (5, 17, 100)" in message, message


@pytest.mark.parametrize("argv, fragment", [
    (["--out", "{tmp}/x.png"], "generate writes an .npz"),
    (["--out", "{tmp}/x.npz", "--grid", "{tmp}/grid.jpg"], "the grid is a PNG"),
    (["--out", "{tmp}/x.npz", "--n", "10000000000"], "more than half of this machine's"),
])
def test_generate_refuses_what_it_cannot_write_before_any_work(tmp_path, npz_run, capsys, argv, fragment):
    run, _ = npz_run
    argv = [a.format(tmp=tmp_path) for a in argv]
    code, message = run_cli(["generate", "--run", str(run), "--class", "0", *argv], capsys)
    assert code == 1 and fragment in message and "Traceback" not in message, message
    assert not (tmp_path / "x.npz").exists() and not (tmp_path / "x.png").exists()


def test_a_grid_that_cannot_be_written_leaves_no_npz(tmp_path, npz_run, capsys, monkeypatch):
    from csacgan import generate as gen
    run, _ = npz_run

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(gen, "save_image", full)
    code, message = run_cli(["generate", "--run", str(run), "--class", "0", "--out", str(tmp_path / "x.npz"),
                             "--grid", str(tmp_path / "g.png")], capsys)
    assert code == 1 and "cannot write" in message and "g.png" in message, message
    assert not (tmp_path / "x.npz").exists() and not list(tmp_path.glob("*.tmp"))


def test_every_command_that_reads_a_runs_data_checks_it(tmp_path, npz_run, capsys, monkeypatch):
    run, data = npz_run
    other = _user_npz(tmp_path / "other.npz", seed=1)  # same classes, other images
    from csacgan.metrics import evaluator as evaluator_module
    monkeypatch.setattr(evaluator_module, "train_classifier", lambda *a, **k: pytest.fail("trained an evaluator"))
    for argv in (["augment", "--run", str(run), "--out", str(tmp_path / "copy"), "--data-dir", str(other)],
                 ["evaluate", str(run), "--data-dir", str(other)],
                 ["train", "--resume", str(run), "--max-steps", "4", "--data-dir", str(other)]):
        code, message = run_cli(argv, capsys)
        assert code == 1 and "differs from the data" in message and "npz: md5 changed" in message, (argv, message)
    assert not (tmp_path / "copy").exists()
    from csacgan.sampler import CostSensitiveACGANSampler
    from csacgan.data import load_dataset
    d = load_dataset("npz", str(data))
    X, y = d.train_images.numpy(), d.train_labels.numpy()
    X_res, _ = CostSensitiveACGANSampler.from_run(run, random_state=0).fit_resample(X[::-1], y[::-1])
    assert len(X_res) > len(X)  # the run's own images, in any order: sampled
    o = load_dataset("npz", str(other))
    with pytest.raises(Exception, match="differ from the ones .* was trained on"):
        CostSensitiveACGANSampler.from_run(run, random_state=0).fit_resample(o.train_images.numpy(),
                                                                              o.train_labels.numpy())


def test_augment_checks_a_built_in_datasets_files_too(tmp_path, synthetic_path, capsys):
    import gzip
    import shutil

    from csacgan.train import train
    run = train(tiny_config(tmp_path, synthetic_path, max_per_class=40, imbalance_ratio=4))
    other = tmp_path / "other"
    shutil.copytree(synthetic_path, other)
    raw = gzip.decompress((other / "train-labels-idx1-ubyte.gz").read_bytes())
    (other / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw[:8] + bytes(reversed(raw[8:]))))
    code, message = run_cli(["augment", "--run", str(run), "--out", str(tmp_path / "copy"), "--data-dir", str(other)],
                            capsys)
    assert code == 1 and "differs from the data" in message, message
    assert not (tmp_path / "copy").exists()


def test_the_evaluator_cache_is_keyed_by_content_not_by_file_name(tmp_path):
    from csacgan.data import load_dataset
    from csacgan.metrics.evaluator import evaluator_path
    a = _user_npz(tmp_path / "a.npz")
    b = tmp_path / "renamed.npz"
    b.write_bytes(a.read_bytes())
    c = _user_npz(tmp_path / "c.npz", seed=1)
    paths = [evaluator_path(load_dataset("npz", str(p)), 0, 2, None) for p in (a, b, c)]
    assert paths[0] == paths[1] != paths[2]


def test_resume_says_what_it_does_and_never_rewrites_history(tmp_path, synthetic_path, capsys):
    from csacgan.train import train
    run = train(tiny_config(tmp_path, synthetic_path, max_steps=6))
    log, config = (run / "log.jsonl").read_text(), (run / "config.json").read_text()
    main(["train", "--resume", str(run)])
    assert "has already trained its --max-steps 6 (step 6); nothing to do" in capsys.readouterr().err
    assert (run / "log.jsonl").read_text() == log and (run / "config.json").read_text() == config
    for argv, fragment in ((["--resume", str(run), "--max-steps", "2"], "--max-steps 2 is fewer than the 6 steps"),
                           (["--resume", str(run), "--lr", "0.1", "--method", "acgan"],
                            "--method, --lr cannot be given with it"),
                           (["--resume", str(run), "--out", str(tmp_path / "elsewhere")], "--out cannot be given")):
        code, message = run_cli(["train", *argv], capsys)
        assert fragment in message, (argv, message)
        assert (run / "log.jsonl").read_text() == log and (run / "config.json").read_text() == config
    main(["train", "--resume", str(run), "--epochs", "2", "--no-progress"])
    message = capsys.readouterr().err
    assert "--epochs 2 lifts the run's --max-steps 6" in message, message
    ckpt = torch.load(run / "checkpoint.pt", weights_only=False)
    assert ckpt["epoch"] == 2 and ckpt["config"]["max_steps"] is None


def test_evaluate_merges_into_metrics_json(tmp_path, synthetic_path, capsys):
    from csacgan.evaluate import evaluate
    from csacgan.train import train
    run = train(tiny_config(tmp_path, synthetic_path, max_per_class=40, imbalance_ratio=4))
    options = dict(n_per_class=10, evaluator_subset=400, evaluator_epochs=0.2, progress=False)
    evaluate(run, ["classifier_accuracy"], **options)
    evaluate(run, ["ssim_diversity"], **options)
    report = json.loads((run / "metrics.json").read_text())
    assert set(report["metrics"]) == {"classifier_accuracy", "ssim_diversity"}
    evaluate(run, ["ssim_diversity"], **{**options, "n_per_class": 12})
    report = json.loads((run / "metrics.json").read_text())
    assert set(report["metrics"]) == {"ssim_diversity"} and report["n_per_class"] == 12
    earlier, = report["other_settings"].values()
    assert earlier["n_per_class"] == 10
    assert set(earlier["metrics"]) == {"classifier_accuracy", "ssim_diversity"}
    evaluate(run, ["classifier_accuracy"], **options)  # back to the first settings: their results return
    report = json.loads((run / "metrics.json").read_text())
    assert set(report["metrics"]) == {"classifier_accuracy", "ssim_diversity"}
    assert [v["n_per_class"] for v in report["other_settings"].values()] == [12]


def test_damaged_files_and_bad_devices_get_one_line(tmp_path, synthetic_path, capsys):
    from csacgan.train import train
    run = train(tiny_config(tmp_path, synthetic_path))
    good = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(good[: len(good) // 2])
    for argv in (["train", "--resume", str(run)], ["evaluate", str(run)],
                 ["generate", "--run", str(run), "--class", "0", "--out", str(tmp_path / "g.npz")]):
        code, message = run_cli(argv, capsys)
        assert code == 1 and "could not be read" in message and "may be damaged" in message, (argv, message)
        assert "Traceback" not in message
    (run / "checkpoint.pt").write_bytes(good)
    (run / "config.json").write_text((run / "config.json").read_text()[:40])
    code, message = run_cli(["train", "--resume", str(run)], capsys)
    assert code == 1 and f"{run / 'config.json'} is damaged or not JSON" in message, message
    for device in ("tpu", "mps", "cuda:7", "cuda"):
        if device.startswith("cuda") and torch.cuda.is_available():
            continue
        code, message = run_cli(["train", "--out", str(tmp_path / device), "--device", device,
                                 "--data-dir", str(synthetic_path)] + TINY, capsys)
        assert code == 1 and f"--device {device}" in message and "Traceback" not in message, message
        assert not (tmp_path / device).exists()


def test_ctrl_c_while_starting_up_prints_one_line(tmp_path):
    proc = _cli("train", "--out", tmp_path / "run")
    deadline = time.time() + 60
    maps = f"/proc/{proc.pid}/maps"
    while time.time() < deadline and proc.poll() is None:  # torch is loading: the parser is being built
        if "libtorch" in open(maps).read():
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=120)
    err = proc.stderr.read()
    assert code == 130 and "Traceback" not in err and "interrupted" in err, err


def test_ctrl_c_prints_one_line_and_no_traceback(tmp_path, synthetic_path):
    run = tmp_path / "run"
    proc = _cli("train", "--out", run, "--data-dir", synthetic_path, "--max-per-class", "40", "--imbalance-ratio",
                "4", "--epochs", "50", *TINY)
    deadline = time.time() + 120
    while time.time() < deadline and not (run / "log.jsonl").is_file():
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=120)
    err = proc.stderr.read()
    assert code == 130 and "Traceback" not in err, err
    assert "Interrupted: saved step" in proc.stdout.read() and "csacgan train: interrupted" in err


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--out", "x", "--g-channels", "100000,8,8,8,4"], "widths above 4096 channels"),
    (["train", "--out", "x", "--cost-held-out", "0.2"], "is used only with error_source 'held-out'"),
    (["train", "--out", "x", "--cost-classifier-steps", "10"], "is used only with error_source 'classifier'"),
    (["downstream", "--protocol", "given", "--out", "x"], "--protocol given trains on a user's data"),
    (["reproduce", "--report-only", "--out", "x"], "x holds no grid (no grid.json)"),
])
def test_unbounded_or_unclear_requests_get_one_line(argv, fragment, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, message = run_cli(argv, capsys)
    assert code in (1, 2) and fragment in message and "Traceback" not in message, message


def test_minority_must_be_a_class_of_the_data(tmp_path, capsys):
    data = _user_npz(tmp_path / "mine.npz")
    code, message = run_cli(["train", "--out", str(tmp_path / "r"), "--dataset", "npz", "--data-dir", str(data),
                             "--minority", "7", "--imbalance", "none"] + TINY, capsys)
    assert code == 1 and "minority class(es) [7] do not exist" in message, message


def test_augment_refuses_impossible_counts_and_lists_every_image(tmp_path, npz_run, capsys):
    run, _ = npz_run
    code, message = run_cli(["augment", "--run", str(run), "--out", str(tmp_path / "copy"),
                             "--strategy", '{"5": 1000000000}'], capsys)
    assert code == 1 and "more than half of this machine's" in message, message
    assert not (tmp_path / "copy").exists()
    from csacgan.augment import augment
    from csacgan.train import train
    from PIL import Image
    root = tmp_path / "folder"
    rng = np.random.default_rng(0)
    for split, n in (("train", (10, 30)), ("test", (4, 4))):
        for c, count in zip(("defect", "ok"), n):
            (root / split / c).mkdir(parents=True)
            for i in range(count):
                Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8)).save(root / split / c / f"{i}.png")
    from csacgan.config import TrainConfig
    folder_run = train(TrainConfig(out=str(tmp_path / "frun"), dataset="imagefolder", data_dir=str(root), epochs=1,
                                   max_steps=2, batch_size=16, g_channels=[16, 8, 8, 8, 4],
                                   d_channels=[8, 8, 16, 16], progress=False))
    augment(folder_run, tmp_path / "fcopy", "auto", "auto", 0)
    rows = (tmp_path / "fcopy" / "manifest.csv").read_text().splitlines()[1:]
    assert sum(r.startswith("test/") for r in rows) == 8 and len(rows) == 40 + 8 + 20
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "fcopy").stat().st_mode & 0o777 == 0o777 & ~umask
