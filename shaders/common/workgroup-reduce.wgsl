// Tree reductions over a 256-thread workgroup, for kernels that give one row to a workgroup.
// Call from uniform control flow; every thread gets the result.

var<workgroup> red_scratch: array<f32, 256>;

fn wg_sum(v: f32, lix: u32) -> f32 {
  red_scratch[lix] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lix < s) { red_scratch[lix] += red_scratch[lix + s]; }
    workgroupBarrier();
  }
  let r = red_scratch[0];
  workgroupBarrier();
  return r;
}

fn wg_max(v: f32, lix: u32) -> f32 {
  red_scratch[lix] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lix < s) { red_scratch[lix] = max(red_scratch[lix], red_scratch[lix + s]); }
    workgroupBarrier();
  }
  let r = red_scratch[0];
  workgroupBarrier();
  return r;
}

// Row index of a workgroup in a 2-D grid (rows may exceed 65535 workgroups in x).
fn row_of(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}
