"""csacgan downstream: the classifier recipe, the paired statistics and the quick study."""
import json

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_train_until_stable_keeps_the_best_check_and_stops():
    """A scripted score that peaks at the 2nd check: training stops after `patience` worse
    checks and the model ends with the weights it had at the peak."""
    from csacgan.fit import train_until_stable
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    images = torch.randint(0, 255, (64, 1, 4, 4), dtype=torch.uint8)
    labels = torch.arange(64) % 2
    scores, seen = iter([0.5, 0.9, 0.7, 0.6, 0.8, 1.0]), []

    def score(m):
        seen.append(m[1].weight.detach().clone())
        return next(scores)

    result = train_until_stable(model, images, labels, score, seed=0, max_steps=100, check_every=5, patience=3,
                                batch_size=16)
    assert result["best_step"] == 10 and result["best_score"] == 0.9 and result["steps"] == 25
    assert [c[1] for c in result["checks"]] == [0.5, 0.9, 0.7, 0.6, 0.8]
    assert torch.equal(model[1].weight, seen[1]) and not torch.equal(seen[1], seen[-1])


def test_scores_and_paired_differences():
    from csacgan.experiments.downstream import test_scores
    from csacgan.experiments.downstream_report import paired
    y = np.array([0, 0, 1, 1, 2, 2])
    got = test_scores(y, np.array([0, 1, 1, 1, 2, 2]), 3, [0])
    assert got["acsa"] == pytest.approx((0.5 + 1 + 1) / 3) and got["minority_recall"] == 0.5
    assert got["gm"] == pytest.approx(0.5 ** (1 / 3)) and got["recall"] == [0.5, 1.0, 1.0]
    state = {"cells": {f"L/{s}/{k}": {"level": "L", "sampler": s, "seed": k, "acsa": v}
                       for s, values in {"none": [0.8, 0.7, 0.9], "smote": [0.85, 0.7, 0.95]}.items()
                       for k, v in enumerate(values)}}
    d = paired(state, "L", "smote", "none")
    assert d["mean"] == pytest.approx(0.1 / 3) and d["wins"] == 2 and d["n"] == 3
    assert d["differences"] == pytest.approx([0.05, 0.0, 0.05])
    assert d["std"] == pytest.approx(np.std([0.05, 0.0, 0.05], ddof=1)) and 0 < d["p"] < 1


def test_the_report_quotes_deepsmotes_mnist_table_for_mnist_only(tmp_path):
    from csacgan.experiments.downstream_report import METRICS, write_report
    for dataset, quoted in (("mnist", True), ("fashion-mnist", False)):
        state = {"settings": {"protocol": "deepsmote", "dataset": dataset, "classifier": "small-cnn",
                              "patience": 4, "check_every": 250, "max_steps": 4000, "gan_epochs": 30},
                 "levels": {"deepsmote": {"train_counts": [9, 1], "validation_counts": [1, 0]}},
                 "cells": {f"deepsmote/none/{k}": {"level": "deepsmote", "sampler": "none", "seed": k,
                                                   **{m: 0.9 for m in METRICS}} for k in range(2)}}
        write_report(state, tmp_path / "report.md")
        text = (tmp_path / "report.md").read_text()
        assert f"{dataset}, small-cnn" in text and "| none | 90.00 +- 0.00 |" in text
        assert ("DeepSMOTE's published MNIST ACSA" in text) == quoted, dataset


def test_the_report_lists_recipes_and_pairs_them_with_the_loss_alone_and_the_best_loss(tmp_path):
    from csacgan.experiments.downstream_report import METRICS, alone, sampler_order, write_report
    rows = {"none": [0.90, 0.91, 0.92], "none+drw": [0.93, 0.94, 0.95], "class-weight": [0.92, 0.92, 0.93],
            "bagan+drw": [0.94, 0.95, 0.95], "bagan+drw@crt": [0.92, 0.93, 0.94], "smote": [0.9, 0.9, 0.9]}
    assert sampler_order(reversed(list(rows))) == ["none", "class-weight", "smote", "none+drw", "bagan+drw@crt",
                                                   "bagan+drw"]
    assert alone("bagan+drw@crt") == "none+drw" and alone("bagan+class-weight") == "class-weight"
    assert alone("bagan") is None and alone("none+drw") is None
    state = {"settings": {"protocol": "deepsmote", "dataset": "mnist", "classifier": "small-cnn",
                          "patience": 4, "check_every": 250, "max_steps": 4000, "gan_epochs": 30},
             "levels": {"deepsmote": {"train_counts": [9, 1], "validation_counts": [1, 0]}},
             "cells": {f"deepsmote/{s}/{k}": {"level": "deepsmote", "sampler": s, "seed": k,
                                              **{m: v for m in METRICS}}
                       for s, values in rows.items() for k, v in enumerate(values)}}
    write_report(state, tmp_path / "report.md")
    text = (tmp_path / "report.md").read_text()
    assert "| none+drw | 94.00 +- 1.00 |" in text and "| bagan+drw@crt |" in text
    assert "the best loss-only row (`none+drw`)" in text
    # bagan+drw - none+drw: +0.01, +0.01, 0.00 on the three seeds
    assert "- bagan+drw: against none+drw +0.67 +- 0.58 (2/3" in text
    assert "- bagan+drw@crt: against none+drw -1.00 +- 0.00 (0/3" in text


