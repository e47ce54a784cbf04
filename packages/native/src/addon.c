/* The addon's entry: one function per hot byte path (see hmac-chunks.c and aes-gcm.c), the
 * host index table's lookup (run-find.c), and page cache drop-behind (drop-cache.c). It is
 * context-aware, so every codec thread loads it. */
#include <node_api.h>
#include "aes-gcm.h"
#include "drop-cache.h"
#include "hmac-chunks.h"
#include "run-find.h"

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  export_fn(env, exports, "hmacChunks", hmac_chunks);
  export_fn(env, exports, "hmacSpans", hmac_spans);
  export_fn(env, exports, "aesGcmSealInto", aes_gcm_seal_into);
  export_fn(env, exports, "aesGcmOpenInto", aes_gcm_open_into);
  export_fn(env, exports, "runFind", run_find);
  export_fn(env, exports, "runFindBatch", run_find_batch);
  export_fn(env, exports, "dropCache", drop_cache);
  return exports;
}
