// Row gather: out[i, :] = table[index[i], :] (token embeddings, the <|endoftext|> rows of
// the text tower). One thread per output value, grid-stride; an index past the table gives 0.

struct Params {
  rows: u32,
  cols: u32,
  tableRows: u32,
  offTable: u32,
}

@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read> index: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = params.rows * params.cols;
  for (var e = gid.x; e < total; e += nwg.x * 256u) {
    let r = index[e / params.cols];
    var v = 0.0;
    if (r < params.tableRows) { v = table[params.offTable + r * params.cols + e % params.cols]; }
    out[e] = v;
  }
}