@pytest.mark.slow
def test_quick_downstream_writes_every_cell(tmp_path, mnist_path, capsys):
    from csacgan.cli import main
    from csacgan.sampler import SAMPLERS
    out = tmp_path / "study"
    main(["downstream", "--quick", "--protocol", "deepsmote", "--out", str(out), "--data-dir", str(mnist_path),
          "--seeds", "2", "--no-progress"])
    state = json.loads((out / "downstream.json").read_text())
    assert state["levels"]["deepsmote"]["train_counts"] == [360, 180, 90, 67, 45, 31, 18, 9, 5, 3]
    # one job at a time, seed-major: a study stopped part-way holds every sampler's first seeds
    assert list(state["cells"]) == [f"deepsmote/{s}/{k}" for k in range(2) for s in SAMPLERS]
    for cell in state["cells"].values():
        assert 0 <= cell["acsa"] <= 1 and 0 <= cell["gm"] <= 1 and len(cell["recall"]) == 10
        assert cell["steps"] <= 60
        assert cell["machine"]["precision"] in ("bf16", "fp32") and cell["machine"]["device"]
        big = cell["sampler"] not in ("none", "class-weight")
        assert cell["train_images"] == (3600 if big else 808)
    # the GANs were trained on the training split only: the same indices
    config = json.loads((out / "gans" / "acgan-deepsmote-s0" / "config.json").read_text())
    assert config["imbalance"]["counts"] == [360, 180, 90, 67, 45, 31, 18, 9, 5, 3]
    report = (out / "report.md").read_text()
    assert report.count("\n| ") == 1 + len(SAMPLERS) and "latent-smote" in report
    mtime = (out / "downstream.json").stat().st_mtime_ns
    main(["downstream", "--quick", "--protocol", "deepsmote", "--out", str(out), "--data-dir", str(mnist_path),
          "--seeds", "2", "--no-progress"])  # everything done: nothing trained again
    again = json.loads((out / "downstream.json").read_text())
    assert again["cells"] == state["cells"]
    assert (out / "downstream.json").stat().st_mtime_ns >= mtime
    assert "wrote" in capsys.readouterr().out


def test_bad_requests_are_clear(tmp_path):
    from csacgan.experiments.downstream import Settings
    with pytest.raises(ValueError, match="unknown sampler"):
        Settings(out=str(tmp_path), samplers=["gamo"]).resolved()
    with pytest.raises(ValueError, match="level"):
        Settings(out=str(tmp_path), protocol="paper", levels=["rho7"]).resolved()
    for recipe in ("none+focal", "class-weight+drw"):
        with pytest.raises(ValueError, match="unknown loss"):
            Settings(out=str(tmp_path), samplers=[recipe]).resolved()
    from csacgan.experiments.downstream import recipe_parts
    assert recipe_parts("bagan+logit-adjusted") == ("bagan", "logit-adjusted") and recipe_parts("none") == ("none", "ce")


@pytest.mark.slow
def test_long_tail_losses_alone_and_under_a_sampler_on_resnet32(tmp_path):
    """SAMPLER+LOSS cells: the loss alone (none+ldam-drw, the cosine head) and on top of
    random oversampling, with the CIFAR ResNet-32."""
    from csacgan.cli import main
    _users_npz(tmp_path / "mine.npz")
    out = tmp_path / "study"
    main(["downstream", "--quick", "--protocol", "given", "--dataset", "npz", "--data-dir", str(tmp_path / "mine.npz"),
          "--samplers", "none+ldam-drw,random+logit-adjusted", "--classifier", "resnet32", "--seeds", "1",
          "--out", str(out), "--no-progress"])
    cells = json.loads((out / "downstream.json").read_text())["cells"]
    assert set(cells) == {"given/none+ldam-drw/0", "given/random+logit-adjusted/0"}
    assert cells["given/random+logit-adjusted/0"]["added"] == [43, 0, 0]
    assert cells["given/none+ldam-drw/0"]["best_step"] >= 0.8 * 60  # DRW's weights were on when it was kept


