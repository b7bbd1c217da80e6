"""Options, each declared once: a field of TrainConfig or of a method's options dataclass
carries its section, help, accepted values and command-line flag (``option``). The config
checks values against these declarations (``check``) and ``csacgan train``'s parser is
built from them, so a default, a range or a help text lives in one place.

On the ground floor: it imports nothing of the package. Choices that other layers own
(the methods, the datasets) are named as "module:NAME" and read only by the CLI.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

MAX_WIDTH = 4096  # channels of one layer: wider would not fit a training step in memory
FIELD_DEFAULT = "field default"  # Option.cli_default: the parser's default is the field's


@dataclass(frozen=True)
class Option:
    section: str                       # the help's group, e.g. "networks"
    help: str
    kind: type | None = None           # int or float: checked against low / high
    low: float | None = None
    high: float | None = None
    low_in: bool = True                # is low itself accepted?
    high_in: bool = True
    length: int | None = None          # a list of this many integers >= low
    one_width: bool = False            # ... or one (--architecture resnet's single width)
    choices: tuple = ()                # accepted strings; "module:NAME" entries are the keys of NAME
    flags: tuple | None = ()           # command-line flags; () is --field-name; None: not on the command line
    metavar: str | None = None
    parse: str | None = None           # how the command line reads it: bool, classes, imbalance, or
                                       # off (a --no-... switch that sets the field False)
    cli_default: object = FIELD_DEFAULT  # the parser's default where it differs (None: "not given")
    only_with: tuple | None = None     # (option, value): meaningful only with that option's value
    exclusive: str | None = None       # options sharing this name exclude each other on the command line


def option(default=dataclasses.MISSING, section: str = "", help: str = "", *, factory=None, **declaration):
    """A dataclass field declared with its ``Option``."""
    meta = {"option": Option(section, help, **declaration)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def declared(cls) -> dict:
    """``{name: (field, Option)}`` of a dataclass's declared fields, in order."""
    return {f.name: (f, f.metadata["option"]) for f in dataclasses.fields(cls) if "option" in f.metadata}


def default_of(f: dataclasses.Field):
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def flag_of(name: str, opt: Option | None = None) -> str:
    """The first command-line flag of option ``name``."""
    return opt.flags[0] if opt is not None and opt.flags else "--" + name.replace("_", "-")


def check(name: str, value, opt: Option, label: str | None = None):
    """``value`` converted to the option's kind if it is accepted, else ValueError naming
    the option (``label``, default its flag) and what it accepts."""
    label = label or flag_of(name, opt)
    if value is None:
        return value
    if opt.length is not None:
        lengths = (opt.length, 1) if opt.one_width else (opt.length,)
        if opt.one_width and any(v > MAX_WIDTH for v in value):
            raise ValueError(f"{label}: widths above {MAX_WIDTH} channels will not fit in memory, got "
                             f"{','.join(map(str, value))}")
        if len(value) not in lengths or any(int(v) != v or v < opt.low for v in value):
            also = " (or one width, for --architecture resnet)" if opt.one_width else ""
            raise ValueError(f"{label} takes {opt.length} comma-separated integers >= {opt.low}{also}, got "
                             f"{','.join(map(str, value)) or 'nothing'}")
        return [int(v) for v in value]
    if opt.kind not in (int, float) or opt.low is None:
        return value
    low, high = opt.low, opt.high
    words = {(True, True): "[{}, {}]", (True, False): "[{}, {})", (False, True): "({}, {}]", (False, False): "({}, {})"}
    accepted = ("an integer" if opt.kind is int else "a finite number") + (
        " in " + words[opt.low_in, opt.high_in].format(low, high) if high is not None
        else f" {'>=' if opt.low_in else '>'} {low}")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (opt.kind is float or float(value).is_integer())
    if ok:
        ok = (value >= low if opt.low_in else value > low) and (
            high is None or (value <= high if opt.high_in else value < high))
    if not ok:
        raise ValueError(f"{label} must be {accepted}, got {value}")
    return opt.kind(value)


def check_all(cls, values: dict, label=None) -> dict:
    """``values`` with every declared option of ``cls`` among them checked."""
    out = dict(values)
    for name, (_, opt) in declared(cls).items():
        if name in out:
            out[name] = check(name, out[name], opt, label(name) if label else None)
    return out
