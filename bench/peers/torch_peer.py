#!/usr/bin/env python3
"""PyTorch on the CPU, the reference a researcher would otherwise use, on the benchmark's
shapes: the linear shapes (F.linear), attention (matmul-softmax-matmul, as the reference
code), one ViT block and, with --forward, the whole ClipMPCAD vision forward with its four
adapter pairs (test/reference/clipmpcad_ref.py on random weights). Prints one JSON object
of median milliseconds. Run by bench/run.ts with Debian's /usr/bin/python3 (python3-torch).

    /usr/bin/python3 bench/peers/torch_peer.py --T 290 --W 1024 --heads 16 --reps 3 [--forward]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "reference"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights"))


def timed(fn, reps, sync=lambda: None):
    fn()  # warm-up
    sync()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--T", type=int, default=290)
    ap.add_argument("--W", type=int, default=1024)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--forward", action="store_true", help="also the whole vision forward at ViT-L/14, 240 px (batch 1 and, with --batch8, 8)")
    ap.add_argument("--batch8", action="store_true")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU run")
    a = ap.parse_args()
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    T, W, H = a.T, a.W, a.heads
    D = W // H
    torch.set_num_threads(os.cpu_count() or 1)  # a researcher's run uses every core
    res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(dev), "ms": {}}
    R = lambda *shape: torch.randn(*shape).to(dev)
    x = R(T, W)
    with torch.no_grad():
        for name, n_out, n_in in [("linear qkv", 3 * W, W), ("linear out", W, W), ("linear fc", 4 * W, W), ("linear proj", W, 4 * W)]:
            xi = R(T, n_in)
            w = R(n_out, n_in) * n_in ** -0.5
            b = R(n_out) * 0.02
            res["ms"][name] = timed(lambda: F.linear(xi, w, b), a.reps, sync)
        qkv = R(T, 3 * W)

        def attn():
            q, k, v = qkv.split(W, dim=-1)
            q = q.reshape(T, H, D).transpose(0, 1) / math.sqrt(D)
            k = k.reshape(T, H, D).transpose(0, 1)
            v = v.reshape(T, H, D).transpose(0, 1)
            return ((q @ k.transpose(1, 2)).softmax(-1) @ v).transpose(0, 1).reshape(T, W)

        res["ms"]["attention"] = timed(attn, a.reps, sync)
        from clipmpcad_ref import Reference, block, quick_gelu  # noqa: E402

        p = {}
        pre = "visual.transformer.resblocks.0."
        for k, shape, scale in [("ln_1.weight", [W], 0), ("ln_1.bias", [W], 0), ("attn.in_proj_weight", [3 * W, W], W ** -0.5), ("attn.in_proj_bias", [3 * W], 0.02),
                                ("attn.out_proj.weight", [W, W], W ** -0.5), ("attn.out_proj.bias", [W], 0.02), ("ln_2.weight", [W], 0), ("ln_2.bias", [W], 0),
                                ("mlp.c_fc.weight", [4 * W, W], W ** -0.5), ("mlp.c_fc.bias", [4 * W], 0.02), ("mlp.c_proj.weight", [W, 4 * W], (4 * W) ** -0.5), ("mlp.c_proj.bias", [W], 0.02)]:
            p[pre + k] = R(*shape) * scale + (1 if k.endswith("ln_1.weight") or k.endswith("ln_2.weight") else 0)
        res["ms"]["ViT block"] = timed(lambda: block(x, p, pre, H, quick_gelu, False), a.reps, sync)
        if a.forward:
            from random_model import random_adapters, random_clip  # noqa: E402

            clip = {k: v.to(dev) for k, v in random_clip(0, 1024, 24, 768, 14, 24, 768, 0, []).items()}
            ad = {k: v.to(dev) for k, v in random_adapters(1, 1024, 768, 4).items()}
            ref = Reference(clip, ad, 240, [6, 12, 18, 24])
            img = R(3, 240, 240)
            res["ms"]["forward b1"] = timed(lambda: ref.vision(img), max(1, a.reps // 2), sync)
            if a.batch8:  # the reference forward is per image: 8 of them
                res["ms"]["forward b8 per image"] = timed(lambda: [ref.vision(img) for _ in range(8)], 1, sync) / 8
    print(json.dumps(res))


if __name__ == "__main__":
    main()