@pytest.mark.slow
def test_generated_images_filtered_down_weighted_two_stage_and_doubled(tmp_path):
    """The ways recent work uses generated images, as recipe options, on random
    oversampling's copies (the mechanics, not the images' quality)."""
    from csacgan.cli import main
    _users_npz(tmp_path / "mine.npz")
    out = tmp_path / "study"
    recipes = ["random+logit-adjusted@filter=0.5", "random@weight=0.25", "random+balanced-softmax@crt",
               "random@amount=2x", "random+logit-adjusted@amount=0.5"]
    main(["downstream", "--quick", "--protocol", "given", "--dataset", "npz", "--data-dir", str(tmp_path / "mine.npz"),
          "--samplers", ",".join(recipes), "--seeds", "1", "--out", str(out), "--no-progress"])
    cells = json.loads((out / "downstream.json").read_text())["cells"]
    filtered = cells["given/random+logit-adjusted@filter=0.5/0"]
    assert sum(filtered["dropped"]) + sum(filtered["added"]) == 43  # kept or dropped, every copy counted
    assert cells["given/random@weight=0.25/0"]["options"] == {"weight": 0.25}
    assert cells["given/random+balanced-softmax@crt/0"]["acsa"] > 0.5
    assert cells["given/random@amount=2x/0"]["added"] == [108 - 11, 108 - 54, 108 - 54]
    assert cells["given/random+logit-adjusted@amount=0.5/0"]["added"] == [22, 0, 0]  # half of the gap 54 - 11
    from csacgan.experiments.downstream import Settings
    for bad, match in (("random@filter=2", "must lie in"), ("random@fliter=0.5", "unknown recipe option"),
                       ("random+ldam-drw@crt", "cosine"), ("random@amount=1.5", "a fraction in")):
        with pytest.raises(ValueError, match=match):
            Settings(out=str(tmp_path), samplers=[bad]).resolved()


def _users_npz(path):
    """Three classes of 12, 60 and 60 noisy images of three grey levels, and a test split."""
    rng = np.random.default_rng(0)
    labels = np.array([0] * 12 + [1] * 60 + [2] * 60)
    images = (rng.random((len(labels), 28, 28)) * 60 + labels[:, None, None] * 80).astype(np.uint8)
    test = np.repeat([0, 1, 2], 10)
    test_images = (rng.random((30, 28, 28)) * 60 + test[:, None, None] * 80).astype(np.uint8)
    np.savez(path, images=images, labels=labels, test_images=test_images, test_labels=test)


@pytest.mark.slow
def test_given_protocol_on_a_users_npz(tmp_path):
    """Users' arrays as they are: two samplers, two seeds, every cell and the report."""
    from csacgan.cli import main
    _users_npz(tmp_path / "mine.npz")
    out = tmp_path / "study"
    main(["downstream", "--quick", "--protocol", "given", "--dataset", "npz", "--data-dir", str(tmp_path / "mine.npz"),
          "--samplers", "none,smote,acgan", "--seeds", "2", "--out", str(out), "--no-progress"])
    state = json.loads((out / "downstream.json").read_text())
    assert state["levels"]["given"]["train_counts"] == [11, 54, 54]
    assert state["levels"]["given"]["validation_counts"] == [1, 6, 6]
    assert len(state["cells"]) == 6 and all(c["acsa"] > 0.9 for c in state["cells"].values())
    assert state["cells"]["given/smote/0"]["added"] == [43, 0, 0]
    assert (out / "recall-given.png").is_file() and (out / "gain.png").is_file()


@pytest.mark.slow
def test_gan_seeds_train_several_gans_on_the_same_split(tmp_path, mnist_path):
    from csacgan.cli import main
    out = tmp_path / "study"
    args = ["downstream", "--quick", "--out", str(out), "--data-dir", str(mnist_path), "--samplers", "acgan",
            "--seeds", "2", "--no-progress"]
    main(args)
    first = json.loads((out / "downstream.json").read_text())["cells"]
    assert [first[f"deepsmote/acgan/{k}"]["gan_seed"] for k in range(2)] == [0, 0]
    main(args + ["--gan-seeds", "2"])  # seed 1 now samples GAN 1: made again; seed 0 kept
    cells = json.loads((out / "downstream.json").read_text())["cells"]
    assert cells["deepsmote/acgan/0"] == first["deepsmote/acgan/0"] and cells["deepsmote/acgan/1"]["gan_seed"] == 1
    data = [json.loads((out / "gans" / f"acgan-deepsmote-s{k}" / "config.json").read_text()) for k in range(2)]
    assert data[0]["data"]["kept_indices_md5"] == data[1]["data"]["kept_indices_md5"]
    assert [d["config"]["seed"] for d in data] == [0, 1]


@pytest.mark.slow
def test_a_continued_study_trains_only_the_gans_its_remaining_cells_sample(tmp_path, mnist_path):
    """A study carried to another machine with its downstream.json but not its GANs: a
    second GAN seed retrains only GAN 1, which the odd seeds sample; GAN 0's cells stay."""
    import shutil
    from csacgan.cli import main
    out = tmp_path / "study"
    args = ["downstream", "--quick", "--out", str(out), "--data-dir", str(mnist_path), "--samplers", "acgan",
            "--seeds", "2", "--no-progress"]
    main(args)
    first = json.loads((out / "downstream.json").read_text())["cells"]
    shutil.rmtree(out / "gans" / "acgan-deepsmote-s0")
    main(args + ["--gan-seeds", "2"])
    cells = json.loads((out / "downstream.json").read_text())["cells"]
    assert not (out / "gans" / "acgan-deepsmote-s0").exists()
    assert (out / "gans" / "acgan-deepsmote-s1" / "checkpoint.pt").is_file()
    assert cells["deepsmote/acgan/0"] == first["deepsmote/acgan/0"] and cells["deepsmote/acgan/1"]["gan_seed"] == 1
