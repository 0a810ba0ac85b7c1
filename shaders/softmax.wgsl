// Row softmax of scale * x over the last axis, max-subtracted. TPR threads a row (see
// common/workgroup-reduce.wgsl).

struct Params {
  rows: u32,
  cols: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, params.rows, params.cols, lix);
  let row = span.index;
  let valid = span.valid;
  let base = span.base;
  let n = span.n;
  var m = bitcast<f32>(0xff7fffffu); // -FLT_MAX
  for (var i = span.lane; i < n; i += TPR) { m = max(m, params.scale * x[base + i]); }
  m = wg_max(m, lix);
  var s = 0.0;
  for (var i = span.lane; i < n; i += TPR) { s += exp(params.scale * x[base + i] - m); }
  let inv = 1.0 / wg_sum(s, lix);
  for (var i = span.lane; i < n; i += TPR) {
    out[base + i] = exp(params.scale * x[base + i] - m) * inv;
  }
}
