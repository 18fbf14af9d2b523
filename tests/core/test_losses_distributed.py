"""NT-Xent across two Gloo processes equals NT-Xent on the combined batch, gradients included."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sslstudio.core.losses.nt_xent import nt_xent

N_PER_RANK, DIM, WORLD, TEMPERATURE = 6, 12, 2, 0.2


def global_views():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(WORLD * N_PER_RANK, DIM, generator=generator), torch.randn(WORLD * N_PER_RANK, DIM,
                                                                                 generator=generator)


def one_rank(rank: int, port: int, results) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        z1, z2 = global_views()
        part = slice(rank * N_PER_RANK, (rank + 1) * N_PER_RANK)
        mine1, mine2 = z1[part].clone().requires_grad_(), z2[part].clone().requires_grad_()
        loss, accuracy = nt_xent(mine1, mine2, TEMPERATURE)
        loss.backward()
        results[rank] = (loss.item(), accuracy.item(), mine1.grad, mine2.grad)
    finally:
        dist.destroy_process_group()


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

    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(one_rank, args=(free_port(), results), nprocs=WORLD, join=True)
        results = dict(results)

    # Each rank holds its share of the global loss; DDP averages the ranks' gradients.
    assert abs(sum(r[0] for r in results.values()) / WORLD - expected.item()) < 1e-5
    assert abs(sum(r[1] for r in results.values()) / WORLD - expected_accuracy.item()) < 1e-6
    for rank, (_, _, grad1, grad2) in results.items():
        part = slice(rank * N_PER_RANK, (rank + 1) * N_PER_RANK)
        torch.testing.assert_close(grad1 / WORLD, z1.grad[part], atol=1e-6, rtol=1e-4)
        torch.testing.assert_close(grad2 / WORLD, z2.grad[part], atol=1e-6, rtol=1e-4)
