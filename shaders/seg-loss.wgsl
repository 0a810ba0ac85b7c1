// The segmentation losses of training (spec 9) with their gradients, for one image:
//   prob [2, N] (class 0 plane, class 1 plane: the up-sampled 2-class softmax map),
//   mask [N] (the class is mask truncated to an integer, as the reference's .long()).
//   focal (gamma 2, alpha 1): t~ = clamp(one_hot, smooth, 1 - smooth),
//     pt = sum_c t~_c prob_c + smooth, focal = mean(-(1 - pt)^2 log pt)
//   dice on the class-1 plane: 1 - (2 sum(p t) + 1) / (sum p + sum t + 1)
// loss = [focal, dice]; grad = d(wFocal focal + wDice dice) / d prob, [2, N].
// One workgroup: a grid-stride pass for the sums, a tree reduction, a second pass for the
// gradient (it needs the dice sums). N is one map (S*S pixels), a small job for a GPU.

struct Params {
  n: u32,
  smoothing: f32,
  wFocal: f32,
  wDice: f32,
  offProb: u32,
  offMask: u32,
  offGrad: u32,
}

@group(0) @binding(0) var<storage, read> prob: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const WG: u32 = 256u;
var<workgroup> sums: array<vec4<f32>, WG>;

fn targets(i: u32) -> vec2<f32> {
  let cls = select(0.0, 1.0, mask[params.offMask + i] >= 1.0);
  let s = params.smoothing;
  return vec2<f32>(clamp(1.0 - cls, s, 1.0 - s), clamp(cls, s, 1.0 - s));
}

@compute @workgroup_size(256)
fn seg_loss(@builtin(local_invocation_index) lix: u32) {
  let n = params.n;
  var acc = vec4<f32>(0.0); // focal sum, sum p1 t, sum p1, sum t
  for (var i = lix; i < n; i += WG) {
    let p0 = prob[params.offProb + i];
    let p1 = prob[params.offProb + n + i];
    let tc = targets(i);
    let pt = tc.x * p0 + tc.y * p1 + params.smoothing;
    let t = mask[params.offMask + i];
    acc += vec4<f32>(-(1.0 - pt) * (1.0 - pt) * log(pt), p1 * t, p1, t);
  }
  sums[lix] = acc;
  workgroupBarrier();
  for (var span = WG / 2u; span > 0u; span /= 2u) {
    if (lix < span) { sums[lix] += sums[lix + span]; }
    workgroupBarrier();
  }
  let total = sums[0];
  let nf = f32(n);
  let inter2 = 2.0 * total.y + 1.0;
  let den = total.z + total.w + 1.0;
  if (lix == 0u) {
    loss[0] = total.x / nf;
    loss[1] = 1.0 - inter2 / den;
  }
  for (var i = lix; i < n; i += WG) {
    let p0 = prob[params.offProb + i];
    let p1 = prob[params.offProb + n + i];
    let tc = targets(i);
    let pt = tc.x * p0 + tc.y * p1 + params.smoothing;
    // d/dpt of -(1 - pt)^2 log pt
    let df = 2.0 * (1.0 - pt) * log(pt) - (1.0 - pt) * (1.0 - pt) / pt;
    let gf = params.wFocal * df / nf;
    let t = mask[params.offMask + i];
    let gd = -params.wDice * (2.0 * t * den - inter2) / (den * den);
    grad[params.offGrad + i] = gf * tc.x;
    grad[params.offGrad + n + i] = gf * tc.y + gd;
  }
}
