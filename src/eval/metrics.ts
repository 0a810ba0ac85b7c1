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
