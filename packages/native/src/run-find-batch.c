/* runFindBatch(fd, fanout, bits, recordsAt, packCount, excluded, ids, offsets, out): a promise
 * that resolves once out[k] holds runFind's answer for the id at ids[offsets[k]..], every k.
 *
 * Why a batch on the thread pool: an archive in a large repository spends about a second per
 * GiB in lookups, each a pread and a search. Made one by one on the thread that drives the
 * archive, they serialize its pipeline (that thread is otherwise idle half the time, waiting on
 * the codec threads). A block's lookups made here instead run beside the codec work, while the
 * block waits its turn in the pipeline; the table does not change during an archive, so an
 * answer computed early is the answer a lookup in turn would give.
 *
 * The caller keeps the file open until the promise settles (RunReader.close waits for it); the
 * arrays are held by references until then. */
#include <stdlib.h>
#include "args.h"
#include "run-find.h"

#define SCRATCH_START (64 * RECORD_BYTES)

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref held[5];
  run_t run;
  const uint8_t *ids;
  const uint32_t *offsets;
  size_t count;
  int32_t *out;
} batch_t;

static void execute(napi_env env, void *data) {
  (void)env;
  batch_t *b = data;
  size_t cap = SCRATCH_START;
  uint8_t *scratch = malloc(cap);
  for (size_t k = 0; k < b->count; k++) {
    const uint8_t *id = b->ids + b->offsets[k];
    uint32_t first, end;
    size_t want = run_bucket(&b->run, id, &first, &end);
    if (want > cap || !scratch) {
      uint8_t *grown = realloc(scratch, want > cap ? want : cap);
      if (!grown) {
        b->out[k] = -1; // no memory for this bucket: a miss, the blob is stored again
        continue;
      }
      scratch = grown;
      cap = want > cap ? want : cap;
    }
    b->out[k] = (int32_t)run_lookup(&b->run, id, scratch, cap);
  }
  free(scratch);
}

static void complete(napi_env env, napi_status status, void *data) {
  batch_t *b = data;
  napi_value result;
  if (status == napi_ok) {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, b->deferred, result);
  } else {
    napi_value message;
    napi_create_string_utf8(env, "runFindBatch: the lookups were cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, b->deferred, result);
  }
  for (size_t i = 0; i < sizeof b->held / sizeof b->held[0]; i++)
    if (b->held[i]) napi_delete_reference(env, b->held[i]);
  napi_delete_async_work(env, b->work);
  free(b);
}

static int typed_i32s(napi_env env, napi_value value, int32_t **data, size_t *count) {
  napi_typedarray_type type;
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  return napi_get_typedarray_info(env, value, &type, count, (void **)data, NULL, NULL) == napi_ok && type == napi_int32_array;
}

napi_value run_find_batch(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!args_of(env, info, 9, argv)) return throw_type_error(env, "runFindBatch: nine arguments expected");
  run_t run;
  if (!run_args(env, argv, &run)) return NULL;
  uint8_t *ids;
  uint32_t *offsets;
  int32_t *out;
  size_t ids_len, count, out_len;
  if (!arg_bytes(env, argv[6], &ids, &ids_len)) return throw_type_error(env, "runFindBatch: ids must be a Uint8Array");
  if (!arg_u32s(env, argv[7], &offsets, &count)) return throw_type_error(env, "runFindBatch: offsets must be a Uint32Array");
  if (!typed_i32s(env, argv[8], &out, &out_len) || out_len < count) return throw_type_error(env, "runFindBatch: out must be an Int32Array with one slot per offset");
  for (size_t k = 0; k < count; k++)
    if ((size_t)offsets[k] + ID_BYTES > ids_len) return throw_type_error(env, "runFindBatch: every offset must leave 32 bytes of ids");

  batch_t *b = calloc(1, sizeof *b);
  if (!b) return throw_type_error(env, "runFindBatch: out of memory");
  b->run = run;
  b->ids = ids;
  b->offsets = offsets;
  b->count = count;
  b->out = out;
  napi_value held[5] = {argv[1], argv[5], argv[6], argv[7], argv[8]};
  for (size_t i = 0; i < 5; i++) napi_create_reference(env, held[i], 1, &b->held[i]);
  napi_value promise, name;
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_string_utf8(env, "snapfleet.runFindBatch", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, b, &b->work);
  napi_queue_async_work(env, b->work);
  return promise;
}
