#!/usr/bin/env python3
"""The train-trace of spec 9 (issue contract) in PyTorch, for fixture case a: K Adam steps
(lr 1e-3, betas 0.5/0.999) of the seg and det adapters, batch 1, no shuffling, no
augmentation, images in the order abnormal..., normal..., cycling. Loss per image: for each
level BCE-with-logits(mean over patches of the class-1 softmax of 100 normalize(det p_j) @
text_features, label) and, for the segmentation task, focal(up()'d 2-class softmax map,
mask) + dice(class-1 map, mask). CLIP stays frozen; autograd does the backward.

    /usr/bin/python3 test/reference/train_ref.py --vocab ../shared/data/clip/bpe_simple_vocab_16e6.txt.gz

writes test/fixtures/model/a-query-0-mask.png (the drawn defect of a-query-0.png) and
train-a-{segmentation,classification}.safetensors: step.{s}.loss [1], step.{s}.grad.{name}
(before the step; zeros where no loss reaches) and step.{s}.param.{name} (after it).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights"))
from clipmpcad_ref import Reference, Tokenizer, load_image  # noqa: E402
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402

torch.set_grad_enabled(True)  # clipmpcad_ref turns gradients off for inference

FIX = os.path.join(HERE, "..", "fixtures", "model")
STEPS = 5


def load_mask(path, S):
    """As the library's loadMask: pixel-centre nearest sampling, red channel > 0.5."""
    arr = np.array(Image.open(path).convert("RGB"))[:, :, 0].astype(np.float64) / 255
    h, w = arr.shape
    ys = np.minimum(h - 1, np.floor((np.arange(S) + 0.5) * h / S).astype(int))
    xs = np.minimum(w - 1, np.floor((np.arange(S) + 0.5) * w / S).astype(int))
    return torch.from_numpy((arr[ys][:, xs] > 0.5).astype(np.float32))


def focal(prob, mask, smooth=1e-5):
    """The reference's FocalLoss (gamma 2, alpha 1) on prob [2, S, S], mask [S, S]."""
    logit = prob.reshape(2, -1).T
    idx = mask.reshape(-1, 1).long()
    one_hot = torch.zeros(logit.shape).scatter_(1, idx, 1)
    one_hot = torch.clamp(one_hot, smooth, 1.0 - smooth)
    pt = (one_hot * logit).sum(1) + smooth
    return (-1 * torch.pow(1 - pt, 2) * pt.log()).mean()


def dice(p, t):
    return 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)


def step_loss(ref, tf, x, mask, label, task):
    seg, det, _ = ref.vision(x)
    G = ref.G
    loss = torch.zeros(())
    for j in range(len(ref.levels)):
        logits = 100 * F.normalize(det[j][1:], dim=-1) @ tf
        score = logits.softmax(-1)[:, 1].mean()
        loss = loss + F.binary_cross_entropy_with_logits(score, torch.tensor(float(label)))
        if task == "segmentation":
            logits = 100 * F.normalize(seg[j][1:], dim=-1) @ tf
            prob = ref.up(logits.T.reshape(2, G, G)).softmax(0)
            loss = loss + focal(prob, mask) + dice(prob[1], mask)
    return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    import json

    c = json.load(open(os.path.join(FIX, "cases.json")))["cases"]["a"]
    S = c["S"]
    # the mask of a-query-0's drawn defect (pure red in make_images)
    q = np.array(Image.open(os.path.join(FIX, "a-query-0.png")).convert("RGB")).astype(int)
    red = (q[:, :, 0] == 250) & (q[:, :, 1] == 20) & (q[:, :, 2] == 20)
    Image.fromarray((red * 255).astype(np.uint8), "L").save(os.path.join(FIX, "a-query-0-mask.png"))
    p = load_safetensors(os.path.join(FIX, "clip-a.safetensors"))
    tok = Tokenizer(args.vocab)
    for task in ("segmentation", "classification"):
        a = {k: v.clone().requires_grad_(True) for k, v in load_safetensors(os.path.join(FIX, "adapters-a.safetensors")).items()}
        ref = Reference(p, a, S, c["levels"])
        with torch.no_grad():
            tf = ref.text_features(tok, c["classname"])
        images = [
            (load_image(os.path.join(FIX, "a-query-0.png"), S, c["norm"]), load_mask(os.path.join(FIX, "a-query-0-mask.png"), S), 1),
            (load_image(os.path.join(FIX, "a-support-0.png"), S, c["norm"]), torch.zeros(S, S), 0),
        ]
        names = sorted(a)
        opt = torch.optim.Adam([a[n] for n in names], lr=1e-3, betas=(0.5, 0.999))
        out = {}
        for s in range(STEPS):
            x, mask, label = images[s % len(images)]
            opt.zero_grad(set_to_none=True)
            loss = step_loss(ref, tf, x, mask, label, task)
            loss.backward()
            out[f"step.{s}.loss"] = loss.detach().reshape(1)
            for n in names:
                out[f"step.{s}.grad.{n}"] = a[n].grad.detach().clone() if a[n].grad is not None else torch.zeros_like(a[n])
            opt.step()
            for n in names:
                out[f"step.{s}.param.{n}"] = a[n].detach().clone()
        path = os.path.join(FIX, f"train-a-{task}.safetensors")
        save_safetensors(path, out)
        print(f"{task}: losses {[round(out[f'step.{s}.loss'].item(), 5) for s in range(STEPS)]} -> {os.path.basename(path)}")


if __name__ == "__main__":
    main()
