/**
 * Decoding PNG and JPEG files on Node into 8-bit RGB exactly as PIL's
 * Image.open(...).convert("RGB") does (the reference reads images so): alpha is dropped (not
 * composited), grey is replicated, palettes are expanded, a tRNS colour key is ignored,
 * 1/2/4-bit grey is scaled to 0..255; 16-bit RGB(A) and grey+alpha keep the high byte, and
 * 16-bit grey (PIL's mode "I") is clipped to 255, not rescaled. test/fixtures/images holds
 * PIL's answers. pngjs and jpeg-js are pure JavaScript (no native build, the same bytes on
 * every platform); see the README for the choice.
 */
import { readFileSync } from "node:fs";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

export interface RgbImage {
  width: number;
  height: number;
  /** [height, width, 3] row-major bytes */
  rgb: Uint8Array;
}

export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

/** The PNG without its tRNS chunk: pngjs would blacken colour-keyed pixels, PIL keeps them. */
function withoutTrns(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const colorType = bytes[25];
  if (colorType === 3) return bytes; // palette: tRNS only sets alpha, which is dropped anyway
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let found = false;
  for (let at = 8; at + 12 <= bytes.length; ) {
    const len = view.getUint32(at);
    const end = at + 12 + len;
    const isTrns = bytes[at + 4] === 0x74 && bytes[at + 5] === 0x52 && bytes[at + 6] === 0x4e && bytes[at + 7] === 0x53;
    if (isTrns) found = true;
    else parts.push(bytes.subarray(at, Math.min(end, bytes.length)));
    at = end;
  }
  if (!found) return bytes;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** pngjs's unscaled RGBA samples (8- or 16-bit) to PIL's convert("RGB") bytes. */
function pngToRgb(data: ArrayLike<number>, n: number, depth: number, colorType: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  let map: (v: number) => number;
  if (colorType === 3 || depth === 8) map = (v) => v;
  else if (depth < 8) map = (v) => (v * 255) / (2 ** depth - 1);
  else if (colorType === 0) map = (v) => Math.min(v, 255); // PIL mode "I": clipped
  else map = (v) => v >> 8;
  for (let i = 0; i < n; i++) {
    out[3 * i] = map(data[4 * i]);
    out[3 * i + 1] = map(data[4 * i + 1]);
    out[3 * i + 2] = map(data[4 * i + 2]);
  }
  return out;
}

function rgbaToRgb(rgba: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[3 * i] = rgba[4 * i];
    out[3 * i + 1] = rgba[4 * i + 1];
    out[3 * i + 2] = rgba[4 * i + 2];
  }
  return out;
}

export function decodeImage(bytes: Uint8Array, name = "image"): RgbImage {
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    if (isPng) {
      const clean = withoutTrns(bytes);
      const png = PNG.sync.read(Buffer.from(clean.buffer, clean.byteOffset, clean.byteLength), { skipRescale: true });
      const { depth, colorType } = png as unknown as { depth: number; colorType: number };
      return { width: png.width, height: png.height, rgb: pngToRgb(png.data as ArrayLike<number>, png.width * png.height, depth, colorType) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
      return { width: img.width, height: img.height, rgb: rgbaToRgb(img.data, img.width * img.height) };
    }
  } catch (e) {
    throw new ImageDecodeError(`${name}: cannot be decoded (${(e as Error).message})`);
  }
  throw new ImageDecodeError(`${name}: not a PNG or JPEG file (other formats: convert them first)`);
}

export function decodeImageFile(path: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageDecodeError(`${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeImage(bytes, path);
}

/** PNG bytes of an RGBA image [height, width, 4]. */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png);
}
