// Gradients of the zero-shot heads for training (spec 9).
// det_bce_backward: logits [P, 2] of one level and the image label -> loss [1] =
//   BCE-with-logits(score, label), score = mean_p softmax(logits_p)[1] (the reference feeds
//   this probability to BCE-with-logits as a logit), and dlogits [P, 2]. One workgroup.
// softmax2: planar logits z [2, N] -> probabilities [2, N] (softmax over the two planes).
// softmax2_backward: planar logits z [2, N] (the up-sampled zero-shot map) and dprob [2, N]
//   -> dz [2, N] of p = softmax over the two planes: dz_c = p_c (dprob_c - sum_k p_k dprob_k).

struct Params {
  n: u32,
  label: f32,
  offZ: u32,
  offD: u32,
  offOut: u32,
}

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> d: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn prob1(l0: f32, l1: f32) -> f32 {
  return 1.0 / (1.0 + exp(l0 - l1));
}

@compute @workgroup_size(256)
fn det_bce_backward(@builtin(local_invocation_index) lix: u32) {
  let P = params.n;
  var s = 0.0;
  for (var p = lix; p < P; p += 256u) { s += prob1(z[params.offZ + 2u * p], z[params.offZ + 2u * p + 1u]); }
  let score = wg_sum(s, lix) / f32(P);
  let y = params.label;
  if (lix == 0u) { loss[0] = max(score, 0.0) - score * y + log(1.0 + exp(-abs(score))); }
  let a = (1.0 / (1.0 + exp(-score)) - y) / f32(P);
  for (var p = lix; p < P; p += 256u) {
    let q = prob1(z[params.offZ + 2u * p], z[params.offZ + 2u * p + 1u]);
    let g = a * q * (1.0 - q);
    out[params.offOut + 2u * p] = -g;
    out[params.offOut + 2u * p + 1u] = g;
  }
}

@compute @workgroup_size(256)
fn softmax2_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let N = params.n;
  for (var i = gid.x; i < N; i += nwg.x * 256u) {
    let p1 = prob1(z[params.offZ + i], z[params.offZ + N + i]);
    let p0 = 1.0 - p1;
    let d0 = d[params.offD + i];
    let d1 = d[params.offD + N + i];
    let inner = p0 * d0 + p1 * d1;
    out[params.offOut + i] = p0 * (d0 - inner);
    out[params.offOut + N + i] = p1 * (d1 - inner);
  }
}

@compute @workgroup_size(256)
fn softmax2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let N = params.n;
  for (var i = gid.x; i < N; i += nwg.x * 256u) {
    let p1 = prob1(z[params.offZ + i], z[params.offZ + N + i]);
    out[params.offOut + i] = 1.0 - p1;
    out[params.offOut + N + i] = p1;
  }
}
