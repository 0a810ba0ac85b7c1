// The MADFF adapter's own element-wise steps (the matmuls, with their gates, run on
// matmul.wgsl; the FFT on fft.wgsl). The adapters of a pair (seg, det) are items a = 0, 1
// of stacked buffers.
//
// spatial_gate: sa = ca * sigmoid(w0 * mean(ca) + w1 * max(ca) + b) per token, mean and max
//   over its W channels, (w0, w1, b) = gates[a]. ca and sa are blocks of one buffer `stack`
//   ([2][4][R][W]: x, ca, sa, fa), so it is bound once, read and written. TPR threads a row.
// block_sum: out[a][i] = sum_b w_b * src[a * srcStride + (first + b) * n + i], b < blocks,
//   written at out[a * outStride + i]: the 0.4/0.2/0.2/0.2 mix of fc1's four outputs, the
//   0.2/0.2/0.3 mix of ca, sa, fa, and copying x into both stacks (w = 1, srcStride 0).

struct GateParams {
  rows: u32,       // R, tokens per adapter
  cols: u32,       // W
  itemStride: u32, // 4 R W
  srcOff: u32,     // block of ca
  dstOff: u32,     // block of sa
}

@group(0) @binding(0) var<storage, read_write> stack: array<f32>;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<uniform> params: GateParams;

@compute @workgroup_size(256)
fn spatial_gate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lix: u32) {
  let span = row_span(wid, nwg, 2u * params.rows, params.cols, lix); // over 2 R rows
  let a = select(0u, span.index / params.rows, span.valid);
  let row = span.index % params.rows;
  let n = span.n;
  let src = a * params.itemStride + params.srcOff + row * params.cols;
  let dst = a * params.itemStride + params.dstOff + row * params.cols;
  var s = 0.0;
  var m = bitcast<f32>(0xff7fffffu); // -FLT_MAX
  for (var i = span.lane; i < n; i += TPR) {
    let v = stack[src + i];
    s += v;
    m = max(m, v);
  }
  let mean = wg_sum(s, lix) / f32(params.cols);
  let mx = wg_max(m, lix);
  let g = sigmoid_f32(gates[a * 3u] * mean + gates[a * 3u + 1u] * mx + gates[a * 3u + 2u]);
  for (var i = span.lane; i < n; i += TPR) { stack[dst + i] = stack[src + i] * g; }
}
