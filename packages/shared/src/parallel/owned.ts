/**
 * Transferring a view's ArrayBuffer to another thread detaches the whole buffer, including
 * Node's shared 8 KiB allocation pool behind small Buffers. Only buffers that own their memory
 * are moved; anything else is copied first.
 */
export function owns(u: Uint8Array): boolean {
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength && !(u.buffer instanceof SharedArrayBuffer);
}

export function owned(u: Uint8Array): Uint8Array {
  return owns(u) ? u : new Uint8Array(u);
}
