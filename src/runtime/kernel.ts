/**
 * A kernel is WGSL source plus an entry point. Its binding layout and its `params` uniform
 * struct are read from the WGSL itself (wgsl_reflect), so the shader is the single definition
 * of both: a wrapper names the buffers and parameters it binds, and a missing, extra or
 * mistyped one is an error naming the kernel instead of a silent wrong answer.
 */
// The package's "main" is a CommonJS file inside a "type": "module" package, which Node
// refuses; its ESM build is this file (types: src/wgsl-reflect.d.ts).
import { ResourceType, WgslReflect } from "wgsl_reflect/wgsl_reflect.module.js";
import { ShapeError } from "./errors.js";

export type DType = "f32" | "u32" | "i32";

export interface KernelDef {
  /** Kernel family name, used in labels and errors ("matmul"). */
  readonly name: string;
  /** WGSL text: shared snippets first, then the kernel's own file. */
  readonly source: string;
  /** Entry point; "main" when omitted. */
  readonly entryPoint?: string;
  /**
   * Bindings that may be views into a larger buffer, each with the params field that receives
   * the view's element offset (filled in by the runtime). A view bound anywhere else is refused.
   */
  readonly offsets?: Readonly<Record<string, string>>;
}

export interface BindingInfo {
  name: string;
  binding: number;
  kind: "read-only-storage" | "storage" | "uniform";
  /** Element type of a storage array ("f32", "u32", "vec4<f32>"...), "" for the uniform. */
  element: string;
}

export interface ParamField {
  name: string;
  offset: number;
  type: "f32" | "u32" | "i32";
}

export interface KernelLayout {
  bindings: BindingInfo[];
  /** The `params` uniform's fields and byte size (0 when the kernel has none). */
  params: ParamField[];
  paramsSize: number;
  paramsBinding: number;
  workgroupSize: [number, number, number];
  overrides: string[];
}

const layoutCache = new WeakMap<KernelDef, KernelLayout>();

/** Concatenates shared snippets and a kernel file into one module. */
export function wgsl(...parts: string[]): string {
  return parts.join("\n");
}

function elementOf(typeName: string): string {
  const m = /^array<(.+?)(,\s*\d+)?>$/.exec(typeName.replace(/\s+/g, ""));
  return m ? m[1] : typeName;
}

export function reflectKernel(def: KernelDef): KernelLayout {
  const cached = layoutCache.get(def);
  if (cached) return cached;
  const entryName = def.entryPoint ?? "main";
  let reflect: WgslReflect;
  try {
    reflect = new WgslReflect(def.source);
  } catch (e) {
    throw new Error(`kernel ${def.name}: its WGSL does not parse: ${(e as Error).message}`);
  }
  const entry = reflect.entry.compute.find((f) => f.name === entryName);
  if (!entry) throw new Error(`kernel ${def.name}: no @compute entry point "${entryName}" in its WGSL`);
  const bindings: BindingInfo[] = [];
  let params: ParamField[] = [];
  let paramsSize = 0;
  let paramsBinding = -1;
  for (const r of entry.resources) {
    if (r.group !== 0) throw new Error(`kernel ${def.name}: only @group(0) is supported (${r.name})`);
    if (r.resourceType === ResourceType.Uniform) {
      if (r.name !== "params") throw new Error(`kernel ${def.name}: the uniform must be named params`);
      paramsBinding = r.binding;
      paramsSize = Math.ceil(r.size / 16) * 16;
      params = (r.members ?? []).map((m) => {
        const t = m.type.name;
        if (t !== "f32" && t !== "u32" && t !== "i32") {
          throw new Error(`kernel ${def.name}: params.${m.name} is ${t}; only scalar f32/u32/i32 fields are supported`);
        }
        return { name: m.name, offset: m.offset, type: t };
      });
      bindings.push({ name: r.name, binding: r.binding, kind: "uniform", element: "" });
    } else if (r.resourceType === ResourceType.Storage) {
      const kind = r.access === "read_write" || r.access === "write" ? "storage" : "read-only-storage";
      bindings.push({ name: r.name, binding: r.binding, kind, element: elementOf(r.type.getTypeName()) });
    } else {
      throw new Error(`kernel ${def.name}: binding ${r.name} is not a buffer; textures are not used`);
    }
  }
  bindings.sort((a, b) => a.binding - b.binding);
  const ws = entry.workgroupSize ?? [1, 1, 1];
  const layout: KernelLayout = {
    bindings,
    params,
    paramsSize,
    paramsBinding,
    workgroupSize: [ws[0] ?? 1, ws[1] ?? 1, ws[2] ?? 1],
    overrides: reflect.overrides.map((o) => o.name),
  };
  layoutCache.set(def, layout);
  return layout;
}

/** Packs `values` into the params struct's bytes, checking names and integer ranges. */
export function packParams(
  def: KernelDef,
  layout: KernelLayout,
  values: Record<string, number>,
  into: DataView,
  at: number,
): void {
  const given = new Set(Object.keys(values));
  for (const f of layout.params) {
    const v = values[f.name];
    if (v === undefined) throw new ShapeError(`kernel ${def.name}: parameter ${f.name} was not given`);
    given.delete(f.name);
    if (f.type === "f32") into.setFloat32(at + f.offset, v, true);
    else {
      if (!Number.isInteger(v)) throw new ShapeError(`kernel ${def.name}: parameter ${f.name}=${v} must be an integer`);
      if (f.type === "u32") {
        if (v < 0 || v > 0xffffffff) throw new ShapeError(`kernel ${def.name}: parameter ${f.name}=${v} is out of u32 range`);
        into.setUint32(at + f.offset, v, true);
      } else into.setInt32(at + f.offset, v, true);
    }
  }
  if (given.size) {
    throw new ShapeError(`kernel ${def.name}: unknown parameter(s) ${[...given].join(", ")}; the WGSL params struct has ${layout.params.map((p) => p.name).join(", ")}`);
  }
}

export function dtypeMatchesElement(dtype: DType, element: string): boolean {
  const short = dtype[0]; // vec2f, vec4u, ... as wgsl_reflect spells the shorthand aliases
  return [dtype, `vec2<${dtype}>`, `vec4<${dtype}>`, `vec2${short}`, `vec4${short}`, `atomic<${dtype}>`].includes(element);
}
