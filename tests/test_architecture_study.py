"""The architecture study's table: every row's rare-class figures over seeds beside the
real-against-real reference, paired differences from the baseline, and the page."""
import json

from csacgan.experiments import architecture_study as study


def _run(folder, fid, recall, hue, chroma, seconds=(30.0, 32.0, 31.0)):
    (folder / "samples").mkdir(parents=True)
    (folder / "samples" / "final.png").write_bytes(b"")
    (folder / "log.jsonl").write_text("".join(json.dumps({"epoch": e + 1, "seconds": s}) + "\n"
                                              for e, s in enumerate(seconds)))
    cls = lambda v, real: {"per_class": {"0": 0.0, "1": v}, "overall": v, "real": {"per_class": {"0": 0.0, "1": real},  # noqa: E731
                                                                                  "overall": real}}
    prdc = {k: 0.5 for k in ("precision", "density", "coverage")}
    metrics = {"fid": cls(fid, 8.4), "classifier_accuracy": cls(0.9, 0.88),
               "prdc": {"per_class": {"0": prdc, "1": {**prdc, "recall": recall}}, "overall": prdc,
                        "real": {"per_class": {"0": prdc, "1": {**prdc, "recall": 0.97}}, "overall": prdc}},
               "hue_spread": {**cls(hue, 0.98), "chroma": cls(chroma, 0.19)}}
    (folder / "metrics.json").write_text(json.dumps({"metrics": metrics, "class_names": ["Coat", "Bag"],
                                                     "n_per_class": 250}))


def test_the_table_pairs_seeds_and_shows_the_real_reference(tmp_path):
    for seed, (fid_a, fid_b) in enumerate([(50, 30), (60, 35), (55, 33)]):
        _run(tmp_path / f"cf-base-s{seed}", fid_a, 0.2, 0.2, 0.02)
        _run(tmp_path / f"cf-better-s{seed}", fid_b, 0.6, 0.5, 0.15)
    (tmp_path / "cf-unfinished-s0").mkdir()  # no final grid: not a row yet
    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- study -->\nSTALE\n<!-- /study -->\nafter\n")
    study.main([str(tmp_path), "--rare", "Bag", "--baseline", "base", "--no-score", "--page", str(page),
                "--marker", "study", "--archive", str(tmp_path / "runs.json")])
    text = page.read_text()
    assert "| base | 3 | 31 | 55.0 ± 5.0 |" in text and "| better | 3 | 31 | 32.7 ± 2.5 |" in text
    assert "| real against real | | | 8.4 | 0.500 | 0.970 | 0.500 | 0.980 | 0.190 |" in text
    assert "| better | -22.3 ± 2.5 (3/3" in text  # FID lower on every seed: a win each
    assert text.startswith("intro\n") and text.endswith("after\n") and "STALE" not in text and "unfinished" not in text
    archive = json.loads((tmp_path / "runs.json").read_text())
    assert archive["better"]["1"]["values"]["recall"] == 0.6 and archive["base"]["0"]["epoch_seconds"] == 31.0


def test_the_study_runner_plans_seed_major_trains_what_is_missing_and_resumes(tmp_path, synthetic_path):
    from csacgan.experiments.study import Study
    tiny = dict(data_dir=str(synthetic_path), g_channels=[16, 8, 8, 8, 4], d_channels=[8, 8, 16, 16], batch_size=16,
                device="cpu", imbalance_ratio=20.0)
    s = Study("t", {"a": dict(method="acgan", max_steps=2), "b": dict(method="cs-acgan", max_steps=2)}, tiny,
              seeds=(0, 1))
    assert [(r, k) for r, k, _ in s.plan(tmp_path)] == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]
    cfg = s.config(tmp_path, "b", 1)
    assert cfg.method == "cs-acgan" and cfg.seed == 1 and cfg.out == str(tmp_path / "t-b-s1") and not cfg.progress
    try:
        s.plan(tmp_path, rows=["c"])
        raise AssertionError("an unknown row was planned")
    except ValueError as exc:
        assert "unknown rows c" in str(exc)
    assert [p.name for p in s.train(tmp_path, seeds=[0], log=lambda line: None)] == ["t-a-s0", "t-b-s0"]
    assert set(s.found(tmp_path)) == {"a", "b"} and s.train(tmp_path, seeds=[0], log=lambda line: None) == []
    from dataclasses import replace

    from csacgan.checkpoint import load_checkpoint
    from csacgan.train import train
    train(replace(s.config(tmp_path, "a", 1), max_steps=1))  # stopped after one step of the study's two
    (tmp_path / "t-a-s1" / "samples" / "final.png").unlink()
    lines = []
    assert [p.name for p in s.train(tmp_path, rows=["a"], seeds=[1], log=lines.append)] == ["t-a-s1"]
    assert lines == ["resume t-a-s1"] and load_checkpoint(tmp_path / "t-a-s1")["global_step"] == 2
