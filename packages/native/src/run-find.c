/* runFind(fd, fanout, bits, recordsAt, packCount, excluded, ids, offset, scratch): the pack
 * ordinal of a record of the 32-byte id at ids[offset..] in a run file of the host index table
 * (packages/providers/src/caching/index-table/run-format.ts), or -1.
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

#define ID_BYTES 32
#define RECORD_BYTES 36

static uint32_t ordinal_at(const uint8_t *records, size_t i) {
  const uint8_t *p = records + i * RECORD_BYTES + ID_BYTES;
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int accepted(uint32_t ordinal, uint32_t pack_count, const uint8_t *excluded, size_t excluded_len) {
  return ordinal < pack_count && !(ordinal < excluded_len && excluded[ordinal]);
}

static napi_value number(napi_env env, double value) {
  napi_value out;
  napi_create_double(env, value, &out);
  return out;
}

napi_value run_find(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!args_of(env, info, 9, argv)) return throw_type_error(env, "runFind: nine arguments expected");
  int32_t fd;
  uint32_t bits, pack_count, offset;
  int64_t records_at;
  uint32_t *fanout;
  size_t fanout_len, excluded_len, ids_len, scratch_len;
  uint8_t *excluded, *ids, *scratch;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_type_error(env, "runFind: fd must be a file descriptor");
  if (!arg_u32s(env, argv[1], &fanout, &fanout_len)) return throw_type_error(env, "runFind: fanout must be a Uint32Array");
  if (napi_get_value_uint32(env, argv[2], &bits) != napi_ok || bits < 1 || bits > 31 || fanout_len != ((size_t)1 << bits) + 1)
    return throw_type_error(env, "runFind: bits must match the fanout's length");
  if (napi_get_value_int64(env, argv[3], &records_at) != napi_ok || records_at < 0) return throw_type_error(env, "runFind: recordsAt must be a file offset");
  if (napi_get_value_uint32(env, argv[4], &pack_count) != napi_ok) return throw_type_error(env, "runFind: packCount must be a u32");
  if (!arg_bytes(env, argv[5], &excluded, &excluded_len)) return throw_type_error(env, "runFind: excluded must be a Uint8Array");
  if (!arg_bytes(env, argv[6], &ids, &ids_len)) return throw_type_error(env, "runFind: ids must be a Uint8Array");
  if (napi_get_value_uint32(env, argv[7], &offset) != napi_ok || (size_t)offset + ID_BYTES > ids_len) return throw_type_error(env, "runFind: offset must leave 32 bytes of ids");
  if (!arg_bytes(env, argv[8], &scratch, &scratch_len)) return throw_type_error(env, "runFind: scratch must be a Uint8Array");

  const uint8_t *id = ids + offset;
  uint32_t prefix = ((uint32_t)id[0] << 24) | ((uint32_t)id[1] << 16) | ((uint32_t)id[2] << 8) | (uint32_t)id[3];
  uint32_t bucket = prefix >> (32 - bits);
  uint32_t first = fanout[bucket];
  uint32_t end = fanout[bucket + 1];
  if (end <= first) return number(env, -1);
  size_t n = end - first;
  size_t want = n * RECORD_BYTES;
  // A bucket larger than the scratch (ids crafted to collide) is a miss: the blob is stored again.
  if (want > scratch_len) return number(env, -2);
  size_t done = 0;
  off_t at = (off_t)records_at + (off_t)first * RECORD_BYTES;
  while (done < want) {
    ssize_t r = pread(fd, scratch + done, want - done, at + (off_t)done);
    if (r <= 0) return number(env, -1); // cut off or unreadable: a miss, as in RunReader
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
    if (accepted(o, pack_count, excluded, excluded_len)) return number(env, o);
  }
  return number(env, -1);
}
