// The backward pass of the fused attention (attention.wgsl), recomputing the scores instead of
// storing them (the T x T matrix never exists, as in the forward). With q scaled by
// 1/sqrt(d), p_ij = softmax_j(q_i . k_j), dO the output gradient and O the forward output:
//   D_i = dO_i . O_i,   dp_ij = dO_i . v_j,   ds_ij = p_ij (dp_ij - D_i)
//   dq_i = scale sum_j ds_ij k_j,   dk_j = sum_i ds_ij (scale q_i),   dv_j = sum_i p_ij dO_i
// Two entry points, run in this order:
// attention_backward_q: per query row, one pass over the keys for the softmax statistics
//   (max and sum, as L = m + log l), a second for dq; writes dq and stats (L_i, D_i).
// attention_backward_kv: per key row, one pass over the queries (reading their L, D).
// Workgroup: 16 rows x 4 lanes; a lane owns head dims l, l+4, ...; tiles of 8 rows of the
// other side pass through workgroup memory and the lanes' partial dot products are summed
// through it. Layouts: qkv and dqkv [B, T, 3W] (q heads, k heads, v heads), o and dout
// [B, T, W], stats [B, heads, T, 2]. Grid: (ceil(T/16), heads, batch). No causal mask (the
// vision tower is the only one that trains through attention).

override HEAD_DIM: u32 = 64u;

struct Params {
  T: u32,
  W: u32,
  strideQkv: u32,
  strideOut: u32,
  offQkv: u32,
  offO: u32,
  offDout: u32,
  offDqkv: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> o: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

const ROWS: u32 = 16u;
const BT: u32 = 8u;
const LANES: u32 = 4u;
const MAX_DPL: u32 = 32u; // head dims per lane, d <= 128

var<workgroup> tileA: array<f32, BT * HEAD_DIM>;
var<workgroup> tileB: array<f32, BT * HEAD_DIM>;
var<workgroup> tileStats: array<f32, 2u * BT>;
var<workgroup> partS: array<f32, ROWS * BT * LANES>;
var<workgroup> partP: array<f32, ROWS * BT * LANES>;

// The four lanes' partial dot products of (row, j). (Two functions: a workgroup pointer
// parameter needs a WGSL language extension.)
fn sum_s(row: u32, j: u32) -> f32 {
  let o = (row * BT + j) * LANES;
  return partS[o] + partS[o + 1u] + partS[o + 2u] + partS[o + 3u];
}

fn sum_p(row: u32, j: u32) -> f32 {
  let o = (row * BT + j) * LANES;
  return partP[o] + partP[o + 1u] + partP[o + 2u] + partP[o + 3u];
}

// For each of the tile's BT rows t (in tileA and tileB): this lane's share of a . tileA[t] and
// of b . tileB[t] into partS and partP.
fn tile_dots(a: ptr<function, array<f32, MAX_DPL>>, b: ptr<function, array<f32, MAX_DPL>>, row: u32, lane: u32) {
  let d = HEAD_DIM;
  for (var t = 0u; t < BT; t++) {
    var s = 0.0;
    var dp = 0.0;
    for (var i = 0u; i < d / LANES; i++) {
      let c = t * d + lane + LANES * i;
      s = fma((*a)[i], tileA[c], s);
      dp = fma((*b)[i], tileB[c], dp);
    }
    partS[(row * BT + t) * LANES + lane] = s;
    partP[(row * BT + t) * LANES + lane] = dp;
  }
}

@compute @workgroup_size(64)
fn attention_backward_q(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let T = params.T;
  let W = params.W;
  let W3 = 3u * W;
  let d = HEAD_DIM;
  let dpl = d / LANES;
  let head = wid.y;
  let row = lix / LANES;
  let lane = lix % LANES;
  let qi = wid.x * ROWS + row;
  let valid = qi < T;
  let base = params.offQkv + wid.z * params.strideQkv;
  let ob = wid.z * params.strideOut + qi * W + head * d + lane;

  var q: array<f32, MAX_DPL>;
  var g: array<f32, MAX_DPL>;
  var acc: array<f32, MAX_DPL>;
  var dpart = 0.0;
  for (var i = 0u; i < dpl; i++) {
    var qv = 0.0;
    var gv = 0.0;
    if (valid) {
      qv = qkv[base + qi * W3 + head * d + lane + LANES * i];
      gv = dout[params.offDout + ob + LANES * i];
      dpart = fma(gv, o[params.offO + ob + LANES * i], dpart);
    }
    q[i] = qv * params.scale;
    g[i] = gv;
    acc[i] = 0.0;
  }
  partS[row * BT * LANES + lane] = dpart;
  workgroupBarrier();
  let D = sum_s(row, 0u);
  workgroupBarrier();

  // Pass 1: the softmax statistics of this row.
  var m = -1e30;
  var l = 0.0;
  for (var k0 = 0u; k0 < T; k0 += BT) {
    for (var e = lix; e < BT * d; e += 64u) {
      let kj = k0 + e / d;
      var kv = 0.0;
      if (kj < T) { kv = qkv[base + kj * W3 + W + head * d + e % d]; }
      tileA[e] = kv;
    }
    workgroupBarrier();
    for (var j = 0u; j < BT; j++) {
      var s = 0.0;
      for (var i = 0u; i < dpl; i++) { s = fma(q[i], tileA[j * d + lane + LANES * i], s); }
      partS[(row * BT + j) * LANES + lane] = s;
    }
    workgroupBarrier();
    for (var j = 0u; j < BT; j++) {
      if (k0 + j >= T) { continue; }
      let s = sum_s(row, j);
      let mNew = max(m, s);
      l = l * exp(m - mNew) + exp(s - mNew);
      m = mNew;
    }
    workgroupBarrier();
  }
  let L = m + log(l);

  // Pass 2: dq.
  for (var k0 = 0u; k0 < T; k0 += BT) {
    for (var e = lix; e < BT * d; e += 64u) {
      let kj = k0 + e / d;
      var kv = 0.0;
      var vv = 0.0;
      if (kj < T) {
        let r = base + kj * W3 + W + head * d + e % d;
        kv = qkv[r];
        vv = qkv[r + W];
      }
      tileA[e] = kv;
      tileB[e] = vv;
    }
    workgroupBarrier();
    tile_dots(&q, &g, row, lane);
    workgroupBarrier();
    for (var j = 0u; j < BT; j++) {
      if (k0 + j >= T) { continue; }
      let p = exp(sum_s(row, j) - L);
      let ds = p * (sum_p(row, j) - D);
      for (var i = 0u; i < dpl; i++) { acc[i] = fma(ds, tileA[j * d + lane + LANES * i], acc[i]); }
    }
    workgroupBarrier();
  }

  if (valid) {
    let qb = params.offDqkv + wid.z * params.strideQkv + qi * W3 + head * d + lane;
    for (var i = 0u; i < dpl; i++) { dqkv[qb + LANES * i] = acc[i] * params.scale; }
    if (lane == 0u) {
      let sb = ((wid.z * (W / d) + head) * T + qi) * 2u;
      stats[sb] = L;
      stats[sb + 1u] = D;
    }
  }
}

@compute @workgroup_size(64)
fn attention_backward_kv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let T = params.T;
  let W = params.W;
  let W3 = 3u * W;
  let d = HEAD_DIM;
  let dpl = d / LANES;
  let head = wid.y;
  let row = lix / LANES;
  let lane = lix % LANES;
  let kj = wid.x * ROWS + row;
  let valid = kj < T;
  let base = params.offQkv + wid.z * params.strideQkv;
  let sBase = (wid.z * (W / d) + head) * T;

