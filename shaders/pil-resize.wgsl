// PIL's bicubic resize of an 8-bit image, bit for bit (see src/image/pil-resize.ts), fused
// with the conversion to a normalised float tensor. Values are one u32 per channel byte.
// pil_horizontal: tmp[y][x][c] = clip8(2^21 + sum_j src[first + y][min_x + j][c] * k_x[j]) >> 22
// pil_vertical:   out[c][y][x] = lut[c][clip8(... the same down the columns of tmp ...)],
//   where lut[c][v] = (v / 255 - mean[c]) / std[c], made on the host in exact f32 arithmetic
//   (WGSL's division is not correctly rounded).
// One thread per output value, grid-stride.

struct Params {
  inW: u32,
  channels: u32,
  outW: u32,
  outH: u32,
  rows: u32,      // rows of tmp
  firstRow: u32,  // source row of tmp row 0
  kh: u32,        // taps per output column (horizontal)
  kv: u32,        // taps per output row (vertical)
  offSrc: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> tapMin: array<i32>;
@group(0) @binding(2) var<storage, read> tapSize: array<i32>;
@group(0) @binding(3) var<storage, read> tapCoeff: array<i32>;
@group(0) @binding(4) var<storage, read_write> tmp: array<u32>;
@group(0) @binding(5) var<storage, read> lut: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

fn clip8(ss: i32) -> u32 {
  return u32(clamp(ss >> 22u, 0, 255));
}

@compute @workgroup_size(256)
fn pil_horizontal(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C = params.channels;
  let total = params.rows * params.outW * C;
  for (var e = gid.x; e < total; e += nwg.x * 256u) {
    let c = e % C;
    let x = (e / C) % params.outW;
    let y = e / (C * params.outW);
    let row = params.offSrc + (params.firstRow + y) * params.inW * C;
    let m = u32(tapMin[x]);
    var ss = 1 << 21u;
    for (var j = 0u; j < u32(tapSize[x]); j++) {
      ss += i32(src[row + (m + j) * C + c]) * tapCoeff[x * params.kh + j];
    }
    tmp[e] = clip8(ss);
  }
}

@compute @workgroup_size(256)
fn pil_vertical(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C = params.channels;
  let total = C * params.outH * params.outW;
  for (var e = gid.x; e < total; e += nwg.x * 256u) {
    let x = e % params.outW;
    let y = (e / params.outW) % params.outH;
    let c = e / (params.outW * params.outH);
    let m = u32(tapMin[y]);
    var ss = 1 << 21u;
    for (var j = 0u; j < u32(tapSize[y]); j++) {
      ss += i32(tmp[((m + j) * params.outW + x) * C + c]) * tapCoeff[y * params.kv + j];
    }
    out[params.offOut + e] = lut[c * 256u + clip8(ss)];
  }
}
