// Batched matmul with a fused epilogue:
//   v = alpha * act(preScale * (A[z] @ op(B[z]) + bias))
//   EPILOGUE 0: out = v;  1: out = v + beta * other;  2: out = v + beta * out (in place);
//            3: out = v * other (a gate: x * sigmoid(...)).
// A is [M,K] (or [K,M] with TRANS_A: a weight gradient dy^T x; or, with A_IM2COL, the P x P patches of a [C,S,S] image read in place: row p is
// patch (p / G, p % G), column k is (c, ky, kx)); B is [N,K] (TRANS_B, a Linear weight) or
// [K,N]; out and other are [M,N]. Each operand has an element offset and a batch stride
// (0 broadcasts it), so views into larger buffers and strided stacks work without copies.
// Tiling: shaders/common/gemm-tile.wgsl.

override TRANS_B: bool = true;
override ACT: u32 = 0u;
override HAS_BIAS: bool = false;
override EPILOGUE: u32 = 0u;
override A_IM2COL: bool = false;
override TRANS_A: bool = false;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  strideA: u32,
  strideB: u32,
  strideC: u32,
  strideR: u32,
  offA: u32,
  offB: u32,
  offC: u32,
  offR: u32,
  alpha: f32,
  preScale: f32,
  beta: f32,
  imgSide: u32,
  patchSize: u32,
  grid: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> other: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

fn load_a(base: u32, r: u32, k: u32) -> f32 {
  if (A_IM2COL) {
    let P = params.patchSize;
    let S = params.imgSide;
    let c = k / (P * P);
    let ky = (k / P) % P;
    let kx = k % P;
    let py = r / params.grid;
    let px = r % params.grid;
    return a[base + c * S * S + (py * P + ky) * S + px * P + kx];
  }
  return a[base + r * params.K + k];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lix: u32) {
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let baseA = params.offA + wid.z * params.strideA;
  let baseB = params.offB + wid.z * params.strideB;
  let baseC = params.offC + wid.z * params.strideC;
  let baseR = params.offR + wid.z * params.strideR;
  let tx = lid.x;
  let ty = lid.y;

  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }

  for (var k0 = 0u; k0 < K; k0 += BK) {
    // Each thread loads 4 of the 64x16 elements of each tile.
    for (var l = 0u; l < 4u; l++) {
      let idx = lix + 256u * l;
      let r = idx / BK;
      let kk = idx % BK;
      let gr = row0 + r;
      let gk = k0 + kk;
      if (TRANS_A) {
        // a is [K,M]: walk the tile along M so neighbouring threads read neighbouring floats
        let ka = idx / TILE;
        let ra = idx % TILE;
        var va = 0.0;
        if (row0 + ra < M && k0 + ka < K) { va = a[baseA + (k0 + ka) * M + row0 + ra]; }
        tileA[ka * PAD + ra] = va;
      } else {
        var va = 0.0;
        if (gr < M && gk < K) { va = load_a(baseA, gr, gk); }
        tileA[kk * PAD + r] = va;
      }
      var vb = 0.0;
      if (TRANS_B) {
        let gn = col0 + r;
        if (gn < N && gk < K) { vb = b[baseB + gn * K + gk]; }
        tileB[kk * PAD + r] = vb;
      } else {
        let kb = idx / TILE;
        let n = idx % TILE;
        let gn = col0 + n;
        let gkb = k0 + kb;
        if (gn < N && gkb < K) { vb = b[baseB + gkb * N + gn]; }
        tileB[kb * PAD + n] = vb;
      }
    }
    workgroupBarrier();
    accumulate_tile(&acc, ty, tx);
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + ty + 16u * i;
    if (r >= M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + tx + 16u * j;
      if (c >= N) { continue; }
      var v = acc[i * 4u + j];
      if (HAS_BIAS) { v += bias[c]; }
      v = params.alpha * activate(params.preScale * v, ACT);
      let o = baseC + r * N + c;
      let e = baseR + r * N + c;
      if (EPILOGUE == 1u) { v += params.beta * other[e]; }
      if (EPILOGUE == 2u) { v += params.beta * out[o]; }
      if (EPILOGUE == 3u) { v *= other[e]; }
      out[o] = v;
    }
  }
}
