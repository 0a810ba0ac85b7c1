// Elementwise ops over n elements, grid-stride; each operand may be a view (element offset). `b` may be smaller than `a` and is then
// repeated (b[i % bSize]): a row vector added to every row, say.
//   add: out = a + b     mul: out = a * b
//   scaled_sum2: out = wa*a + wb*b     scaled_sum3: out = wa*a + wb*b + wc*c

struct Params {
  n: u32,
  bSize: u32,
  wa: f32,
  wb: f32,
  wc: f32,
  offA: u32,
  offB: u32,
  offC: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn stride_of(nwg: vec3<u32>) -> u32 { return nwg.x * 256u; }

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < params.n; i += stride_of(nwg)) { out[params.offOut + i] = a[params.offA + i] + b[params.offB + i % params.bSize]; }
}

@compute @workgroup_size(256)
fn mul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < params.n; i += stride_of(nwg)) { out[params.offOut + i] = a[params.offA + i] * b[params.offB + i % params.bSize]; }
}

@compute @workgroup_size(256)
fn scaled_sum2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < params.n; i += stride_of(nwg)) {
    out[params.offOut + i] = params.wa * a[params.offA + i] + params.wb * b[params.offB + i % params.bSize];
  }
}

@compute @workgroup_size(256)
fn scaled_sum3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < params.n; i += stride_of(nwg)) {
    out[params.offOut + i] = params.wa * a[params.offA + i] + params.wb * b[params.offB + i % params.bSize] +
      params.wc * c[params.offC + i];
  }
}
