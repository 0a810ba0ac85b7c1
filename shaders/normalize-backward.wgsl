// The gradient of row_normalize (y = x / max(||x||, eps), torch's F.normalize), for training:
//   n = ||x||:  dx = dy / n - x (x . dy) / n^3   when n > eps,   dx = dy / eps otherwise.
// One TPR-thread segment of a workgroup a row, two reductions (||x||^2 and x . dy).

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  offX: u32,
  offDy: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn row_normalize_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, params.rows, params.cols, lix);
  let base = span.base;
  let n = span.n;
  var s2 = 0.0;
  var sd = 0.0;
  for (var i = span.lane; i < n; i += TPR) {
    let v = x[params.offX + base + i];
    s2 += v * v;
    sd += v * dy[params.offDy + base + i];
  }
  let norm = sqrt(wg_sum(s2, lix));
  let dot = wg_sum(sd, lix);
  if (norm > params.eps) {
    let inv = 1.0 / norm;
    let k = dot * inv * inv * inv;
    for (var i = span.lane; i < n; i += TPR) {
      dx[params.offOut + base + i] = dy[params.offDy + base + i] * inv - x[params.offX + base + i] * k;
    }
  } else {
    for (var i = span.lane; i < n; i += TPR) { dx[params.offOut + base + i] = dy[params.offDy + base + i] / params.eps; }
  }
}
