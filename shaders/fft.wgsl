// |DFT_N(x)| of every row: the magnitude of the unnormalised length-N discrete Fourier
// transform of each row of x [rows, N] (all N bins), as the MADFF frequency attention needs.
// One workgroup per row; the row sits in workgroup memory (two halves, ping-pong) and goes
// through a mixed-radix Stockham FFT whose stages (radices, any primes) come from `params`:
// stage s with radix R turns Ns-point transforms into Ns*R-point ones; output t of
// butterfly j is sum_r src[j + r N/R] * w^(r (k N/(Ns R) + t N/R)), k = j mod Ns, written to
// (j / Ns) Ns R + k + t Ns. A length with a large prime factor is then one radix-p stage:
// a direct DFT, O(N p), still exact. Twiddles w^m = exp(-2 pi i m / N) come from a table
// computed in double precision on the CPU (WGSL's sin/cos are only good to ~1e-3).
// Limits: N <= 2048 (2N complex values in workgroup memory), at most 12 stages.
// magnitude_backward: the gradient of sum(dy * |DFT(x)|) with respect to the real x (training):
//   X = DFT(x), c_k = dy_k conj(X_k) / |X_k| (0 where X_k = 0, as torch's abs), dx = Re(DFT(c));
//   the same FFT twice in one workgroup.

override FFT_N: u32 = 1024u;

struct Params {
  rows: u32,
  stages: u32,
  r0: u32, r1: u32, r2: u32, r3: u32, r4: u32, r5: u32,
  r6: u32, r7: u32, r8: u32, r9: u32, r10: u32, r11: u32,
  offX: u32,
  offDy: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> twiddles: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read> dy: array<f32>;

var<workgroup> buf: array<vec2<f32>, 2u * FFT_N>;
var<private> lix_g: u32; // this thread's index, for the helpers

fn radix(s: u32) -> u32 {
  switch s {
    case 0u: { return params.r0; }
    case 1u: { return params.r1; }
    case 2u: { return params.r2; }
    case 3u: { return params.r3; }
    case 4u: { return params.r4; }
    case 5u: { return params.r5; }
    case 6u: { return params.r6; }
    case 7u: { return params.r7; }
    case 8u: { return params.r8; }
    case 9u: { return params.r9; }
    case 10u: { return params.r10; }
    default: { return params.r11; }
  }
}

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// Transforms buf[0..N) in place of the ping-pong pair; returns where the result lies (0 or N).
// Called from uniform control flow by all 256 threads of the workgroup.
fn fft_buf() -> u32 {
  let N = FFT_N;
  var ns = 1u;
  var src = 0u;
  for (var s = 0u; s < params.stages; s++) {
    let R = radix(s);
    let span = N / R;          // distance between a butterfly's inputs
    let kStep = N / (ns * R);  // twiddle step for the position within a sub-transform
    let dst = N - src;
    for (var item = lix_g; item < N; item += 256u) {
      let j = item / R;
      let t = item % R;
      let k = j % ns;
      let e = k * kStep + t * span; // exponent step per input, mod N
      var acc = vec2<f32>(0.0, 0.0);
      var m = 0u;
      for (var r = 0u; r < R; r++) {
        acc += cmul(buf[src + j + r * span], twiddles[m]);
        m = (m + e) % N;
      }
      buf[dst + (j / ns) * ns * R + k + t * ns] = acc;
    }
    workgroupBarrier();
    ns *= R;
    src = dst;
  }
  return src;
}

// Loads row `row` of x (zeros past the last row) into buf[0..N) as complex values.
fn load_row(row: u32, valid: bool) {
  let base = params.offX + row * FFT_N;
  for (var i = lix_g; i < FFT_N; i += 256u) {
    var v = 0.0;
    if (valid) { v = x[base + i]; }
    buf[i] = vec2<f32>(v, 0.0);
  }
  workgroupBarrier();
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lix: u32) {
  lix_g = lix;
  let row = wid.x + wid.y * nwg.x;
  let valid = row < params.rows;
  load_row(row, valid);
  let src = fft_buf();
  if (valid) {
    for (var i = lix; i < FFT_N; i += 256u) {
      let v = buf[src + i];
      out[row * FFT_N + i] = sqrt(v.x * v.x + v.y * v.y);
    }
  }
}

@compute @workgroup_size(256)
fn magnitude_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lix: u32) {
  lix_g = lix;
  let row = wid.x + wid.y * nwg.x;
  let valid = row < params.rows;
  load_row(row, valid);
  let src = fft_buf();
  // c_k = dy_k conj(X_k) / |X_k| into buf[0..N); the second transform reads it from there
  for (var i = lix; i < FFT_N; i += 256u) {
    let v = buf[src + i];
    let mag = sqrt(v.x * v.x + v.y * v.y);
    var c = vec2<f32>(0.0, 0.0);
    if (valid && mag > 0.0) { c = vec2<f32>(v.x, -v.y) * (dy[params.offDy + row * FFT_N + i] / mag); }
    buf[src + i] = c;
  }
  workgroupBarrier();
  if (src != 0u) {
    for (var i = lix; i < FFT_N; i += 256u) { buf[i] = buf[FFT_N + i]; }
    workgroupBarrier();
  }
  let res = fft_buf();
  if (valid) {
    for (var i = lix; i < FFT_N; i += 256u) { out[row * FFT_N + i] = buf[res + i].x; }
  }
}
