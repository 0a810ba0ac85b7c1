// Batched matmul with a fused epilogue:
//   v = alpha * act(preScale * (A[z] @ op(B[z]) + bias))
//   EPILOGUE 0: out = v;  1: out = v + beta * other;  2: out = v + beta * out (in place);
//            3: out = v * other (a gate: x * sigmoid(...)).
// A is [M,K] (or, with A_IM2COL, the P x P patches of a [C,S,S] image read in place: row p is
// patch (p / G, p % G), column k is (c, ky, kx)); B is [N,K] (TRANS_B, a Linear weight) or
// [K,N]; out and other are [M,N]. Each operand has an element offset and a batch stride
// (0 broadcasts it), so views into larger buffers and strided stacks work without copies.
// Tiling: a 64x64 output tile per workgroup of 16x16 threads, each thread a 4x4 block
// (rows ty+16i, cols tx+16j, so stores are coalesced along N); K streams through
// workgroup memory 16 at a time. Tiles are padded to 65 floats a row against bank conflicts.
// Accumulators are a flat array with named temporaries: SwiftShader miscompiles private
// vec4 arrays indexed in nested loops.

override TRANS_B: bool = true;
override ACT: u32 = 0u;
override HAS_BIAS: bool = false;
override EPILOGUE: u32 = 0u;
override A_IM2COL: bool = false;

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

const TILE: u32 = 64u;
const BK: u32 = 16u;
const PAD: u32 = 65u;

var<workgroup> tileA: array<f32, 1040>; // [BK][PAD]
var<workgroup> tileB: array<f32, 1040>; // [BK][PAD]

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
      var va = 0.0;
      if (gr < M && gk < K) { va = load_a(baseA, gr, gk); }
      tileA[kk * PAD + r] = va;
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
    for (var kk = 0u; kk < BK; kk++) {
      let o = kk * PAD;
      let a0 = tileA[o + ty];
      let a1 = tileA[o + ty + 16u];
      let a2 = tileA[o + ty + 32u];
      let a3 = tileA[o + ty + 48u];
      let b0 = tileB[o + tx];
      let b1 = tileB[o + tx + 16u];
      let b2 = tileB[o + tx + 32u];
      let b3 = tileB[o + tx + 48u];
      acc[0] = fma(a0, b0, acc[0]);
      acc[1] = fma(a0, b1, acc[1]);
      acc[2] = fma(a0, b2, acc[2]);
      acc[3] = fma(a0, b3, acc[3]);
      acc[4] = fma(a1, b0, acc[4]);
      acc[5] = fma(a1, b1, acc[5]);
      acc[6] = fma(a1, b2, acc[6]);
      acc[7] = fma(a1, b3, acc[7]);
      acc[8] = fma(a2, b0, acc[8]);
      acc[9] = fma(a2, b1, acc[9]);
      acc[10] = fma(a2, b2, acc[10]);
      acc[11] = fma(a2, b3, acc[11]);
      acc[12] = fma(a3, b0, acc[12]);
      acc[13] = fma(a3, b1, acc[13]);
      acc[14] = fma(a3, b2, acc[14]);
      acc[15] = fma(a3, b3, acc[15]);
    }
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
