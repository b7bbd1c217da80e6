"""Speed and memory of csacgan on this machine, measured in one run; writes
docs/benchmarks.md.

    python benchmarks/bench.py [--steps 60] [--out docs/benchmarks.md] [--runs RUN_DIR ...]

Measures (MNIST, rho 190, batch 64, the Table 2 networks):
  * training throughput (images/s) of a plain reference written the straightforward
    way (fp32, a torchvision-style DataLoader with per-sample PIL transforms,
    nn.Dropout, the same networks and losses) and of csacgan's loop in fp32, bf16,
    ablations (NCHW layout, the older dropout masks, D's gradients in G's step,
    separate D passes), fused Adam and torch.compile, as ratios to the reference;
  * throughput per method and adversarial loss (the default settings), with the
    plain reference timed again inside that group;
  * the headline ratio: the plain reference and the default step alone, in 16 short
    interleaved rounds;
  * FLOPs of one training step (torch.utils.flop_counter) and the achieved FLOP/s
    against this CPU's peak;
  * the evaluator's training speed and each metric's time per 1000 generated images;
  * peak resident memory;
  * time-to-quality from run folders (``--runs``): training minutes until the
    evaluator calls 95% of generated '0's zeros.
Every figure is from this one run; compare ratios, not absolute numbers across machines.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F
from torch import nn

from csacgan.config import TrainConfig
from csacgan.data import load_dataset
from csacgan.nets import fast_layers
from csacgan.nets.fast_layers import Dropout, LeakyReLUDropout
from csacgan.runtime import cpu_has_bf16
from csacgan.train import Trainer


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    info = {"python": sys.version.split()[0], "torch": torch.__version__, "threads": torch.get_num_threads(),
            "platform": platform.platform(), "cpu": platform.processor()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            if line.startswith("model name") and "cpu" not in info.get("cpu_name", ""):
                info["cpu_name"] = line.split(":", 1)[1].strip()
            if line.startswith("cpu MHz"):
                info["mhz"] = float(line.split(":", 1)[1])
        info["cores"] = text.count("processor\t:")
        info["amx_bf16"] = "amx_bf16" in text
        info["avx512_bf16"] = "avx512_bf16" in text
    except OSError:
        pass
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def config(tmp: Path, **overrides) -> TrainConfig:
    # recipe balanced: the step's machinery is compared on the networks it was built for; what
    # the default recipe's EMA of G costs is timed apart (recipe_pair)
    values = dict(out=str(tmp / "run"), imbalance_ratio=190.0, progress=False, device="auto", recipe="balanced")
    values.update(overrides)
    return TrainConfig(**values).resolved()


def interleaved(steppers: dict, steps: int, rounds: int = 4, warmup: int = 5) -> dict:
    """images/s of each step function, measured in ``rounds`` interleaved rounds of
    ``steps // rounds`` steps; the median round counts. On a shared machine the speed
    drifts over minutes, so variants timed one after another are not comparable, while
    interleaved rounds see the same drift."""
    out = {}
    for name, (step, batch) in steppers.items():
        started = time.perf_counter()
        for _ in range(warmup):
            step()
        out[name] = {"warmup_s": time.perf_counter() - started, "rounds": []}
    per_round = max(1, steps // rounds)
    for _ in range(rounds):
        for name, (step, batch) in steppers.items():
            started = time.perf_counter()
            for _ in range(per_round):
                step()
            out[name]["rounds"].append(batch * per_round / (time.perf_counter() - started))
    for v in out.values():
        v["images_per_s"] = statistics.median(v["rounds"])
    return out


def int16_dropout(self, x):
    """csacgan's dropout before: one int16 random_ (0 to 2^15 - 1) per unit, the mask cast and multiplied."""
    if not self.training or self.p == 0:
        return x
    keep = torch.empty(x.shape, dtype=torch.int16, device=x.device).random_() >= round(self.p * 32768)
    return x * keep.to(x.dtype) * (1.0 / (1.0 - self.p))


