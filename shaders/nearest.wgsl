// Memory-bank nearest neighbour (spec 6, few-shot maps): for each query row q (patch tokens,
// L2-normalised), d(q) = 1 - max over memory rows m (normalised) of q . m, which equals the
// min over m of 1 - cos(q, m). The Nq x Nm similarity matrix is never stored:
// nearest_partial: a workgroup takes 64 queries and a chunk of `tilesPerChunk` 64-row memory
//   tiles, computes each 64x64 block of dot products with the shared GEMM tile
//   (common/gemm-tile.wgsl), keeps a running max per query, reduces it over its 16 column
//   threads and writes one partial max per (chunk, query).
// nearest_finalize: d(q) = 1 - max over chunks of the partials, written at out + offOut.
// A bank given in parts (views, e.g. all shots but one) fills one partial buffer part by part.

struct Params {
  Nq: u32,
  Nm: u32,
  E: u32,
  chunks: u32,
  tilesPerChunk: u32,
  offQ: u32,
  offM: u32,
  offOut: u32,
  chunkBase: u32, // first row of `partial` this memory part writes (several parts: one bank)
}

@group(0) @binding(0) var<storage, read> queries: array<f32>;
@group(0) @binding(1) var<storage, read> memory: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const NEG: f32 = -3.0e38;

@compute @workgroup_size(16, 16, 1)
fn nearest_partial(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                   @builtin(local_invocation_index) lix: u32) {
  let E = params.E;
  let row0 = wid.y * TILE;
  let chunk = wid.x;
  let tx = lid.x;
  let ty = lid.y;
  var best = array<f32, 4>(NEG, NEG, NEG, NEG);
  for (var t = 0u; t < params.tilesPerChunk; t++) {
    let col0 = (chunk * params.tilesPerChunk + t) * TILE;
    if (col0 >= params.Nm) { break; }
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
    for (var k0 = 0u; k0 < E; k0 += BK) {
      for (var l = 0u; l < 4u; l++) {
        let idx = lix + 256u * l;
        let r = idx / BK;
        let kk = idx % BK;
        let gk = k0 + kk;
        var va = 0.0;
        if (row0 + r < params.Nq && gk < E) { va = queries[params.offQ + (row0 + r) * E + gk]; }
        tileA[kk * PAD + r] = va;
        var vb = 0.0;
        if (col0 + r < params.Nm && gk < E) { vb = memory[params.offM + (col0 + r) * E + gk]; }
        tileB[kk * PAD + r] = vb;
      }
      workgroupBarrier();
      accumulate_tile(&acc, ty, tx);
      workgroupBarrier();
    }
    for (var j = 0u; j < 4u; j++) {
      if (col0 + tx + 16u * j < params.Nm) {
        best[0] = max(best[0], acc[j]);
        best[1] = max(best[1], acc[4u + j]);
        best[2] = max(best[2], acc[8u + j]);
        best[3] = max(best[3], acc[12u + j]);
      }
    }
  }
  // Reduce over the 16 column threads of each row, through tileA (64 rows x 16).
  workgroupBarrier();
  for (var i = 0u; i < 4u; i++) { tileA[(ty + 16u * i) * 16u + tx] = best[i]; }
  workgroupBarrier();
  if (tx == 0u) {
    for (var i = 0u; i < 4u; i++) {
      let r = ty + 16u * i;
      var m = NEG;
      for (var c = 0u; c < 16u; c++) { m = max(m, tileA[r * 16u + c]); }
      if (row0 + r < params.Nq) { partial[(params.chunkBase + chunk) * params.Nq + row0 + r] = m; }
    }
  }
}

@compute @workgroup_size(256)
fn nearest_finalize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var q = gid.x; q < params.Nq; q += nwg.x * 256u) {
    var m = NEG;
    for (var c = 0u; c < params.chunks; c++) { m = max(m, partial[c * params.Nq + q]); }
    out[params.offOut + q] = 1.0 - m;
  }
}
