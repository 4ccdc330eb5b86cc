"""PyTorch half of bench/gpu.sh: value + gradient w.r.t. the student's logits of each divergence,
eager and torch.compile, on the same shapes as bench/gpu-losses.ts (N(0, 2²) logits, mean over
rows). One JSON line per (shape, divergence, implementation). `--device cpu` is a smoke test.
Installs nothing: without torch it prints one line saying so and exits 0."""
import argparse, json, statistics, sys, time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print(json.dumps({"suite": "torch", "error": "python3 has no torch; the PyTorch columns stay empty"}))
    sys.exit(0)


def lsm(x):
    return F.log_softmax(x, dim=-1)


def mix(lx, ly, w):
    return torch.log(w * lx.exp() + (1 - w) * ly.exp())


def akl(a, b, mu=0.5):
    lp, lq = lsm(a), lsm(b)
    with torch.no_grad():
        p, q = lp.exp(), lq.exp()
        sp, idx = p.sort(dim=-1, descending=True)
        err = (sp - q.gather(-1, idx)).abs()
        head = sp.cumsum(-1) <= mu
        head[:, 0] = True
        w = (err * head).sum(-1) / err.sum(-1)
    fkl = (lp.exp() * (lp - lq)).sum(-1)
    rkl = (lq.exp() * (lq - lp)).sum(-1)
    return (w * fkl + (1 - w) * rkl).mean()


DIVERGENCES = {
    "forwardKL": lambda a, b: (lsm(a).exp() * (lsm(a) - lsm(b))).sum(-1).mean(),
    "reverseKL": lambda a, b: (lsm(b).exp() * (lsm(b) - lsm(a))).sum(-1).mean(),
    "jsd": lambda a, b: (lambda lp, lq: (lambda lm: (0.5 * lp.exp() * (lp - lm) + 0.5 * lq.exp() * (lq - lm)).sum(-1).mean())(mix(lp, lq, 0.5)))(lsm(a), lsm(b)),
    "skewKL": lambda a, b: (lambda lp, lq: (lp.exp() * (lp - mix(lp, lq, 0.1))).sum(-1).mean())(lsm(a), lsm(b)),
    "skewReverseKL": lambda a, b: (lambda lp, lq: (lq.exp() * (lq - mix(lq, lp, 0.1))).sum(-1).mean())(lsm(a), lsm(b)),
    "tvd": lambda a, b: (0.5 * (a.softmax(-1) - b.softmax(-1)).abs()).sum(-1).mean(),
    "akl": akl,
    "softCE": lambda a, b: (-(lsm(a).exp() * lsm(b))).sum(-1).mean(),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="1024x32000,1024x151936,4096x32000,4096x151936")
    ap.add_argument("--only", default="")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args()
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    only = [o.lower() for o in args.only.split(",") if o]
    print(json.dumps({"suite": "torch", "info": f"torch {torch.__version__} on {torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'}"}), flush=True)
    for shape in args.shapes.split(","):
        rows, vocab = map(int, shape.split("x"))
        g = torch.Generator(device=dev).manual_seed(0)
        a = torch.randn(rows, vocab, device=dev, generator=g) * 2
        b0 = torch.randn(rows, vocab, device=dev, generator=g) * 2
        for name, fn in DIVERGENCES.items():
            if only and not any(o in name.lower() for o in only):
                continue
            impls = [("eager", fn)] + ([] if args.no_compile else [("compile", torch.compile(fn))])
            for impl, f in impls:
                row = {"suite": "torch", "rows": rows, "vocab": vocab, "divergence": name, "impl": impl}
                try:
                    def step():
                        b = b0.detach().requires_grad_(True)
                        loss = f(a, b)
                        loss.backward()
                        return loss
                    for _ in range(2):
                        step()
                    sync()
                    times = []
                    for _ in range(args.reps):
                        t0 = time.perf_counter()
                        loss = step()
                        sync()
                        times.append((time.perf_counter() - t0) * 1000)
                    row.update(ms=statistics.median(times), loss=float(loss))
                except Exception as e:  # out of memory, a compile failure: one cell, not the run
                    row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                    if dev.type == "cuda":
                        torch.cuda.empty_cache()
                print(json.dumps(row), flush=True)


main()
