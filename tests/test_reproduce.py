"""A reduced reproduction grid: every table of the report gets a number in every cell."""
import json
import re
from pathlib import Path

import pytest

from csacgan.config import TrainConfig
from csacgan.experiments.grid import LEVELS, plan, run_grid

TINY = {"max_per_class": 200,  # two short epochs: w_c is updated after the first
        "n_per_class": 20, "evaluator_subset": 3000, "evaluator_epochs": 0.3,
        "metric_options": {"cas": {"steps": 15}, "ssim_diversity": {"pairs": 100}, "augmentation_gain": {"seeds": 1, "steps": 15}}}


def test_plan_covers_methods_levels_and_seeds():
    runs = plan("paper", "drop", out="x")
    assert len(runs) == 3 * 3 * 3
    assert {r.method for r in runs} == {"acgan", "bagan", "cs-acgan"}
    assert {r.config["drop_fraction"] for r in runs} == set(LEVELS["drop"].values())
    assert all(r.config["imbalance_ratio"] is None for r in runs)
    ratio = plan("quick", "ratio", seeds=2, out="x")
    assert {r.config["imbalance_ratio"] for r in ratio} == {20.0, 40.0, 190.0} and len(ratio) == 18
    with pytest.raises(ValueError, match="unknown profile"):
        plan("huge")


