#!/usr/bin/env python3
"""Write offline teacher signals in mmkd's format from a PyTorch / Hugging Face teacher.

Needs numpy and the `safetensors` package only (no mmkd, no torch for the writing itself).
The format is README.md's "Offline teacher signals": a folder with manifest.json and shards
shard-NNNNN.safetensors holding, for S sequences of T positions,

    topk.ids       int32   [S, T, k]  the teacher's k most probable token ids, most probable first
    topk.logprobs  float16 [S, T, k]  (or float32) their log softmax(logits / temperature), <= 0
    tail.logmass   float32 [S, T]     log(1 - sum of the top-k probabilities); -inf if it is 0
    hidden         float16 [S, T, H]  optional (hidden_width=H): the last hidden states, for
                                      feature, affinity or matching terms on teacher.hidden

From a Hugging Face model, in your own loop (sequences in the order your data defines, every
sequence padded to the same length T):

    from teacher_signals import SignalsWriter
    writer = SignalsWriter("signals/", vocab_size=model.config.vocab_size, k=64,
                           sequence_length=T, sequences=len(dataset),
                           teacher_fingerprint="Qwen/Qwen2.5-VL-7B-Instruct@<revision>",
                           data_fingerprint="my-data-v1",
                           vocabulary=[tok.convert_ids_to_tokens(i) for i in range(len(tok))])
    with torch.no_grad():
        for batch in loader:                       # in order; batches of whole sequences
            logits = model(**batch).logits         # [B, T, V]
            writer.add(logits.float().cpu().numpy())
    writer.finish()

From saved logits on the command line (a .npy file, or a .safetensors file with tensor "logits",
of shape [S, T, V]):

    python3 examples/teacher_signals.py --logits logits.npy --out signals/ --k 64 \\
        --teacher-fingerprint my-teacher --data-fingerprint my-data [--vocab tokens.json]

`--vocab` is a JSON list of the tokens in id order; its hash lets mmkd check that the student
uses the same tokenizer. Shards are written to a temporary name and renamed, and the manifest is
rewritten after each shard, so a killed writer leaves a readable, unfinished folder.
"""

import argparse
import hashlib
import json
import os

import numpy as np
from safetensors.numpy import load_file, save_file

FORMAT = "mmkd.teacher-signals"
SCHEMA_VERSION = 1


