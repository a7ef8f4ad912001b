/** Where each store keeps payloads too large to be inline in an event (store/port.ts BlobStore). */
export { FileBlobStore } from './file.js';
export { MemoryBlobStore } from './memory.js';
export { ObjectBlobStore, BLOB_BUCKET } from './jetstream.js';
export { checkedBody } from './digests.js';