@pytest.mark.slow
def test_reduced_grid_writes_every_table_with_a_number_in_every_cell(tmp_path, synthetic_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "grid"
    report = run_grid(out, "quick", data_dir=str(synthetic_path), progress=False, overrides=TINY, jobs=2)
    text = report.read_text()
    for title in ("Table 3", "Table 4", "Table 5", "Beyond the paper"):
        assert f"## {title}" in text
    tables, claims = text.split("## The paper's claims")
    table_rows = [line for line in tables.splitlines() if line.startswith("| ") and "---" not in line]
    body = [row for row in table_rows if not row.startswith("| level") and not row.startswith("| paper's")]
    assert len(body) == 3 + 3 + 3 + 9  # Tables 3, 4, 5 and 9 rows of the field's metrics
    for row in body:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert "missing" not in cells, row
        for c in cells[1:]:
            if c not in ("ACGAN", "BAGAN", "CostSensitive-ACGAN") and not c.startswith("rho "):
                assert re.fullmatch(r"-?[\d.]+%?( ± [\d.]+)?", c), (c, row)
    # every claim, baseline, measure and level: one seed, so a hint each, never a verdict
    verdicts = [row.strip("|").split("|")[-1].strip() for row in claims.splitlines()
                if row.startswith("| ") and "---" not in row and not row.startswith("| claim")]
    assert len(verdicts) == 10 * 3 and all(v.startswith("**hint: ") for v in verdicts), verdicts
    for figure in ("class_distribution", "generated_zeros", "class_costs", "losses", "claims"):
        assert (out / "figures" / f"{figure}.png").stat().st_size > 1000
    # w_c was updated after epoch 1, so CostSensitive-ACGAN's second epoch is not ACGAN's
    import torch
    from csacgan.checkpoint import load_checkpoint
    cs = load_checkpoint(out / "runs" / "cs-acgan-ratio95-s0")
    plain = load_checkpoint(out / "runs" / "acgan-ratio95-s0")
    assert cs["epoch"] == 2 and not torch.allclose(cs["method"]["class_costs"]["costs"], torch.full((10,), 0.1))
    assert not torch.equal(cs["generator"]["fc.weight"], plain["generator"]["fc.weight"])
    # resumable: a second call trains nothing new and rebuilds the same tables
    before = {p: p.stat().st_mtime for p in out.glob("runs/*/checkpoint.pt")}
    again = run_grid(out, "quick", data_dir=str(synthetic_path), progress=False, overrides=TINY,
                     jobs=1).read_text()
    assert {p: p.stat().st_mtime for p in out.glob("runs/*/checkpoint.pt")} == before
    strip = lambda t: [line for line in t.splitlines() if line.startswith("| ")]
    assert strip(again) == strip(text)
    sessions = json.loads((out / "grid.json").read_text())["sessions"]
    assert len(sessions) == 2 and sessions[0]["jobs"] == 2 and sessions[0]["threads_per_job"] >= 1
    assert len(sessions[0]["run_seconds"]) == 9 and "run_seconds" not in sessions[1]  # 2 processes trained all 9
    # a metric added to the profile later: a finished run computes that one alone
    path = out / "runs" / "acgan-ratio95-s0" / "metrics.json"
    record = json.loads(path.read_text())
    del record["metrics"]["prdc"]
    record["metrics"]["fid"]["overall"] = 12345.0  # not recomputed, so it stays
    path.write_text(json.dumps(record))
    run_grid(out, "quick", data_dir=str(synthetic_path), progress=False, overrides=TINY, jobs=1)
    record = json.loads(path.read_text())
    assert "coverage" in record["metrics"]["prdc"]["per_class"]["0"] and record["metrics"]["fid"]["overall"] == 12345.0


def test_shards_cover_the_grid_once_and_merge_into_one_report(tmp_path, monkeypatch):
    from csacgan.cli import main
    from csacgan.experiments import grid
    trained = []

    def fake_run(run, profile):  # the split and the bookkeeping, without training
        trained.append(run.name)
        return run.name, 0.0
    monkeypatch.setattr(grid, "_do_run", fake_run)
    monkeypatch.setattr(grid, "_trained", lambda run_dir, cfg: run_dir.name in trained)
    monkeypatch.setattr(grid, "_evaluated", lambda run_dir, p: run_dir.name in trained)
    monkeypatch.setattr("csacgan.experiments.report.write_report", lambda out: Path(out) / "report.md")
    plan = [r.name for r in grid.plan("quick", seeds=2, out=tmp_path)]
    shares = []
    for i in (1, 2, 3):
        before = len(trained)
        main(["reproduce", "--profile", "quick", "--seeds", "2", "--out", str(tmp_path), "--shard", f"{i}/3",
              "--jobs", "1", "--no-progress"])
        shares.append(trained[before:])
    assert sorted(sum(shares, [])) == sorted(plan) and all(len(s) == 6 for s in shares)
    assert [r["name"] for r in json.loads((tmp_path / "grid.json").read_text())["runs"]] == plan
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == [f"shard-{i}-of-3.json" for i in (1, 2, 3)]
    main(["reproduce", "--profile", "quick", "--seeds", "2", "--out", str(tmp_path), "--shard", "2/3",
          "--jobs", "1", "--no-progress"])
    assert len(trained) == len(plan)  # a shard run again finds its share done
    with pytest.raises(SystemExit):
        main(["reproduce", "--shard", "4/3"])


def test_plan_trains_seed_0_then_the_hardest_levels_paired_seeds_first():
    names = [r.name for r in plan("paper", "ratio", seeds=3, out="x")]
    assert len(set(names)) == 27
    assert all(n.endswith("-s0") for n in names[:9])
    assert names[9:13] == ["acgan-ratio95-s1", "cs-acgan-ratio95-s1", "acgan-ratio95-s2", "cs-acgan-ratio95-s2"]
    assert names[13:15] == ["bagan-ratio95-s1", "bagan-ratio95-s2"]
    assert all("ratio95" not in n for n in names[15:])


def test_converged_profile_is_the_paper_grid_at_the_studied_budget():
    paper, converged = plan("paper", "ratio", out="x"), plan("converged", "ratio", out="x")
    assert [r.name for r in converged] == [r.name for r in paper]
    for p, c in zip(paper, converged):
        assert c.config["epochs"] == 20 and p.config["epochs"] == 2
        assert TrainConfig(**c.config).resolved().fake_labels == "class-prior"  # c ~ p_c, the paper's
        same = {k: v for k, v in c.config.items() if k not in ("epochs", "out", "method_options")}
        assert same == {k: v for k, v in p.config.items() if k not in ("epochs", "out", "method_options")}


def test_a_run_folder_in_the_grids_place_must_have_the_planned_settings(tmp_path, synthetic_path):
    from dataclasses import replace
    from conftest import tiny_config
    from csacgan.experiments.grid import check_same_run
    from csacgan.train import train
    cfg = tiny_config(tmp_path, synthetic_path, max_per_class=200, imbalance_ratio=10, max_steps=2)
    run = train(cfg)
    # a longer budget, another folder or data path: the grid resumes it
    check_same_run(run, replace(cfg, epochs=20, max_steps=None, out=str(tmp_path / "elsewhere"), data_dir=None))
    with pytest.raises(ValueError, match=r"other settings than the grid plans \(seed: 0, planned 1\)"):
        check_same_run(run, replace(cfg, seed=1))
    with pytest.raises(ValueError, match="method: 'cs-acgan', planned 'acgan'.*recipe"):
        check_same_run(run, replace(cfg, method="acgan", recipe="paper"))


def test_the_drop_grids_95_cells_are_the_ratio_grids_rho_20_runs_and_are_copied_not_trained(tmp_path, synthetic_path):
    import torch
    from csacgan.checkpoint import load_checkpoint
    from csacgan.experiments.grid import REUSED, _trained, reuse_trained
    from csacgan.train import train
    # 200 images per class: rho 20 and a 95% drop both keep 10 zeros
    tiny = {"max_per_class": 200, "max_steps": 2, "batch_size": 16,
            "network": {"g_channels": [16, 8, 8, 8, 4], "d_channels": [8, 8, 16, 16]}}
    grids = {protocol: plan("quick", protocol, seeds=1, data_dir=str(synthetic_path), out=tmp_path / protocol,
                            overrides=tiny) for protocol in ("ratio", "drop")}
    cell = lambda protocol, method, level: next(r for r in grids[protocol] if (r.method, r.level) == (method, level))
    for run in (cell("ratio", "cs-acgan", 60), cell("ratio", "cs-acgan", 95)):
        train(TrainConfig.from_dict(run.config))
    drop95 = cell("drop", "cs-acgan", 95)
    # the premise: asked as a 95% drop, the same run trains to the same weights, bit for bit
    direct = load_checkpoint(train(TrainConfig.from_dict({**drop95.config, "out": str(tmp_path / "direct")})))
    ratio20 = load_checkpoint(Path(cell("ratio", "cs-acgan", 60).config["out"]))
    for net in ("generator", "discriminator"):
        assert all(torch.equal(direct[net][k], ratio20[net][k]) for k in direct[net])

    # only that cell: ACGAN's 95% has no trained twin, the 60% and 80% drops keep other zeros,
    # and rho 190 (1 zero) is no drop's
    assert reuse_trained(grids["drop"], [tmp_path / "ratio"]) == [drop95.name]
    place = Path(drop95.config["out"])
    record = json.loads((place / REUSED).read_text())
    assert record["asked"] == {"imbalance_ratio": None, "drop_fraction": 0.95}
    assert record["trained_as"] == {"imbalance_ratio": 20.0, "drop_fraction": None}
    assert load_checkpoint(place)["global_step"] == 2
    assert _trained(place, TrainConfig.from_dict(drop95.config))  # the grid takes it as its own
    assert sorted(q.name for q in (tmp_path / "drop" / "runs").iterdir()) == [drop95.name]
    assert reuse_trained(grids["drop"], [tmp_path / "ratio"]) == []  # nothing twice
    # another budget is another run: a drop grid of 3 steps copies nothing
    longer = plan("quick", "drop", seeds=1, data_dir=str(synthetic_path), out=tmp_path / "longer",
                  overrides={**tiny, "max_steps": 3})
    assert reuse_trained(longer, [tmp_path / "ratio"]) == []
    with pytest.raises(ValueError, match="holds no run folders"):
        reuse_trained(grids["drop"], [tmp_path / "longer"])
    # a folder of run folders (a study's) serves as well as a grid's
    import shutil
    shutil.rmtree(place)
    assert reuse_trained(grids["drop"], [tmp_path / "ratio" / "runs"]) == [drop95.name]


def test_a_finished_shorter_run_is_copied_only_when_the_caller_resumes_it(tmp_path, synthetic_path):
    from csacgan.checkpoint import load_checkpoint
    from csacgan.experiments.grid import reuse_trained
    from csacgan.train import resume, train
    tiny = {"max_per_class": 40, "batch_size": 16, "autoencoder_epochs": 1,
            "network": {"g_channels": [16, 8, 8, 8, 4], "d_channels": [8, 8, 16, 16]}}
    def plan_rho20(*args, **kwargs):  # one cell: 2 zeros of 40 images per class
        return [r for r in plan(*args, **kwargs) if r.level == 60]

    short = plan_rho20("quick", "ratio", seeds=1, data_dir=str(synthetic_path), out=tmp_path / "short",
                 overrides={**tiny, "epochs": 1}, methods=("acgan",))
    train(TrainConfig.from_dict(short[0].config))
    longer = plan_rho20("quick", "ratio", seeds=1, data_dir=str(synthetic_path), out=tmp_path / "longer",
                  overrides={**tiny, "epochs": 2}, methods=("acgan",))
    assert reuse_trained(longer, [tmp_path / "short"]) == []  # another budget
    assert reuse_trained(longer, [tmp_path / "short"], shorter=True) == [short[0].name]
    place = Path(longer[0].config["out"])
    resume(place, epochs=2, progress=False)
    assert load_checkpoint(place)["epoch"] == 2 and load_checkpoint(Path(short[0].config["out"]))["epoch"] == 1
    # a source stopped before its own budget may still be training: never copied
    unfinished = plan_rho20("quick", "ratio", seeds=1, data_dir=str(synthetic_path), out=tmp_path / "unfinished",
                      overrides={**tiny, "epochs": 3}, methods=("acgan",))
    assert reuse_trained(unfinished, [tmp_path / "longer"], shorter=True) == [longer[0].name]
    ckpt_dir = Path(unfinished[0].config["out"])
    again = plan_rho20("quick", "ratio", seeds=1, data_dir=str(synthetic_path), out=tmp_path / "again",
                 overrides={**tiny, "epochs": 3}, methods=("acgan",))
    record = json.loads((ckpt_dir / "config.json").read_text())
    record["config"]["epochs"] = 5  # as if it had been started for 5 and stopped at 2
    (ckpt_dir / "config.json").write_text(json.dumps(record))
    assert reuse_trained(again, [tmp_path / "unfinished"], shorter=True) == []


def test_seeds_where_hardest_trains_further_seeds_only_for_the_claims_pair():
    for protocol in ("ratio", "drop"):
        runs = plan("converged", protocol, out="x", seeds_where="hardest")
        assert len(runs) == 9 + 2 * 2
        later = [r for r in runs if r.seed > 0]
        assert {(r.method, r.level) for r in later} == {("acgan", 95), ("cs-acgan", 95)}
        assert runs[:9] == [r for r in runs if r.seed == 0]  # every cell of seed 0 first
        every = plan("converged", protocol, out="x")
        assert {r.name for r in runs} < {r.name for r in every}
    with pytest.raises(ValueError, match="unknown seeds_where"):
        plan("quick", seeds_where="some")


def _run(method, seed, ssim, accuracy, fid=10.0, level=95):
    metrics = {"ssim_diversity": {"per_class": {"0": ssim}}, "classifier_accuracy": {"per_class": {"0": accuracy}},
               "fid": {"per_class": {"0": fid}}}
    return {"method": method, "seed": seed, "level": level, "metrics": {"metrics": metrics}}


def test_claims_are_paired_by_seed_and_judged_by_the_stated_rules():
    from csacgan.experiments.claims import check_claims
    runs = [_run("cs-acgan", s, 0.30 + 0.01 * s, 0.97 + 0.001 * s, fid=5.0 + s) for s in range(3)]
    runs += [_run("acgan", s, 0.45 + 0.012 * s, 0.975 + 0.002 * s, fid=5.0 + s + (0.5, -0.5, 0.1)[s]) for s in range(3)]
    runs += [_run("bagan", 0, 0.20, 0.985)]
    runs[-1]["metrics"]["metrics"]["ssim_diversity"]["real"] = {"per_class": {"0": 0.429}}  # any run's will do
    rows = {(r["baseline"], r["measure"], r["claim"]): r for r in check_claims(runs, [95])}
    varied = rows["acgan", "SSIM '0'", "more varied '0's"]
    assert varied["seeds"] == [0, 1, 2] and varied["better"] == 3 and varied["verdict"] == "holds"
    assert abs(varied["difference"]["mean"] + 0.152) < 1e-9
    assert varied["real"] == 0.429 and rows["acgan", "FID '0'", "better than ACGAN"]["real"] is None
    # one paired seed against BAGAN: a hint, never a verdict
    assert rows["bagan", "SSIM '0'", "more varied '0's"]["verdict"] == "hint: behind"
    assert rows["bagan", "'0' accuracy", "as recognisable '0's"]["verdict"] == "hint: not worse"
    # 0.005-0.007 below ACGAN on every seed, well inside the 0.02 margin: as recognisable
    assert rows["acgan", "'0' accuracy", "as recognisable '0's"]["verdict"] == "holds"
    # and significantly behind ACGAN on '0' accuracy, so "better than ACGAN" fails there
    assert rows["acgan", "'0' accuracy", "better than ACGAN"]["verdict"] == "the opposite holds"
    assert rows["acgan", "FID '0'", "better than ACGAN"]["verdict"] == "within seed noise"
    # measures a run lacks (CAS, gain) give no row
    assert not any(r["measure"] in ("CAS '0'", "gain") for r in rows.values())
    runs[0]["metrics"]["metrics"]["classifier_accuracy"]["per_class"]["0"] = 0.80  # one bad seed: too wide to say
    worse = {(r["baseline"], r["claim"]): r for r in check_claims(runs, [95]) if r["measure"] == "'0' accuracy"}
    assert worse["acgan", "as recognisable '0's"]["verdict"] == "undecided"


def test_paper_claims_gathers_both_readings_and_keeps_claim_3_to_the_hardest_level(tmp_path):
    from csacgan.experiments import paper_claims
    grids = []
    for protocol in ("ratio", "drop"):
        folder = tmp_path / protocol
        entries = []
        for run in [_run(m, s, 0.4 + 0.01 * s, 0.99, level=lv) for m in ("acgan", "cs-acgan") for s in range(2)
                    for lv in (60, 95)]:
            name = f"{run['method']}-{protocol}{run['level']}-s{run['seed']}"
            (folder / "runs" / name).mkdir(parents=True)
            (folder / "runs" / name / "metrics.json").write_text(json.dumps(run["metrics"]))
            entries.append({"name": name, "method": run["method"], "level": run["level"], "seed": run["seed"],
                            "config": {"out": str(folder / "runs" / name)}})
        (folder / "grid.json").write_text(json.dumps({"protocol": protocol, "runs": entries}))
        grids.append(folder)
    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- claims -->\nold\n<!-- /claims -->\nafter\n")
    text = paper_claims.table(grids)
    rows = [r for r in text.splitlines()[2:]]
    # per reading: SSIM and '0' accuracy against ACGAN at 60% and 95%; FID '0' and '0' accuracy
    # of "better than ACGAN" at 95% only (no BAGAN runs, no CAS or gain in these runs)
    assert len(rows) == 2 * (2 * 2 + 2)
    assert sum(r.startswith("| drop | ") for r in rows) == 6
    assert not any("better than ACGAN" in r and ("| rho 20 |" in r or "| 60% of '0' removed |" in r) for r in rows)
    assert sum("| rho 190 |" in r for r in rows) == 4 and sum("| 95% of '0' removed |" in r for r in rows) == 4
    import subprocess
    import sys
    subprocess.run([sys.executable, paper_claims.__file__, *map(str, grids), "--page", str(page)], check=True,
                   capture_output=True)
    written = page.read_text()
    assert written.startswith("intro\n<!-- claims -->\n| reading |") and "\nold\n" not in written
    assert written.endswith("<!-- /claims -->\nafter\n") and written.count("| ratio | ") == 6
