"""The convergence study: what it says it will do for a run."""
from csacgan.experiments import convergence


def test_next_step_names_scoring_of_copied_epochs():
    next_step = convergence.next_step
    assert next_step(0, 0, 2) == "training to epoch 2"
    assert next_step(4, 4, 6) == "training to epoch 6"
    # a run copied in with 20 trained epochs and none scored is scored, not trained to 2
    assert next_step(0, 20, 2) == "scoring epochs 1-20"
    assert next_step(5, 6, 7) == "scoring epochs 6-6, then training to epoch 7"


def test_plateau_rule_needs_both_fid_and_accuracy_to_settle():
    plateau_epoch = convergence.plateau_epoch
    flat = [{"epoch": e, "fid_all": 5.0, "acc_0": 0.99} for e in range(1, 16)]
    assert plateau_epoch(flat) == 10  # the first epoch allowed, with two full windows behind it
    falling = [{"epoch": e, "fid_all": 100.0 * 0.8 ** e, "acc_0": 0.99} for e in range(1, 16)]
    assert plateau_epoch(falling) is None  # FID-all still 20% lower each window
    rising = [{"epoch": e, "fid_all": 5.0, "acc_0": min(1.0, 0.1 * e)} for e in range(1, 25)]
    # accuracy reaches 1.0 at epoch 10; at 18 the window before (9-13) averages 0.98, within 0.03
    assert plateau_epoch(rising) == 18
