"""The evaluator's inference in channels_last against NCHW, measured in one run.

    OMP_NUM_THREADS=1 python benchmarks/evaluator_layout.py [--images 3000] [--rounds 3]

Times ``Evaluator.run`` (logits and features, the work behind every metric) on real
MNIST test images with the cached evaluator in both layouts, in interleaved rounds,
and prints the median ratio and the largest feature difference.
"""
import argparse
import statistics
import time

import torch

from csacgan.data import load_dataset
from csacgan.metrics.evaluator import load_or_train_evaluator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = load_dataset("mnist")
    evaluator = load_or_train_evaluator(data, 0, 1, 12000, progress=True)  # the tests' quick one
    images = data.test_images[:args.images]
    times = {torch.channels_last: [], torch.contiguous_format: []}
    features = {}
    for _ in range(args.rounds):
        for fmt in times:
            evaluator.to(memory_format=fmt)
            started = time.perf_counter()
            features[fmt] = evaluator.run(images)[1]
            times[fmt].append(time.perf_counter() - started)
    cl, nchw = (statistics.median(times[f]) for f in times)
    diff = (features[torch.channels_last] - features[torch.contiguous_format]).abs().max().item()
    print(f"{args.images} images, {torch.get_num_threads()} thread(s): channels_last {cl:.1f} s, "
          f"NCHW {nchw:.1f} s, ratio {nchw / cl:.2f}x; largest feature difference {diff:.1e}")


if __name__ == "__main__":
    main()
