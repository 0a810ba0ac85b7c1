#!/usr/bin/env python3
"""Converts checkpoints to the safetensors files clipmpcad-gpu reads.

  CLIP (OpenAI's ViT-L-14-336px.pt, a TorchScript archive, or any state dict with OpenAI /
  open_clip names; a leading "module." is dropped):
      /usr/bin/python3 weights/convert.py clip ViT-L-14-336px.pt clip.safetensors [--dtype F16]
  ClipMPCAD adapters (the original code's torch.save({"seg_adapters": ..., "det_adapters": ...})):
      /usr/bin/python3 weights/convert.py adapters Brain.pth adapters.safetensors
  Back, adapters trained here (`clipmpcad-gpu train`) for the original PyTorch code:
      /usr/bin/python3 weights/convert.py adapters-to-pth adapters.safetensors Brain.pth

Needs only torch (Debian: python3-torch). Tensors are written in the given dtype (CLIP
default F16, as OpenAI ships it; adapters F32); the library computes in f32 either way.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402


def load_any(path):
    try:
        model = torch.jit.load(path, map_location="cpu")
        return {k: v for k, v in model.state_dict().items()}
    except (RuntimeError, ValueError):
        obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        obj = obj.state_dict()
    return obj


def clip_tensors(path):
    sd = load_any(path)
    out = {}
    for k, v in sd.items():
        if not torch.is_tensor(v):
            continue
        k = k[len("module."):] if k.startswith("module.") else k
        if k in ("input_resolution", "context_length", "vocab_size"):
            continue
        out[k] = v.float()
    if "visual.conv1.weight" not in out:
        sys.exit(f"{path}: no visual.conv1.weight: not an OpenAI/open_clip CLIP state dict (Hugging Face checkpoints: save them with safetensors directly)")
    return out


def adapter_tensors(path):
    obj = torch.load(path, map_location="cpu")
    out = {}
    for kind in ("seg_adapters", "det_adapters"):
        if kind not in obj:
            sys.exit(f"{path}: no '{kind}' entry: expected the ClipMPCAD checkpoint dict {{seg_adapters, det_adapters}}")
        for k, v in obj[kind].items():
            out[f"{kind}.{k}"] = v.float()
    return out


def adapters_to_pth(src, dst):
    """{seg_adapters: state_dict, det_adapters: state_dict}, as the original code saves it."""
    from collections import OrderedDict

    tensors = load_safetensors(src)
    out = {"seg_adapters": OrderedDict(), "det_adapters": OrderedDict()}
    for k, v in tensors.items():
        kind, _, rest = k.partition(".")
        if kind not in out:
            sys.exit(f"{src}: tensor {k} is neither seg_adapters.* nor det_adapters.*: not a ClipMPCAD adapter checkpoint")
        out[kind][rest] = v.float()
    tmp = dst + ".tmp"
    torch.save(out, tmp)
    os.replace(tmp, dst)
    print(f"wrote {dst}: {len(out['seg_adapters'])} + {len(out['det_adapters'])} tensors")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["clip", "adapters", "adapters-to-pth"])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--dtype", choices=["F32", "F16", "BF16"], help="storage dtype (clip: F16, adapters: F32)")
    a = ap.parse_args()
    if a.kind == "adapters-to-pth":
        return adapters_to_pth(a.src, a.dst)
    tensors = clip_tensors(a.src) if a.kind == "clip" else adapter_tensors(a.src)
    dtype = a.dtype or ("F16" if a.kind == "clip" else "F32")
    tmp = a.dst + ".tmp"
    save_safetensors(tmp, tensors, {k: dtype for k in tensors})
    os.replace(tmp, a.dst)
    print(f"wrote {a.dst}: {len(tensors)} tensors, {dtype}")


if __name__ == "__main__":
    main()
