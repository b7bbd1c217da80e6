"""csacgan.experiments.ablation's table, paired differences and figure, on run folders made here."""
import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def ablation():
    from csacgan.experiments import ablation
    return ablation


def _metrics(acc0: float, fid0: float) -> dict:
    classes = [str(c) for c in range(10)]
    per = lambda v: {c: v for c in classes}  # noqa: E731
    prdc = {c: {"precision": 0.9, "recall": 0.5, "coverage": 0.6} for c in classes}
    return {"epoch": 5, "step": 100, "metrics": {
        "classifier_accuracy": {"per_class": {**per(0.99), "0": acc0}},
        "ssim_diversity": {"per_class": per(0.45), "real": {"per_class": per(0.43)}},
        "fid": {"per_class": {**per(5.0), "0": fid0}, "overall": fid0 / 2,
                "real": {"per_class": per(1.0), "overall": 0.9}},
        "prdc": {"per_class": prdc, "real": {"per_class": prdc}}}}


def _run(out: Path, row: str, seed: int, acc0: float, fid0: float, costs=None) -> None:
    run = out / f"r190-{row}-s{seed}"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps(_metrics(acc0, fid0)))
    log = [{"epoch": e, "seconds": 60.0, **({"class_costs": [costs[e - 1]] + [0.1] * 9} if costs else {})}
           for e in (1, 2)]
    (run / "log.jsonl").write_text("\n".join(json.dumps(r) for r in log))
    (run / "curve.json").write_text(json.dumps([{"epoch": e, "per_class": [acc0 * e / 2] + [1.0] * 9}
                                                for e in (1, 2)]))


def test_the_report_pairs_each_row_with_base_seed_by_seed(ablation, tmp_path):
    rows = {"base": ("acgan", {}), "real": ("cs-acgan", {})}
    base_acc, row_acc = [0.2, 0.5, 0.8], [0.3, 0.7, 0.7]  # differences +0.1, +0.2, -0.1
    for s in range(3):
        _run(tmp_path, "base", s, base_acc[s], 40.0)
        _run(tmp_path, "real", s, row_acc[s], 30.0 + s, costs=[0.2, 0.15])
    text = ablation.report(tmp_path, rows, [190.0], None)
    line = next(x for x in text.splitlines() if x.startswith("- real - base"))
    assert "(3 paired seeds)" in line
    assert "'0' accuracy +0.067 ± 0.153 (2/3 above, p 0.53)" in line  # t = 0.756, 2 dof
    assert "FID '0' -9.000 ± 1.000 (0/3 above, p 0.0041)" in line  # t = -15.6
    row = next(x for x in text.splitlines() if x.startswith("| real |"))
    assert row.startswith("| real | cs-acgan | 3 | 31.0 ± 1.0 |") and "| 0.567 ± 0.231 |" in row  # FID '0', '0' acc
    assert "0.20 / 0.15" in text  # w_0 of seed 0's last epochs
    per_seed = next(x for x in text.splitlines() if x.startswith("| real | 0 / 1 / 2 |"))
    assert per_seed.startswith("| real | 0 / 1 / 2 | 30.0 / 31.0 / 32.0 | 15.0 / 15.5 / 16.0 |")
    # the curves' '0' accuracy is acc0 / 2 and acc0 at epochs 1 and 2: a mean of 0.75 acc0
    assert "over the last 3 epochs' snapshots (200 images per class each): +0.050 ± 0.115 (2/3 above, p 0.53)" in text
    text = ablation.report(tmp_path, {**rows, "ema": ("cs-acgan", {"g_ema": 0.999})}, [190.0], None,
                           baselines=("base", "real"))
    assert "- real - base" in text and "- base - real" not in text  # each pair once


