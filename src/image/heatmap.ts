/**
 * Heatmap overlays: the anomaly map smoothed with a Gaussian (sigma 4, truncated at 4 sigma,
 * reflected at the borders, as scipy.ndimage.gaussian_filter), scaled to [0, 1] by a given
 * range (dataset-wide in evaluations: per-image scaling makes good images look anomalous),
 * coloured with the jet colormap and blended over the image. Browser-safe (RGBA out).
 */

export function gaussianBlur(map: Float32Array, width: number, height: number, sigma = 4): Float32Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const k = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  for (let i = 0; i < k.length; i++) k[i] /= ks;
  const reflect = (i: number, n: number) => {
    // scipy's "reflect" (d c b a | a b c d | d c b a), repeated for long kernels
    const p = 2 * n;
    let m = ((i % p) + p) % p;
    if (m >= n) m = p - 1 - m;
    return m;
  };
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = -radius; j <= radius; j++) s += k[j + radius] * map[y * width + reflect(x + j, width)];
      tmp[y * width + x] = s;
    }
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = -radius; j <= radius; j++) s += k[j + radius] * tmp[reflect(y + j, height) * width + x];
      out[y * width + x] = s;
    }
  return out;
}

/** matplotlib's jet colormap for v in [0, 1] -> [r, g, b] bytes. */
export function jet(v: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  const t = Math.min(1, Math.max(0, v));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

export interface HeatmapOptions {
  /** Values mapped to the ends of the colormap; default the map's own min and max. */
  range?: [number, number];
  sigma?: number;
  /** Weight of the colours over the image (default 0.5). */
  alpha?: number;
}

/**
 * RGBA bytes [size, size, 4]: the smoothed, jet-coloured map over the image (RGB bytes of the
 * same size).
 */
export function heatmapOverlay(rgb: Uint8Array, map: Float32Array, size: number, opts: HeatmapOptions = {}): Uint8Array {
  if (rgb.length !== size * size * 3 || map.length !== size * size) {
    throw new RangeError(`heatmap: image of ${rgb.length / 3} pixels and map of ${map.length} values for a ${size}x${size} overlay`);
  }
  const smooth = gaussianBlur(map, size, size, opts.sigma ?? 4);
  let [lo, hi] = opts.range ?? [Infinity, -Infinity];
  if (!opts.range) for (const v of smooth) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const span = hi - lo || 1;
  const a = opts.alpha ?? 0.5;
  const out = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    const c = jet((smooth[i] - lo) / span);
    for (let ch = 0; ch < 3; ch++) out[4 * i + ch] = Math.round((1 - a) * rgb[3 * i + ch] + a * c[ch]);
    out[4 * i + 3] = 255;
  }
  return out;
}
