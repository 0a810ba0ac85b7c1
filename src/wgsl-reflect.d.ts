// Types for wgsl_reflect's ESM build, which the package ships without its own declaration.
declare module "wgsl_reflect/wgsl_reflect.module.js" {
  export * from "wgsl_reflect";
}
