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

// The row of [rows, cols] a workgroup handles: its first element and its length (0 for the
// workgroups a 2-D grid has past the last row, which must still reach every barrier).
struct RowSpan {
  index: u32,
  base: u32,
  n: u32,
  valid: bool,
}

fn row_span(wid: vec3<u32>, nwg: vec3<u32>, rows: u32, cols: u32) -> RowSpan {
  let row = row_of(wid, nwg);
  let valid = row < rows;
  return RowSpan(row, select(0u, row * cols, valid), select(0u, cols, valid), valid);
}
