/* Lookups in a run file of the host index table (see run-find.c and run-find-batch.c). */
#ifndef SNAPFLEET_RUN_FIND_H
#define SNAPFLEET_RUN_FIND_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define ID_BYTES 32
#define RECORD_BYTES 36

/* One open run as its callers describe it: the file, its fanout and the packs to skip. */
typedef struct {
  int32_t fd;
  uint32_t *fanout;
  uint32_t bits;
  int64_t records_at;
  uint32_t pack_count;
  uint8_t *excluded;
  size_t excluded_len;
} run_t;

/* Reads (fd, fanout, bits, recordsAt, packCount, excluded) from argv[0..5] into run; on a bad
 * argument throws a TypeError naming it and returns 0. */
int run_args(napi_env env, napi_value *argv, run_t *run);
/* The bytes of the id's bucket, and its first and end record. */
size_t run_bucket(const run_t *run, const uint8_t *id, uint32_t *first, uint32_t *end);
/* The pack ordinal of an accepted record of the id, -1 if none, -2 if its bucket does not fit
 * in scratch. Touches no JavaScript value: it runs on the thread pool too. */
int64_t run_lookup(const run_t *run, const uint8_t *id, uint8_t *scratch, size_t scratch_len);

napi_value run_find(napi_env env, napi_callback_info info);
napi_value run_find_batch(napi_env env, napi_callback_info info);

#endif
