/**
 * tfjs with its WebGPU backend on Node (Dawn's globals and a navigator.gpu shim), on the same
 * adapter as our runtime: the linear shapes, matMul-softmax-matMul attention, and a ViT
 * block built from its ops (fused matMul with bias, softmax, moments LayerNorm, QuickGELU).
 */
import type { BlockShape, Peer, PeerCase } from "./peer.js";
import { installDawnGlobals } from "./peer.js";

type Tf = typeof import("@tensorflow/tfjs-core");
type T2 = import("@tensorflow/tfjs-core").Tensor2D;
type TAny = import("@tensorflow/tfjs-core").Tensor;

export async function tfjsPeer(): Promise<Peer> {
  installDawnGlobals();
  const tf: Tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) throw new Error("tfjs could not start its webgpu backend");
  await tf.ready();
  const rand = (shape: number[], scale: number) => tf.randomUniform(shape, -scale, scale, "float32", 7);
  const run = async (f: () => TAny) => {
    const out = f();
    await out.data();
    out.dispose();
  };
  return {
    name: "tfjs-webgpu",
    version: tf.version_core,
    linear(c: PeerCase) {
      const x = rand([c.M, c.K], 1) as T2;
      const w = rand([c.N, c.K], c.K ** -0.5) as T2;
      const b = rand([c.N], 0.02);
      return { run: () => run(() => tf.fused.matMul({ a: x, b: w, transposeB: true, bias: b })), dispose: () => tf.dispose([x, w, b]) };
    },
    attention(s: BlockShape) {
      const D = s.W / s.heads;
      const qkv = rand([s.T, 3 * s.W], 1) as T2;
      const f = () =>
        tf.tidy(() => {
          const [q, k, v] = tf.split(qkv, 3, -1).map((t) => tf.transpose(tf.reshape(t, [s.T, s.heads, D]), [1, 0, 2]));
          const p = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)));
          return tf.reshape(tf.transpose(tf.matMul(p, v), [1, 0, 2]), [s.T, s.W]);
        });
      return { run: () => run(f), dispose: () => qkv.dispose() };
    },
    block(s: BlockShape) {
      const W = s.W;
      const D = W / s.heads;
      const x = rand([s.T, W], 1) as T2;
      const w = {
        ln1: [tf.ones([W]), tf.zeros([W])],
        inProj: [rand([3 * W, W], W ** -0.5), rand([3 * W], 0.02)],
        out: [rand([W, W], W ** -0.5), rand([W], 0.02)],
        ln2: [tf.ones([W]), tf.zeros([W])],
        fc: [rand([4 * W, W], W ** -0.5), rand([4 * W], 0.02)],
        proj: [rand([W, 4 * W], (4 * W) ** -0.5), rand([W], 0.02)],
      };
      const ln = (v: TAny, g: TAny, b: TAny) => {
        const { mean, variance } = tf.moments(v, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
      };
      const lin = (v: TAny, [m, b]: TAny[]) => tf.fused.matMul({ a: v as T2, b: m as T2, transposeB: true, bias: b });
      const f = () =>
        tf.tidy(() => {
          const qkv = lin(ln(x, w.ln1[0], w.ln1[1]), w.inProj);
          const [q, k, v] = tf.split(qkv, 3, -1).map((t) => tf.transpose(tf.reshape(t, [s.T, s.heads, D]), [1, 0, 2]));
          const p = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)));
          const a = tf.reshape(tf.transpose(tf.matMul(p, v), [1, 0, 2]), [s.T, W]);
          const x1 = tf.add(x, lin(a, w.out));
          const m = lin(ln(x1, w.ln2[0], w.ln2[1]), w.fc);
          return tf.add(x1, lin(tf.mul(m, tf.sigmoid(tf.mul(m, 1.702))), w.proj));
        });
      return { run: () => run(f), dispose: () => tf.dispose([x, ...Object.values(w).flat()]) };
    },
  };
}
