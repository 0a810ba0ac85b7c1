/** The browser entry: navigator.gpu only, no Node built-ins. */
export * from "./common.js";
export { cachedFile, listCachedFiles, deleteCachedFile, storageReport, requestPersistentStorage, ModelCacheError, DEFAULT_CACHE, type CachedFileOptions, type CachedEntry, type StorageReport } from "./browser/model-cache.js";
export { storeDetector, storedDetector, listStoredDetectors, deleteStoredDetector, PrivateStoreError } from "./browser/private-store.js";
export { DetectorWorker, WorkerCallError } from "./browser/worker-client.js";
export type { WorkerLoadOptions, WorkerTraceOptions, WorkerTrainOptions, WorkerImage, WorkerSource, WorkerOps } from "./browser/worker-protocol.js";
