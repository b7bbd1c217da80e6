"""experiments/palette_spread.py: the hue spread of garments on dark backgrounds."""
import torch
from conftest import load_experiment

palette = load_experiment("palette_spread")


def _garments(colours: torch.Tensor) -> torch.Tensor:
    """(N, 3, 8, 8) uint8: a bright square of each colour (0-1 RGB) on a dark background."""
    images = torch.full((len(colours), 3, 8, 8), 0.1)
    images[:, :, 2:6, 2:6] = colours[:, :, None, None]
    return (images * 255).round().to(torch.uint8)


def test_one_palette_has_no_spread_and_hues_round_the_wheel_have_nearly_full_spread():
    red = torch.tensor([[0.9, 0.2, 0.2]]).repeat(50, 1)
    assert torch.allclose(palette.garment_colours(_garments(red)), red, atol=0.01)
    assert palette.palette_spread(_garments(red)) < 1e-3
    from matplotlib.colors import hsv_to_rgb
    wheel = torch.from_numpy(hsv_to_rgb([[h / 60, 0.8, 0.9] for h in range(60)])).float()
    assert palette.palette_spread(_garments(wheel)) > 0.95
    two = torch.cat([red[:25], wheel[20:21].repeat(25, 1)])  # two hues a third of the wheel apart
    assert 0.3 < palette.palette_spread(_garments(two)) < 0.9


def test_the_summary_reads_each_runs_metrics_and_real_datas(tmp_path):
    import json
    scored, unscored = tmp_path / "cf-a", tmp_path / "cf-b"
    scored.mkdir(), unscored.mkdir()
    overall = lambda acc, prdc: {  # noqa: E731
        "classifier_accuracy": {"overall": acc}, "ssim_diversity": {"overall": 0.5}, "fid": {"overall": 40.0},
        "prdc": {"overall": {"precision": prdc, "recall": 0.4, "coverage": 0.45}}}
    metrics = overall(0.98, 0.9)
    for key, real in overall(0.85, 0.97).items():
        metrics[key]["real"] = real
    (scored / "metrics.json").write_text(json.dumps({"metrics": metrics}))
    lines = palette.summary({"cf-a": 0.004, "cf-b": 0.5, "real": 0.935}, [str(scored), str(unscored)]).splitlines()
    assert lines[2] == "| cf-a | 0.004 | 0.98 | 0.5 | 40 | 0.9 | 0.4 | 0.45 |"
    assert lines[3] == "| cf-b | 0.500 |  |  |  |  |  |  |"
    assert lines[4] == "| real | 0.935 | 0.85 | 0.5 | 40 | 0.97 | 0.4 | 0.45 |"


def test_the_seed_summary_groups_a_setting_with_its_seeds(tmp_path):
    import json
    runs = []
    for name, fid in (("cf-a", 40.0), ("cf-a-s1", 44.0), ("cf-a-s2", 42.0), ("cf-b", 30.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps({"metrics": {"fid": {"overall": fid, "real": {
            "overall": 1.4}}}}))
        runs.append(str(tmp_path / name))
    means = {"cf-a": 0.1, "cf-a-s1": 0.2, "cf-a-s2": 0.3, "cf-b": 0.5}
    lines = palette.seed_summary(means, runs).splitlines()
    assert len(lines) == 3  # header, rule, cf-a (cf-b has one seed)
    assert lines[2] == "| cf-a | 3 | 0.200 ± 0.100 |  |  | 42.0 ± 2.0 |  |  |  |"
    assert palette.seed_summary(means, runs[3:]) == ""
