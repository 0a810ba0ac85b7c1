#!/usr/bin/env python3
"""A PyTorch reference of ClipMPCAD (shared/spec/model.md sections 1-7), written from the spec,
and the script that makes the model fixtures in test/fixtures/model/: small random CLIP and
adapter checkpoints (both naming schemes, F32/F16/BF16 storage), images, and the traces the
reference computes for them (the `trace` command's contract).

Run with Debian's interpreter (python3-torch, python3-numpy, python3-pil):
    /usr/bin/python3 test/reference/clipmpcad_ref.py --vocab ../shared/data/clip/bpe_simple_vocab_16e6.txt.gz
"""
import argparse
import gzip
import html
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

torch.set_grad_enabled(False)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights"))
from safetensors_io import DT, load_safetensors, save_safetensors  # noqa: E402
from random_model import random_adapters, random_clip, rounded, to_hf  # noqa: E402

OUT = os.path.join(HERE, "..", "fixtures", "model")

# ----------------------------------------------------------------------------- tokenizer (ASCII prompts)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class Tokenizer:
    """CLIP's BPE for ASCII text (the prompts): letters, single digits, other runs."""

    def __init__(self, vocab_gz):
        merges = gzip.open(vocab_gz).read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
        merges = [tuple(m.split()) for m in merges]
        self.byte_encoder = bytes_to_unicode()
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = {v: i for i, v in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.pat = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-zA-Z]+|[0-9]|[^\sa-zA-Z0-9]+")

    def bpe(self, token):
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            new, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    new.append(word[i] + word[i + 1])
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        return word

    def encode(self, text):
        assert all(ord(c) < 128 for c in text), text
        text = re.sub(r"\s+", " ", html.unescape(html.unescape(text))).strip().lower()
        ids = []
        for tok in self.pat.findall(text):
            tok = "".join(self.byte_encoder[b] for b in tok.encode("utf-8"))
            ids += [self.encoder[p] for p in self.bpe(tok)]
        return ids

    def tokenize(self, texts, context=77):
        out = torch.zeros(len(texts), context, dtype=torch.long)
        for i, t in enumerate(texts):
            ids = [49406] + self.encode(t) + [49407]
            assert len(ids) <= context
            out[i, : len(ids)] = torch.tensor(ids)
        return out


# ----------------------------------------------------------------------------- prompts (spec 5.2)

TEMPLATES = [
    "a bad photo of a {}.", "a low resolution photo of the {}.", "a bad photo of the {}.", "a cropped photo of the {}.",
    "a bright photo of a {}.", "a dark photo of the {}.", "a photo of my {}.", "a photo of the cool {}.",
    "a close-up photo of a {}.", "a black and white photo of the {}.", "a bright photo of the {}.",
    "a cropped photo of a {}.", "a jpeg corrupted photo of a {}.", "a blurry photo of the {}.", "a photo of the {}.",
    "a good photo of the {}.", "a photo of one {}.", "a close-up photo of the {}.", "a photo of a {}.",
    "a low resolution photo of a {}.", "a photo of a large {}.", "a blurry photo of a {}.",
    "a jpeg corrupted photo of the {}.", "a good photo of a {}.", "a photo of the small {}.",
    "a photo of the large {}.", "a black and white photo of a {}.", "a dark photo of a {}.", "a photo of a cool {}.",
    "a photo of a small {}.", "there is a {} in the scene.", "there is the {} in the scene.",
    "this is a {} in the scene.", "this is the {} in the scene.", "this is one {} in the scene.",
]
NORMAL = ["{}", "flawless {}", "perfect {}", "unblemished {}", "{} without flaw", "{} without defect", "{} without damage"]
ABNORMAL = ["damaged {}", "broken {}", "{} with flaw", "{} with defect", "{} with damage"]


def sentences(classname):
    return [[t.format(s.format(classname)) for s in states for t in TEMPLATES] for states in (NORMAL, ABNORMAL)]


# ----------------------------------------------------------------------------- model (spec 5)


