"""The VICReg loss: zero where its three goals hold, the variance hinge on a collapse, and the same
global-batch loss and gradients across two Gloo processes as on one big batch."""
import pytest
import torch

from sslstudio.core.losses.vicreg import vicreg

from .test_losses_distributed import WORLD, global_views, on_two_ranks

N_PER_RANK, DIM = 8, 6


def test_alike_spread_and_decorrelated_embeddings_cost_nothing():
    n, d = 64, 16
    centred = torch.randn(n, d, generator=torch.Generator().manual_seed(0))
    q, _ = torch.linalg.qr(centred - centred.mean(0))  # orthonormal, centred columns
    z = q * (n - 1) ** 0.5 * 1.5  # every std 1.5, no covariance
    loss, parts = vicreg(z, z.clone())
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    assert parts["invariance"] == 0 and parts["variance"] == 0


def test_a_collapse_pays_the_variance_hinge_and_gradients_push_apart():
    z = torch.ones(32, 16, requires_grad=True)
    loss, parts = vicreg(z, z)
    assert parts["variance"].item() == pytest.approx(1 - 1e-2, abs=1e-4)  # std sqrt(eps) everywhere
    assert loss.item() == pytest.approx(25 * parts["variance"].item(), rel=1e-5)
    noisy = (torch.ones(32, 16) + 0.01 * torch.randn(32, 16)).requires_grad_()
    vicreg(noisy, noisy.detach())[0].backward()
    assert torch.isfinite(noisy.grad).all() and noisy.grad.abs().sum() > 0


def test_under_two_processes_it_is_the_global_batch_loss():
    z1, z2 = global_views(N_PER_RANK, DIM, seed=1)
    z1.requires_grad_()
    z2.requires_grad_()
    expected, _ = vicreg(z1, z2)
    expected.backward()
    results = on_two_ranks(vicreg, N_PER_RANK, DIM, seed=1)
    for rank, (loss, parts, grad1, grad2) in results.items():
        assert loss == pytest.approx(expected.item(), rel=1e-5)  # every rank sees the global batch
        assert set(parts) == {"invariance", "variance", "covariance"}
        part = slice(rank * N_PER_RANK, (rank + 1) * N_PER_RANK)
        torch.testing.assert_close(grad1 / WORLD, z1.grad[part], atol=1e-6, rtol=1e-4)  # DDP then averages
        torch.testing.assert_close(grad2 / WORLD, z2.grad[part], atol=1e-6, rtol=1e-4)
