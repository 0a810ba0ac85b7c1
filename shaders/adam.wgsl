// One Adam step, in place, element by element, as PyTorch's (single-tensor) Adam computes it:
//   m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g^2
//   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),  bc_i = 1 - beta_i^step
// Grid-stride over n; param, m and v may be views (element offsets).

struct Params {
  n: u32,
  lr: f32,
  beta2: f32,
  oneMinusBeta1: f32, // given, not computed here: 1 - 0.999 in f32 is off by 1e-5 relative
  oneMinusBeta2: f32,
  eps: f32,
  bc1: f32,
  bc2Sqrt: f32,
  offGrad: u32,
  offParam: u32,
  offM: u32,
  offV: u32,
}

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(256)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 256u;
  let stepSize = params.lr / params.bc1;
  for (var i = gid.x; i < params.n; i += stride) {
    let g = grad[params.offGrad + i];
    let mi = m[params.offM + i];
    let m1 = mi + params.oneMinusBeta1 * (g - mi);
    let v1 = params.beta2 * v[params.offV + i] + params.oneMinusBeta2 * g * g;
    m[params.offM + i] = m1;
    v[params.offV + i] = v1;
    let denom = sqrt(v1) / params.bc2Sqrt + params.eps;
    param[params.offParam + i] = param[params.offParam + i] - stepSize * (m1 / denom);
  }
}