def test_paired_difference_needs_spread_for_a_p_value():
    from csacgan.experiments.stats import paired_difference
    d = paired_difference([1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    assert d["mean"] == pytest.approx(0.5) and d["std"] == 0 and d["wins"] == 3 and d["p"] is None


def test_the_figure_draws_every_run(ablation, tmp_path):
    rows = {"base": ("acgan", {}), "real": ("cs-acgan", {})}
    for s in range(2):
        _run(tmp_path, "base", s, 0.5, 40.0)
        _run(tmp_path, "real", s, 0.6, 30.0, costs=[0.2, 0.15])
    path = tmp_path / "figure" / "costs.png"
    ablation.figure(tmp_path, rows, [190.0], path)
    assert path.stat().st_size > 10_000


def test_the_levers_figure_draws_every_rows_metrics_beside_real_data(ablation, tmp_path):
    rows = {"base": ("cs-acgan", {}), "ema": ("cs-acgan", {"g_ema": 0.999}), "not-run": ("cs-acgan", {})}
    for s in range(2):
        _run(tmp_path, "base", s, 0.99, 12.0)
        _run(tmp_path, "ema", s, 0.99, 9.0)
    path = tmp_path / "levers.png"
    ablation.metrics_figure(tmp_path, rows, [190.0], path)  # a row with no runs is an empty slot
    assert path.stat().st_size > 10_000


def test_a_run_folder_of_another_setting_is_refused_not_resumed(ablation, tmp_path, synthetic_path):
    from conftest import tiny_config
    from csacgan.train import train
    tiny = dict(batch_size=16, g_channels=[16, 8, 8, 8, 4], d_channels=[8, 8, 16, 16], checkpoint_every=1000,
                device="cpu")
    run = train(tiny_config(tmp_path, synthetic_path, out=str(tmp_path / "r190-base-s0"), method="acgan",
                            recipe="paper", max_steps=2))
    assert ablation._setting(run) == ("uniform", "class-prior")  # the paper recipe's, as the report states them
    from csacgan.runtime import cpu_model
    assert ablation._machine(run) == cpu_model()  # where it trained, as the report states it
    rows = {"base": ("acgan", tiny)}
    with pytest.raises(ValueError, match="sampling: 'uniform', planned 'class-balanced'"):
        ablation.work(str(tmp_path), rows, "paper", 190.0, "base", 0, 1, str(synthetic_path), max_steps=2,
                      setting={"sampling": "class-balanced"})


def test_base_is_ema_scored_from_its_raw_weights_unless_trained_in_its_own_folder(ablation, tmp_path):
    rows = {k: ablation.STUDIES["levers"][k] for k in ("base", "ema", "lecam", "combined")}
    assert ablation.raw_sources(rows) == {"base": "ema"}  # combined has more than the EMA
    assert ablation.raw_sources(ablation.STUDIES["costs"]) == {}
    _run(tmp_path, "base", 0, 0.99, 12.0)                     # seed 0: base trained on its own
    (tmp_path / "r190-base-s0" / "checkpoint.pt").write_bytes(b"")
    _run(tmp_path, "ema", 0, 0.99, 9.0)
    _run(tmp_path, "ema", 1, 0.99, 9.0)                       # seed 1: ema done, base not scored yet
    todo = ablation.plan(tmp_path, rows, [190.0], 3, epochs=5)
    assert ("base", 0) not in [(r, s) for _, r, s, _ in todo]
    assert [(r, s, to) for _, r, s, to in todo if s == 1] == [("ema", 1, "base"), ("lecam", 1, None),
                                                                ("combined", 1, None)]
    assert [(r, s, to) for _, r, s, to in todo if s == 2] == [("ema", 2, "base"), ("lecam", 2, None),
                                                                ("combined", 2, None)]


def test_work_scores_the_raw_weights_into_the_derived_rows_folder(ablation, tmp_path, synthetic_path, monkeypatch):
    import csacgan.evaluate
    calls = []

    def fake_evaluate(run_dir, metrics, n_per_class, data_dir, progress, weights="sampling", output=None):
        calls.append((Path(run_dir).name, weights, output and Path(output).parent.name))
        path = Path(output) if output else Path(run_dir) / "metrics.json"
        path.write_text(json.dumps({**_metrics(0.99, 9.0), "epoch": 1, "weights": weights}))
    monkeypatch.setattr(csacgan.evaluate, "evaluate", fake_evaluate)
    tiny = dict(batch_size=16, g_channels=[16, 8, 8, 8, 4], d_channels=[8, 8, 16, 16], checkpoint_every=1000,
                device="cpu")
    rows = {"base": ("cs-acgan", tiny), "ema": ("cs-acgan", {**tiny, "g_ema": 0.9})}
    ablation.work(str(tmp_path), rows, "balanced", 190.0, "ema", 1, 1, str(synthetic_path), max_steps=2,
                  raw_to="base")
    assert calls == [("r190-ema-s1", "sampling", None), ("r190-ema-s1", "raw", "r190-base-s1")]
    base = tmp_path / "r190-base-s1"
    assert sorted(p.name for p in base.iterdir()) == ["config.json", "log.jsonl", "metrics.json"]
    assert ablation.plan(tmp_path, rows, [190.0], 2, epochs=1, max_steps=2) == [
        (190.0, "ema", 0, "base")]  # seed 1 done; seed 0 of both left to the ema row


def test_every_ema_row_of_the_levers_study_scores_its_twin_without_the_ema(ablation):
    assert ablation.raw_sources(ablation.STUDIES["levers"]) == {
        "base": "ema", "spectral-norm": "ema-spectral-norm", "mode-seeking-0.5": "ema-mode-seeking-0.5",
        "ada": "ema-ada"}


def test_a_rows_runs_are_its_own_not_those_of_a_row_named_after_it(ablation, tmp_path):
    for name in ("r190-ema-s0", "r190-ema-s2", "r190-ema-s10", "r190-ema-spectral-norm-s0", "r20-ema-s1"):
        (tmp_path / name).mkdir()
    assert [p.name for p in ablation.row_runs(tmp_path, 190.0, "ema")] == ["r190-ema-s0", "r190-ema-s2", "r190-ema-s10"]
    assert [p.name for p in ablation.row_runs(tmp_path, 190.0, "ema-spectral-norm")] == ["r190-ema-spectral-norm-s0"]
    assert list(ablation.scored_runs(tmp_path, 190.0, "ema")) == []  # no metrics.json: nothing scored


def test_the_archive_regenerates_the_table_once_the_run_folders_are_gone(ablation, tmp_path):
    import shutil
    rows = {"base": ("acgan", {}), "real": ("cs-acgan", {})}
    runs = tmp_path / "runs"
    for s in range(3):
        _run(runs, "base", s, [0.2, 0.5, 0.8][s], 40.0)
        _run(runs, "real", s, [0.3, 0.7, 0.7][s], 30.0 + s, costs=[0.2, 0.15])
    _run(runs, "real-tau", 0, 0.9, 20.0)  # a row named after another's is not the other's
    path = tmp_path / "page" / "runs.json"
    archive = ablation.load_archive(path)
    assert archive == {}
    text = ablation.report(runs, rows, [190.0], None, archive)
    ablation.save_archive(path, archive)
    assert sorted(json.loads(path.read_text())) == [f"r190-{r}-s{s}" for r in ("base", "real") for s in range(3)]
    shutil.rmtree(runs / "r190-real-s1")  # one folder lost: its record stands in
    assert ablation.report(runs, rows, [190.0], None, ablation.load_archive(path)) == text
    shutil.rmtree(runs)  # every folder lost
    assert ablation.report(runs, rows, [190.0], None, ablation.load_archive(path)) == text
    assert ablation.report(runs, rows, [190.0], None) == ""  # without the archive nothing is left
    figure = tmp_path / "levers.png"
    ablation.metrics_figure(runs, rows, [190.0], figure, ablation.load_archive(path))
    assert figure.stat().st_size > 10_000


def test_a_report_with_no_runs_leaves_the_published_table_alone(ablation, tmp_path):
    page = tmp_path / "page.md"
    page.write_text("head\n<!-- table -->\n| published |\n<!-- /table -->\ntail\n")
    assert ablation.report(tmp_path / "gone", {"base": ("acgan", {})}, [190.0], page) == ""
    assert "| published |" in page.read_text()
    _run(tmp_path / "runs", "base", 0, 0.5, 40.0)
    ablation.report(tmp_path / "runs", {"base": ("acgan", {})}, [190.0], page)
    assert "| published |" not in page.read_text() and "| base | acgan | 1 |" in page.read_text()


def test_a_page_holds_one_table_per_marker(ablation, tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- table -->\n| first |\n<!-- /table -->\nprose\n<!-- table screen -->\n<!-- /table screen -->\n")
    _run(tmp_path / "runs", "base", 0, 0.5, 40.0)
    ablation.report(tmp_path / "runs", {"base": ("acgan", {})}, [190.0], page, marker="table screen")
    text = page.read_text()
    assert text.startswith("<!-- table -->\n| first |\n<!-- /table -->\nprose\n<!-- table screen -->\n### rho 190")
    assert "| base | acgan | 1 |" in text.split("<!-- table screen -->")[1]


def test_a_page_without_the_markers_is_refused_and_left_alone(ablation, tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- table -->\n| first |\n<!-- /table -->\n")
    _run(tmp_path / "runs", "base", 0, 0.5, 40.0)
    with pytest.raises(SystemExit, match="table screen"):
        ablation.report(tmp_path / "runs", {"base": ("acgan", {})}, [190.0], page, marker="table screen")
    assert page.read_text() == "<!-- table -->\n| first |\n<!-- /table -->\n"
    with pytest.raises(SystemExit, match="does not exist"):  # a mistyped PAGE is not a print-only report
        ablation.report(tmp_path / "runs", {"base": ("acgan", {})}, [190.0], tmp_path / "pgae.md")
    assert not (tmp_path / "pgae.md").exists()


def test_details_take_every_seed_and_difference_off_the_page(ablation, tmp_path):
    page, details = tmp_path / "docs" / "page.md", tmp_path / "docs" / "study" / "rho190.md"
    page.parent.mkdir()
    page.write_text("<!-- table -->\n<!-- /table -->\n")
    rows = {"base": (ablation.CS, {}), "ema": (ablation.CS, {"g_ema": 0.999})}
    for s in range(2):
        _run(tmp_path / "runs", "base", s, 0.5 + s / 10, 40.0 + s)
        _run(tmp_path / "runs", "ema", s, 0.6 + s / 10, 30.0 + s)
    ablation.report(tmp_path / "runs", rows, [190.0], page, details=details)
    text, extra = page.read_text(), details.read_text()
    assert "| ema | cs-acgan, g_ema=0.999 | 2 |" in text and "w_0" not in text  # the levers' rows: no costs column
    assert "Per seed" not in text and "- ema - base" not in text
    assert "[rho190.md](study/rho190.md)" in text
    assert "| ema | 0 / 1 | 30.0 / 31.0 |" in extra and "- ema - base (2 paired seeds)" in extra
