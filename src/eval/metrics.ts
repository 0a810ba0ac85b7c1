/**
 * Detection metrics. AUROC is the exact Mann-Whitney area with ties counted half (as
 * scikit-learn's roc_auc_score), by sorting once: O(n log n), fine for millions of pixels.
 * Average precision follows scikit-learn's average_precision_score (step interpolation over
 * distinct thresholds).
 */

export class MetricError extends Error {
  override name = "MetricError";
}

function check(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, what: string): { pos: number; neg: number } {
  if (scores.length !== labels.length) throw new MetricError(`${what}: ${scores.length} scores but ${labels.length} labels`);
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    if (Number.isNaN(scores[i])) throw new MetricError(`${what}: score ${i} is NaN`);
    if (labels[i]) pos++;
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) throw new MetricError(`${what}: needs both normal and anomalous samples (got ${pos} anomalous, ${neg} normal)`);
  return { pos, neg };
}

/** Indices sorted by score, descending (ties in any order: the metrics group them). */
function order(scores: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  const s = Float64Array.from(scores as ArrayLike<number>);
  return idx.sort((a, b) => s[b] - s[a]);
}

/** Area under the ROC curve: P(score of an anomalous > a normal) + 0.5 P(equal). */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const { pos, neg } = check(scores, labels, "auroc");
  const idx = order(scores);
  // Walk groups of equal scores from the top: each normal sample in a group is beaten by
  // every anomalous one above it and ties (half) with the anomalous ones in its group.
  let posAbove = 0;
  let wins = 0; // sum over anomalous of normals below + half of tied normals
  let i = 0;
  while (i < idx.length) {
    let j = i;
    let p = 0;
    let n = 0;
    const s = scores[idx[i]];
    while (j < idx.length && scores[idx[j]] === s) {
      if (labels[idx[j]]) p++;
      else n++;
      j++;
    }
    wins += n * posAbove + 0.5 * n * p;
    posAbove += p;
    i = j;
  }
  return wins / (pos * neg);
}

/** Average precision: sum over thresholds of (recall step) x precision, as scikit-learn. */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const { pos } = check(scores, labels, "average precision");
  const idx = order(scores);
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < idx.length) {
    const s = scores[idx[i]];
    while (i < idx.length && scores[idx[i]] === s) {
      if (labels[idx[i]]) tp++;
      else fp++;
      i++;
    }
    const recall = tp / pos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

/** Min-max normalisation over all values of a set (spec 8); a constant set becomes zeros. */
export function minMaxNormalize(values: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(values.length);
  const span = hi - lo;
  if (span > 0) for (let i = 0; i < values.length; i++) out[i] = (values[i] - lo) / span;
  return out;
}

/** 8-connected components of a binary mask [height, width]: labels 1..n (0 background). */
export function labelRegions(mask: ArrayLike<number>, width: number, height: number): { labels: Int32Array; count: number } {
  const labels = new Int32Array(width * height);
  let count = 0;
  const stack: number[] = [];
  for (let start = 0; start < labels.length; start++) {
    if (!mask[start] || labels[start]) continue;
    labels[start] = ++count;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const y = Math.floor(p / width);
      const x = p % width;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || xx < 0 || yy >= height || xx >= width) continue;
          const q = yy * width + xx;
          if (mask[q] && !labels[q]) {
            labels[q] = count;
            stack.push(q);
          }
        }
    }
  }
  return { labels, count };
}

/**
 * Per-region overlap (MVTec AD): for each threshold, the mean over ground-truth regions
 * (8-connected, per image) of the fraction of the region above the threshold, against the
 * false-positive rate on normal pixels; the area under that curve up to `maxFpr` (0.3),
 * divided by maxFpr. One sort of all pixels, then a sweep: O(n log n).
 */
export function perRegionOverlap(maps: Float32Array[], masks: Uint8Array[], width: number, height: number, maxFpr = 0.3): number {
  if (maps.length !== masks.length) throw new MetricError(`pro: ${maps.length} maps but ${masks.length} masks`);
  const n = maps.length * width * height;
  const scores = new Float32Array(n);
  const region = new Int32Array(n); // global region id + 1, 0 for normal pixels
  const sizes: number[] = [0];
  maps.forEach((m, i) => {
    scores.set(m, i * width * height);
    const { labels, count } = labelRegions(masks[i], width, height);
    const base = sizes.length - 1;
    for (let k = 0; k < count; k++) sizes.push(0);
    for (let p = 0; p < labels.length; p++) {
      if (labels[p]) {
        region[i * width * height + p] = base + labels[p];
        sizes[base + labels[p]]++;
      }
    }
  });
  const regions = sizes.length - 1;
  let normals = 0;
  for (let p = 0; p < n; p++) if (!region[p]) normals++;
  if (regions === 0 || normals === 0) throw new MetricError(`pro: needs anomalous regions and normal pixels (got ${regions} regions, ${normals} normal pixels)`);
  const idx = order(scores);
  let fp = 0;
  let overlapSum = 0; // sum over regions of the covered fraction
  let prevFpr = 0;
  let prevPro = 0;
  let area = 0;
  let i = 0;
  while (i < n) {
    const s = scores[idx[i]];
    while (i < n && scores[idx[i]] === s) {
      const r = region[idx[i]];
      if (r) overlapSum += 1 / sizes[r];
      else fp++;
      i++;
    }
    const fpr = fp / normals;
    const pro = overlapSum / regions;
    if (fpr >= maxFpr) {
      // interpolate the last segment at maxFpr
      const t = fpr > prevFpr ? (maxFpr - prevFpr) / (fpr - prevFpr) : 0;
      area += (maxFpr - prevFpr) * (prevPro + (prevPro + t * (pro - prevPro))) / 2;
      return area / maxFpr;
    }
    area += ((fpr - prevFpr) * (prevPro + pro)) / 2;
    prevFpr = fpr;
    prevPro = pro;
  }
  return area / maxFpr;
}
