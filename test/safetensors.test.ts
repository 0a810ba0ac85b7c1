import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blobSource, bytesSource, ClipMPCADModel, urlSource, encodeSafetensors, halfToFloat, openSafetensors, SafetensorsError, SafetensorsFile } from "../src/index.js";
import { gpu } from "./helpers/gpu.js";

/** A safetensors file from a header object and a data length (for corrupting by hand). */
function raw(header: object, dataBytes: number): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

const open = (bytes: Uint8Array, name = "w.safetensors") => SafetensorsFile.open(bytesSource(bytes, name));

describe("safetensors", () => {
  it("round-trips F32 tensors with metadata", async () => {
    const a = Float32Array.from([1, -2, 3.5, 1e-30]);
    const f = await open(encodeSafetensors({ a: { shape: [2, 2], data: a }, b: { shape: [0], data: new Float32Array() } }, { note: "x" }));
    expect(Array.from(await f.read("a"))).toEqual(Array.from(a));
    expect(f.info("a").shape).toEqual([2, 2]);
    expect(f.metadata).toEqual({ note: "x" });
    expect((await f.read("b")).length).toBe(0);
  });

  it("widens F16 and BF16 exactly", async () => {
    const bytes = raw({ h: { dtype: "F16", shape: [4], data_offsets: [0, 8] }, b: { dtype: "BF16", shape: [2], data_offsets: [8, 12] } }, 12);
    const dv = new DataView(bytes.buffer, bytes.length - 12);
    [0x3c00, 0xc000, 0x0001, 0x7bff].forEach((v, i) => dv.setUint16(2 * i, v, true)); // 1, -2, 2^-24, 65504
    dv.setUint16(8, 0x3f80, true); // 1
    dv.setUint16(10, 0xc0a0, true); // -5
    const f = await open(bytes);
    expect(Array.from(await f.read("h"))).toEqual([1, -2, 2 ** -24, 65504]);
    expect(Array.from(await f.read("b"))).toEqual([1, -5]);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
  });

  it("refuses corrupt files with messages naming the file and tensor", async () => {
    await expect(open(new Uint8Array(4))).rejects.toThrow(/w.safetensors: 4 bytes is too short/);
    const tooLong = raw({}, 0);
    new DataView(tooLong.buffer).setBigUint64(0, 1000n, true);
    await expect(open(tooLong)).rejects.toThrow(/header claims 1000 bytes.*truncated/);
    const badJson = Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 0x3a, 0x7d]); // header ":}"
    await expect(open(badJson)).rejects.toThrow(/header is not valid JSON/);
    await expect(open(raw({ x: { dtype: "F8", shape: [1], data_offsets: [0, 1] } }, 1))).rejects.toThrow(/tensor "x" has unknown dtype "F8"/);
    await expect(open(raw({ x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8))).rejects.toThrow(/tensor "x": shape \[3\] of F32 needs 12 bytes, its offsets give 8/);
    await expect(open(raw({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8))).rejects.toThrow(/tensor "x" ends at byte 16 of the data, but the file holds 8: truncated/);
    await expect(
      open(raw({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, y: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, 12)),
    ).rejects.toThrow(/tensors "x" and "y" overlap/);
    await expect(open(raw({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }, 0))).rejects.toThrow(/tensor "x" has an invalid shape/);
    const f = await open(raw({ ids: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, 8));
    await expect(f.read("ids")).rejects.toThrow(/tensor "ids" is I64; weights must be F32, F16 or BF16/);
    await expect(f.read("missing")).rejects.toThrow(/w.safetensors: tensor "missing" is missing/);
    await expect(openSafetensors("/nonexistent.safetensors")).rejects.toThrow(/\/nonexistent.safetensors: cannot be opened \(ENOENT\)/);
  });

  it("refuses mismatched checkpoints: adapters of another width, a non-CLIP file", async () => {
    const rt = await gpu();
    const dir = "test/fixtures/model";
    const clip = await openSafetensors(join(dir, "clip-b.safetensors"));
    const wrong = await openSafetensors(join(dir, "adapters-a.safetensors"));
    await expect(ClipMPCADModel.load(rt, { clip, adapters: wrong, imageSize: 28, levels: [2, 4, 6, 8] })).rejects.toThrow(
      /adapters-a.safetensors: tensor "seg_adapters.0.fc1.0.weight" has shape \[32, 64\], expected \[48, 96\] for a CLIP of width 96/,
    );
    const tmp = join(mkdtempSync(join(tmpdir(), "st-")), "other.safetensors");
    writeFileSync(tmp, encodeSafetensors({ "encoder.weight": { shape: [1], data: new Float32Array(1) } }));
    const other = await openSafetensors(tmp);
    await expect(ClipMPCADModel.load(rt, { clip: other, adapters: wrong })).rejects.toThrow(/other.safetensors: neither "visual.conv1.weight".*is it a CLIP checkpoint\?/);
    await expect(ClipMPCADModel.load(rt, { clip, adapters: clip })).rejects.toThrow(/not a ClipMPCAD adapter checkpoint/);
    for (const f of [clip, wrong, other]) await f.close();
  });

  it("streams from a URL with Range requests and from a Blob", async () => {
    const bytes = encodeSafetensors({ a: { shape: [3], data: Float32Array.from([1, 2, 3]) }, b: { shape: [2], data: Float32Array.from([4, 5]) } });
    const ranges: string[] = [];
    const server = createServer((req, res) => {
      const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
      if (req.url !== "/w.safetensors") return void res.writeHead(404).end();
      if (!m) return void res.writeHead(200).end(Buffer.from(bytes));
      ranges.push(req.headers.range!);
      const [a, b] = [Number(m[1]), Math.min(Number(m[2]), bytes.length - 1)];
      res.writeHead(206, { "Content-Range": `bytes ${a}-${b}/${bytes.length}` }).end(Buffer.from(bytes.subarray(a, b + 1)));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const f = await SafetensorsFile.open(await urlSource(`${base}/w.safetensors`));
      expect(Array.from(await f.read("b"))).toEqual([4, 5]);
      expect(ranges.length).toBeGreaterThanOrEqual(3); // size probe, length, header, one tensor
      await expect(urlSource(`${base}/missing`)).rejects.toThrow(/answered 404 to a Range request/);
    } finally {
      server.close();
    }
    const fb = await SafetensorsFile.open(blobSource(new Blob([bytes]), "upload.safetensors"));
    expect(Array.from(await fb.read("a"))).toEqual([1, 2, 3]);
  });
});
