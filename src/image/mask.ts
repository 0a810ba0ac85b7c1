/**
 * Ground-truth masks (spec 4): nearest-neighbour resize to S x S sampling pixel centres, then
 * the first channel > 0.5 (of 255). Browser-safe: takes decoded pixels.
 */
export interface MaskPixels {
  width: number;
  height: number;
  /** [height, width, 3] RGB bytes. */
  rgb: Uint8Array;
}

export function maskFromPixels(img: MaskPixels, S: number): Uint8Array {
  const out = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / S));
    for (let x = 0; x < S; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / S));
      out[y * S + x] = img.rgb[(sy * img.width + sx) * 3] / 255 > 0.5 ? 1 : 0;
    }
  }
  return out;
}
