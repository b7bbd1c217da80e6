"""csacgan.experiments.augmentation_seeds's table and paired differences, on run folders made here."""
import json
from pathlib import Path



def _load():
    from csacgan.experiments import augmentation_seeds
    return augmentation_seeds


def _run(path: Path, generated: float, oversampled: float) -> Path:
    path.mkdir(parents=True)
    setup = lambda v: {"balanced_accuracy": {"mean": v}, "minority_recall": {"mean": v - 0.05}}  # noqa: E731
    (path / "metrics.json").write_text(json.dumps({"metrics": {"augmentation_gain": {"setups": {
        "generated": setup(generated), "oversampled": setup(oversampled)}}}}))
    return path


def test_each_setting_is_paired_seed_by_seed_with_the_first_and_with_oversampling(tmp_path):
    module = _load()
    default = [_run(tmp_path / f"d{s}", g, 0.98) for s, g in enumerate([0.97, 0.98, 0.99])]
    other = [_run(tmp_path / f"m{s}", g, 0.98) for s, g in enumerate([0.98, 0.98, 0.995])]
    text = module.table({"default": default, "ms": other})
    assert "| plus generated zeros: ms | 3 | 0.9800 / 0.9800 / 0.9950 |" in text
    # differences from default: +0.01, 0, +0.005
    assert "- ms against default's generated zeros: balanced accuracy +0.0050 ± 0.0050 (2/3 above" in text
    assert "- default against random oversampling: balanced accuracy +0.0000 ± 0.0100 (1/3 above" in text
