// LayerNorm over the last axis: out = (x - mean) / sqrt(var + eps) * gamma + beta; x and out
// may be views.
// TPR threads a row (several rows a workgroup when rows are short, see
// common/workgroup-reduce.wgsl); mean first, then the variance of (x - mean) (two passes
// over the row, which stays in cache), so large means do not cancel.

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  offX: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, params.rows, params.cols, lix);
  let row = span.index;
  let valid = span.valid;
  let base = span.base;
  let n = span.n;
  let cols = params.cols;
  var s = 0.0;
  for (var i = span.lane; i < n; i += TPR) { s += x[params.offX + base + i]; }
  let mean = wg_sum(s, lix) / f32(cols);
  var q = 0.0;
  for (var i = span.lane; i < n; i += TPR) {
    let d = x[params.offX + base + i] - mean;
    q += d * d;
  }
  let inv = inverseSqrt(wg_sum(q, lix) / f32(cols) + params.eps);
  for (var i = span.lane; i < n; i += TPR) {
    out[params.offOut + base + i] = (x[params.offX + base + i] - mean) * inv * gamma[i] + beta[i];
  }
}
