"""Training with an objective exported by `mmkd export --to torch`, under data parallelism and
gradient accumulation, with means that are exact: the same loss and gradients as one process that
sees the whole batch at once.

    node dist/cli/main.js export --to torch objective.json --out objective.py
    torchrun --nproc-per-node 2 examples/torch_distributed.py --objective objective.py \
        --inputs outputs.safetensors --accumulation 2 --out result.safetensors

Each rank takes every world-th sample of the batch in --inputs (mmkd's inputs-file names) and
splits its share into --accumulation micro-batches. The student here is a stand-in: a module
whose parameters are the student's outputs in the file, so its gradients are d loss / d student
outputs and can be checked against mmkd's; a real student model takes its place unchanged.

What makes the means exact (the TRL / transformers convention):
1. before the step, each rank counts what every mean of the objective divides by in each of its
   micro-batches (Objective.items_in_batch: selected tokens, samples, affinity entries, by loss
   path), and the counts are summed over ranks (all_reduce);
2. each micro-batch's loss is computed with those global counts (num_items_in_batch), so it is
   its share of the global mean, and micro-batch losses add up to the global loss;
3. DDP averages gradients over ranks, so each rank's loss is multiplied by the world size.
Without it, each rank would average over its own tokens: a mean of means, off whenever ranks
or micro-batches hold different numbers of tokens (--naive shows this).

--out (rank 0): the global loss, each term, and the gradient of every student output.
"""
import argparse
import importlib.util
import json
import os

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn

SIDE_TENSORS = ("logits", "hidden", "roles", "head.weight", "head.bias")


def load_objective(path):
    spec = importlib.util.spec_from_file_location("exported_objective", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Objective()


class StudentOutputs(nn.Module):
    """A stand-in student: its outputs for the batch are its parameters (logits, hidden states)."""

    def __init__(self, tensors):
        super().__init__()
        self.outputs = nn.ParameterDict(
            {name.split(".", 1)[1]: nn.Parameter(t.clone()) for name, t in tensors.items() if name in ("student.logits", "student.hidden")}
        )

    def forward(self, samples):
        return {"student_" + name: p[samples] for name, p in self.outputs.items()}


def micro_batch(tensors, samples):
    """The frozen inputs (teacher outputs, roles, labels) of these samples, as keyword arguments."""
    out = {}
    for name, t in tensors.items():
        if name in ("student.logits", "student.hidden"):
            continue
        batched = not name.endswith(("head.weight", "head.bias"))
        out[name.replace(".", "_")] = t[samples] if batched else t
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objective", required=True, help="a module written by mmkd export --to torch")
    parser.add_argument("--inputs", required=True, help="teacher and student outputs, roles, labels (mmkd's names)")
    parser.add_argument("--accumulation", type=int, default=1, help="micro-batches per rank")
    parser.add_argument("--out", help="where rank 0 writes the loss, terms and gradients (safetensors, and .json)")
    parser.add_argument("--naive", action="store_true", help="leave out num_items_in_batch (each mean over its own micro-batch)")
    args = parser.parse_args()

    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1

    objective = load_objective(args.objective)
    tensors = {name: (t.float() if t.dtype.is_floating_point else t) for name, t in load_file(args.inputs).items()}
    batch = next(t.shape[0] for name, t in tensors.items() if name.endswith("roles") or name.endswith("logits"))
    student = StudentOutputs(tensors)
    model = nn.parallel.DistributedDataParallel(student) if distributed else student

    mine = torch.arange(rank, batch, world)
    micro = [m for m in torch.tensor_split(mine, args.accumulation) if m.numel() > 0]

    # 1. Global counts: this rank's micro-batches, summed over ranks.
    counts = {}
    for samples in micro:
        with torch.no_grad():
            local = objective.items_in_batch(**micro_batch(tensors, samples), **student(samples))
        for path, n in local.items():
            counts[path] = counts.get(path, 0) + n
    paths = sorted(counts)
    totals = torch.tensor([float(counts[p]) for p in paths], dtype=torch.float64)
    if distributed:
        dist.all_reduce(totals)
    num_items = {p: float(v) for p, v in zip(paths, totals.tolist())}

    # 2. Each micro-batch's share of the global loss; gradients synchronised on the last one only.
    loss_sum = torch.zeros((), dtype=torch.float64)
    term_sums = {}
    for i, samples in enumerate(micro):
        sync = (not distributed) or i == len(micro) - 1
        context = model.no_sync() if not sync else _nothing()
        with context:
            result = objective(**micro_batch(tensors, samples), **model(samples), num_items_in_batch=None if args.naive else num_items)
            # 3. DDP averages over ranks; the world size makes it the sum of the shares.
            (result.loss * world).backward()
        loss_sum += result.loss.detach().double()
        for name, value in result.terms.items():
            term_sums[name] = term_sums.get(name, 0.0) + value.detach().double()

    names = sorted(term_sums)
    reported = torch.stack([loss_sum, *[torch.as_tensor(term_sums[n]) for n in names]])
    if distributed:
        dist.all_reduce(reported)
    if rank == 0 and args.out:
        grads = {"student." + name: p.grad.detach().contiguous() for name, p in student.outputs.items()}
        save_file(grads, args.out)
        with open(args.out + ".json", "w") as f:
            json.dump({"loss": reported[0].item(), "terms": dict(zip(names, reported[1:].tolist())), "world": world, "num_items_in_batch": num_items}, f)
    if distributed:
        # Every rank waits for rank 0's files before the group goes: a rank that tears gloo down
        # while its peer is still working can abort in gloo's destructor ("terminate called
        # without an active exception"), seen once in CI.
        dist.barrier()
        dist.destroy_process_group()


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    main()
