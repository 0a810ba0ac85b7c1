// Resampling kernels; one thread per output value, grid-stride over the flattened output.
//
// bilinear_up: [C, Hin, Win] -> [C, Hout, Wout], bilinear with align_corners = true, as
//   PyTorch's upsample_bilinear2d: src = scale * dst (scale = (in - 1) / (out - 1) in f32),
//   index = floor, lambda = src - index, the far neighbour clamped at the edge.
// affine_sample: for each of A affine maps theta [2x3], out[a] = grid_sample(x, affine_grid(
//   theta)), bilinear, reflection padding, align_corners = false, as PyTorch. The base
//   coordinates (xs, ys) come from the host exactly as torch's affine_grid makes them.
// flip: out = x mirrored along x and/or y (or copied), into a view of a larger batch.

struct Params {
  C: u32,
  Hin: u32,
  Win: u32,
  Hout: u32,
  Wout: u32,
  items: u32,
  flipX: u32,
  flipY: u32,
  scaleY: f32,
  scaleX: f32,
  offX: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read> thetas: array<f32>;
@group(0) @binding(4) var<storage, read> xs: array<f32>;
@group(0) @binding(5) var<storage, read> ys: array<f32>;

fn stride_of(nwg: vec3<u32>) -> u32 { return nwg.x * 256u; }

@compute @workgroup_size(256)
fn bilinear_up(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let Ho = params.Hout;
  let Wo = params.Wout;
  let total = params.C * Ho * Wo;
  for (var e = gid.x; e < total; e += stride_of(nwg)) {
    let c = e / (Ho * Wo);
    let oy = (e / Wo) % Ho;
    let ox = e % Wo;
    let ty = bilinear_taps(oy, params.scaleY, params.Hin);
    let tx = bilinear_taps(ox, params.scaleX, params.Win);
    let b = params.offX + c * params.Hin * params.Win;
    let r0 = b + ty.i0 * params.Win;
    let r1 = b + ty.i1 * params.Win;
    out[params.offOut + e] = ty.w0 * (tx.w0 * x[r0 + tx.i0] + tx.w1 * x[r0 + tx.i1]) +
      ty.w1 * (tx.w0 * x[r1 + tx.i0] + tx.w1 * x[r1 + tx.i1]);
  }
}

// PyTorch's reflect_coordinates for align_corners = false (twice_low = -1, twice_high = 2n - 1),
// then clip to [0, n - 1].
fn reflect(v: f32, n: u32) -> f32 {
  let lo = -0.5;
  let span = f32(n);
  var r = abs(v - lo);
  let extra = r - span * floor(r / span); // fmod for r >= 0
  let flips = floor(r / span);
  if (flips - 2.0 * floor(flips / 2.0) == 0.0) { r = extra + lo; } else { r = span - extra + lo; }
  return clamp(r, 0.0, f32(n - 1u));
}

fn sample(base: u32, H: u32, W: u32, ix: i32, iy: i32) -> f32 {
  if (ix < 0 || iy < 0 || ix >= i32(W) || iy >= i32(H)) { return 0.0; }
  return x[base + u32(iy) * W + u32(ix)];
}

@compute @workgroup_size(256)
fn affine_sample(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C = params.C;
  let H = params.Hin;
  let W = params.Win;
  let total = params.items * C * H * W;
  for (var e = gid.x; e < total; e += stride_of(nwg)) {
    let a = e / (C * H * W);
    let c = (e / (H * W)) % C;
    let oy = (e / W) % H;
    let ox = e % W;
    let t = a * 6u;
    // affine_grid: [x, y, 1] @ theta^T
    let gx = xs[ox] * thetas[t] + ys[oy] * thetas[t + 1u] + thetas[t + 2u];
    let gy = xs[ox] * thetas[t + 3u] + ys[oy] * thetas[t + 4u] + thetas[t + 5u];
    // unnormalise (align_corners = false), reflect, clip
    let fx = reflect(((gx + 1.0) * f32(W) - 1.0) / 2.0, W);
    let fy = reflect(((gy + 1.0) * f32(H) - 1.0) / 2.0, H);
    let x0 = floor(fx);
    let y0 = floor(fy);
    // weights as PyTorch forms them: nw = (x0 + 1 - fx)(y0 + 1 - fy), ...
    let wx1 = fx - x0;
    let wy1 = fy - y0;
    let wx0 = (x0 + 1.0) - fx;
    let wy0 = (y0 + 1.0) - fy;
    let ix = i32(x0);
    let iy = i32(y0);
    let base = params.offX + c * H * W;
    out[params.offOut + e] = sample(base, H, W, ix, iy) * wx0 * wy0 + sample(base, H, W, ix + 1, iy) * wx1 * wy0 +
      sample(base, H, W, ix, iy + 1) * wx0 * wy1 + sample(base, H, W, ix + 1, iy + 1) * wx1 * wy1;
  }
}

@compute @workgroup_size(256)
fn flip(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let H = params.Hin;
  let W = params.Win;
  let total = params.C * H * W;
  for (var e = gid.x; e < total; e += stride_of(nwg)) {
    let c = e / (H * W);
    var y = (e / W) % H;
    var xx = e % W;
    if (params.flipX == 1u) { xx = W - 1u - xx; }
    if (params.flipY == 1u) { y = H - 1u - y; }
    out[params.offOut + e] = x[params.offX + c * H * W + y * W + xx];
  }
}
