"""Weight gradients of the discriminator's convolutions: oneDNN's backward-weights
kernel against an im2col matrix product (one strided view per kernel tap, stacked,
then one matmul), bf16, channels_last, at the training step's shapes.

    python experiments/conv_weight_grad.py

A measured dead end kept for re-running: faster on some layers, slower on
others, not enough to justify a hand-written convolution backward.
"""
import time

import torch
import torch.nn.functional as F

CL = torch.channels_last


def timed(fn, n=20):
    for _ in range(3):
        fn()
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e3


def weight_grad_matmul(grad_out, x, k, stride, pad):
    """dL/dW of a k x k convolution as grad_out^T @ im2col(x)."""
    n, out_ch, ho, wo = grad_out.shape
    in_ch = x.shape[1]
    xp = F.pad(x.permute(0, 2, 3, 1), (0, 0, pad, pad, pad, pad))  # N, H+2p, W+2p, C
    cols = torch.stack([xp[:, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride, :]
                        for i in range(k) for j in range(k)], dim=3)  # N, Ho, Wo, k*k, C
    w = grad_out.permute(0, 2, 3, 1).reshape(-1, out_ch).t() @ cols.reshape(-1, k * k * in_ch)
    return w.view(out_ch, k, k, in_ch).permute(0, 3, 1, 2)


print("| batch, in -> out, size, kernel, stride | oneDNN (ms) | matmul (ms) | max rel. difference |")
print("|---|---|---|---|")
torch.manual_seed(0)
for n, cin, cout, size, k, s in [(128, 32, 64, 16, 3, 1), (128, 64, 128, 16, 5, 2), (128, 128, 128, 8, 3, 1),
                                 (64, 64, 128, 16, 5, 2)]:
    p = k // 2
    out_size = (size + 2 * p - k) // s + 1
    x = torch.randn(n, cin, size, size, dtype=torch.bfloat16).contiguous(memory_format=CL)
    g = torch.randn(n, cout, out_size, out_size, dtype=torch.bfloat16).contiguous(memory_format=CL)
    w = torch.randn(cout, cin, k, k, dtype=torch.bfloat16).contiguous(memory_format=CL)

    def onednn():
        return torch.ops.aten.convolution_backward(g, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1,
                                                   [False, True, False])[1]
    a, b = onednn().float(), weight_grad_matmul(g, x, k, s, p).float()
    diff = ((a - b).abs().max() / a.abs().max()).item()
    print(f"| {n}, {cin} -> {cout}, {size}x{size}, {k}x{k}, {s} | {timed(onednn):.2f} | "
          f"{timed(lambda: weight_grad_matmul(g, x, k, s, p)):.2f} | {diff:.4f} |")