  var k: array<f32, MAX_DPL>;
  var v: array<f32, MAX_DPL>;
  var dk: array<f32, MAX_DPL>;
  var dv: array<f32, MAX_DPL>;
  for (var i = 0u; i < dpl; i++) {
    var kv = 0.0;
    var vv = 0.0;
    if (valid) {
      let r = base + kj * W3 + W + head * d + lane + LANES * i;
      kv = qkv[r];
      vv = qkv[r + W];
    }
    k[i] = kv;
    v[i] = vv;
    dk[i] = 0.0;
    dv[i] = 0.0;
  }

  for (var q0 = 0u; q0 < T; q0 += BT) {
    for (var e = lix; e < BT * d; e += 64u) {
      let qi = q0 + e / d;
      var qv = 0.0;
      var gv = 0.0;
      if (qi < T) {
        qv = qkv[base + qi * W3 + head * d + e % d] * params.scale;
        gv = dout[params.offDout + wid.z * params.strideOut + qi * W + head * d + e % d];
      }
      tileA[e] = qv;
      tileB[e] = gv;
    }
    if (lix < 2u * BT) {
      let qi = q0 + lix / 2u;
      var sv = 0.0;
      if (qi < T) { sv = stats[(sBase + qi) * 2u + lix % 2u]; }
      tileStats[lix] = sv;
    }
    workgroupBarrier();
    tile_dots(&k, &v, row, lane);
    workgroupBarrier();
    for (var t = 0u; t < BT; t++) {
      if (q0 + t >= T) { continue; }
      let p = exp(sum_s(row, t) - tileStats[2u * t]);
      let ds = p * (sum_p(row, t) - tileStats[2u * t + 1u]);
      for (var i = 0u; i < dpl; i++) {
        let c = t * d + lane + LANES * i;
        dv[i] = fma(p, tileB[c], dv[i]);
        dk[i] = fma(ds, tileA[c], dk[i]);
      }
    }
    workgroupBarrier();
  }

  if (valid) {
    let r = params.offDqkv + wid.z * params.strideQkv + kj * W3 + W + head * d + lane;
    for (var i = 0u; i < dpl; i++) {
      dqkv[r + LANES * i] = dk[i];
      dqkv[r + W + LANES * i] = dv[i];
    }
  }
}