def gelu(x):
    return F.gelu(x)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def block(x, p, prefix, heads, act, causal):
    """x: [T, W]; p: dict of OpenAI-named weights."""
    T, W = x.shape
    d = W // heads
    h = F.layer_norm(x, (W,), p[prefix + "ln_1.weight"], p[prefix + "ln_1.bias"], 1e-5)
    qkv = h @ p[prefix + "attn.in_proj_weight"].T + p[prefix + "attn.in_proj_bias"]
    q, k, v = qkv.split(W, dim=-1)
    q = q.reshape(T, heads, d).transpose(0, 1) / math.sqrt(d)
    k = k.reshape(T, heads, d).transpose(0, 1)
    v = v.reshape(T, heads, d).transpose(0, 1)
    s = q @ k.transpose(1, 2)
    if causal:
        s = s + torch.full((T, T), float("-inf")).triu(1)
    a = (s.softmax(-1) @ v).transpose(0, 1).reshape(T, W)
    x = x + a @ p[prefix + "attn.out_proj.weight"].T + p[prefix + "attn.out_proj.bias"]
    h = F.layer_norm(x, (W,), p[prefix + "ln_2.weight"], p[prefix + "ln_2.bias"], 1e-5)
    m = act(h @ p[prefix + "mlp.c_fc.weight"].T + p[prefix + "mlp.c_fc.bias"])
    return x + m @ p[prefix + "mlp.c_proj.weight"].T + p[prefix + "mlp.c_proj.bias"]


def adapter(x, a, prefix):
    """MADFF (spec 5.1) token by token; returns (mid [T, E], out [T, W])."""
    relu, sig = F.relu, torch.sigmoid
    ca = x * sig(2 * (relu(x @ a[prefix + "channel_attention.fc.0.weight"].T) @ a[prefix + "channel_attention.fc.2.weight"].T))
    w = a[prefix + "spatial_attention.conv.weight"]
    b = a[prefix + "spatial_attention.conv.bias"]
    sa = ca * sig(w[0, 0, 3] * ca.mean(-1, keepdim=True) + w[0, 1, 3] * ca.max(-1, keepdim=True).values + b[0])
    mag = torch.fft.fft(x, dim=-1).abs()
    fa = x * sig(relu(mag @ a[prefix + "frequency_attention.fc.0.weight"].T) @ a[prefix + "frequency_attention.fc.2.weight"].T)
    f1 = lambda v: F.leaky_relu(v @ a[prefix + "fc1.0.weight"].T, 0.01)
    mid = 0.4 * f1(x) + 0.2 * f1(ca) + 0.2 * f1(sa) + 0.2 * f1(fa)
    out = 0.3 * F.leaky_relu(mid @ a[prefix + "fc2.0.weight"].T, 0.01) + 0.2 * ca + 0.2 * sa + 0.3 * fa
    return mid, out


