/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --no-peers] [-- --no-kernels] [-- --torch-device cuda]`
 *
 * What users pick this library for, side by side with what they would use instead, on the
 * same WebGPU adapter in the same process, interleaved (ours, peer, ours, peer, ...), after a
 * warm-up call of each (pipelines compiled). Peers: tfjs-webgpu, onnxruntime-web's WebGPU EP
 * (both through Dawn's globals on Node), and PyTorch on the CPU (Debian's python3-torch, in a
 * subprocess). A peer that cannot run is reported with the reason. Ratios are peer time /
 * our time (above 1: we are faster). Then: the per-kernel table (bench/kernels.ts), model
 * forwards, and the flat-memory check (50 forwards allocate nothing after the first).
 *
 * --smoke: tiny shapes, only to check that every part runs (test/bench.test.ts).
 * Quick (under 3 minutes on SwiftShader): ViT block shapes at T = 290, W = 512 (8 heads),
 * one timed call each; the kernel table in its quick form. Full: W = 1024 (ViT-L/14 at
 * 240 px), 3 interleaved calls each, the whole ClipMPCAD vision forward at batch 1 and 8 on
 * a random full-size model, PyTorch's forward too (about an hour on SwiftShader).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { attention, ClipMPCAD, createRuntime, formatAdapterReport, linear, randomCheckpoints, syntheticSet, type Runtime, type Tensor } from "../src/index.js";
import { transformerBlock } from "../src/model/transformer-block.js";
import { ortPeer } from "./peers/ort.js";
import type { BlockShape, Peer, Prepared } from "./peers/peer.js";
import { tfjsPeer } from "./peers/tfjs.js";
import { rand } from "./random.js";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke"); // tiny shapes: checks that every part runs (the test suite uses it)
const quick = args.includes("--quick") || smoke;
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const jsonPath = flag("--json") ?? `bench/results/${smoke ? "smoke" : quick ? "quick" : "full"}.json`;
const shape: BlockShape = smoke ? { T: 17, W: 64, heads: 1 } : quick ? { T: 290, W: 512, heads: 8 } : { T: 290, W: 1024, heads: 16 };
const { T, W } = shape;


const rt = await createRuntime();
console.log(formatAdapterReport(rt.adapter));
const rounds = quick ? 1 : 3;
const t0 = performance.now();

/** Our side of a case: record, submit, read back (as the peers do). */
function ours(make: () => Tensor, keep: Tensor[] = []): Prepared {
  return {
    run: async () => {
      const y = make();
      await y.read();
      y.dispose();
    },
    dispose: () => keep.forEach((t) => t.dispose()),
  };
}

// ---- peers
const peers: Peer[] = [];
const notes: string[] = [];
if (!args.includes("--no-peers")) {
  for (const [name, make] of [["tfjs-webgpu", tfjsPeer], ["onnxruntime-web", ortPeer]] as const) {
    try {
      peers.push(await make());
    } catch (e) {
      notes.push(`${name} could not run: ${(e as Error).message.split("\n")[0]}`);
    }
  }
}

interface CaseResult {
  case: string;
  shape: string;
  gflop: number;
  ms: Record<string, number>;
}
const cases: CaseResult[] = [];

const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** impls: each side's preparation, started only when its turn comes (a failing peer is noted, not fatal). */
type Prepare = (() => Prepared | Promise<Prepared>) | undefined;

async function compare(name: string, shapeText: string, gflop: number, impls: [string, Prepare][]) {
  const ready: [string, Prepared][] = [];
  for (const [who, prepare] of impls) {
    if (!prepare) continue;
    try {
      const prepared = await prepare();
      await prepared.run(); // warm-up: compiles pipelines, first allocations
      ready.push([who, prepared]);
    } catch (e) {
      notes.push(`${who} failed on ${name}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const times: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [who, p] of ready) {
      const s = performance.now();
      await p.run();
      (times[who] ??= []).push(performance.now() - s);
    }
  }
  for (const [, p] of ready) p.dispose();
  const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  cases.push({ case: name, shape: shapeText, gflop, ms });
  console.error(`  ${name}: ${Object.entries(ms).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ")}`);
}

/** A peer's preparation of a case, when the peer runs and offers that case. */
function side(name: string, make: (p: Peer) => Prepared | Promise<Prepared> | undefined): Prepare {
  const p = peers.find((q) => q.name === name);
  if (!p) return undefined;
  return async () => {
    const prepared = await make(p);
    if (!prepared) throw new Error("not offered");
    return prepared;
  };
}
const x = rt.tensor(rand(T * W, 1), [T, W], "f32", "x");

