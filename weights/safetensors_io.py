"""safetensors reading and writing with torch alone (Debian has no `safetensors` package):
an 8-byte little-endian header length, a JSON header, then the raw little-endian data."""
import json
import struct

import torch

DT = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


def save_safetensors(path, tensors, dtypes=None):
    """tensors: name -> float32 tensor; dtypes: name -> storage dtype (default F32)."""
    dtypes = dtypes or {}
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        dt = dtypes.get(name, "F32")
        t = t.detach().contiguous()
        if dt == "F32":
            raw = t.float().numpy().tobytes()
        else:  # numpy has no bfloat16: go through the 16-bit pattern
            raw = t.to(DT[dt][0]).view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        dt = DT[e["dtype"]][0]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=dt).reshape(e["shape"]).float()
    return out


