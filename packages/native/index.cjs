'use strict';
// The compiled addon, or the reason it cannot be loaded: callers fall back to node:crypto, which
// gives the same bytes more slowly, so a missing build never changes what a repository holds.
let binding;
let loadError;
try {
  binding = require('./build/Release/snapfleet_native.node');
} catch (err) {
  loadError = err instanceof Error ? err.message : String(err);
}
module.exports = { binding, loadError };