console.error("comparing (median of interleaved calls):");
for (const [name, N, K] of [
  ["linear qkv", 3 * W, W],
  ["linear out", W, W],
  ["linear fc", 4 * W, W],
  ["linear proj", W, 4 * W],
] as [string, number, number][]) {
  const input = K === W ? x : rt.tensor(rand(T * K, 2), [T, K]);
  const w = rt.tensor(rand(N * K, 3, K ** -0.5), [N, K]);
  const b = rt.tensor(rand(N, 4, 0.02), [N]);
  const c = { M: T, K, N };
  await compare(name, `${T}x${K} @ ${K}x${N}`, (2 * T * K * N) / 1e9, [
    ["ours", () => ours(() => linear(rt, input, w, { bias: b }), input === x ? [w, b] : [input, w, b])],
    ["tfjs-webgpu", side("tfjs-webgpu", (p) => p.linear?.(c))],
    ["onnxruntime-web", side("onnxruntime-web", (p) => p.linear?.(c))],
  ]);
}

{
  const qkv = rt.tensor(rand(T * 3 * W, 5), [1, T, 3 * W], "f32", "qkv");
  await compare("attention", `T ${T}, ${shape.heads} heads x ${W / shape.heads}`, (4 * T * T * W) / 1e9, [
    ["ours", () => ours(() => attention(rt, qkv, { heads: shape.heads }), [qkv])],
    ["tfjs-webgpu", side("tfjs-webgpu", (p) => p.attention?.(shape))],
  ]);
}

{
  const t = (dims: number[], seed: number, scale: number, base = 0) => rt.tensor(rand(dims.reduce((a, b) => a * b, 1), seed, scale).map((v) => v + base), dims);
  const wts = {
    ln1: [t([W], 6, 0.1, 1), t([W], 7, 0.05)] as [Tensor, Tensor],
    inProj: [t([3 * W, W], 8, W ** -0.5), t([3 * W], 9, 0.02)] as [Tensor, Tensor],
    outProj: [t([W, W], 10, W ** -0.5), t([W], 11, 0.02)] as [Tensor, Tensor],
    ln2: [t([W], 12, 0.1, 1), t([W], 13, 0.05)] as [Tensor, Tensor],
    fc: [t([4 * W, W], 14, W ** -0.5), t([4 * W], 15, 0.02)] as [Tensor, Tensor],
    proj: [t([W, 4 * W], 16, (4 * W) ** -0.5), t([W], 17, 0.02)] as [Tensor, Tensor],
  };
  const xb = rt.tensor(rand(T * W, 18), [T, W], "f32", "block x");
  const blockFlops = (2 * T * W * 12 * W + 4 * T * T * W) / 1e9;
  await compare("ViT block", `T ${T}, W ${W}, ${shape.heads} heads`, blockFlops, [
    [
      "ours",
      () => ({
        run: async () => {
          transformerBlock(rt, xb, wts, { batch: 1, tokens: T, heads: shape.heads, activation: "quickGelu" });
          await xb.read();
        },
        dispose: () => [xb, ...Object.values(wts).flat()].forEach((v) => v.dispose()),
      }),
    ],
    ["tfjs-webgpu", side("tfjs-webgpu", (p) => p.block?.(shape))],
    ["onnxruntime-web", side("onnxruntime-web", (p) => p.block?.(shape))],
  ]);
}
x.dispose();

// ---- PyTorch on the CPU, same shapes
let torch: { torch: string; threads: number; device: string; ms: Record<string, number> } | null = null;
const torchName = `pytorch-${flag("--torch-device") ?? "cpu"}`;
if (!args.includes("--no-peers")) {
  const py = process.env.CLIPMPCAD_PYTHON ?? "/usr/bin/python3";
  const device = flag("--torch-device") ?? "cpu";
  if (!existsSync(py)) notes.push(`PyTorch not run: ${py} is missing (apt-get install -y python3-torch, or set CLIPMPCAD_PYTHON)`);
  else {
    const script = process.env.CLIPMPCAD_TORCH_PEER ?? "bench/peers/torch_peer.py";
    const r = spawnSync(py, [script, "--T", String(T), "--W", String(W), "--heads", String(shape.heads), "--reps", String(rounds), "--device", device, ...(quick ? [] : ["--forward", "--batch8"])], { encoding: "utf8", timeout: 3_600_000 });
    if (r.status === 0) torch = JSON.parse(r.stdout.trim().split("\n").pop()!);
    else notes.push(`PyTorch (CPU) not run: ${/No module named 'torch'/.test(r.stderr) ? "python3-torch is not installed (apt-get install -y python3-torch)" : r.stderr.trim().split("\n").pop()}`);
  }
  if (torch) for (const c of cases) if (torch.ms[c.case] !== undefined) c.ms[torchName] = torch.ms[c.case];
}

