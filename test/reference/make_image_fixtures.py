#!/usr/bin/env python3
"""PNG files of every colour type and bit depth, and what PIL's Image.open(f).convert("RGB")
makes of them: the reference code reads images that way, so the library's decoder must agree.

    /usr/bin/python3 test/reference/make_image_fixtures.py   # needs python3-pil

writes test/fixtures/images/*.png and expected.json (Pillow version, and per file the
[H, W, 3] bytes as a flat list). The PNGs are written by hand (zlib + chunks) so that
16-bit RGB, grey+alpha and tRNS variants exist, which PIL cannot write.
"""
import json
import os
import random
import struct
import zlib

import PIL
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "images")
W, H = 5, 3


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(color_type, depth, samples, extra=b""):
    """samples: rows of per-pixel tuples of integer samples."""
    raw = b""
    for row in samples:
        if depth >= 8:
            fmt = ">" + ("B" if depth == 8 else "H") * sum(len(p) for p in row)
            raw += b"\0" + struct.pack(fmt, *[v for p in row for v in p])
        else:  # packed grey or palette indices, most significant bits first
            bits = "".join(format(p[0], f"0{depth}b") for p in row)
            bits += "0" * (-len(bits) % 8)
            raw += b"\0" + bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    ihdr = struct.pack(">IIBBBBB", W, H, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def main():
    rng = random.Random(3)
    os.makedirs(OUT, exist_ok=True)
    px = lambda n, hi: [[tuple(rng.randrange(hi) for _ in range(n)) for _ in range(W)] for _ in range(H)]
    cases = {}
    for depth in (1, 2, 4, 8, 16):
        cases[f"grey{depth}"] = png(0, depth, px(1, 2 ** depth))
    # 16-bit grey with small values too: PIL clips at 255 rather than rescaling
    cases["grey16-low"] = png(0, 16, px(1, 600))
    cases["rgb8"] = png(2, 8, px(3, 256))
    cases["rgb16"] = png(2, 16, px(3, 65536))
    cases["grey-alpha8"] = png(4, 8, px(2, 256))
    cases["grey-alpha16"] = png(4, 16, px(2, 65536))
    cases["rgba8"] = png(6, 8, px(4, 256))
    cases["rgba16"] = png(6, 16, px(4, 65536))
    pal = bytes(rng.randrange(256) for _ in range(3 * 16))
    cases["palette4"] = png(3, 4, px(1, 16), chunk(b"PLTE", pal))
    cases["palette8-trns"] = png(3, 8, px(1, 16), chunk(b"PLTE", pal) + chunk(b"tRNS", bytes(range(0, 256, 16))))
    # a transparent colour key: PIL's convert("RGB") keeps the pixel's colour
    rgb = px(3, 4)
    rgb[0][0] = (1, 2, 3)
    cases["rgb8-trns"] = png(2, 8, rgb, chunk(b"tRNS", struct.pack(">HHH", 1, 2, 3)))
    grey = px(1, 4)
    grey[1][1] = (2,)
    cases["grey8-trns"] = png(0, 8, grey, chunk(b"tRNS", struct.pack(">H", 2)))
    expected = {"pillow": PIL.__version__, "width": W, "height": H, "files": {}}
    for name, data in cases.items():
        path = os.path.join(OUT, f"{name}.png")
        with open(path, "wb") as f:
            f.write(data)
        with Image.open(path) as im:
            mode = im.mode
            rgb = im.convert("RGB")
        expected["files"][f"{name}.png"] = {"mode": mode, "rgb": list(rgb.tobytes())}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f)
    print(f"wrote {len(cases)} PNGs and expected.json to {OUT}")


if __name__ == "__main__":
    main()
