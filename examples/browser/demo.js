// The demo page: everything runs in a Web Worker (dist/worker.js) on this browser's WebGPU.
// Served from the repository root (`npm run serve`), it imports the built bundle.
import { DetectorWorker, domainPromptSet, syntheticSet } from "../../dist/browser.js";

const $ = (id) => document.getElementById(id);
const status = (text) => ($("status").textContent = text);
const worker = DetectorWorker.create(new URL("../../dist/worker.js", import.meta.url));

let model = null; // { imageSize, canZeroShot }
let normals = []; // Blobs/Files or RGB pixels
let query = null;
let running = null; // AbortController of the current job

const onProgress = (done, total, stage) => {
  $("progress").max = total || 1;
  $("progress").value = done;
  status(`${stage}: ${done} / ${total}`);
};

function drawPixels(canvas, px) {
  canvas.width = px.width;
  canvas.height = px.height;
  const rgba = new Uint8ClampedArray(px.width * px.height * 4);
  for (let i = 0; i < px.width * px.height; i++) {
    rgba.set(px.rgb.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba[4 * i + 3] = 255;
  }
  canvas.getContext("2d").putImageData(new ImageData(rgba, px.width, px.height), 0, 0);
}

async function showThumbs() {
  const box = $("normal-thumbs");
  box.replaceChildren();
  for (const n of normals) {
    const c = document.createElement("canvas");
    drawPixels(c, "rgb" in n ? n : await worker.decode(n));
    box.append(c);
  }
  if (query) drawPixels($("query"), "rgb" in query ? query : await worker.decode(query));
  $("detect").disabled = !(model && normals.length && query);
}

async function load() {
  const url = $("model-url").value.trim();
  $("detect").disabled = true;
  status(url ? `loading ${url}` : "building the random demo model");
  try {
    model = url ? await worker.load({ model: url }, { onProgress }) : await worker.random({ imageSize: 64 });
    status(`ready on ${model.adapter || "WebGPU"}: image size ${model.imageSize}${model.canZeroShot ? "" : " (few-shot maps only: no vocabulary)"}`);
  } catch (e) {
    model = null;
    status(`could not load the model: ${e.message}`);
  }
  await showThumbs();
}

async function detect() {
  running = new AbortController();
  const run = { onProgress, signal: running.signal };
  $("detect").disabled = true;
  $("cancel").disabled = false;
  try {
    if (model.canZeroShot) {
      const domain = $("prompt-set").value;
      await worker.setClass($("class-name").value || "object", { prompts: domain ? domainPromptSet(domain) : undefined }, run);
    }
    await worker.fit(normals, {}, run);
    const p = await worker.predict(query, { explain: true }, run);
    const h = await worker.heatmap(query, p.map);
    const c = $("heatmap");
    c.width = h.width;
    c.height = h.height;
    c.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(h.rgba), h.width, h.height), 0, 0);
    $("score").textContent = `score ${p.score.toFixed(3)}${p.scoreScaled === undefined ? "" : ` (z ${p.scoreScaled.toFixed(2)} against the normal shots)`}`;
    const e = p.explanation;
    $("details").textContent = e
      ? `hottest pixel (${e.x}, ${e.y}), driven by level ${e.drivingLevel}\n` + e.levels.map((l) => `level ${l.level}: nearest normal patch in shot ${l.nearest.shot + 1} (${l.nearest.augmentation}), cosine ${l.nearest.similarity.toFixed(3)}`).join("\n")
      : "";
    status("done");
    document.body.dataset.state = "done";
  } catch (e) {
    status(running.signal.aborted ? "cancelled" : `failed: ${e.message}`);
  } finally {
    running = null;
    $("cancel").disabled = true;
    $("detect").disabled = false;
  }
}

function takeFiles(files) {
  const list = [...files].filter((f) => f.type.startsWith("image/"));
  if (list.length === 0) return;
  // dropped: the last one is the query when there is none yet, the rest are normal shots
  if (!query && list.length > 1) query = list.pop();
  normals = list;
  showThumbs();
}

$("load").onclick = load;
$("detect").onclick = detect;
$("cancel").onclick = () => running?.abort();
$("normal-files").onchange = (e) => {
  normals = [...e.target.files];
  showThumbs();
};
$("query-file").onchange = (e) => {
  query = e.target.files[0] ?? null;
  showThumbs();
};
$("use-synthetic").onclick = () => {
  const size = model?.imageSize ?? 64;
  const set = syntheticSet(size, 4, 1, 7);
  const px = (s) => ({ width: size, height: size, rgb: s.rgb });
  normals = set.support.map(px);
  query = px(set.test.find((t) => t.anomalous));
  showThumbs();
};
const drop = $("drop");
drop.ondragover = (e) => {
  e.preventDefault();
  drop.classList.add("over");
};
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  takeFiles(e.dataTransfer.files);
};

const params = new URLSearchParams(location.search);
if (params.get("model")) $("model-url").value = params.get("model");
load();