// ---- the whole vision forward (full run) and flat memory
const model: Record<string, number | string | boolean> = {};
{
  // 50 forwards of a small model: the pool must not grow after the first
  const det = await ClipMPCAD.random({ runtime: rt, imageSize: 64 });
  const set = syntheticSet(64, 2, 1, 3);
  const imgs = await det.images(set.support.map((s) => ({ width: 64, height: 64, rgb: s.rgb })));
  const forward = async () => {
    const v = det.model.forward(imgs);
    await v.seg[0].read();
    for (const t of [...v.seg, ...v.det]) t.dispose();
  };
  await forward();
  const after1 = rt.stats().allocations;
  for (let i = 1; i < 50; i++) await forward();
  const after50 = rt.stats().allocations;
  model["flat memory"] = after50 === after1;
  model["allocations after 1 / 50 forwards"] = `${after1} / ${after50}`;
  imgs.dispose();
  det.dispose();
}
if (!quick || smoke) {
  const vit = smoke ? { width: 64, layers: 2, embed: 32, patch: 8, grid: 4, levels: 2, text: { width: 64, layers: 1 } } : { width: 1024, layers: 24, embed: 768, patch: 14, grid: 24, levels: 4, text: { width: 768, layers: 12 } };
  const S = vit.patch * vit.grid;
  const levels = Array.from({ length: vit.levels }, (_, i) => ((i + 1) * vit.layers) / vit.levels);
  const t1 = performance.now();
  const vocab = join(process.env.CLIPMPCAD_SHARED ?? "../shared", "data/clip/bpe_simple_vocab_16e6.txt.gz");
  const withText = existsSync(vocab);
  if (!withText) notes.push(`text features not timed: ${vocab} is missing (set CLIPMPCAD_SHARED)`);
  const { clip, adapters } = randomCheckpoints({ ...vit, text: withText ? vit.text : undefined }, 1);
  const t2 = performance.now();
  const det = await ClipMPCAD.load({ clip, adapters, vocab: withText ? vocab : undefined, imageSize: smoke ? S : 240, levels, runtime: rt });
  model[`load ${smoke ? "tiny model" : "ViT-L/14"} (random, from memory) ms`] = performance.now() - t2;
  model["random weights made in ms"] = t2 - t1;
  if (withText) {
    const t3 = performance.now();
    await det.setClass("Brain");
    model["text features, base ensemble (ms)"] = performance.now() - t3;
  }
  for (const batch of [1, 8]) {
    const side = det.imageSize;
    const imgs = rt.tensor(rand(batch * 3 * side * side, 20 + batch), [batch, 3, side, side]);
    const s = performance.now();
    const v = det.model.forward(imgs);
    await v.seg[v.seg.length - 1].read();
    model[`forward b${batch} ms per image`] = (performance.now() - s) / batch;
    for (const t of [imgs, ...v.seg, ...v.det]) t.dispose();
  }
  if (torch?.ms["forward b1"]) model[`${torchName} forward b1 ms`] = torch.ms["forward b1"];
  if (torch?.ms["forward b8 per image"]) model[`${torchName} forward b8 ms per image`] = torch.ms["forward b8 per image"];
  det.dispose();
}
model["peak GPU memory MiB"] = rt.stats().peakBytesInUse / 2 ** 20;

// ---- the per-kernel table
let kernels: unknown = null;
if (!args.includes("--no-kernels") && !smoke) {
  const out = `${jsonPath}.kernels.json`;
  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync(process.execPath, ["--import", "tsx", "--import", "./scripts/wgsl-hooks.mjs", "bench/kernels.ts", "--skip-compared", ...(quick ? ["--quick"] : []), "--json", out], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status === 0 && existsSync(out)) kernels = JSON.parse(readFileSync(out, "utf8"));
  else notes.push(`kernel table failed (exit ${r.status})`);
}

// ---- report
const who = ["ours", ...peers.map((p) => p.name), ...(torch ? [torchName] : [])];
const header = ["case", "shape", ...who.map((w) => `${w} ms`), "ours GFLOP/s", ...who.slice(1).map((w) => `${w} / ours`)];
const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`];
for (const c of cases) {
  const cell = (w: string) => (c.ms[w] === undefined ? "-" : c.ms[w].toFixed(0));
  const ratio = (w: string) => (c.ms[w] === undefined || !c.ms.ours ? "-" : `${(c.ms[w] / c.ms.ours).toFixed(2)}x`);
  lines.push(`| ${[c.case, c.shape, ...who.map(cell), c.ms.ours ? (c.gflop / (c.ms.ours / 1000)).toFixed(2) : "-", ...who.slice(1).map(ratio)].join(" | ")} |`);
}
console.log(`\n${lines.join("\n")}\n`);
for (const [k, v] of Object.entries(model)) console.log(`${k}: ${typeof v === "number" ? v.toFixed(1) : v}`);
for (const n of notes) console.log(`note: ${n}`);
const result = {
  date: new Date().toISOString(),
  mode: smoke ? "smoke" : quick ? "quick" : "full",
  adapter: rt.adapter,
  shape,
  rounds,
  peers: [...peers.map((p) => ({ name: p.name, version: p.version })), ...(torch ? [{ name: torchName, version: torch.torch, threads: torch.threads }] : [])],
  cases,
  model,
  kernels,
  notes,
  seconds: (performance.now() - t0) / 1000,
};
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify(result, null, 2));
console.log(`wrote ${jsonPath} (${result.seconds.toFixed(0)} s)`);
rt.dispose();
process.exit(0); // the peers' devices keep Dawn's event loop alive
