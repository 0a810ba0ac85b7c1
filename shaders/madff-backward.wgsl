// The MADFF adapter's own backward steps (training; the matmuls run on matmul.wgsl, the |DFT|
// on fft.wgsl). Every buffer may be a view (element offsets in params).
//
// gate_backward: y = x * s with s = sigmoid(k z) (the channel gate, k = 2, and the frequency
//   gate, k = 1; s is bound as `gate`): gx += gy * s (ACCUMULATE) or gx = gy * s, and gz = gy * x * k s (1 - s).
// spatial_gate_backward: per token row of ca [rows, cols], z = w0 mean(ca) + w1 max(ca) + b,
//   sa = ca * sigmoid(z): gz = sigmoid'(z) sum(gsa * ca),
//   gca += gsa sigmoid(z) + gz (w0 / cols + w1 [c is the first argmax]), and the row's
//   share of the gate's gradient (gz mean, gz max, gz) goes to partial[row] (summed later).
// scaled_act_backward: gu[b n + i] = c_b g[i] act'(u[b n + i]) for blocks b < `blocks`: the
//   0.4/0.2/0.2/0.2 mix of fc1's four leaky outputs, and the 0.3 leaky of fc2.

override ACT: u32 = 0u;
override ACCUMULATE: bool = false;

struct Params {
  n: u32,
  rows: u32,
  cols: u32,
  blocks: u32,
  gateOff: u32,
  k: f32,
  c0: f32,
  c1: f32,
  c2: f32,
  c3: f32,
  offX: u32,
  offS: u32,
  offGy: u32,
  offGx: u32,
  offGz: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;
@group(0) @binding(4) var<storage, read_write> gz: array<f32>;
@group(0) @binding(5) var<storage, read> gates: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(256)
fn gate_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let g = gy[params.offGy + i];
    let sv = gate[params.offS + i];
    var v = g * sv;
    if (ACCUMULATE) { v += gx[params.offGx + i]; }
    gx[params.offGx + i] = v;
    gz[params.offGz + i] = g * x[params.offX + i] * params.k * sv * (1.0 - sv);
  }
}

@compute @workgroup_size(256)
fn spatial_gate_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, params.rows, params.cols, lix);
  let xb = params.offX + span.base;
  let gb = params.offGy + span.base;
  var sum = 0.0;
  var mx = bitcast<f32>(0xff7fffffu); // -FLT_MAX
  var dot = 0.0;
  for (var i = span.lane; i < span.n; i += TPR) {
    let v = x[xb + i];
    sum += v;
    mx = max(mx, v);
    dot = fma(gy[gb + i], v, dot);
  }
  let mean = wg_sum(sum, lix) / f32(params.cols);
  let rowMax = wg_max(mx, lix);
  let gdot = wg_sum(dot, lix);
  // the first index holding the maximum, as torch.max's backward routes it
  var first = -3.0e38;
  for (var i = span.lane; i < span.n; i += TPR) {
    if (x[xb + i] == rowMax) { first = max(first, -f32(i)); }
  }
  let argmax = u32(-wg_max(first, lix));
  let w0 = gates[params.gateOff];
  let w1 = gates[params.gateOff + 1u];
  let sg = sigmoid_f32(w0 * mean + w1 * rowMax + gates[params.gateOff + 2u]);
  let gzv = gdot * sg * (1.0 - sg);
  let ob = params.offGx + span.base;
  for (var i = span.lane; i < span.n; i += TPR) {
    var v = gy[gb + i] * sg + gzv * w0 / f32(params.cols);
    if (i == argmax) { v += gzv * w1; }
    if (ACCUMULATE) { v += gx[ob + i]; }
    gx[ob + i] = v;
  }
  if (span.valid && span.lane == 0u) {
    let p = params.offGz + span.index * 3u;
    gz[p] = gzv * mean;
    gz[p + 1u] = gzv * rowMax;
    gz[p + 2u] = gzv;
  }
}

@compute @workgroup_size(256)
fn scaled_act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = params.n * params.blocks;
  for (var e = gid.x; e < total; e += nwg.x * 256u) {
    let b = e / params.n;
    let i = e % params.n;
    var c = params.c0;
    if (b == 1u) { c = params.c1; }
    if (b == 2u) { c = params.c2; }
    if (b == 3u) { c = params.c3; }
    gx[params.offGx + e] = c * gy[params.offGy + i] * activate_grad(x[params.offX + e], ACT);
  }
}
