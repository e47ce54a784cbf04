/*
 * Drops a written file range from the page cache once it is on disk (posix_fadvise
 * POSIX_FADV_DONTNEED), which Node does not expose.
 *
 * Why a restore wants it, and what it measured: providers/src/local/drop-behind.ts.
 * Dirty pages are not dropped (the kernel starts writing them instead): nothing written is lost.
 */
#define _POSIX_C_SOURCE 200112L
#include <fcntl.h>
#include <stdint.h>
#include "args.h"
#include "drop-cache.h"

static int arg_i64(napi_env env, napi_value value, int64_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok) return 0;
  if (d < 0 || d > 9007199254740991.0 || d != (double)(int64_t)d) return 0;
  *out = (int64_t)d;
  return 1;
}

/* dropCache(fd, offset, length): 0, or the errno posix_fadvise returned. */
napi_value drop_cache(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t fd, offset, length;
  if (!args_of(env, info, 3, argv)) return throw_type_error(env, "dropCache(fd, offset, length): three arguments");
  if (!arg_i64(env, argv[0], &fd) || fd > INT32_MAX) return throw_type_error(env, "dropCache: fd must be a file descriptor");
  if (!arg_i64(env, argv[1], &offset)) return throw_type_error(env, "dropCache: offset must be a whole number of bytes");
  if (!arg_i64(env, argv[2], &length)) return throw_type_error(env, "dropCache: length must be a whole number of bytes");
  int rc = posix_fadvise((int)fd, (off_t)offset, (off_t)length, POSIX_FADV_DONTNEED);
  napi_value result;
  napi_create_int32(env, rc, &result);
  return result;
}