class Reference:
    def __init__(self, p, a, image_size, levels):
        self.p, self.a, self.S, self.levels = p, a, image_size, levels
        W, _, P, _ = p["visual.conv1.weight"].shape
        self.W, self.P = W, P
        g = round(math.sqrt(p["visual.positional_embedding"].shape[0] - 1))
        self.G = (image_size - P) // P + 1
        self.layers = len([k for k in p if k.startswith("visual.transformer.resblocks.") and k.endswith("attn.in_proj_weight")])
        self.tlayers = len([k for k in p if k.startswith("transformer.resblocks.") and k.endswith("attn.in_proj_weight")])
        self.act = quick_gelu if image_size == g * P else gelu
        pos = p["visual.positional_embedding"]
        if self.G != g:
            grid = pos[1:].reshape(1, g, g, W).permute(0, 3, 1, 2)
            grid = F.interpolate(grid, size=(self.G, self.G), mode="bicubic", antialias=True, align_corners=False)
            pos = torch.cat([pos[:1], grid.permute(0, 2, 3, 1).reshape(self.G * self.G, W)])
        self.pos = pos

    def vision(self, img):
        p, W = self.p, self.W
        x = F.conv2d(img[None], p["visual.conv1.weight"], stride=self.P)[0].reshape(W, -1).T
        x = torch.cat([p["visual.class_embedding"][None], x]) + self.pos
        x = F.layer_norm(x, (W,), p["visual.ln_pre.weight"], p["visual.ln_pre.bias"], 1e-5)
        seg, det = [], []
        for i in range(1, self.layers + 1):
            x = block(x, p, f"visual.transformer.resblocks.{i - 1}.", W // 64, self.act, False)
            if i in self.levels:
                j = self.levels.index(i)
                s_mid, s_out = adapter(x, self.a, f"seg_adapters.{j}.")
                d_mid, d_out = adapter(x, self.a, f"det_adapters.{j}.")
                x = 0.8 * x + 0.1 * s_out + 0.1 * d_out
                seg.append(s_mid)
                det.append(d_mid)
        pooled = F.layer_norm(x[0], (W,), p["visual.ln_post.weight"], p["visual.ln_post.bias"], 1e-5) @ p["visual.proj"]
        return seg, det, pooled

    def encode_text(self, ids):
        p = self.p
        Wt = p["ln_final.weight"].shape[0]
        out = []
        for row in ids:
            x = p["token_embedding.weight"][row] + p["positional_embedding"]
            for i in range(self.tlayers):
                x = block(x, p, f"transformer.resblocks.{i}.", Wt // 64, self.act, True)
            x = F.layer_norm(x, (Wt,), p["ln_final.weight"], p["ln_final.bias"], 1e-5)
            out.append(x[row.argmax()] @ p["text_projection"])
        return torch.stack(out)

    def text_features(self, tok, classname):
        cols = []
        for sents in sentences(classname):
            e = self.encode_text(tok.tokenize(sents))
            e = e / e.norm(dim=-1, keepdim=True)
            m = e.mean(dim=0)
            cols.append(m / m.norm())
        return torch.stack(cols, dim=1)

    def up(self, m):
        return F.interpolate(m[None], size=(self.S, self.S), mode="bilinear", align_corners=True)[0]

    def heads(self, seg, det, tf, mem_seg, mem_det):
        G = self.G
        seg_zero = torch.zeros(self.S, self.S)
        seg_few = torch.zeros(self.S, self.S)
        det_few = torch.zeros(self.S, self.S)
        det_zero = torch.zeros(())
        for j in range(len(self.levels)):
            for tokens, kind in ((seg[j], "seg"), (det[j], "det")):
                pt = tokens[1:]
                logits = 100 * F.normalize(pt, dim=-1) @ tf
                if kind == "seg":
                    seg_zero = seg_zero + self.up(logits.T.reshape(2, G, G)).softmax(0)[1]
                else:
                    det_zero = det_zero + logits.softmax(-1)[:, 1].mean()
                mem = mem_seg[j] if kind == "seg" else mem_det[j]
                pn = pt / pt.norm(dim=-1, keepdim=True).clamp_min(1e-8)
                mn = mem / mem.norm(dim=-1, keepdim=True).clamp_min(1e-8)
                d = (1 - pn @ mn.T).min(dim=1).values
                up = self.up(d.reshape(1, G, G))[0]
                if kind == "seg":
                    seg_few = seg_few + up
                else:
                    det_few = det_few + up
        return seg_zero, seg_few, det_zero.reshape(1), det_few.mean().reshape(1)


# ----------------------------------------------------------------------------- preprocessing (spec 4, 7)

NORMS = {"none": ([0, 0, 0], [1, 1, 1]), "imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])}


def load_image(path, S, norm):
    img = Image.open(path).convert("RGB").resize((S, S), Image.BICUBIC)
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1).float().div(255)
    mean, std = NORMS[norm]
    return (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def augment(x):
    thetas = [[[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0]] for a in (-math.pi / 8, -math.pi / 16, math.pi / 16, math.pi / 8)]
    thetas += [[[1, 0, a], [0, 1, b]] for a, b in ((0.1, 0.1), (-0.1, 0.1), (-0.1, -0.1), (0.1, -0.1))]
    theta = torch.tensor(thetas, dtype=torch.float32)
    grid = F.affine_grid(theta, (8,) + tuple(x.shape), align_corners=False)
    aff = F.grid_sample(x[None].expand(8, *x.shape), grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return torch.cat([x[None], aff, x.flip(-1)[None], x.flip(-2)[None]])


# ----------------------------------------------------------------------------- fixtures


def make_images(seed, specs, folder):
    rng = np.random.default_rng(seed)
    paths = []
    for name, (h, w) in specs:
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), ((xx + yy) * 7) % 256], -1)
        arr = np.clip(base + rng.integers(-40, 40, size=(h, w, 3)), 0, 255).astype(np.uint8)
        cy, cx = rng.integers(h // 4, 3 * h // 4), rng.integers(w // 4, 3 * w // 4)
        arr[max(cy - 3, 0) : cy + 3, max(cx - 4, 0) : cx + 4] = [250, 20, 20]  # a "defect"
        path = os.path.join(folder, name)
        Image.fromarray(arr, "RGB").save(path)
        paths.append(path)
    return paths


def trace(ref, tok, classname, support, queries, norm):
    S = ref.S
    tf = ref.text_features(tok, classname)
    mem_seg = [[] for _ in ref.levels]
    mem_det = [[] for _ in ref.levels]
    for path in support:
        for img in augment(load_image(path, S, norm)):
            seg, det, _ = ref.vision(img)
            for j in range(len(ref.levels)):
                mem_seg[j].append(seg[j])
                mem_det[j].append(det[j])
    mem_seg = [torch.cat(m) for m in mem_seg]
    mem_det = [torch.cat(m) for m in mem_det]
    out = {"text_features": tf}
    for i, path in enumerate(queries):
        x = load_image(path, S, norm)
        seg, det, pooled = ref.vision(x)
        out[f"query.{i}.input"] = x
        out[f"query.{i}.pooled"] = pooled
        for j in range(len(ref.levels)):
            out[f"query.{i}.seg_tokens.{j}"] = seg[j]
            out[f"query.{i}.det_tokens.{j}"] = det[j]
        sz, sf, dz, df = ref.heads(seg, det, tf, mem_seg, mem_det)
        out[f"query.{i}.seg_map_zero"] = sz
        out[f"query.{i}.seg_map_few"] = sf
        out[f"query.{i}.det_score_zero"] = dz
        out[f"query.{i}.det_score_few"] = df
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", required=True)
    args = ap.parse_args()
    tok = Tokenizer(args.vocab)
    os.makedirs(OUT, exist_ok=True)
    cases = {
        # power-of-two width, 24 layers, default levels, S != native (GELU), OpenAI names,
        # F16 vision blocks and BF16 token embedding in storage
        "a": dict(W=64, layers=24, E=32, P=8, g=4, Wt=64, tlayers=2, S=40, levels=[6, 12, 18, 24], classname="Brain", norm="none", naming="openai"),
        # width 96 (an FFT of a non-power of two), HF names, S == native (QuickGELU), levels 2,4
        "b": dict(W=96, layers=4, E=48, P=7, g=4, Wt=64, tlayers=2, S=28, levels=[2, 4], classname="metal nut with defects", norm="imagenet", naming="huggingface"),
    }
    manifest = {}
    for name, c in cases.items():
        used = set()
        for sents in sentences(c["classname"]):
            for s in sents:
                used.update(tok.encode(s))
        p = random_clip(len(name) * 101 + ord(name), c["W"], c["layers"], c["E"], c["P"], c["g"], c["Wt"], c["tlayers"], used)
        a = random_adapters(ord(name) * 7, c["W"], c["E"], len(c["levels"]))
        if c["naming"] == "openai":
            dtypes = {k: "F16" for k in p if k.startswith("visual.transformer.resblocks.")}
            dtypes["token_embedding.weight"] = "BF16"
            save_safetensors(os.path.join(OUT, f"clip-{name}.safetensors"), p, dtypes)
            p = rounded(p, dtypes)
        else:
            save_safetensors(os.path.join(OUT, f"clip-{name}.safetensors"), to_hf(p, c["W"], c["Wt"]))
        save_safetensors(os.path.join(OUT, f"adapters-{name}.safetensors"), a)
        support = make_images(ord(name), [(f"{name}-support-0.png", (45, 45))], OUT)
        queries = make_images(ord(name) + 1, [(f"{name}-query-0.png", (37, 50)), (f"{name}-query-1.png", (c["S"], c["S"]))], OUT)
        ref = Reference(p, a, c["S"], c["levels"])
        out = trace(ref, tok, c["classname"], support, queries, c["norm"])
        save_safetensors(os.path.join(OUT, f"trace-{name}.safetensors"), out)
        manifest[name] = {k: v for k, v in c.items()} | {
            "support": [os.path.basename(s) for s in support],
            "queries": [os.path.basename(q) for q in queries],
        }
        print(f"case {name}: {len(out)} trace tensors")
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
