// The adjoint of up_map's bilinear resize (align_corners = true), for training: dmap [C, S, S]
// -> dvalues of the G x G source map, laid out as up_map reads it ([G*G] for C = 1, or
// [G*G, C] interleaved for the zero-shot logits). One thread per source value gathers the
// output pixels whose taps touch it (a window of about 2 (S-1)/(G-1) pixels per axis),
// using the forward's own taps (shaders/common/bilinear.wgsl), so no atomics are needed.

struct Params {
  G: u32,
  S: u32,
  C: u32,
  scale: f32,
  offIn: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> dmap: array<f32>;
@group(0) @binding(1) var<storage, read_write> dvalues: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// weight of source index g in output pixel d's taps
fn tap_weight(d: u32, g: u32) -> f32 {
  let t = bilinear_taps(d, params.scale, params.G);
  return select(0.0, t.w0, t.i0 == g) + select(0.0, t.w1, t.i1 == g);
}

// output pixels whose taps may touch source index g: src = scale * d within (g - 1, g + 1]
fn window(g: u32) -> vec2<u32> {
  let S = params.S;
  if (params.scale <= 0.0) { return vec2<u32>(0u, S); }
  let lo = max(0.0, floor((f32(g) - 1.0) / params.scale) - 1.0);
  let hi = min(f32(S), ceil((f32(g) + 1.0) / params.scale) + 2.0);
  return vec2<u32>(u32(lo), u32(hi));
}

@compute @workgroup_size(64)
fn up_map_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let G = params.G;
  let S = params.S;
  let C = params.C;
  let idx = gid.x;
  if (idx >= G * G * C) { return; }
  let cell = idx / C;
  let c = idx % C;
  let gy = cell / G;
  let gx = cell % G;
  let wy = window(gy);
  let wx = window(gx);
  var acc = 0.0;
  for (var y = wy.x; y < wy.y; y++) {
    let a = tap_weight(y, gy);
    if (a == 0.0) { continue; }
    var row = 0.0;
    for (var x = wx.x; x < wx.y; x++) {
      row += tap_weight(x, gx) * dmap[params.offIn + (c * S + y) * S + x];
    }
    acc += a * row;
  }
  dvalues[params.offOut + idx] = acc;
}