def fifteen_bit_dropout(self, x):
    """csacgan's dropout before the signed 16-bit draws: the top bit of each 16-bit chunk
    masked off (one more pass over the draws), 15-bit draws compared by sub and clamp."""
    if not self.training or self.p == 0:
        return x
    n = x.numel()
    if not (x.is_contiguous() or (x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last))):
        x = x.contiguous()
    words = fast_layers.random_words((n + 3) // 4, x.device)
    draws = words.view(torch.int16)[:n].as_strided(x.shape, x.stride()).bitwise_and_(0x7FFF)
    keep = draws.sub_(round(self.p * 32768) - 1).clamp_(0, 1)
    bits = self.scale_bits.get(x.dtype)
    if bits is not None:
        return x * keep.mul_(bits).view(x.dtype)
    return x * keep.to(x.dtype).mul_(self.scale)


class _FlattenKeepLayout(torch.autograd.Function):
    """x.flatten(1) in NCHW feature order whose gradient comes back in x's layout (the step
    before the heads read the maps' memory order: autograd's own flatten of a channels_last
    x returns an NCHW gradient, and leaky_relu_backward with mixed layouts ran 18x slower)."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        ctx.channels_last = x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(
            memory_format=torch.channels_last)
        return x.reshape(len(x), -1)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.reshape(ctx.shape)
        return grad.contiguous(memory_format=torch.channels_last) if ctx.channels_last else grad


class Flatten(nn.Module):
    def forward(self, x):
        return _FlattenKeepLayout.apply(x)


def two_heads(flatten):
    """D's forward before its heads became one product on the maps' memory order: the maps
    flattened by ``flatten`` (a copy of channels_last maps, forward and backward), then
    each head on its own."""
    def forward(self, x):
        h = flatten(self.feature_maps(x))
        source, classes = self.heads.source, self.heads.classes
        return F.linear(h, source.weight, source.bias).squeeze(1), F.linear(h, classes.weight, classes.bias)
    return forward


def separate_d_passes(self, discriminator, real, fake):
    """D on the real and the generated batch in two passes rather than one."""
    return (*discriminator(self.augment(real)), *discriminator(self.augment(fake)))


def unfused_activation_forward(self, x):
    """LeakyReLU and Dropout as two operations, whatever the kernel."""
    return self.dropout(F.leaky_relu(x, self.negative_slope, inplace=True))


def patched(step, patches):
    """``step`` with ``patches`` ((target, value) for mock.patch) in force while it runs, so
    that steps of variants timed in interleaved rounds do not see each other's."""
    if not patches:
        return step

    def run():
        with contextlib.ExitStack() as stack:
            for target, value in patches:
                stack.enter_context(mock.patch(target, value))
            return step()
    return run


def torch_words(n, device):
    """The dropout masks' random words from torch's generator (mt19937 on the CPU)."""
    return torch.empty(n, dtype=torch.int64, device=device).random_()


def ours(tmp: Path, compile=False, joint_d_pass=True, per_parameter_adam=False, torch_mask_words=False,
         converted_masks=False, heads="one product", fifteen_bit_masks=False, old_dropout=False,
         d_grads_in_g_step=False, unfused_activation=False, **overrides):
    """csacgan's training step as (step function, batch size). The flags put back what
    the step did before (for the ablation rows): ``per_parameter_adam`` torch's default
    CPU Adam, ``torch_mask_words`` the masks' words from torch's generator,
    ``converted_masks`` masks converted to bf16 and scaled, ``heads`` "nn.Flatten" (the
    two heads after nn.Flatten, whose NCHW gradient meets channels_last tensors) or
    "Flatten" (after csacgan's Flatten), ``fifteen_bit_masks`` 15-bit draws,
    ``old_dropout`` int16 masks, ``d_grads_in_g_step`` D's weight gradients in G's step,
    ``unfused_activation`` LeakyReLU and Dropout as separate modules (the flags that change
    Dropout need this: the fused operation does not call Dropout.forward)."""
    trainer = Trainer(config(tmp, **overrides), tmp)
    patches = []
    for module in trainer.D.modules():
        if isinstance(module, LeakyReLUDropout) and unfused_activation:
            module.forward = types.MethodType(unfused_activation_forward, module)
        if isinstance(module, Dropout):
            if fifteen_bit_masks:
                module.forward = types.MethodType(fifteen_bit_dropout, module)
            if old_dropout:
                module.forward = types.MethodType(int16_dropout, module)
            if converted_masks:  # no bit patterns: the 0/1 mask is converted to x's dtype, then scaled
                module.scale_bits = {}
    if torch_mask_words:
        patches.append(("csacgan.nets.fast_layers.random_words", torch_words))
    if heads != "one product":
        flatten = {"nn.Flatten": nn.Flatten(), "Flatten": Flatten()}[heads]
        trainer.D.forward = types.MethodType(two_heads(flatten), trainer.D)
    if d_grads_in_g_step:
        trainer.D.requires_grad_ = lambda *_: trainer.D
    if per_parameter_adam:
        cfg = trainer.cfg
        trainer.opt_g = torch.optim.Adam(trainer.G.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2))
        trainer.opt_d = torch.optim.Adam(trainer.D.parameters(), cfg.lr, betas=(cfg.beta1, cfg.beta2))
    if not joint_d_pass:
        trainer.method.discriminator_outputs = types.MethodType(separate_d_passes, trainer.method)
    if compile:
        trainer.G, trainer.D = torch.compile(trainer.G), torch.compile(trainer.D)
    return patched(trainer.train_step, patches), trainer.cfg.batch_size


