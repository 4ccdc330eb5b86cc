"""Runs exported mmkd objectives on safetensors inputs, for the conformance tests.

usage: run_exported.py CASES.json
CASES.json: [{"module": path.py, "inputs": path.safetensors, "out": path.safetensors, "dtype": "float32"|"float64",
              "num_items": null | number | {path: number}, "kwargs": {name: value} (more of forward's arguments,
              e.g. teacher_topk_vocab and teacher_topk_temperature)}, ...]
For each case it writes, beside "out", the loss and terms (JSON, "out" + ".json") and the gradient of the
loss with respect to every student input (safetensors "out"), or the error's type and message.
"""
import importlib.util
import json
import sys

import torch
from safetensors.torch import load_file, save_file


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    cases = json.load(open(sys.argv[1]))
    for i, case in enumerate(cases):
        module = load_module(case["module"], "exported_%d" % i)
        dtype = torch.float64 if case.get("dtype") == "float64" else torch.float32
        tensors = load_file(case["inputs"])
        inputs = {}
        for name, t in tensors.items():
            key = name.replace(".", "_")
            inputs[key] = t.to(dtype) if t.dtype.is_floating_point else t
        grads_of = [k for k in inputs if k.startswith("student_") and inputs[k].dtype.is_floating_point]
        for k in grads_of:
            inputs[k].requires_grad_(True)
        report = {}
        try:
            options = dict(case.get("options", {}))
            if module._PROJECTIONS:
                options["widths"] = {k: int(inputs[k].shape[-1]) for k in ("teacher_logits", "student_logits", "teacher_hidden", "student_hidden") if k in inputs}
                for side in ("teacher", "student"):
                    if side + "_head_weight" in inputs:
                        options["widths"][side + "_logits"] = int(inputs[side + "_head_weight"].shape[0])
            objective = module.Objective(**options)
            kwargs = case.get("kwargs", {})
            result = objective(**inputs, **kwargs, num_items_in_batch=case.get("num_items"))
            result.loss.backward()
            own = objective.mmkd_parameters()
            report["loss"] = float(result.loss)
            report["terms"] = {n: float(t) for n, t in result.terms.items()}
            grads = {k.replace("_", ".", 1).replace("head_", "head."): (inputs[k].grad if inputs[k].grad is not None else torch.zeros_like(inputs[k])).float().contiguous() for k in grads_of}
            grads.update({name: p.grad.float().contiguous() if p.grad is not None else torch.zeros_like(p) for name, p in own.items()})
            save_file(grads, case["out"])
            if own:
                save_file({name: p.detach().float().contiguous() for name, p in own.items()}, case["out"] + ".parameters.safetensors")
            report["items"] = objective.items_in_batch(**{k: v.detach() if v.dtype.is_floating_point else v for k, v in inputs.items()}, **kwargs)
        except (module.InputError, module.GraphValidationError) as e:
            report = {"error": type(e).__name__, "message": str(e)}
        with open(case["out"] + ".json", "w") as f:
            json.dump(report, f)


if __name__ == "__main__":
    main()
