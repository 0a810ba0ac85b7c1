// Source taps of bilinear resizing with align_corners = true, as PyTorch computes them:
// src = scale * dst in f32 (scale = (in - 1) / (out - 1), rounded to f32 on the host),
// i0 = floor(src), i1 = i0 + 1 clamped to the edge, weights (1 - l, l) with l = src - i0.

struct Taps {
  i0: u32,
  i1: u32,
  w0: f32,
  w1: f32,
}

fn bilinear_taps(dst: u32, scale: f32, inSize: u32) -> Taps {
  let s = scale * f32(dst);
  let i0 = u32(s);
  let l = s - f32(i0);
  return Taps(i0, select(i0, i0 + 1u, i0 < inSize - 1u), 1.0 - l, l);
}
