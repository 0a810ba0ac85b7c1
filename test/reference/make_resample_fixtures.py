#!/usr/bin/env python3
"""Writes test/fixtures/resample.json: what PyTorch and PIL compute for the resampling steps
of the spec, on small inputs, so the TypeScript/WGSL versions are checked against the real
reference implementations and not only against our reading of them.

Run with Debian's interpreter (it has python3-torch, python3-pil, python3-numpy):
    /usr/bin/python3 test/reference/make_resample_fixtures.py
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {"torch": torch.__version__, "pil": Image.__version__}


def f32list(t):
    # 9 significant digits round-trip every float32 exactly (read back with Math.fround).
    return [float("%.9g" % v) for v in t.detach().reshape(-1).numpy().astype(np.float32)]


# 1. bilinear, align_corners=True: G x G maps to S x S, several channels (spec 6 up()).
bil = []
for C, G, S in [(2, 4, 9), (1, 17, 75), (3, 5, 5)]:
    x = torch.randn(1, C, G, G)
    y = F.interpolate(x, size=(S, S), mode="bilinear", align_corners=True)
    bil.append({"C": C, "G": G, "S": S, "x": f32list(x), "y": f32list(y)})
out["bilinear"] = bil

# 2. affine_grid + grid_sample, bilinear, reflection padding, align_corners=False (spec 7).
aff = []
thetas = []
for a in (-math.pi / 8, -math.pi / 16, math.pi / 16, math.pi / 8):
    thetas.append([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
for a, b in ((0.1, 0.1), (-0.1, 0.1), (-0.1, -0.1), (0.1, -0.1)):
    thetas.append([[1.0, 0.0, a], [0.0, 1.0, b]])
for C, H, W in [(3, 12, 12), (1, 7, 10)]:
    x = torch.rand(1, C, H, W)
    theta = torch.tensor(thetas, dtype=torch.float32)
    grid = F.affine_grid(theta, (len(thetas), C, H, W), align_corners=False)
    y = F.grid_sample(x.expand(len(thetas), C, H, W), grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    aff.append({"C": C, "H": H, "W": W, "thetas": [v for t in thetas for r in t for v in r], "x": f32list(x), "y": f32list(y)})
out["affine"] = aff

# 3. bicubic with antialias (positional-embedding resize, spec 2): shrink and grow.
bic = []
for C, g, G in [(4, 24, 17), (3, 7, 16), (2, 6, 6), (2, 16, 5)]:
    x = torch.randn(1, C, g, g)
    y = F.interpolate(x, size=(G, G), mode="bicubic", antialias=True, align_corners=False)
    bic.append({"C": C, "g": g, "G": G, "x": f32list(x), "y": f32list(y)})
out["bicubic_aa"] = bic

# 4. PIL bicubic resize of uint8 RGB images (spec 4), shrinking, growing and mixed.
pil = []
for (H, W), S in [((37, 53), 24), ((20, 16), 31), ((150, 90), 40), ((24, 24), 24), ((24, 40), 24)]:
    arr = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
    # smooth structure plus noise, so the interpolation is exercised on edges and flat areas
    arr[: H // 2, : W // 3] = 250
    arr[H // 2 :, W // 2 :] = 3
    img = Image.fromarray(arr, "RGB").resize((S, S), Image.BICUBIC)
    pil.append({"H": H, "W": W, "S": S, "x": arr.reshape(-1).tolist(), "y": np.asarray(img).reshape(-1).tolist()})
out["pil_bicubic"] = pil

path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "resample.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes) with torch {torch.__version__}, PIL {Image.__version__}")
