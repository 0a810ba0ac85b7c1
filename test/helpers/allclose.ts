/**
 * Compares GPU output with a float64 reference: |got - want| <= atol + rtol * |want| for
 * every element. On failure the message shows the worst element and the first mismatches.
 */
import { expect } from "vitest";

export interface Tolerance {
  atol: number;
  rtol: number;
}

export function allclose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, what = "result"): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = -1;
  let worstExcess = -Infinity;
  const bad: string[] = [];
  let nBad = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const err = Math.abs(g - w);
    const limit = tol.atol + tol.rtol * Math.abs(w);
    const excess = Number.isNaN(g) !== Number.isNaN(w) ? Infinity : Number.isNaN(err) ? 0 : err - limit;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
    if (excess > 0) {
      nBad++;
      if (bad.length < 5) bad.push(`[${i}] got ${g} want ${w} (|diff| ${err.toExponential(2)} > ${limit.toExponential(2)})`);
    }
  }
  if (nBad > 0) {
    throw new Error(
      `${what}: ${nBad} of ${want.length} elements outside atol=${tol.atol}, rtol=${tol.rtol}; ` +
        `worst at [${worst}]: got ${got[worst]} want ${want[worst]}\n  ${bad.join("\n  ")}`,
    );
  }
}