# -- the plain reference ---------------------------------------------------------------
class PILDataset(torch.utils.data.Dataset):
    """What torchvision.datasets.MNIST does per item: a PIL image through the transforms."""

    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        from PIL import Image
        return self.transform(Image.fromarray(self.images[i, 0].numpy(), mode="L")), int(self.labels[i])


def plain_reference(tmp: Path):
    from torchvision import transforms
    trainer = Trainer(config(tmp, precision="fp32"), tmp)  # for the same networks and data only
    G, D = trainer.G, trainer.D
    for name, module in list(D.body.named_children()):  # nn.LeakyReLU and nn.Dropout, as written plainly
        if isinstance(module, LeakyReLUDropout):
            D.body[int(name)] = nn.Sequential(nn.LeakyReLU(module.negative_slope, inplace=True),
                                              nn.Dropout(module.dropout.p))
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    data = PILDataset(trainer.batches.images.cpu(), trainer.batches.labels.cpu(), transform)
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True, drop_last=True)
    batches = iter(loader)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    K = 10

    def step():
        real, labels = next(batches)
        z = torch.randn(64, 100)
        fake_labels = torch.randint(K, (64,))
        fake = G(z, fake_labels)
        rs, rc = D(real)
        fs, fc = D(fake.detach())
        d_loss = (F.binary_cross_entropy_with_logits(rs, torch.ones_like(rs))
                  + F.binary_cross_entropy_with_logits(fs, torch.zeros_like(fs))
                  + F.cross_entropy(rc, labels) + F.cross_entropy(fc, fake_labels))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        fs, fc = D(fake)
        g_loss = F.binary_cross_entropy_with_logits(fs, torch.ones_like(fs)) + F.cross_entropy(fc, fake_labels)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

    return step, 64


def step_flops(tmp: Path) -> int:
    from torch.utils.flop_counter import FlopCounterMode
    trainer = Trainer(config(tmp, precision="fp32"), tmp)
    counter = FlopCounterMode(display=False)
    with counter:
        trainer.train_step()
    out = {"step": counter.get_total_flops()}
    with torch.no_grad():
        z, y = torch.randn(64, trainer.G.latent_dim), torch.zeros(64, dtype=torch.long)
        for name, fn in (("generator_forward_per_image", lambda: trainer.G(z, y)),
                         ("discriminator_forward_per_image", lambda: trainer.D(torch.zeros(64, 1, 28, 28)))):
            counter = FlopCounterMode(display=False)
            with counter:
                fn()
            out[name] = counter.get_total_flops() / 64
    return out


# -- processes x threads -----------------------------------------------------------------
def worker(threads: int, steps: int) -> None:
    """One training process for ``processes_x_threads``: prints its images/s as JSON."""
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        step, batch = ours(Path(tmp), precision="bf16")
        for _ in range(5):
            step()
        started = time.perf_counter()
        for _ in range(steps):
            step()
        print(json.dumps({"images_per_s": steps * batch / (time.perf_counter() - started)}))


def processes_x_threads(steps: int, rounds: int = 4) -> dict:
    """Training images/s of one process using every thread against as many 1-thread
    processes running at once (what ``csacgan reproduce --jobs`` does), in interleaved
    rounds; the median round counts. A group's images/s is the sum of its processes'."""
    import subprocess
    threads = torch.get_num_threads()

    def group(processes: int, each: int) -> float:
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(each), str(steps)],
                                  stdout=subprocess.PIPE, text=True) for _ in range(processes)]
        return sum(json.loads(p.communicate()[0].strip().splitlines()[-1])["images_per_s"] for p in procs)

    out = {f"1 process x {threads} threads": [], f"{threads} processes x 1 thread": []}
    for _ in range(rounds):
        out[f"1 process x {threads} threads"].append(group(1, threads))
        out[f"{threads} processes x 1 thread"].append(group(threads, 1))
    return {name: {"rounds": v, "images_per_s": statistics.median(v)} for name, v in out.items()}


