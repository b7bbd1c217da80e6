import pytest
import json
from pathlib import Path

import torch

from conftest import tiny_config
from csacgan.checkpoint import load_checkpoint
from csacgan.train import resume, train


def _params(run_dir):
    ckpt = load_checkpoint(run_dir)
    return {**{"G." + k: v for k, v in ckpt["generator"].items()},
            **{"D." + k: v for k, v in ckpt["discriminator"].items()}}, ckpt


def test_resume_gives_the_same_parameters_as_an_uninterrupted_run(tmp_path, synthetic_path):
    # cs-acgan with a short epoch so that the cost update and an epoch boundary are crossed.
    common = dict(method="cs-acgan", max_per_class=40, imbalance_ratio=4, method_options={"temperature": 0.1})
    straight = train(tiny_config(tmp_path / "a", synthetic_path, epochs=3, max_steps=None, **common))
    part = train(tiny_config(tmp_path / "b", synthetic_path, epochs=3, max_steps=30, **common))
    assert load_checkpoint(part)["global_step"] == 30
    resumed = resume(part, max_steps=10_000)
    p_straight, c_straight = _params(straight)
    p_resumed, c_resumed = _params(resumed)
    assert c_straight["global_step"] == c_resumed["global_step"] > 30
    for key in p_straight:
        assert torch.equal(p_straight[key], p_resumed[key]), key
    assert torch.equal(c_straight["method"]["class_costs"]["costs"], c_resumed["method"]["class_costs"]["costs"])
    log = [json.loads(line) for line in (resumed / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log if not r.get("partial_epoch")] == [1, 2, 3]
    assert all(len(r["class_costs"]) == 10 for r in log if not r.get("partial_epoch"))


def test_run_folder_records_what_rebuilds_the_result(tmp_path, mnist_path):
    run = train(tiny_config(tmp_path, mnist_path))
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["seed"] == 0 and config["config"]["sampling"] == "class-balanced"
    assert config["data"]["files"]["train_images"]["md5"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert config["environment"]["torch"] == torch.__version__
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file() and "model name" in cpuinfo.read_text():  # the model, not only the architecture
        assert config["environment"]["cpu"] not in ("", "x86_64", "aarch64")
    assert config["imbalance"]["counts"][0] == 26
    fused = config["fused_activation"]  # which random generator drew D's dropout masks
    assert fused["used"] == (config["precision"] == "bf16" and config["device"] == "cpu"
                             and fused["unavailable"] is None)
    assert (run / "samples" / "final.png").stat().st_size > 0


@pytest.mark.slow
def test_short_real_run_learns_to_classify_real_digits(tmp_path, mnist_path, mnist):
    from csacgan.checkpoint import load_discriminator
    from csacgan.data.batches import to_unit_range
    run = train(tiny_config(tmp_path, mnist_path, max_steps=150, batch_size=32, d_channels=None))
    D = load_discriminator(run)
    with torch.no_grad():
        _, logits = D(to_unit_range(mnist.test_images[:2000]))
    accuracy = (logits.argmax(1) == mnist.test_labels[:2000]).float().mean().item()
    assert accuracy > 0.6, accuracy  # chance is 0.1
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 150 and log[-1]["partial_epoch"]


def test_a_copied_run_resumes_in_its_new_folder_and_leaves_the_original_alone(tmp_path, synthetic_path):
    import shutil
    run = train(tiny_config(tmp_path, synthetic_path, epochs=2, max_steps=None, max_per_class=200, imbalance_ratio=10))
    shutil.copytree(run, tmp_path / "copy")
    before = (run / "config.json").read_text()
    resume(tmp_path / "copy", epochs=3)
    assert json.loads((tmp_path / "copy" / "config.json").read_text())["config"]["out"] == str(tmp_path / "copy")
    assert (run / "config.json").read_text() == before
    assert not (run / "samples" / "epoch_003.png").exists()
    assert (tmp_path / "copy" / "samples" / "epoch_003.png").exists()
