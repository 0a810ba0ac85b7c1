#!/usr/bin/env python3
"""Random CLIP and ClipMPCAD adapter checkpoints of any size, in OpenAI or Hugging Face names,
for tests and benchmarks (the weights are random: the numbers mean nothing, the shapes and
the arithmetic are real).

    /usr/bin/python3 weights/random_model.py --out DIR [--preset vit-l-14-336 | --width 64 ...]

writes DIR/clip.safetensors and DIR/adapters.safetensors. The tests' fixtures are made by
test/reference/clipmpcad_ref.py with these functions.
"""
import argparse
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import DT, save_safetensors  # noqa: E402

def random_clip(seed, W, layers, E, P, g, Wt, tlayers, used_ids):
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s, std=1.0: torch.randn(*s, generator=gen) * std
    p = {}

    def blk(prefix, w):
        p[prefix + "ln_1.weight"] = 1 + r(w, std=0.1)
        p[prefix + "ln_1.bias"] = r(w, std=0.05)
        p[prefix + "attn.in_proj_weight"] = r(3 * w, w, std=w ** -0.5)
        p[prefix + "attn.in_proj_bias"] = r(3 * w, std=0.02)
        p[prefix + "attn.out_proj.weight"] = r(w, w, std=0.5 * w ** -0.5)
        p[prefix + "attn.out_proj.bias"] = r(w, std=0.02)
        p[prefix + "ln_2.weight"] = 1 + r(w, std=0.1)
        p[prefix + "ln_2.bias"] = r(w, std=0.05)
        p[prefix + "mlp.c_fc.weight"] = r(4 * w, w, std=w ** -0.5)
        p[prefix + "mlp.c_fc.bias"] = r(4 * w, std=0.02)
        p[prefix + "mlp.c_proj.weight"] = r(w, 4 * w, std=0.5 * (4 * w) ** -0.5)
        p[prefix + "mlp.c_proj.bias"] = r(w, std=0.02)

    p["visual.conv1.weight"] = r(W, 3, P, P, std=(3 * P * P) ** -0.5)
    p["visual.class_embedding"] = r(W, std=0.5)
    p["visual.positional_embedding"] = r(1 + g * g, W, std=0.5)
    p["visual.ln_pre.weight"] = 1 + r(W, std=0.1)
    p["visual.ln_pre.bias"] = r(W, std=0.05)
    for i in range(layers):
        blk(f"visual.transformer.resblocks.{i}.", W)
    p["visual.ln_post.weight"] = 1 + r(W, std=0.1)
    p["visual.ln_post.bias"] = r(W, std=0.05)
    p["visual.proj"] = r(W, E, std=W ** -0.5)
    # only the rows of ids the prompts use are random: the rest are zeros (the file compresses)
    emb = torch.zeros(49408, Wt)
    idx = torch.tensor(sorted(used_ids))
    emb[idx] = r(len(idx), Wt, std=0.5)
    p["token_embedding.weight"] = emb
    p["positional_embedding"] = r(77, Wt, std=0.2)
    for i in range(tlayers):
        blk(f"transformer.resblocks.{i}.", Wt)
    p["ln_final.weight"] = 1 + r(Wt, std=0.1)
    p["ln_final.bias"] = r(Wt, std=0.05)
    p["text_projection"] = r(Wt, E, std=Wt ** -0.5)
    p["logit_scale"] = torch.tensor(math.log(100.0))
    return p


def random_adapters(seed, W, E, levels):
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s, std=1.0: torch.randn(*s, generator=gen) * std
    H = W // 16
    a = {}
    for kind in ("seg", "det"):
        for j in range(levels):
            pre = f"{kind}_adapters.{j}."
            a[pre + "fc1.0.weight"] = r(E, W, std=W ** -0.5)
            a[pre + "fc2.0.weight"] = r(W, E, std=E ** -0.5)
            a[pre + "channel_attention.fc.0.weight"] = r(H, W, std=W ** -0.5)
            a[pre + "channel_attention.fc.2.weight"] = r(W, H, std=H ** -0.5)
            a[pre + "spatial_attention.conv.weight"] = r(1, 2, 7, std=0.5)
            a[pre + "spatial_attention.conv.bias"] = r(1, std=0.1)
            a[pre + "frequency_attention.fc.0.weight"] = r(H, W, std=0.3 / W)
            a[pre + "frequency_attention.fc.2.weight"] = r(W, H, std=H ** -0.5)
    return a