def vocabulary_hash(tokens):
    """SHA-256 of the tokens in id order as compact JSON (the hash mmkd computes)."""
    text = json.dumps(list(tokens), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def top_k(logits, k, temperature=1.0):
    """The top k of each row of logits [..., V]: ids [..., k] (most probable first), their
    log-probabilities [..., k] and the log of the remaining mass [...], in float64."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    vocab = z.shape[-1]
    if not 1 <= k <= vocab:
        raise ValueError(f"k = {k} must be in [1, {vocab}] (the vocabulary size)")
    z_max = z.max(axis=-1, keepdims=True)
    e = np.exp(z - z_max)
    total = e.sum(axis=-1)
    if k == vocab:
        ids = np.argsort(-z, axis=-1, kind="stable")
    else:
        part = np.argpartition(-z, k - 1, axis=-1)[..., :k]
        # Most probable first; equal values by id (a stable sort of ids already in order).
        part = np.sort(part, axis=-1)
        order = np.argsort(-np.take_along_axis(z, part, axis=-1), axis=-1, kind="stable")
        ids = np.take_along_axis(part, order, axis=-1)
    log_probs = np.take_along_axis(z, ids, axis=-1) - z_max - np.log(total)[..., None]
    chosen = np.zeros(z.shape, dtype=bool)
    np.put_along_axis(chosen, ids, True, axis=-1)
    rest = np.where(chosen, 0.0, e).sum(axis=-1)  # summed directly, not 1 - head
    with np.errstate(divide="ignore"):
        log_tail = np.log(rest) - np.log(total)
    return ids.astype(np.int32), log_probs, log_tail


def _atomic_write(path, write):
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SignalsWriter:
    """Writes sequences in order, one shard per `add` call; `finish` marks the folder complete."""

    def __init__(self, out_dir, *, vocab_size, k, sequence_length, sequences, teacher_fingerprint,
                 data_fingerprint, temperature=1.0, dtype="float16", vocabulary=None, hidden_width=None):
        if dtype not in ("float16", "float32"):
            raise ValueError("dtype must be float16 or float32")
        if not 1 <= k <= vocab_size:
            raise ValueError(f"k = {k} is larger than the vocabulary size {vocab_size}")
        if vocabulary is not None and len(vocabulary) != vocab_size:
            raise ValueError(f"the vocabulary lists {len(vocabulary)} tokens, vocab_size is {vocab_size}")
        self.dir = out_dir
        self.shards = []
        self.manifest = {
            "format": FORMAT,
            "schemaVersion": SCHEMA_VERSION,
            "teacher": {"fingerprint": teacher_fingerprint},
            "vocabulary": {"size": vocab_size, "hash": None if vocabulary is None else vocabulary_hash(vocabulary)},
            "temperature": temperature,
            "k": k,
            "logprobDtype": dtype,
            "sequenceLength": sequence_length,
            "data": {"fingerprint": data_fingerprint, "sequences": sequences},
            **({} if hidden_width is None else {"hidden": {"width": hidden_width, "dtype": dtype}}),
            "shards": self.shards,
            "complete": False,
        }
        os.makedirs(out_dir, exist_ok=True)
        self._save_manifest()

    @property
    def next(self):
        return sum(s["count"] for s in self.shards)

    def add(self, logits, hidden=None):
        """Adds the next sequences' logits [S, T, V] (numpy, any float dtype) as one shard, with
        their last hidden states [S, T, H] when the writer was made with hidden_width=H."""
        m = self.manifest
        if ("hidden" in m) != (hidden is not None):
            raise ValueError("hidden states must be given exactly when hidden_width was")
        logits = np.asarray(logits)
        if logits.ndim != 3 or logits.shape[1] != m["sequenceLength"] or logits.shape[2] != m["vocabulary"]["size"]:
            raise ValueError(f"logits must be [S, {m['sequenceLength']}, {m['vocabulary']['size']}], got {list(logits.shape)}")
        if self.next + logits.shape[0] > m["data"]["sequences"]:
            raise ValueError(f"more than the {m['data']['sequences']} sequences the manifest announces")
        ids, log_probs, log_tail = top_k(logits, m["k"], m["temperature"])
        tensors = {
            "topk.ids": np.ascontiguousarray(ids, dtype=np.int32),
            "topk.logprobs": np.ascontiguousarray(log_probs, dtype=np.float16 if m["logprobDtype"] == "float16" else np.float32),
            "tail.logmass": np.ascontiguousarray(log_tail, dtype=np.float32),
        }
        if hidden is not None:
            hidden = np.asarray(hidden)
            if hidden.shape != (logits.shape[0], logits.shape[1], m["hidden"]["width"]):
                raise ValueError(f"hidden must be [S, T, {m['hidden']['width']}], got {list(hidden.shape)}")
            tensors["hidden"] = np.ascontiguousarray(hidden, dtype=np.float16 if m["hidden"]["dtype"] == "float16" else np.float32)
        name = f"shard-{len(self.shards):05d}.safetensors"
        path = os.path.join(self.dir, name)
        _atomic_write(path, lambda p: save_file(tensors, p, metadata={"format": FORMAT}))
        self.shards.append({"file": name, "first": self.next, "count": int(logits.shape[0]),
                            "sha256": _sha256(path), "bytes": os.path.getsize(path)})
        self._save_manifest()

    def finish(self):
        m = self.manifest
        if self.next != m["data"]["sequences"]:
            raise ValueError(f"{self.next} of {m['data']['sequences']} sequences written")
        m["complete"] = True
        tokens = self.next * m["sequenceLength"]
        m["bytesPerToken"] = sum(s["bytes"] for s in self.shards) / tokens if tokens else 0
        self._save_manifest()
        return m

    def _save_manifest(self):
        def write(p):
            with open(p, "w", encoding="utf-8") as f:
                json.dump(self.manifest, f, indent=2)
                f.write("\n")

        _atomic_write(os.path.join(self.dir, "manifest.json"), write)


def _load(path, name):
    if path.endswith(".npy"):
        return np.load(path)
    tensors = load_file(path)
    if name not in tensors:
        raise SystemExit(f"{path}: no tensor '{name}' (has {', '.join(tensors)})")
    return tensors[name]


def main():
    parser = argparse.ArgumentParser(description="write mmkd teacher signals from saved logits [S, T, V]")
    parser.add_argument("--logits", required=True, help=".npy, or .safetensors with tensor 'logits'")
    parser.add_argument("--out", required=True)
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    parser.add_argument("--shard-sequences", type=int, default=64)
    parser.add_argument("--teacher-fingerprint", required=True)
    parser.add_argument("--data-fingerprint", required=True)
    parser.add_argument("--vocab", help="JSON list of the tokens in id order")
    parser.add_argument("--hidden", help="the last hidden states [S, T, H]: .npy, or .safetensors with tensor 'hidden'")
    args = parser.parse_args()
    logits = _load(args.logits, "logits")
    hidden = None if args.hidden is None else _load(args.hidden, "hidden")
    vocabulary = None
    if args.vocab:
        with open(args.vocab, encoding="utf-8") as f:
            vocabulary = json.load(f)
    writer = SignalsWriter(args.out, vocab_size=logits.shape[2], k=args.k, sequence_length=logits.shape[1],
                           sequences=logits.shape[0], teacher_fingerprint=args.teacher_fingerprint,
                           data_fingerprint=args.data_fingerprint, temperature=args.temperature,
                           dtype=args.dtype, vocabulary=vocabulary,
                           hidden_width=None if hidden is None else hidden.shape[2])
    for first in range(0, logits.shape[0], args.shard_sequences):
        part = slice(first, first + args.shard_sequences)
        writer.add(logits[part], None if hidden is None else hidden[part])
    m = writer.finish()
    print(f"{m['data']['sequences']} sequences x {m['sequenceLength']} positions, k = {m['k']}: "
          f"{len(m['shards'])} shards, {m['bytesPerToken']:.1f} bytes per token -> {args.out}")


if __name__ == "__main__":
    main()