# -- evaluation --------------------------------------------------------------------------
def evaluator_speed(steps: int = 30) -> dict:
    from csacgan.metrics.evaluator import ARCH, Evaluator, train_classifier
    data = load_dataset("mnist")
    model = Evaluator(1, 10)
    n = steps * 128
    started = time.perf_counter()
    train_classifier(model, data.train_images[:n], data.train_labels[:n], 1, 0, progress=False)
    seconds = time.perf_counter() - started
    per_image = seconds / n
    return {"arch": ARCH, "images_per_s": n / seconds, "two_epochs_estimate_s": per_image * 2 * 60000}


def metric_times(tmp: Path) -> dict:
    """Each metric on 1000 generated images (100 per class), cold and then warm (real-side values cached)."""
    from csacgan.evaluate import evaluate
    from csacgan.train import train
    run = train(config(tmp / "metrics", max_steps=1, epochs=1))
    out = {}
    for label in ("cold", "warm"):
        (run / "metrics.json").unlink(missing_ok=True)
        report = evaluate(run, None, n_per_class=100, progress=False)
        out[label] = report["seconds"]
    out["evaluator"] = report["evaluator"]
    return out


def time_to_quality(runs: list[str], threshold: float = 0.95) -> list[dict]:
    rows = []
    for run in runs:
        curve_path = Path(run) / "curve.json"
        if not curve_path.is_file():
            continue
        curve = json.loads(curve_path.read_text())
        saved = json.loads((Path(run) / "config.json").read_text())
        cfg, env = saved["config"], saved.get("environment", {})
        hit = next((p for p in curve if p["per_class"][0] >= threshold), None)
        rows.append({"run": run, "method": cfg["method"], "recipe": cfg["recipe"],
                     "commit": env.get("csacgan_commit"),
                     "diffaugment": cfg.get("diffaugment") or "",
                     "epoch": hit["epoch"] if hit else None,
                     "minutes": round(hit["train_seconds"] / 60, 1) if hit else None,
                     "zero_accuracy": [p["per_class"][0] for p in curve]})
    return rows


REFERENCE = "plain reference (fp32, DataLoader + PIL transforms)"
HEADLINE_ROUNDS, HEADLINE_STEPS = 16, 15
CHAIN = ["csacgan bf16 NCHW, int16 dropout masks, D's gradients in G's step, per-parameter Adam",
         "+ D frozen in G's step",
         "+ masks: four 15-bit draws per int64 word",
         "+ channels_last",
         "+ Flatten's gradient channels_last",
         "+ fused Adam",
         "+ mask words from numpy SFC64",
         "+ bf16 masks from the scale's bit pattern",
         "+ signed 16-bit draws (one pass fewer per mask)",
         "+ D's heads as one product on the maps' memory order"]
