// Backward passes of frozen CLIP layers for training (only the input gradient: CLIP's
// weights do not train).
// activation_backward: dx = dy * act'(x), x the pre-activation; grid-stride, views allowed.
// layernorm_backward: x [rows, cols], dy, gamma -> dx of LayerNorm (gamma, beta frozen):
//   xhat = (x - mean) inv,  g = dy gamma,  dx = inv (g - mean(g) - xhat mean(g xhat)).
//   TPR-thread segments as the forward (common/workgroup-reduce.wgsl), recomputing mean and
//   inv rather than storing them.
// row_normalize_backward: the gradient of row_normalize (y = x / max(||x||, eps), torch's
//   F.normalize): n = ||x||, dx = dy / n - x (x . dy) / n^3 when n > eps, dy / eps otherwise.

override ACT: u32 = 0u;

struct Params {
  rows: u32,
  cols: u32,
  n: u32,
  eps: f32,
  offX: u32,
  offDy: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(256)
fn activation_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    dx[params.offOut + i] = dy[params.offDy + i] * activate_grad(x[params.offX + i], ACT);
  }
}

@compute @workgroup_size(256)
fn layernorm_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, params.rows, params.cols, lix);
  let base = span.base;
  let n = span.n;
  let cols = f32(params.cols);
  var s = 0.0;
  for (var i = span.lane; i < n; i += TPR) { s += x[params.offX + base + i]; }
  let mean = wg_sum(s, lix) / cols;
  var q = 0.0;
  for (var i = span.lane; i < n; i += TPR) {
    let d = x[params.offX + base + i] - mean;
    q += d * d;
  }
  let inv = inverseSqrt(wg_sum(q, lix) / cols + params.eps);
  var sg = 0.0;
  var sgx = 0.0;
  for (var i = span.lane; i < n; i += TPR) {
    let g = dy[params.offDy + base + i] * gamma[i];
    sg += g;
    sgx += g * (x[params.offX + base + i] - mean) * inv;
  }
  let mg = wg_sum(sg, lix) / cols;
  let mgx = wg_sum(sgx, lix) / cols;
  for (var i = span.lane; i < n; i += TPR) {
    let xhat = (x[params.offX + base + i] - mean) * inv;
    dx[params.offOut + base + i] = inv * (dy[params.offDy + base + i] * gamma[i] - mg - xhat * mgx);
  }
}

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
