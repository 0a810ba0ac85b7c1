/**
 * Writes the synthetic inspection set (synthetic.ts) as a dataset in the MVFA layout, so
 * `train` and `evaluate` can be tried end to end without data:
 *   <root>/<name>_AD/{valid,test}/{good,Ungood}/img/*.png, masks in .../Ungood/anomaly_mask/.
 * Node only.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { encodePng } from "../image/decode-node.js";
import { syntheticImage } from "./synthetic.js";

export interface SyntheticDatasetOptions {
  name?: string;
  size?: number;
  /** Images per kind (good, Ungood) in valid/. */
  valid?: number;
  /** Images per kind in test/. */
  test?: number;
  seed?: number;
}

export function writeSyntheticDataset(root: string, o: SyntheticDatasetOptions = {}): string {
  const name = o.name ?? "Toy";
  const size = o.size ?? 64;
  const seed = o.seed ?? 1;
  const base = join(root, `${name}_AD`);
  const png = (dir: string, file: string, rgb: Uint8Array) => {
    mkdirSync(dir, { recursive: true });
    const rgba = new Uint8Array(size * size * 4);
    for (let i = 0; i < size * size; i++) rgba.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
    writeFileAtomic(join(dir, file), encodePng(rgba, size, size));
  };
  let n = 0;
  for (const [split, count] of [["valid", o.valid ?? 4], ["test", o.test ?? 8]] as const) {
    for (let i = 0; i < count; i++) {
      png(join(base, split, "good", "img"), `${split}_${i}.png`, syntheticImage(size, false, seed * 100003 + n++).rgb);
      const bad = syntheticImage(size, true, seed * 100003 + n++);
      png(join(base, split, "Ungood", "img"), `${split}_${i}.png`, bad.rgb);
      png(join(base, split, "Ungood", "anomaly_mask"), `${split}_${i}.png`, Uint8Array.from(Array.from(bad.mask).flatMap((m) => [m * 255, m * 255, m * 255])));
    }
  }
  return base;
}
