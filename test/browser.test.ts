// The package in a real browser: Debian's headless Chromium (through playwright-core, never a
// downloaded browser) on SwiftShader's WebGPU, pages served from 127.0.0.1. The trace of the
// tiny fixture model, run in the detector worker, must equal the Node trace; the demo page
// must show a heatmap.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrace } from "../src/index.js";
// @ts-expect-error: a plain ESM script without types
import { startServer } from "../scripts/serve.mjs";
import { maxAbs, relL2 } from "./helpers/compare.js";
import { gpu } from "./helpers/gpu.js";
import { SHARED, sharedFile, VOCAB_GZ } from "./helpers/shared.js";

const CHROMIUM = process.env.CLIPMPCAD_CHROMIUM ?? "/usr/bin/chromium";
// The flags of shared/ENVIRONMENT.md: WebGPU on SwiftShader, headless, nothing phoning home.
const ARGS = ["--no-sandbox", "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-webgpu-adapter=swiftshader", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let browser: Browser;
let server: { url: string; close(): Promise<void> };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (apt-get install -y chromium), or set CLIPMPCAD_CHROMIUM`);
  if (!existsSync("dist/worker.js")) throw new Error("dist/worker.js is missing: npm test builds it (tsup) before vitest");
  server = await startServer(process.cwd(), 0, SHARED);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("in Chromium", () => {
  it("the worker's trace of the fixture model equals the Node trace", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${server.url}/test/browser/trace.html`);
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready");
    expect(await page.evaluate(() => (window as unknown as { adapterInfo(): Promise<string | null> }).adapterInfo())).toMatch(/swiftshader|google/i);
    const c = JSON.parse(readFileSync("test/fixtures/model/cases.json", "utf8")).cases.a;
    const dir = "test/fixtures/model";
    const opts = {
      clip: `${dir}/clip-a.safetensors`,
      adapters: `${dir}/adapters-a.safetensors`,
      className: c.classname,
      imageSize: c.S,
      levels: c.levels,
      normalize: c.norm,
      support: c.support.map((f: string) => `${dir}/${f}`),
      query: c.queries.map((f: string) => `${dir}/${f}`),
    };
    const inBrowser = page.evaluate(
      (o) => (window as unknown as { trace(o: unknown): Promise<{ tensors: Record<string, { shape: number[]; data: number[] }>; stages: string[] }> }).trace(o),
      { ...opts, clip: `/${opts.clip}`, adapters: `/${opts.adapters}`, vocab: `/shared/${VOCAB_GZ}`, support: opts.support.map((f: string) => `/${f}`), query: opts.query.map((f: string) => `/${f}`) },
    );
    const inNode = await runTrace(await gpu(), { ...opts, vocab: sharedFile(VOCAB_GZ) });
    const got = await inBrowser;
    expect(errors).toEqual([]);
    expect(got.stages.some((s) => s.startsWith("download clip-a.safetensors") || s.startsWith("cache clip-a.safetensors"))).toBe(true);
    expect(Object.keys(got.tensors).sort()).toEqual(Object.keys(inNode).sort());
    for (const [key, want] of Object.entries(inNode)) {
      const g = got.tensors[key];
      expect(g.shape, key).toEqual(want.shape);
      // the model issue's tolerances: maps and scores 1e-3 absolute, the rest 1e-4 relative L2
      if (/seg_map|det_score/.test(key)) expect(maxAbs(g.data, want.data), key).toBeLessThan(1e-3);
      else expect(relL2(g.data, want.data), key).toBeLessThan(1e-4);
    }
    // the second visit reads the weights from the Cache API, not the network
    const cached = await page.evaluate(async () => {
      const names = (await caches.open("clipmpcad-gpu-models-v1").then((c) => c.keys())).map((r) => new URL(r.url).pathname);
      return names.sort();
    });
    expect(cached).toContain(`/${opts.clip}`);
    await page.close();
  });

  it("the worker loads a model by URL, trains, fits and predicts as Node does", async () => {
    const { ClipMPCAD } = await import("../src/index.js");
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/test/browser/trace.html`);
      await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready");
      const dir = "test/fixtures/model";
      const settings = { imageSize: 28, levels: [2, 4], normalize: "imagenet" as const };
      const got = await page.evaluate(
        (o) => (window as unknown as { detect(o: unknown): Promise<{ info: { canZeroShot: boolean }; trained: { losses: number[] }; score: number; scoreZero: number; scoreFew: number; map: number[] }> }).detect(o),
        {
          load: { clip: `/${dir}/clip-b.safetensors`, adapters: `/${dir}/adapters-b.safetensors`, vocab: `/shared/${VOCAB_GZ}`, ...settings },
          className: "Brain",
          // on-device training in the worker: one epoch of an abnormal and a normal shot
          train: { abnormal: [{ image: `/${dir}/b-query-0.png` }], normal: [`/${dir}/b-support-0.png`], epochs: 1, augment: false },
          normal: [`/${dir}/b-support-0.png`],
          query: `/${dir}/b-query-0.png`,
        },
      );
      const det = await ClipMPCAD.load({ clip: `${dir}/clip-b.safetensors`, adapters: `${dir}/adapters-b.safetensors`, vocab: sharedFile(VOCAB_GZ), ...settings, runtime: await gpu() });
      await det.setClass("Brain");
      const trained = await det.train({ abnormal: [{ image: `${dir}/b-query-0.png` }], normal: [`${dir}/b-support-0.png`], epochs: 1, augment: false });
      expect(Math.abs(got.trained.losses[0] - trained.losses[0])).toBeLessThan(1e-4 * Math.abs(trained.losses[0]));
      await det.fit([`${dir}/b-support-0.png`]);
      const want = await det.predict(`${dir}/b-query-0.png`);
      det.dispose();
      expect(got.info.canZeroShot).toBe(true);
      expect(Math.abs(got.scoreZero - want.scoreZero!)).toBeLessThan(1e-3);
      expect(Math.abs(got.scoreFew - want.scoreFew)).toBeLessThan(1e-3);
      expect(maxAbs(got.map, want.map)).toBeLessThan(1e-3);
    } finally {
      await page.close();
    }
  });

  it("cache and private store management; a cross-origin file without CORS is refused clearly", async () => {
    const other = await startServer(process.cwd(), 0, SHARED); // another port: another origin, no CORS headers
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/test/browser/trace.html`);
      await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready");
      const r = await page.evaluate(async (foreign) => {
        const lib = (window as unknown as { lib: typeof import("../src/browser.js") }).lib;
        const cors = await lib.cachedFile(foreign).then(() => "fetched", (e: Error) => `${e.name}: ${e.message}`);
        const progress: string[] = [];
        const url = new URL("/test/fixtures/model/adapters-b.safetensors", location.href).href;
        await lib.deleteCachedFile(url);
        const first = await lib.cachedFile(url, { onProgress: (d, t, s) => progress.push(`${s} ${d}/${t}`) });
        const second = await lib.cachedFile(url, { onProgress: (d, t, s) => progress.push(`${s} ${d}/${t}`) });
        const listed = (await lib.listCachedFiles()).find((e) => e.url === url);
        const deleted = await lib.deleteCachedFile(url);
        const after = (await lib.listCachedFiles()).some((e) => e.url === url);
        await lib.storeDetector("unit-test", new Uint8Array([1, 2, 3]));
        const stored = await lib.listStoredDetectors();
        const back = new Uint8Array(await (await lib.storedDetector("unit-test")).arrayBuffer());
        const removed = await lib.deleteStoredDetector("unit-test");
        const missing = await lib.storedDetector("unit-test").then(() => "found", (e: Error) => e.message);
        const storage = await lib.storageReport();
        return { cors, progress, sizes: [first.size, second.size], listed, deleted, after, stored, back: Array.from(back), removed, missing, quota: storage.quota };
      }, `${other.url}/test/fixtures/model/clip-b.safetensors`);
      expect(r.cors).toMatch(/^ModelCacheError: .*clip-b.safetensors: the request failed before any response .*Access-Control-Allow-Origin \(CORS\)/);
      const size = readFileSync("test/fixtures/model/adapters-b.safetensors").length;
      expect(r.sizes).toEqual([size, size]);
      expect(r.progress[r.progress.length - 2]).toBe(`download adapters-b.safetensors ${size}/${size}`);
      expect(r.progress[r.progress.length - 1]).toBe(`cache adapters-b.safetensors ${size}/${size}`);
      expect(r.listed?.bytes).toBe(size);
      expect([r.deleted, r.after]).toEqual([true, false]);
      expect(r.stored).toContainEqual({ name: "unit-test", bytes: 3 });
      expect([r.back, r.removed]).toEqual([[1, 2, 3], true]);
      expect(r.missing).toMatch(/no stored detector "unit-test"/);
      expect(r.quota).toBeGreaterThan(0);
    } finally {
      await page.close();
      await other.close();
    }
  });

  it("the demo page runs the random model on a synthetic example and shows a heatmap", async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${server.url}/examples/browser/`);
    await page.waitForFunction(() => /^ready/.test(document.getElementById("status")?.textContent ?? ""), undefined, { timeout: 60_000 });
    await page.click("#use-synthetic");
    await page.waitForFunction(() => !(document.getElementById("detect") as HTMLButtonElement).disabled);
    await page.click("#detect");
    await page.waitForFunction(() => document.body.dataset.state === "done" || /failed/.test(document.getElementById("status")?.textContent ?? ""), undefined, { timeout: 240_000 });
    expect(await page.textContent("#status")).toBe("done");
    expect(await page.textContent("#score")).toMatch(/^score \d+\.\d{3}/);
    expect(errors).toEqual([]);
    // the heatmap canvas: jet colours over a grey texture, so many strongly coloured pixels
    const shot = PNG.sync.read(await page.locator("#heatmap").screenshot());
    let coloured = 0;
    for (let i = 0; i < shot.width * shot.height; i++) {
      const [r, g, b] = [shot.data[4 * i], shot.data[4 * i + 1], shot.data[4 * i + 2]];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
    }
    expect(coloured / (shot.width * shot.height)).toBeGreaterThan(0.3);
    await page.screenshot({ path: join("dist", "demo-page.png") });
    await page.close();
  });
});
