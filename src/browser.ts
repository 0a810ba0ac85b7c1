/** The browser entry: navigator.gpu only, no Node built-ins. */
export * from "./common.js";
