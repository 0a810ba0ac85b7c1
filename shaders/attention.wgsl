// Fused multi-head attention, softmax(q k^T / sqrt(d)) v per head, reading q, k, v straight
// from the packed in-projection output qkv [B, T, 3W] (columns: q heads, k heads, v heads;
// head h owns columns h*d .. h*d+d-1 of each) and writing [B, T, W] (heads concatenated).
// Streaming ("online") softmax: keys arrive 16 at a time through workgroup memory and a
// running max / sum rescales the accumulator, so the T x T score matrix never exists.
// Workgroup: 32 query rows x 4 lanes; a lane owns the head dims l, l+4, l+8, ... (d/4 of
// them, d a multiple of 4 up to 128), holds that slice of q and of the output accumulator,
// and its partial dot products are summed across the 4 lanes through workgroup memory.
// CAUSAL masks key j > query i (the text tower). Grid: (ceil(T/32), heads, batch).

override HEAD_DIM: u32 = 64u;
override CAUSAL: bool = false;

struct Params {
  T: u32,
  W: u32,
  strideQkv: u32,
  strideOut: u32,
  offQkv: u32,
  offOut: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const BQ: u32 = 32u;
const BKV: u32 = 16u;
const LANES: u32 = 4u;
const MAX_DPL: u32 = 32u; // head dims per lane, d <= 128

var<workgroup> ks: array<f32, BKV * HEAD_DIM>;
var<workgroup> vs: array<f32, BKV * HEAD_DIM>;
var<workgroup> partial: array<f32, 2048>; // [BQ][BKV][LANES]

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let T = params.T;
  let W = params.W;
  let d = HEAD_DIM;
  let dpl = d / LANES;
  let head = wid.y;
  let row = lix / LANES;
  let lane = lix % LANES;
  let qi = wid.x * BQ + row;
  let base = params.offQkv + wid.z * params.strideQkv;
  let rowValid = qi < T;
  let W3 = 3u * W;

  var q: array<f32, MAX_DPL>;
  var acc: array<f32, MAX_DPL>;
  for (var i = 0u; i < dpl; i++) {
    var v = 0.0;
    if (rowValid) { v = qkv[base + qi * W3 + head * d + lane + LANES * i]; }
    q[i] = v * params.scale;
    acc[i] = 0.0;
  }
  var m = -1e30;
  var l = 0.0;

  // With the causal mask, keys past this workgroup's last query are never needed.
  var kvEnd = T;
  if (CAUSAL) { kvEnd = min(T, wid.x * BQ + BQ); }
  for (var k0 = 0u; k0 < kvEnd; k0 += BKV) {
    // Load 16 keys and values of this head: BKV * d elements each, 128 threads.
    for (var e = lix; e < BKV * d; e += 128u) {
      let j = e / d;
      let c = e % d;
      let kj = k0 + j;
      var kv = 0.0;
      var vv = 0.0;
      if (kj < T) {
        let r = base + kj * W3 + head * d + c;
        kv = qkv[r + W];
        vv = qkv[r + 2u * W];
      }
      ks[e] = kv;
      vs[e] = vv;
    }
    workgroupBarrier();
    for (var j = 0u; j < BKV; j++) {
      var s = 0.0;
      for (var i = 0u; i < dpl; i++) { s = fma(q[i], ks[j * d + lane + LANES * i], s); }
      partial[(row * BKV + j) * LANES + lane] = s;
    }
    workgroupBarrier();
    // Every lane of a row sums the same partials, so all four hold the same scores.
    var tileMax = -1e30;
    for (var j = 0u; j < BKV; j++) {
      let kj = k0 + j;
      let o = (row * BKV + j) * LANES;
      var s = partial[o] + partial[o + 1u] + partial[o + 2u] + partial[o + 3u];
      let masked = kj >= T || (CAUSAL && kj > qi);
      if (!masked) { tileMax = max(tileMax, s); }
    }
    let mNew = max(m, tileMax);
    let corr = exp(m - mNew);
    l *= corr;
    for (var i = 0u; i < dpl; i++) { acc[i] *= corr; }
    for (var j = 0u; j < BKV; j++) {
      let kj = k0 + j;
      let masked = kj >= T || (CAUSAL && kj > qi);
      if (masked) { continue; }
      let o = (row * BKV + j) * LANES;
      let p = exp(partial[o] + partial[o + 1u] + partial[o + 2u] + partial[o + 3u] - mNew);
      l += p;
      for (var i = 0u; i < dpl; i++) { acc[i] = fma(p, vs[j * d + lane + LANES * i], acc[i]); }
    }
    m = mNew;
    workgroupBarrier();
  }

  if (rowValid) {
    let ob = params.offOut + wid.z * params.strideOut + qi * W + head * d + lane;
    let inv = 1.0 / l;
    for (var i = 0u; i < dpl; i++) { out[ob + LANES * i] = acc[i] * inv; }
  }
}
