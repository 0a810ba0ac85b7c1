// The M-Decoder's map and score steps (spec 6), after the GEMMs that make their inputs.
// up_map: a G x G map (MODE 0: values [G*G]; MODE 1: zero-shot logits [G*G, 2]) resized to
//   S x S by bilinear interpolation with align_corners = true; MODE 1 then takes the softmax
//   over the two classes per pixel and keeps class 1 (so the logits, not probabilities, are
//   interpolated, as the reference does). ACCUMULATE adds to `out` (the sum over levels).
// softmax_mean: the mean over patches of softmax(logits)[1] for [P, 2] logits, one
//   workgroup; ACCUMULATE adds to out[0] (det_score_zero, summed over levels).

override MODE: u32 = 0u;
override ACCUMULATE: bool = false;

struct Params {
  G: u32,
  S: u32,
  scale: f32,
  patches: u32,
  offIn: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn class1(l0: f32, l1: f32) -> f32 {
  let m = max(l0, l1);
  let e0 = exp(l0 - m);
  let e1 = exp(l1 - m);
  return e1 / (e0 + e1);
}

fn at(cell: u32, cls: u32) -> f32 {
  if (MODE == 1u) { return values[params.offIn + cell * 2u + cls]; }
  return values[params.offIn + cell];
}

fn up(ty: Taps, tx: Taps, cls: u32) -> f32 {
  let G = params.G;
  return ty.w0 * (tx.w0 * at(ty.i0 * G + tx.i0, cls) + tx.w1 * at(ty.i0 * G + tx.i1, cls)) +
    ty.w1 * (tx.w0 * at(ty.i1 * G + tx.i0, cls) + tx.w1 * at(ty.i1 * G + tx.i1, cls));
}

@compute @workgroup_size(256)
fn up_map(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let S = params.S;
  for (var e = gid.x; e < S * S; e += nwg.x * 256u) {
    let ty = bilinear_taps(e / S, params.scale, params.G);
    let tx = bilinear_taps(e % S, params.scale, params.G);
    var v = up(ty, tx, 0u);
    if (MODE == 1u) { v = class1(v, up(ty, tx, 1u)); }
    if (ACCUMULATE) { v = out[params.offOut + e] + v; }
    out[params.offOut + e] = v;
  }
}

@compute @workgroup_size(256)
fn softmax_mean(@builtin(local_invocation_index) lix: u32) {
  var s = 0.0;
  for (var p = lix; p < params.patches; p += 256u) {
    s += class1(values[params.offIn + 2u * p], values[params.offIn + 2u * p + 1u]);
  }
  var v = wg_sum(s, lix) / f32(params.patches);
  if (lix == 0u) {
    if (ACCUMULATE) { v = out[params.offOut] + v; }
    out[params.offOut] = v;
  }
}
