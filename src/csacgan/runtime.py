"""Device, precision, seeding and the environment record of a run."""
from __future__ import annotations

import contextlib
import os
import platform
import random
import sys
from functools import partial
from pathlib import Path

import numpy as np
import torch


DEVICES = ("auto", "cpu", "cuda", "cuda:N")


def pick_device(name: str = "auto") -> torch.device:
    """The torch device for ``--device``: auto (CUDA where there is a GPU, else the CPU),
    cpu, cuda or cuda:N; anything else, or a GPU this machine lacks, is one line."""
    from .errors import CsacganError
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise CsacganError(f"--device {name}: csacgan runs on {', '.join(DEVICES)}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CsacganError(f"--device {name} was asked for, but PyTorch sees no CUDA GPU; use --device cpu")
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise CsacganError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA GPU(s), "
                           f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return device


def cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def pick_precision(precision: str, device: torch.device) -> str:
    """'auto' is bf16 where the hardware computes it natively, else fp32."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, got {precision!r}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_bf16() else "fp32"


def autocast_factory(device: torch.device, precision: str):
    """A zero-argument callable returning the autocast context for the forward passes."""
    if precision == "bf16":
        return partial(torch.autocast, device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def source_commit() -> str | None:
    """The git commit of csacgan's source when it runs from a checkout ("+dirty" with
    uncommitted changes to tracked files), else None (an installed wheel)."""
    import subprocess
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10)
        if head.returncode:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict:
    import torchvision
    info = {"python": sys.version.split()[0], "platform": platform.platform(),
            "torch": torch.__version__, "torchvision": torchvision.__version__,
            "numpy": np.__version__, "processor": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads()}
    cpu = cpu_model()
    if cpu:
        info["cpu"] = cpu
    try:
        from importlib.metadata import version
        info["csacgan"] = version("csacgan")
    except Exception:
        info["csacgan"] = "unknown"
    commit = source_commit()
    if commit:
        info["csacgan_commit"] = commit
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def cpu_model() -> str | None:
    """The CPU's model name (platform.processor() gives only the architecture on Linux),
    so that a run's timing names the machine it was measured on."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def user_cache_dir() -> Path:
    """Where evaluators, autoencoders and downloaded datasets are cached."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "csacgan"


def physical_memory() -> int:
    """Bytes of memory of this machine (os.sysconf; 0 where it cannot tell)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def check_fits(nbytes: int, what: str) -> None:
    """Refuse, before any work, a request whose result alone would take more than half the
    machine's memory (a 10-billion-image --n would otherwise end in a MemoryError)."""
    from .errors import CsacganError
    total = physical_memory()
    if total and nbytes > total // 2:
        raise CsacganError(f"{what} would take {nbytes / 2**30:.1f} GiB, more than half of this machine's "
                           f"{total / 2**30:.0f} GiB; ask for fewer")
