/**
 * Decoding PNG and JPEG files on Node into 8-bit RGB, as PIL's Image.open(...).convert("RGB")
 * does for 8-bit images: alpha is dropped (not composited), grey is replicated, palettes are
 * expanded. pngjs and jpeg-js are pure JavaScript (no native build, the same bytes on every
 * platform); see the README for the choice.
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
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgb: rgbaToRgb(png.data, png.width * png.height) };
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
