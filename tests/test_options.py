"""Each option is declared once (csacgan.options): the train parser, the config's checks
and the methods' options all come from the same declarations."""
import argparse
import dataclasses

import pytest

from csacgan.cli import _add_train
from csacgan.config import TrainConfig
from csacgan.methods import METHODS, check_method_options, method_defaults
from csacgan.options import FIELD_DEFAULT, declared, default_of


def _train_parser():
    parser = argparse.ArgumentParser()
    _add_train(parser.add_subparsers())
    return parser._subparsers._group_actions[0].choices["train"]


def test_every_config_field_and_method_option_is_declared():
    assert set(declared(TrainConfig)) == {f.name for f in dataclasses.fields(TrainConfig)}
    for method in METHODS.values():
        assert set(declared(method.Options)) == set(method_defaults(method.name))


def test_the_train_parser_is_built_from_the_declarations():
    parser = _train_parser()
    dests = {a.dest: a for a in parser._actions if a.option_strings and a.dest != "help"}
    config = {n: (f, o) for n, (f, o) in declared(TrainConfig).items() if o.flags is not None}
    methods = {n for m in METHODS.values() for n, (_, o) in declared(m.Options).items() if o.flags is not None}
    assert set(dests) == set(config) | methods | {"resume"}
    for name, (f, opt) in config.items():
        expected = default_of(f) if opt.cli_default == FIELD_DEFAULT else opt.cli_default
        if opt.parse == "off":  # a --no-... switch
            assert dests[name].default is True and default_of(f) is True
        else:
            assert dests[name].default == expected, name
        assert dests[name].help.startswith(opt.help.split("{")[0][:30]), name
    for name in methods:  # given only when set; the method's default is stated in the help
        assert dests[name].default is None and "(default " in dests[name].help
    assert set(parser.parse_args([]).__dict__) >= set(config)


@pytest.mark.parametrize("flag, value, name", [
    ("--lr", "0", "lr"), ("--batch-size", "1", "batch_size"), ("--cost-momentum", "0", "momentum"),
    ("--temperature", "-1", "temperature"), ("--d-dropout", "1", "d_dropout"), ("--g-channels", "8,8", "g_channels"),
])
def test_a_value_is_refused_alike_by_the_parser_and_the_library(flag, value, name, capsys):
    with pytest.raises(SystemExit):
        _train_parser().parse_args([flag, value])
    cli_error = capsys.readouterr().err
    parsed = int(value) if value.lstrip("-").isdigit() else [8, 8] if "," in value else float(value)
    if name in method_defaults("cs-acgan"):
        with pytest.raises(ValueError) as library:
            check_method_options("cs-acgan", {name: parsed})
    else:
        with pytest.raises(ValueError) as library:
            TrainConfig(method="acgan", **{name: parsed}).resolved()
    what = str(library.value).split(" must be ")[-1].split(" takes ")[-1]
    assert what in " ".join(cli_error.split()), (what, cli_error)


def test_only_with_is_read_from_the_declaration():
    with pytest.raises(ValueError, match="--cost-error-source held-out"):
        TrainConfig(method="cs-acgan", method_options={"held_out_fraction": 0.2}).resolved()
    cfg = TrainConfig(method="cs-acgan", method_options={"held_out_fraction": 0.2, "error_source": "held-out"})
    assert cfg.resolved().method_options["held_out_fraction"] == 0.2


def test_counts_given_as_the_imbalance_become_class_counts():
    cfg = _train_parser().parse_args(["--imbalance", "deepsmote"])
    values = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(TrainConfig)
              if getattr(cfg, f.name, None) is not None}
    resolved = TrainConfig(**{**values, "method": "acgan"}).resolved()
    assert resolved.imbalance == "counts" and resolved.class_counts[0] == 4000 and resolved.minority == []
