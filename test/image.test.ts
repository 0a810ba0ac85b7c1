import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeImage, decodeImageFile, encodePng } from "../src/index.js";

// PIL's Image.open(f).convert("RGB") of PNGs of every colour type and depth
// (test/reference/make_image_fixtures.py); the decoder must agree byte for byte.
const DIR = "test/fixtures/images";
const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as {
  width: number;
  height: number;
  files: Record<string, { mode: string; rgb: number[] }>;
};

describe("image decoding as PIL's convert('RGB')", () => {
  for (const [name, want] of Object.entries(expected.files)) {
    it(`${name} (PIL mode ${want.mode})`, () => {
      const img = decodeImageFile(join(DIR, name));
      expect([img.width, img.height]).toEqual([expected.width, expected.height]);
      expect(Array.from(img.rgb)).toEqual(want.rgb);
    });
  }

  it("round-trips its own PNGs and names the file it cannot read", () => {
    const rgba = Uint8Array.from({ length: 4 * 6 }, (_, i) => (i * 37) % 256);
    const back = decodeImage(encodePng(rgba, 3, 2));
    expect(Array.from(back.rgb)).toEqual(Array.from(rgba).filter((_, i) => i % 4 !== 3));
    const dir = mkdtempSync(join(tmpdir(), "img-"));
    writeFileSync(join(dir, "notes.txt.png"), "not an image");
    expect(() => decodeImageFile(join(dir, "notes.txt.png"))).toThrow(/notes.txt.png: not a PNG or JPEG/);
    expect(() => decodeImageFile(join(dir, "missing.png"))).toThrow(/missing.png: cannot be read \(ENOENT\)/);
    const broken = readFileSync(join(DIR, "rgb8.png")).subarray(0, 60);
    expect(() => decodeImage(broken, "cut.png")).toThrow(/cut.png: cannot be decoded/);
  });
});
