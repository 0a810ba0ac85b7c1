// Row reductions over the last axis: [rows, cols] -> [rows] (mean, max), and the L2
// normalisation of each row, x / max(||x||, eps), as torch's F.normalize. One TPR-thread
// segment of a workgroup a row.

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  offX: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn row_mean(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, params.rows, params.cols, lix);
  let row = span.index;
  let valid = span.valid;
  let base = span.base;
  let n = span.n;
  var s = 0.0;
  for (var i = span.lane; i < n; i += TPR) { s += x[params.offX + base + i]; }
  let total = wg_sum(s, lix);
  if (valid && span.lane == 0u) { out[params.offOut + row] = total / f32(params.cols); }
}

@compute @workgroup_size(256)
fn row_max(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, params.rows, params.cols, lix);
  let row = span.index;
  let valid = span.valid;
  let base = span.base;
  let n = span.n;
  var m = bitcast<f32>(0xff7fffffu); // -FLT_MAX
  for (var i = span.lane; i < n; i += TPR) { m = max(m, x[params.offX + base + i]); }
  let r = wg_max(m, lix);
  if (valid && span.lane == 0u) { out[params.offOut + row] = r; }
}

@compute @workgroup_size(256)
fn row_normalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, params.rows, params.cols, lix);
  let row = span.index;
  let valid = span.valid;
  let base = span.base;
  let n = span.n;
  var s = 0.0;
  for (var i = span.lane; i < n; i += TPR) {
    let v = x[params.offX + base + i];
    s += v * v;
  }
  let inv = 1.0 / max(sqrt(wg_sum(s, lix)), params.eps);
  for (var i = span.lane; i < n; i += TPR) { out[params.offOut + base + i] = x[params.offX + base + i] * inv; }
}
