#!/usr/bin/env python3
"""Checks weights/convert.py on small checkpoints made here: a TorchScript CLIP-like module and
a ClipMPCAD .pth dict round-trip to safetensors with the expected names and values.
    /usr/bin/python3 test/reference/check_convert.py
"""
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights"))
from safetensors_io import load_safetensors  # noqa: E402


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.visual = torch.nn.Module()
        self.visual.conv1 = torch.nn.Conv2d(3, 8, 4, 4, bias=False)
        self.visual.proj = torch.nn.Parameter(torch.randn(8, 4))

    def forward(self, x):
        return self.visual.conv1(x)


with tempfile.TemporaryDirectory() as d:
    m = torch.jit.script(Tiny())
    m.save(os.path.join(d, "clip.pt"))
    subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "weights", "convert.py"), "clip", os.path.join(d, "clip.pt"), os.path.join(d, "clip.safetensors"), "--dtype", "F32"], check=True)
    got = load_safetensors(os.path.join(d, "clip.safetensors"))
    assert set(got) == {"visual.conv1.weight", "visual.proj"}, got.keys()
    assert torch.equal(got["visual.proj"], m.state_dict()["visual.proj"])
    seg = {"fc1.0.weight": torch.randn(4, 8)}
    torch.save({"seg_adapters": {"0." + k: v for k, v in seg.items()}, "det_adapters": {"0." + k: v * 2 for k, v in seg.items()}}, os.path.join(d, "a.pth"))
    subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "weights", "convert.py"), "adapters", os.path.join(d, "a.pth"), os.path.join(d, "a.safetensors")], check=True)
    got = load_safetensors(os.path.join(d, "a.safetensors"))
    assert torch.equal(got["det_adapters.0.fc1.0.weight"], seg["fc1.0.weight"] * 2)
    print("convert.py: ok")
