// The compiled addon, or the reason it cannot be loaded: callers fall back to node:crypto, which
// gives the same bytes more slowly, so a missing build never changes what a repository holds.
import { createRequire } from 'node:module';

let binding;
let loadError;
try {
  binding = createRequire(import.meta.url)('./build/Release/snapfleet_native.node');
} catch (err) {
  loadError = err instanceof Error ? err.message : String(err);
}

export { binding, loadError };
