"""torchrun with 2 gloo processes on the CPU against one process (csacgan/distributed.py)."""
import json
import os
import subprocess
import sys

import pytest
import torch

from csacgan.distributed import SyncBatchNorm  # noqa: F401  (importable without a process group)

ARGS = ["--dataset", "mnist", "--imbalance-ratio", "20", "--max-per-class", "40", "--batch-size", "16",
        "--g-channels", "16,8,8,8,4", "--d-channels", "8,8,16,16", "--no-progress", "--seed", "3",
        "--device", "cpu", "--checkpoint-every", "1000"]


def csacgan(args, data, procs=1, check=True, cache=None):
    """``csacgan ARGS`` in one process, or under torchrun in ``procs`` gloo processes
    (with ``cache``, a cache folder of its own instead of the suite's)."""
    env = {**os.environ, "CSACGAN_DATA_DIR": str(data), "OMP_NUM_THREADS": "1",
           **({"XDG_CACHE_HOME": str(cache)} if cache else {})}
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


def _gradients_worker(rank, port, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)  # rounding apart, the two must be the same numbers
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    from csacgan.distributed import World, sync_batch_norm
    from csacgan.nets import Encoder, Generator
    world = World(rank, 2)
    torch.manual_seed(0)
    encoder = Encoder(latent_dim=8, channels=(8, 8, 16, 16), dropout=0.0)
    decoder = Generator(latent_dim=8, channels=(16, 8, 8, 8, 4), conditional=False)  # BatchNorm in every layer
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    params = [*encoder.parameters(), *decoder.parameters()]
    torch.nn.functional.mse_loss(decoder(encoder(x), None), x).backward()  # one process, the global batch
    expected = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None
    sync_batch_norm(decoder, torch.device("cpu"))  # new BatchNorm modules, the same weights
    params = [*encoder.parameters(), *decoder.parameters()]
    share = world.share(x)
    torch.nn.functional.mse_loss(decoder(encoder(share), None), share).backward()
    world.average_gradients(encoder)
    world.average_gradients(decoder)
    queue.put(max(((p.grad - e).abs().max() / e.abs().max().clamp(min=1e-300)).item()
                  for p, e in zip(params, expected) if e.abs().max() > 1e-9))  # biases before a BatchNorm: 0
    torch.distributed.destroy_process_group()


def test_shares_synchronised_batch_norm_and_averaged_gradients_give_the_global_batchs_gradients():
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = 29400 + os.getpid() % 500
    workers = [ctx.Process(target=_gradients_worker, args=(rank, port, queue)) for rank in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(300)
    assert [w.exitcode for w in workers] == [0, 0]
    errors = [queue.get(timeout=10) for _ in workers]
    assert max(errors) < 1e-9, errors


@pytest.mark.slow
def test_two_processes_train_the_single_process_run_on_the_same_global_batch(tmp_path, synthetic_path):
    """fp32, no dropout (each rank draws its own masks), online costs. The float sums run in
    another order (all-reduced gradients, BatchNorm statistics), and Adam turns a rounding
    difference in a near-zero gradient into up to one lr per step, so the tolerance is
    2 lr per step on a few weights, and almost all agree to a tenth of an lr."""
    steps, lr = 3, 2e-4
    common = ARGS + ["--method", "cs-acgan", "--cost-update-every", "2", "--precision", "fp32", "--d-dropout", "0",
                     "--max-steps", str(steps), "--fake-labels", "class-prior"]
    csacgan(["train", "--out", str(tmp_path / "one")] + common, synthetic_path)
    csacgan(["train", "--out", str(tmp_path / "two")] + common, synthetic_path, procs=2)
    (one, w1), (two, w2) = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert w1.keys() == w2.keys()
    diffs = torch.cat([(w1[k] - w2[k]).abs().flatten() for k in w1 if w1[k].is_floating_point()])
    assert diffs.max() <= 2 * lr * steps
    assert (diffs > lr / 10).float().mean() < 0.02
    assert torch.allclose(one["method"]["class_costs"]["costs"], two["method"]["class_costs"]["costs"], atol=1e-4)
    config = json.loads((tmp_path / "two" / "config.json").read_text())
    assert config["distributed"] == {"world_size": 2, "backend": "gloo"}
    assert two["world_size"] == 2 and len(two["rng_ranks"]) == 2


@pytest.mark.slow
def test_bagans_autoencoder_stage_runs_on_two_processes(tmp_path, synthetic_path):
    csacgan(["train", "--out", str(tmp_path / "bagan"), "--method", "bagan", "--autoencoder-epochs", "1",
             "--max-steps", "2"] + ARGS, synthetic_path, procs=2,
            cache=tmp_path / "cache")  # an autoencoder cached by an earlier suite run would be reused
    first = json.loads((tmp_path / "bagan" / "log.jsonl").read_text().splitlines()[0])
    assert first["autoencoder"] == "trained" and len(first["autoencoder_losses"]) == 1


@pytest.mark.slow
def test_a_killed_and_resumed_two_process_run_equals_the_uninterrupted_one(tmp_path, synthetic_path):
    """Default precision and dropout: each rank's own random stream is saved and restored."""
    common = ARGS + ["--method", "cs-acgan", "--epochs", "1"]
    csacgan(["train", "--out", str(tmp_path / "whole")] + common, synthetic_path, procs=2)
    csacgan(["train", "--out", str(tmp_path / "cut"), "--max-steps", "10"] + common, synthetic_path, procs=2)
    assert weights(tmp_path / "cut")[0]["global_step"] == 10
    csacgan(["train", "--resume", str(tmp_path / "cut"), "--max-steps", "100000"], synthetic_path, procs=2)
    (a, wa), (b, wb) = weights(tmp_path / "whole"), weights(tmp_path / "cut")
    assert a["global_step"] == b["global_step"] > 10
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key
    assert (tmp_path / "whole" / "log.jsonl").read_text().count("\n") == \
        (tmp_path / "cut" / "log.jsonl").read_text().count("\n")
    # the 2-process checkpoint resumes in one process and hands its generator to generate
    csacgan(["train", "--resume", str(tmp_path / "cut"), "--epochs", "2"], synthetic_path)
    assert weights(tmp_path / "cut")[0]["epoch"] == 2
    csacgan(["generate", "--run", str(tmp_path / "cut"), "--class", "0", "--n", "8",
             "--out", str(tmp_path / "zeros.npz")], synthetic_path)
    import numpy as np
    assert np.load(tmp_path / "zeros.npz")["images"].shape[0] == 8


def test_a_batch_the_ranks_cannot_share_equally_is_refused(tmp_path, synthetic_path):
    result = csacgan(["train", "--out", str(tmp_path / "odd")] + ARGS + ["--batch-size", "15", "--max-steps", "1"],
                     synthetic_path, procs=2, check=False)
    assert result.returncode != 0 and "not a multiple of the 2 processes" in result.stderr
