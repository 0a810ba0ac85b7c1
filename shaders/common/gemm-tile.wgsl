// The shared core of the tiled GEMM kernels (matmul.wgsl, nearest.wgsl): a 64x64 output
// tile per workgroup of 16x16 threads, each thread a 4x4 block at rows ty+16i, cols tx+16j
// (so stores are coalesced along N); K streams through workgroup memory 16 at a time, as
// tileA[k][row] and tileB[k][col], rows padded to 65 floats against bank conflicts.
// Accumulators are a flat array updated through named temporaries: SwiftShader miscompiles
// private vec4 arrays indexed in nested loops.

const TILE: u32 = 64u;
const BK: u32 = 16u;
const PAD: u32 = 65u;

var<workgroup> tileA: array<f32, 1040>; // [BK][PAD]
var<workgroup> tileB: array<f32, 1040>; // [BK][PAD]

// acc += tileA[:, ty + 16i] (x) tileB[:, tx + 16j] over the BK loaded columns of K.
fn accumulate_tile(acc: ptr<function, array<f32, 16>>, ty: u32, tx: u32) {
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
    (*acc)[0] = fma(a0, b0, (*acc)[0]);
    (*acc)[1] = fma(a0, b1, (*acc)[1]);
    (*acc)[2] = fma(a0, b2, (*acc)[2]);
    (*acc)[3] = fma(a0, b3, (*acc)[3]);
    (*acc)[4] = fma(a1, b0, (*acc)[4]);
    (*acc)[5] = fma(a1, b1, (*acc)[5]);
    (*acc)[6] = fma(a1, b2, (*acc)[6]);
    (*acc)[7] = fma(a1, b3, (*acc)[7]);
    (*acc)[8] = fma(a2, b0, (*acc)[8]);
    (*acc)[9] = fma(a2, b1, (*acc)[9]);
    (*acc)[10] = fma(a2, b2, (*acc)[10]);
    (*acc)[11] = fma(a2, b3, (*acc)[11]);
    (*acc)[12] = fma(a3, b0, (*acc)[12]);
    (*acc)[13] = fma(a3, b1, (*acc)[13]);
    (*acc)[14] = fma(a3, b2, (*acc)[14]);
    (*acc)[15] = fma(a3, b3, (*acc)[15]);
  }
}
