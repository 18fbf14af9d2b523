"""NT-Xent across two Gloo processes equals NT-Xent on the combined batch, gradients included. The helpers
run any two-view loss on two Gloo ranks (the VICReg test uses them too)."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sslstudio.core.losses.nt_xent import nt_xent

N_PER_RANK, DIM, WORLD, TEMPERATURE = 6, 12, 2, 0.2


def global_views(n_per_rank: int = N_PER_RANK, dim: int = DIM, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(WORLD * n_per_rank, dim, generator=generator),
            torch.randn(WORLD * n_per_rank, dim, generator=generator))


def one_rank(rank: int, port: int, results, loss_fn, n_per_rank: int, dim: int, seed: int) -> None:
    """`loss_fn(z1, z2) -> (loss, extra)` on this rank's share of the global views; keeps the loss, the extra
    (a tensor or a dict of them, as floats) and the gradients."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        z1, z2 = global_views(n_per_rank, dim, seed)
        part = slice(rank * n_per_rank, (rank + 1) * n_per_rank)
        mine1, mine2 = z1[part].clone().requires_grad_(), z2[part].clone().requires_grad_()
        loss, extra = loss_fn(mine1, mine2)
        loss.backward()
        extra = {k: v.item() for k, v in extra.items()} if isinstance(extra, dict) else extra.item()
        results[rank] = (loss.item(), extra, mine1.grad, mine2.grad)
    finally:
        dist.destroy_process_group()


def on_two_ranks(loss_fn, n_per_rank: int = N_PER_RANK, dim: int = DIM, seed: int = 0) -> dict:
    """{rank: (loss, extra, grad of z1, grad of z2)} from two Gloo processes; `loss_fn` must be picklable."""
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(one_rank, args=(free_port(), results, loss_fn, n_per_rank, dim, seed), nprocs=WORLD, join=True)
        return dict(results)


def nt_xent_at_temperature(z1, z2):
    return nt_xent(z1, z2, TEMPERATURE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gathered_loss_and_gradients_match_one_big_batch():
    z1, z2 = global_views()
    z1.requires_grad_()
    z2.requires_grad_()
    expected, expected_accuracy = nt_xent(z1, z2, TEMPERATURE)
    expected.backward()

    results = on_two_ranks(nt_xent_at_temperature)
    # Each rank holds its share of the global loss; DDP averages the ranks' gradients.
    assert abs(sum(r[0] for r in results.values()) / WORLD - expected.item()) < 1e-5
    assert abs(sum(r[1] for r in results.values()) / WORLD - expected_accuracy.item()) < 1e-6
    for rank, (_, _, grad1, grad2) in results.items():
        part = slice(rank * N_PER_RANK, (rank + 1) * N_PER_RANK)
        torch.testing.assert_close(grad1 / WORLD, z1.grad[part], atol=1e-6, rtol=1e-4)
        torch.testing.assert_close(grad2 / WORLD, z2.grad[part], atol=1e-6, rtol=1e-4)
