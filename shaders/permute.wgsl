// Permutes the axes of a rank-3 tensor (rank 2 is [1, r, c]). Input axis sizes d0,d1,d2;
// os0..os2 are the output strides of input axes 0..2.
// keep_last: the last input axis stays last; rows are copied, coalesced on both sides.
// transpose_tile: the last input axis moves; a 32x32 tile goes through workgroup memory so
// that both the reads (along input axis 2) and the writes (along input axis `q`, the one
// that becomes contiguous in the output) are coalesced. The third axis `r` walks wid.z.

struct Params {
  d0: u32,
  d1: u32,
  d2: u32,
  os0: u32,
  os1: u32,
  os2: u32,
  q: u32,
  r: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn dim(a: u32) -> u32 { return select(select(params.d2, params.d1, a == 1u), params.d0, a == 0u); }
fn in_stride(a: u32) -> u32 {
  return select(select(1u, params.d2, a == 1u), params.d1 * params.d2, a == 0u);
}
fn out_stride(a: u32) -> u32 { return select(select(params.os2, params.os1, a == 1u), params.os0, a == 0u); }

@compute @workgroup_size(256)
fn keep_last(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lix: u32) {
  let row = wid.x + wid.y * nwg.x; // over d0 * d1 rows
  if (row >= params.d0 * params.d1) { return; }
  let i0 = row / params.d1;
  let i1 = row % params.d1;
  let src = row * params.d2;
  let dst = i0 * params.os0 + i1 * params.os1;
  for (var i = lix; i < params.d2; i += 256u) { out[dst + i] = x[src + i]; }
}

var<workgroup> tile: array<f32, 1056>; // 32 x 33

@compute @workgroup_size(32, 8)
fn transpose_tile(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let q = params.q;
  let r = params.r;
  let x0 = wid.x * 32u; // along input axis 2
  let y0 = wid.y * 32u; // along input axis q
  let z = wid.z;        // index on input axis r
  let nx = params.d2;
  let ny = dim(q);
  for (var k = 0u; k < 32u; k += 8u) {
    let yy = y0 + lid.y + k;
    let xx = x0 + lid.x;
    if (yy < ny && xx < nx) {
      tile[(lid.y + k) * 33u + lid.x] = x[z * in_stride(r) + yy * in_stride(q) + xx];
    }
  }
  workgroupBarrier();
  for (var k = 0u; k < 32u; k += 8u) {
    let xx = x0 + lid.y + k;
    let yy = y0 + lid.x;
    if (yy < ny && xx < nx) {
      out[z * out_stride(r) + yy * out_stride(q) + xx * params.os2] = tile[lid.x * 33u + lid.y + k];
    }
  }
}
