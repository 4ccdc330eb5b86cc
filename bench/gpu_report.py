"""Reads the JSON lines of bench/gpu-losses.ts and bench/gpu_torch.py (stdin) and prints one
markdown table: ms of each implementation and mmkd's speed-up over each (> 1 means mmkd is faster)."""
import json, sys

cells, notes = {}, []
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if "rows" not in r:
        notes.append(r.get("info") or r.get("error"))
        continue
    key = (r["rows"], r["vocab"], r["divergence"])
    impl = ("mmkd" if r["impl"] == "mmkd" else "tfjs" if r["impl"] == "composite" else r["impl"])
    cells.setdefault(key, {})[impl] = r.get("ms", r.get("error", "failed"))

def ms(v):
    return f"{v:.2f}" if isinstance(v, (int, float)) else str(v)[:40]

def ratio(m, other):
    return f"{other / m:.2f}×" if isinstance(m, (int, float)) and isinstance(other, (int, float)) else "–"

for n in notes:
    print(f"# {n}")
print("| B·T × V | divergence | mmkd WebGPU ms | tfjs composite ms | torch eager ms | torch.compile ms | vs composite | vs eager | vs compile |")
print("|---|---|---|---|---|---|---|---|---|")
for (rows, vocab, name), c in cells.items():
    m = c.get("mmkd", "–")
    print(f"| {rows} × {vocab} | {name} | {ms(m)} | {ms(c.get('tfjs', '–'))} | {ms(c.get('eager', '–'))} | {ms(c.get('compile', '–'))} | "
          f"{ratio(m, c.get('tfjs'))} | {ratio(m, c.get('eager'))} | {ratio(m, c.get('compile'))} |")
