/**
 * A synthetic inspection set for the demo and tests: woven-looking textures (two sinusoidal
 * gratings, per-image phase and noise) and, on anomalous images, drawn defects (a dark
 * scratch, a bright blob, a colour stain) with their masks. Deterministic for a seed.
 */

export interface SyntheticImage {
  /** [size, size, 3] RGB bytes */
  rgb: Uint8Array;
  /** [size, size] 0/1, all 0 for normal images */
  mask: Uint8Array;
  anomalous: boolean;
}

/** A seeded xorshift32 generator of values in [0, 1) (the tests use it too). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export function syntheticImage(size: number, anomalous: boolean, seed: number): SyntheticImage {
  const r = rng(seed * 2654435761);
  const rgb = new Uint8Array(size * size * 3);
  const mask = new Uint8Array(size * size);
  const px = r() * 6.28;
  const py = r() * 6.28;
  const f = (2 * Math.PI * 6) / size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = 0.5 + 0.22 * Math.sin(f * x + px) * Math.sin(f * y + py) + 0.08 * (r() - 0.5);
      const i = (y * size + x) * 3;
      rgb[i] = Math.round(255 * Math.min(1, Math.max(0, v * 0.9 + 0.05)));
      rgb[i + 1] = Math.round(255 * Math.min(1, Math.max(0, v * 0.8 + 0.1)));
      rgb[i + 2] = Math.round(255 * Math.min(1, Math.max(0, v * 0.6 + 0.15)));
    }
  }
  if (anomalous) {
    const kind = Math.floor(r() * 3);
    const cx = size * (0.25 + 0.5 * r());
    const cy = size * (0.25 + 0.5 * r());
    const rad = size * (0.07 + 0.05 * r());
    const ang = r() * Math.PI;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = x - cx;
        const dy = y - cy;
        let inside: boolean;
        if (kind === 0) {
          // a scratch: a long thin bar
          const along = dx * Math.cos(ang) + dy * Math.sin(ang);
          const across = -dx * Math.sin(ang) + dy * Math.cos(ang);
          inside = Math.abs(along) < rad * 2.2 && Math.abs(across) < Math.max(1.5, rad * 0.25);
        } else {
          inside = dx * dx + dy * dy < rad * rad;
        }
        if (!inside) continue;
        const i = (y * size + x) * 3;
        const color = kind === 0 ? [25, 20, 20] : kind === 1 ? [250, 245, 235] : [170, 40, 30];
        rgb.set(color, i);
        mask[y * size + x] = 1;
      }
    }
  }
  return { rgb, mask, anomalous };
}

/** k normal shots, then a test set of `tests` normal and `tests` anomalous images. */
export function syntheticSet(size: number, shots: number, tests: number, seed = 1): { support: SyntheticImage[]; test: SyntheticImage[] } {
  const support = Array.from({ length: shots }, (_, i) => syntheticImage(size, false, seed * 1000 + i));
  const test: SyntheticImage[] = [];
  for (let i = 0; i < tests; i++) {
    test.push(syntheticImage(size, false, seed * 1000 + 100 + i));
    test.push(syntheticImage(size, true, seed * 1000 + 200 + i));
  }
  return { support, test };
}
