// block_sum: out[a][i] = sum_b w_b * src[offSrc + a * srcStride + (first + b) * n + i] for b < blocks,
// written at out[offOut + a * outStride + i], a < items, i < n. Grid-stride over items * n.
// Used by the MADFF adapter pair: the 0.4/0.2/0.2/0.2 mix of fc1's four outputs, the
// 0.2/0.2/0.3 mix of ca, sa and fa, and copying x into both stacks (w = 1, srcStride 0).

struct Params {
  n: u32,
  items: u32,
  srcStride: u32,
  outStride: u32,
  first: u32,
  blocks: u32,
  w0: f32,
  w1: f32,
  w2: f32,
  w3: f32,
  offSrc: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = params.n;
  let total = n * params.items;
  let w = array<f32, 4>(params.w0, params.w1, params.w2, params.w3);
  for (var e = gid.x; e < total; e += nwg.x * 256u) {
    let a = e / n;
    let i = e % n;
    let base = params.offSrc + a * params.srcStride + params.first * n + i;
    var acc = 0.0;
    for (var b = 0u; b < params.blocks; b++) { acc += w[b] * src[base + b * n]; }
    out[params.offOut + a * params.outStride + i] = acc;
  }
}