DEFAULT = "+ LeakyReLU and dropout fused in one C++ loop = csacgan bf16 (default)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=80, help="timed training steps per variant")
    parser.add_argument("--out", default="docs/benchmarks.md")
    parser.add_argument("--json", default="benchmarks/results.json")
    parser.add_argument("--runs", nargs="*", default=[], help="run folders with curve.json, for time-to-quality")
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--pair-only", action="store_true",
                        help="only the headline pair (reference against default, 16 interleaved rounds); "
                             "prints its ratios, writes nothing")
    parser.add_argument("--recipes-only", action="store_true",
                        help="only the default recipe's step (stable) against recipe balanced's, 16 interleaved "
                             "rounds; prints the ratio, writes nothing")
    parser.add_argument("--worker", nargs=2, type=int, metavar=("THREADS", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    if args.pair_only:
        return print(json.dumps(headline_pair()))
    if args.recipes_only:
        return print(json.dumps(recipe_pair()))
    started = time.perf_counter()
    results = {"machine": machine(), "steps": args.steps}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Each "+" row adds one change to the row above it, oldest first; the last is the default.
        before = dict(precision="bf16", per_parameter_adam=True, torch_mask_words=True, converted_masks=True,
                      heads="nn.Flatten", fifteen_bit_masks=True, unfused_activation=True)
        variants = {REFERENCE: plain_reference(tmp / "v0"),
                    "csacgan fp32": ours(tmp / "v1", precision="fp32"),
                    "csacgan bf16, separate real and fake D passes": ours(tmp / "v2", precision="bf16",
                                                                          joint_d_pass=False),
                    CHAIN[0]: ours(tmp / "c0", **before, channels_last=False, old_dropout=True,
                                   d_grads_in_g_step=True),
                    CHAIN[1]: ours(tmp / "c1", **before, channels_last=False, old_dropout=True),
                    CHAIN[2]: ours(tmp / "c2", **before, channels_last=False),
                    CHAIN[3]: ours(tmp / "c3", **before),
                    CHAIN[4]: ours(tmp / "c4", **{**before, "heads": "Flatten"}),
                    CHAIN[5]: ours(tmp / "c5", **{**before, "heads": "Flatten", "per_parameter_adam": False}),
                    CHAIN[6]: ours(tmp / "c6", **{**before, "heads": "Flatten", "per_parameter_adam": False,
                                                  "torch_mask_words": False}),
                    CHAIN[7]: ours(tmp / "c7", precision="bf16", heads="Flatten", fifteen_bit_masks=True,
                                   unfused_activation=True),
                    CHAIN[8]: ours(tmp / "c8", precision="bf16", heads="Flatten", unfused_activation=True),
                    CHAIN[9]: ours(tmp / "c9", precision="bf16", unfused_activation=True),
                    DEFAULT: ours(tmp / "c10", precision="bf16")}
        if not args.skip_compile:
            # NCHW: compiled with channels_last, G's loss was NaN from the first step
            # (torch 2.14.1, measured 2026-11-27); the eager step is finite in either layout.
            variants["csacgan bf16 NCHW + torch.compile"] = ours(tmp / "v6", precision="bf16", compile=True,
                                                                 channels_last=False)
        results["variants"] = interleaved(variants, args.steps)
        print(json.dumps(results["variants"], indent=1), flush=True)
        methods = {REFERENCE: plain_reference(tmp / "m-ref")}  # timed again: ratios within this group
        methods.update({f"{m} {loss}": ours(tmp / f"m{i}", method=m, adversarial_loss=loss)
                        for i, (m, loss) in enumerate([("acgan", "bce"), ("cs-acgan", "bce"), ("bagan", "bce"),
                                                       ("acgan", "hinge"), ("acgan", "wgan-gp"),
                                                       ("bagan", "wgan-gp")])})
        results["methods"] = interleaved(methods, args.steps)
        print(json.dumps(results["methods"], indent=1), flush=True)
        results["headline"] = headline_pair(tmp / "headline")["rounds"]
        print(json.dumps(results["headline"], indent=1), flush=True)
        if torch.get_num_threads() > 1:
            results["processes"] = processes_x_threads(args.steps)
            print(json.dumps(results["processes"], indent=1), flush=True)
        results["step_flops"] = step_flops(tmp / "flops")
        results["peak_rss_training_mb"] = peak_rss_mb()
        results["evaluator"] = evaluator_speed()
        results["metrics"] = metric_times(tmp)
        results["peak_rss_mb"] = peak_rss_mb()
    results["time_to_quality"] = time_to_quality(args.runs)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["command"] = " ".join(sys.argv)
    Path(args.json).write_text(json.dumps(results, indent=2))
    Path(args.out).write_text(render(results, results["command"]))
    print(f"wrote {args.out} and {args.json}")


def headline_pair(tmp: Path | None = None) -> dict:
    """The headline: the plain reference and the default step alone, in many short
    rounds, so that each round's pair of measurements is close in time (with a dozen
    variants a round lasts minutes)."""
    with tempfile.TemporaryDirectory() as scratch:
        tmp = tmp or Path(scratch)
        pair = {REFERENCE: plain_reference(tmp / "h-ref"), DEFAULT: ours(tmp / "h-default", precision="bf16")}
        rounds = interleaved(pair, HEADLINE_ROUNDS * HEADLINE_STEPS, rounds=HEADLINE_ROUNDS)
    ratios = round_ratios(rounds, DEFAULT)
    return {"rounds": rounds, "of_medians": rounds[DEFAULT]["images_per_s"] / rounds[REFERENCE]["images_per_s"],
            "round_median": statistics.median(ratios), "round_range": [min(ratios), max(ratios)],
            "images_per_s": {name: v["images_per_s"] for name, v in rounds.items()}}


def recipe_pair() -> dict:
    """The default recipe's step (stable: balanced with an EMA of G's weights) against recipe
    balanced's, interleaved as the headline pair is: what the lever costs."""
    with tempfile.TemporaryDirectory() as scratch:
        pair = {"recipe balanced": ours(Path(scratch) / "balanced", precision="bf16"),
                "recipe stable": ours(Path(scratch) / "stable", precision="bf16", recipe="stable")}
        rounds = interleaved(pair, HEADLINE_ROUNDS * HEADLINE_STEPS, rounds=HEADLINE_ROUNDS)
    ratios = [a / b for a, b in zip(rounds["recipe stable"]["rounds"], rounds["recipe balanced"]["rounds"])]
    return {"stable_over_balanced_round_median": statistics.median(ratios),
            "round_range": [min(ratios), max(ratios)],
            "images_per_s": {name: v["images_per_s"] for name, v in rounds.items()}}


def round_ratios(group: dict, name: str) -> list[float]:
    """images/s of ``name`` over the reference's, round by round (rounds are interleaved)."""
    return [a / b for a, b in zip(group[name]["rounds"], group[REFERENCE]["rounds"])]


def render(r: dict, command: str) -> str:
    m = r["machine"]
    ref = next(iter(r["variants"].values()))["images_per_s"]
    cores, ghz = m.get("cores", 1), m.get("mhz", 0) / 1000
    peak_fp32 = cores * ghz * 64e9            # AVX-512: 2 FMA units x 16 fp32 x 2 FLOPs per cycle
    peak_amx = cores * ghz * 1024e9 if m.get("amx_bf16") else None  # AMX: 1024 bf16 FLOPs per cycle
    lines = ["# Benchmarks", "",
             f"Measured by `python {command}` in one run ({r['seconds'] / 60:.1f} min) on: "
             f"{m.get('cpu_name', m.get('cpu'))}, {cores} cores at {ghz:.2f} GHz"
             f"{', AMX-bf16' if m.get('amx_bf16') else ''}{', AVX512-bf16' if m.get('avx512_bf16') else ''}; "
             f"{m['threads']} PyTorch threads; torch {m['torch']}, Python {m['python']}."
             + (f" GPU: {m['gpu']}." if m.get("gpu") else " No GPU."), "",
             "Every number below comes from this one run; absolute speeds on a shared 2-core machine "
             "are noisy, so compare ratios.", "",
             f"## Training throughput (MNIST, rho 190, batch 64, Table 2 networks)", "",
             f"Each variant: 5 warm-up steps, then {r['steps']} timed steps in 4 rounds interleaved with "
             "the other variants; the median round is reported.", "",
             "| variant | images/s | x plain reference | first 5 steps (s) |", "|---|---|---|---|"]
    for name, v in r["variants"].items():
        lines.append(f"| {name} | {v['images_per_s']:.0f} | {v['images_per_s'] / ref:.2f} | {v['warmup_s']:.1f} |")
    lines += ["", "The plain reference is the same networks and losses written the straightforward way: "
              "fp32, a DataLoader over a PIL-image dataset with ToTensor and Normalize per sample "
              "(num_workers 0: the machine has 2 cores), nn.Dropout, separate real and fake "
              "discriminator passes, torch.optim.Adam as it comes. 'first 5 steps' includes "
              "torch.compile's compilation. Each '+' row adds one change to the row above it, in the "
              "order they were made; the last one is the default.", "",
              "csacgan's step: the imbalanced set is one uint8 tensor on the device and batches "
              "are indexed from it; real and generated batches go through D in one pass; D's "
              "parameters are frozen during G's backward pass (their gradients there were computed "
              "and thrown away: 7% of the step's FLOPs); dropout masks are four signed 16-bit draws cut "
              "from each random int64 word (a clamp and a subtraction make the 0/1 mask, where 15-bit draws "
              "needed a third pass to mask off the top bit; int16 random_ per unit was 3.8x faster than torch.rand, int64 "
              "for a quarter of the units about 5x faster again), on the CPU words from numpy's SFC64 "
              "seeded by torch's generator (1.6x faster than torch's mt19937), turned into a mask by "
              "integer arithmetic (boolean masks were 5-10x slower), in bf16 directly from the bit "
              "pattern of the scale 1/(1-p) (no conversion pass), and applied by one multiply, in the "
              "layout of the activations; weights and activations are channels_last (NHWC: with NCHW "
              "tensors oneDNN reordered every convolution's input and output, 16% of its time in the "
              "step, measured with ONEDNN_VERBOSE), and D's two heads are one matrix product on its "
              "last feature maps read in their memory order, the weights' columns permuted to match "
              "(before: a flatten copying the maps, forward and backward, then one product per head; and "
              "before that autograd's flatten, whose NCHW gradient made the elementwise backward ops "
              "meeting channels_last operands run up to 18x slower); in bf16 on the CPU, D's LeakyReLU "
              "and dropout are one C++ loop forward (random numbers from SplitMix64 seeded by torch's "
              "generator, LeakyReLU, mask, scale; one byte per unit kept for the backward pass) and one "
              "backward, built on first use with torch.utils.cpp_extension (about 30 s, cached), with "
              "values and gradients bitwise those of the unfused ops for the same mask (the unfused "
              "rows above draw their masks as described before; eager ran 5 passes forward and 2 "
              "backward per layer plus numpy's random words, torch.compile's kernels for them were no "
              "faster); "
              "Adam is fused (torch's CPU default loops over parameters: 6.2 against 1.4 ms per step "
              "of both optimizers); bf16 autocast where the CPU or GPU computes bf16 natively. "
              "torch.compile is not used: the graphs are small, compiling takes half a minute, and it "
              "has not paid off in any run of this benchmark (under compile the dropout calls "
              "F.dropout, so inductor can fuse its random numbers; with channels_last the compiled "
              "step gave a NaN generator loss at the first step, so the row is NCHW).", "",
              "### Per method (default settings: bf16 where the CPU has it)", "",
              "| method, adversarial loss | images/s | x plain reference |", "|---|---|---|"]
    ref_m = r["methods"].get(REFERENCE, {"images_per_s": ref})["images_per_s"]
    for name, v in r["methods"].items():
        lines.append(f"| {name} | {v['images_per_s']:.0f} | {v['images_per_s'] / ref_m:.2f} |")
    ours_default = r["variants"][DEFAULT]["images_per_s"] / ref
    cs_bce = r["methods"]["cs-acgan bce"]["images_per_s"] / ref_m
    bce = [v["images_per_s"] / ref_m for name, v in r["methods"].items() if name.endswith(" bce")]
    lines += [""]
    if r.get("headline"):
        h = r["headline"]
        ratios = round_ratios(h, DEFAULT)
        of_medians = h[DEFAULT]["images_per_s"] / h[REFERENCE]["images_per_s"]
        table_rounds = round_ratios(r["variants"], DEFAULT) + round_ratios(r["methods"], "cs-acgan bce")
        lines += ["### Headline: the default step against the plain reference alone", "",
                  f"The two interleaved in {len(ratios)} rounds of {HEADLINE_STEPS} steps (each round's pair "
                  "close in time): the plain reference "
                  f"{h[REFERENCE]['images_per_s']:.0f} images/s, the default step (cs-acgan, BCE, bf16) "
                  f"{h[DEFAULT]['images_per_s']:.0f} images/s (medians): **{of_medians:.2f}x**; round by round "
                  f"{statistics.median(ratios):.2f}x (median), {min(ratios):.2f}-{max(ratios):.2f}x (range).", "",
                  f"The goal of 3x the plain reference at the default settings: "
                  + ("reached in this run." if min(of_medians, statistics.median(ratios)) >= 3 else "not reached in this run.")
                  + " Between runs of this pair the ratio moves by about 10% on this machine; "
                  "`python benchmarks/bench.py --pair-only` repeats it alone."
                  + f" The larger tables above put the default at {ours_default:.2f}x and {cs_bce:.2f}x (BCE methods "
                  f"{min(bce):.2f}-{max(bce):.2f}x), but with a dozen variants a round there lasts minutes and "
                  "the machine's speed drifts within it: their single rounds of the default scatter from "
                  f"{min(table_rounds):.2f} to {max(table_rounds):.2f}x, "
                  "so this pair is the headline."]
    if r.get("processes"):
        (one, one_v), (many, many_v) = r["processes"].items()
        lines += ["", "### Processes x threads (what `csacgan reproduce --jobs` uses)", "",
                  f"The default step (cs-acgan, BCE) in separate processes, {r['steps']} timed steps each, "
                  "4 interleaved rounds, median round; a group's images/s is the sum over its processes:", "",
                  "| processes x threads | images/s | x one process |", "|---|---|---|",
                  f"| {one} | {one_v['images_per_s']:.0f} | 1.00 |",
                  f"| {many} | {many_v['images_per_s']:.0f} | {many_v['images_per_s'] / one_v['images_per_s']:.2f} |",
                  "", "Rounds (images/s): " + "; ".join(
                      f"{name}: " + ", ".join(f"{x:.0f}" for x in v["rounds"]) for name, v in r["processes"].items())]
    flops = r["step_flops"]["step"]
    default = r["variants"][DEFAULT]["images_per_s"] / 64
    fp32 = r["variants"]["csacgan fp32"]["images_per_s"] / 64
    lines += ["", "## Arithmetic", "",
              f"One training step (D and G updates, batch 64) is {flops / 1e9:.2f} GFLOP "
              "(torch.utils.flop_counter, forward and backward).", "",
              f"- fp32: {fp32 * flops / 1e9:.1f} GFLOP/s achieved"
              + (f", {100 * fp32 * flops / peak_fp32:.1f}% of the AVX-512 fp32 peak ({peak_fp32 / 1e9:.0f} GFLOP/s)" if ghz else ""),
              f"- bf16 (default): {default * flops / 1e9:.1f} GFLOP/s achieved"
              + (f", {100 * default * flops / peak_amx:.2f}% of the AMX bf16 peak ({peak_amx / 1e12:.1f} TFLOP/s)" if peak_amx else ""),
              "", f"Per image, the generator's forward pass is "
              f"{r['step_flops']['generator_forward_per_image'] / 1e6:.0f} MFLOP and the discriminator's "
              f"{r['step_flops']['discriminator_forward_per_image'] / 1e6:.0f} MFLOP: most of the work is "
              "the generator's transposed convolutions at 14x14 and 28x28.", "",
              "## Evaluation", "",
              f"Evaluator ({r['evaluator']['arch']}): {r['evaluator']['images_per_s']:.0f} training images/s; "
              f"2 epochs of the 60000 MNIST training images take about "
              f"{r['evaluator']['two_epochs_estimate_s'] / 60:.1f} min (trained once, then cached).", "",
              "Metric time per 1000 generated images (100 per class). Cold: the first evaluation in a "
              "process, which also computes the real-data side (real test outputs, real SSIM, classifiers "
              "trained on real data); warm: a later evaluation in the same process, as in `csacgan "
              "reproduce`.", "", "| metric | cold (s) | warm (s) |", "|---|---|---|"]
    for name, cold in r["metrics"]["cold"].items():
        lines.append(f"| {name} | {cold:.1f} | {r['metrics']['warm'].get(name, float('nan')):.1f} |")
    lines += ["", f"Peak resident memory: {r['peak_rss_training_mb']:.0f} MB after the training benchmarks, "
              f"{r['peak_rss_mb']:.0f} MB at the end (the whole MNIST set and the evaluator in memory).", ""]
    if r["time_to_quality"]:
        lines += ["## Time to quality (rho 190)", "",
                  "Training minutes (as logged, including BAGAN's autoencoder stage) until the evaluator "
                  "calls at least 95% of generated '0's zeros, from the runs' `curve.json`. The minutes "
                  "are those logged when each run was trained, with the code of the commit shown ('older': "
                  "trained before runs recorded their commit) and whatever else shared the CPU then, not "
                  "re-measured by this benchmark:", "",
                  "| run | method | recipe | trained with | epoch | minutes | '0' accuracy per epoch |",
                  "|---|---|---|---|---|---|---|"]
        for row in r["time_to_quality"]:
            commit = row.get("commit")
            recipe = row["recipe"] + (f" + DiffAugment {row['diffaugment']}" if row.get("diffaugment") else "")
            lines.append(f"| {row['run']} | {row['method']} | {recipe} | {commit[:7] + commit[40:] if commit else 'older'} | "
                         f"{row['epoch'] or 'not reached'} | "
                         f"{row['minutes'] if row['minutes'] is not None else '-'} | "
                         + ", ".join(f"{a:.2f}" for a in row["zero_accuracy"]) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
