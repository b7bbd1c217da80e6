import pytest
import torch

from csacgan.optim import Adam


@pytest.mark.parametrize("grad_layout", ["matching", "mismatched"])
def test_fused_adam_matches_the_per_parameter_update(grad_layout):
    """csacgan's Adam (fused on the CPU) against torch's per-parameter loop: the same
    parameters after 30 steps, to float rounding, also when a channels_last weight gets
    an NCHW gradient (the fused kernel alone misreads that one)."""
    torch.manual_seed(0)
    start = [torch.randn(16, 8, 5, 5).contiguous(memory_format=torch.channels_last), torch.randn(16),
             torch.randn(40, 10)]
    runs = {}
    for name, make in (("fused", lambda q: Adam(q, 2e-3, betas=(0.5, 0.999))),
                       ("loop", lambda q: torch.optim.Adam(q, 2e-3, betas=(0.5, 0.999), foreach=False))):
        params = [p.clone().requires_grad_() for p in start]
        opt = make(params)
        g = torch.Generator().manual_seed(1)
        for _ in range(30):
            for p in params:
                grad = torch.randn(p.shape, generator=g)
                p.grad = grad if grad_layout == "mismatched" else grad.contiguous(
                    memory_format=torch.channels_last if p.dim() == 4 else torch.contiguous_format)
            opt.step()
        runs[name] = params
    assert runs["fused"][0].is_contiguous(memory_format=torch.channels_last)
    for a, b, p0 in zip(runs["fused"], runs["loop"], start):
        assert not torch.equal(a, p0)  # they moved (30 steps of 2e-3)
        assert (a - b).abs().max().item() < 1e-5


def test_adam_is_fused_on_the_cpu_and_keeps_a_state_dict_torch_can_load():
    w = torch.nn.Parameter(torch.randn(3))
    opt = Adam([w], 1e-3)
    assert opt.defaults["fused"] is True
    w.grad = torch.ones(3)
    opt.step()
    plain = torch.optim.Adam([torch.nn.Parameter(w.detach().clone())], 1e-3)
    plain.load_state_dict(opt.state_dict())
    assert plain.state_dict()["state"][0]["step"].item() == 1
