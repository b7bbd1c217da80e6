"""torchrun with 2 gloo processes on the CPU against one process (csacgan/distributed.py)."""
import os
import subprocess
import sys

import pytest
import torch

from csacgan.distributed import SyncBatchNorm  # noqa: F401  (importable without a process group)

ARGS = ["--dataset", "mnist", "--imbalance-ratio", "20", "--max-per-class", "40", "--batch-size", "16",
        "--g-channels", "16,8,8,8,4", "--d-channels", "8,8,16,16", "--no-progress", "--seed", "3",
        "--device", "cpu", "--checkpoint-every", "1000"]


def csacgan(args, data, procs=1, check=True):
    """``csacgan ARGS`` in one process, or under torchrun in ``procs`` gloo processes."""
    env = {**os.environ, "CSACGAN_DATA_DIR": str(data), "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m"] if procs == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m"]
    result = subprocess.run(launcher + ["csacgan", *args], env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def weights(run):
    ckpt = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)
    return ckpt, {**{f"G.{k}": v for k, v in ckpt["generator"].items()},
                  **{f"D.{k}": v for k, v in ckpt["discriminator"].items()}}


@pytest.mark.parametrize("method", [["--method", "cs-acgan", "--cost-update-every", "3"],
                                    ["--method", "bagan", "--autoencoder-epochs", "1"]])
def test_two_processes_train_the_single_process_run_on_the_same_global_batch(tmp_path, synthetic_path, method):
    """fp32, no dropout (each rank draws its own masks): the only difference left is the
    order of float sums (all-reduced gradients, BatchNorm statistics summed per rank), which
    Adam amplifies where a gradient is near zero: a weight moves by at most about lr per step
    whatever its gradient, so the tolerance is a few lr over the 10 steps."""
    common = ARGS + method + ["--precision", "fp32", "--d-dropout", "0", "--max-steps", "10",
                              "--fake-labels", "class-prior"]
    csacgan(["train", "--out", str(tmp_path / "one")] + common, synthetic_path)
    csacgan(["train", "--out", str(tmp_path / "two")] + common, synthetic_path, procs=2)
    (one, w1), (two, w2) = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert w1.keys() == w2.keys()
    for key in w1:
        if w1[key].is_floating_point():
            assert torch.allclose(w1[key], w2[key], atol=4 * 2e-4, rtol=0), (key, (w1[key] - w2[key]).abs().max())
    moved = max((w1[k] - w2[k]).abs().max().item() for k in w1 if w1[k].is_floating_point())
    assert moved < 8e-4
    if "cs-acgan" in method:
        assert torch.allclose(one["method"]["class_costs"]["costs"], two["method"]["class_costs"]["costs"], atol=1e-4)
    config = __import__("json").loads((tmp_path / "two" / "config.json").read_text())
    assert config["distributed"] == {"world_size": 2, "backend": "gloo"}
    assert two["world_size"] == 2 and len(two["rng_ranks"]) == 2


def test_a_killed_and_resumed_two_process_run_equals_the_uninterrupted_one(tmp_path, synthetic_path):
    """Default precision and dropout: each rank's own random stream is saved and restored."""
    common = ARGS + ["--method", "cs-acgan", "--epochs", "2"]
    csacgan(["train", "--out", str(tmp_path / "whole")] + common, synthetic_path, procs=2)
    csacgan(["train", "--out", str(tmp_path / "cut"), "--max-steps", "30"] + common, synthetic_path, procs=2)
    assert weights(tmp_path / "cut")[0]["global_step"] == 30
    csacgan(["train", "--resume", str(tmp_path / "cut")], synthetic_path, procs=2)
    (a, wa), (b, wb) = weights(tmp_path / "whole"), weights(tmp_path / "cut")
    assert a["global_step"] == b["global_step"] > 30
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key
    assert (tmp_path / "whole" / "log.jsonl").read_text().count("\n") == \
        (tmp_path / "cut" / "log.jsonl").read_text().count("\n")
    # the 2-process checkpoint resumes in one process and hands its generator to generate
    csacgan(["train", "--resume", str(tmp_path / "cut"), "--epochs", "3"], synthetic_path)
    assert weights(tmp_path / "cut")[0]["epoch"] == 3
    csacgan(["generate", "--run", str(tmp_path / "cut"), "--class", "0", "--n", "8",
             "--out", str(tmp_path / "zeros.npz")], synthetic_path)
    import numpy as np
    assert np.load(tmp_path / "zeros.npz")["images"].shape[0] == 8


def test_a_batch_the_ranks_cannot_share_equally_is_refused(tmp_path, synthetic_path):
    result = csacgan(["train", "--out", str(tmp_path / "odd")] + ARGS + ["--batch-size", "15", "--max-steps", "1"],
                     synthetic_path, procs=2, check=False)
    assert result.returncode != 0 and "not a multiple of the 2 processes" in result.stderr
