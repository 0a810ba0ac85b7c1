// Tree reductions in a 256-thread workgroup split into segments of TPR threads (a power of
// two): a row kernel gives each row TPR threads, so short rows share a workgroup (16 rows of
// 64 with TPR = 16) instead of leaving most of it idle. Call from uniform control flow; every
// thread gets its segment's result.

override TPR: u32 = 256u;

var<workgroup> red_scratch: array<f32, 256>;

fn wg_sum(v: f32, lix: u32) -> f32 {
  red_scratch[lix] = v;
  workgroupBarrier();
  let lane = lix % TPR;
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red_scratch[lix] += red_scratch[lix + s]; }
    workgroupBarrier();
  }
  let r = red_scratch[lix - lane];
  workgroupBarrier();
  return r;
}

fn wg_max(v: f32, lix: u32) -> f32 {
  red_scratch[lix] = v;
  workgroupBarrier();
  let lane = lix % TPR;
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red_scratch[lix] = max(red_scratch[lix], red_scratch[lix + s]); }
    workgroupBarrier();
  }
  let r = red_scratch[lix - lane];
  workgroupBarrier();
  return r;
}

// Workgroup index in a 2-D grid (rows may need more than 65535 workgroups in x).
fn row_of(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// The row of [rows, cols] a thread's segment handles, its first element, its length (0 past
// the last row: those threads must still reach every barrier) and the thread's lane in it.
struct RowSpan {
  index: u32,
  base: u32,
  n: u32,
  valid: bool,
  lane: u32,
}

fn row_span(wid: vec3<u32>, nwg: vec3<u32>, rows: u32, cols: u32, lix: u32) -> RowSpan {
  let row = row_of(wid, nwg) * (256u / TPR) + lix / TPR;
  let valid = row < rows;
  return RowSpan(row, select(0u, row * cols, valid), select(0u, cols, valid), valid, lix % TPR);
}
