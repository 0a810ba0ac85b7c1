/** Central differences of f with respect to every entry of v (changed in place, restored). */
export function centralDifferences(v: Float64Array, f: () => number, h: number): Float64Array {
  const out = new Float64Array(v.length);
  for (let j = 0; j < v.length; j++) {
    const keep = v[j];
    v[j] = keep + h;
    const up = f();
    v[j] = keep - h;
    const down = f();
    v[j] = keep;
    out[j] = (up - down) / (2 * h);
  }
  return out;
}