def to_hf(p, W, Wt):
    """OpenAI names -> Hugging Face CLIPModel names (q/k/v split, projections transposed)."""
    hf = {}
    m = {"ln_1": "layer_norm1", "ln_2": "layer_norm2", "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2", "attn.out_proj": "self_attn.out_proj"}
    for k, v in p.items():
        for tower, pre, hpre, w in (("v", "visual.transformer.resblocks.", "vision_model.encoder.layers.", W), ("t", "transformer.resblocks.", "text_model.encoder.layers.", Wt)):
            if k.startswith(pre):
                i, rest = k[len(pre):].split(".", 1)
                base = f"{hpre}{i}."
                if rest == "attn.in_proj_weight":
                    for n, part in zip(("q_proj", "k_proj", "v_proj"), v.split(w)):
                        hf[f"{base}self_attn.{n}.weight"] = part
                elif rest == "attn.in_proj_bias":
                    for n, part in zip(("q_proj", "k_proj", "v_proj"), v.split(w)):
                        hf[f"{base}self_attn.{n}.bias"] = part
                else:
                    mod, leaf = rest.rsplit(".", 1)
                    hf[f"{base}{m[mod]}.{leaf}"] = v
                break
        else:
            simple = {
                "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
                "visual.class_embedding": "vision_model.embeddings.class_embedding",
                "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
                "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
                "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
                "visual.ln_post.weight": "vision_model.post_layernorm.weight",
                "visual.ln_post.bias": "vision_model.post_layernorm.bias",
                "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
                "positional_embedding": "text_model.embeddings.position_embedding.weight",
                "ln_final.weight": "text_model.final_layer_norm.weight",
                "ln_final.bias": "text_model.final_layer_norm.bias",
                "logit_scale": "logit_scale",
            }
            if k == "visual.proj":
                hf["visual_projection.weight"] = v.T.contiguous()
            elif k == "text_projection":
                hf["text_projection.weight"] = v.T.contiguous()
            else:
                hf[simple[k]] = v
    return hf


def rounded(p, dtypes):
    """The values the library will read back from storage dtypes."""
    return {k: (v.to(DT[dtypes[k]][0]).float() if k in dtypes else v) for k, v in p.items()}



PRESETS = {
    "vit-l-14-336": dict(width=1024, layers=24, embed=768, patch=14, grid=24, text_width=768, text_layers=12),
    "vit-b-16": dict(width=768, layers=12, embed=512, patch=16, grid=14, text_width=512, text_layers=12),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for clip.safetensors and adapters.safetensors")
    ap.add_argument("--preset", choices=sorted(PRESETS), help="a real CLIP's shapes")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--embed", type=int, default=32)
    ap.add_argument("--patch", type=int, default=8)
    ap.add_argument("--grid", type=int, default=4, help="native grid side g (native image size = g * patch)")
    ap.add_argument("--text-width", type=int, default=64)
    ap.add_argument("--text-layers", type=int, default=2)
    ap.add_argument("--levels", type=int, default=4, help="adapter levels")
    ap.add_argument("--naming", choices=["openai", "huggingface"], default="openai")
    ap.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32", help="storage dtype of the CLIP weights")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    c = dict(width=a.width, layers=a.layers, embed=a.embed, patch=a.patch, grid=a.grid, text_width=a.text_width, text_layers=a.text_layers)
    if a.preset:
        c.update(PRESETS[a.preset])
    os.makedirs(a.out, exist_ok=True)
    p = random_clip(a.seed, c["width"], c["layers"], c["embed"], c["patch"], c["grid"], c["text_width"], c["text_layers"], range(49408))
    if a.naming == "huggingface":
        p = to_hf(p, c["width"], c["text_width"])
    save_safetensors(os.path.join(a.out, "clip.safetensors"), p, {k: a.dtype for k in p})
    save_safetensors(os.path.join(a.out, "adapters.safetensors"), random_adapters(a.seed + 1, c["width"], c["embed"], a.levels))
    print(f"wrote {a.out}/clip.safetensors ({a.naming}, {a.dtype}) and adapters.safetensors: {c}")


if __name__ == "__main__":
    main()
