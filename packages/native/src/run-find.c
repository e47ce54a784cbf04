/* runFind(fd, fanout, bits, recordsAt, packCount, excluded, ids, offset, scratch): the pack
 * ordinal of a record of the 32-byte id at ids[offset..] in a run file of the host index table
 * (packages/providers/src/caching/index-table/run-format.ts), or -1. run-find-batch.c runs the
 * same lookup for many ids on the thread pool.
 *
 * An archive looks up every chunk it reads, hundreds of thousands a gigabyte, on the thread that
 * drives it. In JavaScript a lookup was a readSync (argument checks, a Buffer per call) and a
 * binary search over Buffer reads, ~3.8 us; here it is one pread of the id's bucket and a
 * memcmp search, which halves it. The layout and the choice among equal records (the first
 * whose pack is below packCount and not flagged in `excluded`) are RunReader.find's. */
#define _GNU_SOURCE
#include "run-find.h"
#include "args.h"
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static uint32_t ordinal_at(const uint8_t *records, size_t i) {
  const uint8_t *p = records + i * RECORD_BYTES + ID_BYTES;
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int accepted(uint32_t ordinal, uint32_t pack_count, const uint8_t *excluded, size_t excluded_len) {
  return ordinal < pack_count && !(ordinal < excluded_len && excluded[ordinal]);
}

int64_t run_lookup(const run_t *run, const uint8_t *id, uint8_t *scratch, size_t scratch_len) {
  uint32_t first, end;
  size_t want = run_bucket(run, id, &first, &end);
  if (end <= first) return -1;
  size_t n = end - first;
  // A bucket larger than the scratch (ids crafted to collide) is a miss: the blob is stored again.
  if (want > scratch_len) return -2;
  size_t done = 0;
  off_t at = (off_t)run->records_at + (off_t)first * RECORD_BYTES;
  while (done < want) {
    ssize_t r = pread(run->fd, scratch + done, want - done, at + (off_t)done);
    if (r <= 0) return -1; // cut off or unreadable: a miss, as in RunReader
    done += (size_t)r;
  }
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = memcmp(scratch + mid * RECORD_BYTES, id, ID_BYTES);
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  // lo is the first record not below the id: scan the equal ones for a pack that may be used.
  for (size_t i = lo; i < n && memcmp(scratch + i * RECORD_BYTES, id, ID_BYTES) == 0; i++) {
    uint32_t o = ordinal_at(scratch, i);
    if (accepted(o, run->pack_count, run->excluded, run->excluded_len)) return o;
  }
  return -1;
}

size_t run_bucket(const run_t *run, const uint8_t *id, uint32_t *first, uint32_t *end) {
  uint32_t prefix = ((uint32_t)id[0] << 24) | ((uint32_t)id[1] << 16) | ((uint32_t)id[2] << 8) | (uint32_t)id[3];
  uint32_t bucket = prefix >> (32 - run->bits);
  *first = run->fanout[bucket];
  *end = run->fanout[bucket + 1];
  return *end > *first ? (size_t)(*end - *first) * RECORD_BYTES : 0;
}

static int fail(napi_env env, const char *message) {
  throw_type_error(env, message);
  return 0;
}

int run_args(napi_env env, napi_value *argv, run_t *run) {
  size_t fanout_len;
  if (napi_get_value_int32(env, argv[0], &run->fd) != napi_ok || run->fd < 0) return fail(env, "fd must be a file descriptor");
  if (!arg_u32s(env, argv[1], &run->fanout, &fanout_len)) return fail(env, "fanout must be a Uint32Array");
  if (napi_get_value_uint32(env, argv[2], &run->bits) != napi_ok || run->bits < 1 || run->bits > 31 || fanout_len != ((size_t)1 << run->bits) + 1)
    return fail(env, "bits must match the fanout's length");
  if (napi_get_value_int64(env, argv[3], &run->records_at) != napi_ok || run->records_at < 0) return fail(env, "recordsAt must be a file offset");
  if (napi_get_value_uint32(env, argv[4], &run->pack_count) != napi_ok) return fail(env, "packCount must be a u32");
  if (!arg_bytes(env, argv[5], &run->excluded, &run->excluded_len)) return fail(env, "excluded must be a Uint8Array");
  return 1;
}

napi_value run_find(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!args_of(env, info, 9, argv)) return throw_type_error(env, "runFind: nine arguments expected");
  run_t run;
  uint32_t offset;
  size_t ids_len, scratch_len;
  uint8_t *ids, *scratch;
  if (!run_args(env, argv, &run)) return NULL;
  if (!arg_bytes(env, argv[6], &ids, &ids_len)) return throw_type_error(env, "runFind: ids must be a Uint8Array");
  if (napi_get_value_uint32(env, argv[7], &offset) != napi_ok || (size_t)offset + ID_BYTES > ids_len) return throw_type_error(env, "runFind: offset must leave 32 bytes of ids");
  if (!arg_bytes(env, argv[8], &scratch, &scratch_len)) return throw_type_error(env, "runFind: scratch must be a Uint8Array");
  napi_value out;
  napi_create_double(env, (double)run_lookup(&run, ids + offset, scratch, scratch_len), &out);
  return out;
}
