// Activations shared by the kernels that fuse them into an epilogue.
// Codes (also in src/kernels/activation.ts): 0 none, 1 exact GELU, 2 QuickGELU, 3 ReLU,
// 4 LeakyReLU(0.01), 5 sigmoid.

// erf through erfc's Chebyshev fit (fractional error < 1.2e-7 on erfc for all x).
fn erf_f32(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277))))))));
  let erfc_z = t * exp(p);
  return select(erfc_z - 1.0, 1.0 - erfc_z, x >= 0.0);
}

fn sigmoid_f32(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

fn activate(x: f32, act: u32) -> f32 {
  switch act {
    case 1u: { return 0.5 * x * (1.0 + erf_f32(x * 0.70710678118654752)); }
    case 2u: { return x * sigmoid_f32(1.702 * x); }
    case 3u: { return max(x, 0.0); }
    case 4u: { return select(0.01 * x, x, x >= 0.0); }
    case 5u: { return sigmoid_f32(x); }
    default: { return x; }
  }
}

// d activate(x) / dx, as PyTorch's backward: ReLU has 0 at 0, LeakyReLU has 0.01 there.
fn activate_grad(x: f32, act: u32) -> f32 {
  switch act {
    case 1u: { return 0.5 * (1.0 + erf_f32(x * 0.70710678118654752)) + x * 0.3989422804014327 * exp(-0.5 * x * x); }
    case 2u: {
      let s = sigmoid_f32(1.702 * x);
      return s + 1.702 * x * s * (1.0 - s);
    }
    case 3u: { return select(0.0, 1.0, x > 0.0); }
    case 4u: { return select(0.01, 1.0, x > 0.0); }
    case 5u: {
      let s = sigmoid_f32(x);
      return s * (1.0 - s);
    }
    default: { return 1.0; }
  }
}
