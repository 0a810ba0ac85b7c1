/**
 * PIL's bicubic resize of 8-bit images (Image.resize(size, Image.BICUBIC)), bit for bit:
 * coefficients in double precision (a = -0.5, the support widened by the scale when
 * shrinking), turned into 22-bit fixed point, a horizontal pass over the rows the vertical
 * pass needs with uint8 rounding and clamping, then a vertical pass. Written from Pillow's
 * Resample.c behaviour. The GPU kernel (src/kernels/pil-resize.ts) uses the same tables.
 */

export const PRECISION_BITS = 32 - 8 - 2;

function bicubicFilter(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Fixed-point taps of one axis: for output i, `size[i]` taps from input `min[i]`. */
export interface PilTaps {
  min: Int32Array;
  size: Int32Array;
  /** [out, ksize] 22-bit fixed-point coefficients. */
  coeffs: Int32Array;
  ksize: number;
}

export function pilTaps(inSize: number, outSize: number): PilTaps {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const min = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const coeffs = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubicFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : k[x];
      coeffs[xx * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    min[xx] = xmin;
    size[xx] = xmax;
  }
  return { min, size, coeffs, ksize };
}

/** The identity taps (PIL skips a pass whose size does not change; this gives the same bytes). */
export function identityTaps(n: number): PilTaps {
  return { min: Int32Array.from({ length: n }, (_, i) => i), size: new Int32Array(n).fill(1), coeffs: new Int32Array(n).fill(1 << PRECISION_BITS), ksize: 1 };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** The plan of a resize: both axes' taps and the source rows the horizontal pass covers. */
export interface PilResizePlan {
  horizontal: PilTaps;
  vertical: PilTaps;
  /** First source row the vertical pass reads; the horizontal pass covers rows first..first+rows-1. */
  firstRow: number;
  rows: number;
}

export function pilResizePlan(inW: number, inH: number, outW: number, outH: number): PilResizePlan {
  const horizontal = outW !== inW ? pilTaps(inW, outW) : identityTaps(inW);
  const vertical = outH !== inH ? pilTaps(inH, outH) : identityTaps(inH);
  const firstRow = vertical.min[0];
  const lastRow = vertical.min[outH - 1] + vertical.size[outH - 1];
  // the vertical pass reads rows of the horizontal pass's output, counted from firstRow
  const shifted = { ...vertical, min: vertical.min.map((m) => m - firstRow) };
  return { horizontal, vertical: shifted, firstRow, rows: lastRow - firstRow };
}

/** Resizes an interleaved 8-bit image [H, W, channels] to [outH, outW, channels]. */
export function pilBicubicResize(src: Uint8Array, inW: number, inH: number, channels: number, outW: number, outH: number): Uint8Array {
  if (src.length !== inW * inH * channels) throw new RangeError(`pilBicubicResize: ${src.length} bytes for ${inW}x${inH}x${channels}`);
  const plan = pilResizePlan(inW, inH, outW, outH);
  const { horizontal: hz, vertical: vt } = plan;
  const half = 1 << (PRECISION_BITS - 1);
  const tmp = new Uint8Array(plan.rows * outW * channels);
  for (let y = 0; y < plan.rows; y++) {
    const row = (plan.firstRow + y) * inW * channels;
    for (let x = 0; x < outW; x++) {
      for (let c = 0; c < channels; c++) {
        let ss = half;
        for (let j = 0; j < hz.size[x]; j++) ss += src[row + (hz.min[x] + j) * channels + c] * hz.coeffs[x * hz.ksize + j];
        tmp[(y * outW + x) * channels + c] = clip8(ss);
      }
    }
  }
  const out = new Uint8Array(outH * outW * channels);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let c = 0; c < channels; c++) {
        let ss = half;
        for (let j = 0; j < vt.size[y]; j++) ss += tmp[((vt.min[y] + j) * outW + x) * channels + c] * vt.coeffs[y * vt.ksize + j];
        out[(y * outW + x) * channels + c] = clip8(ss);
      }
    }
  }
  return out;
}
