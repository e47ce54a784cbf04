/*
 * HMAC-SHA-256 over many chunks of one buffer in a single call.
 *
 * node:crypto costs about 2 us per call on top of the hash itself (a new Hmac object, the key
 * schedule, a new digest Buffer), as much as hashing a 4 KiB chunk. Here the key's inner and
 * outer pad states are computed once per call and copied per chunk, so a 4 MiB block of 1024
 * chunks costs one crossing into native code. The ids are the same bytes node:crypto gives.
 *
 * OpenSSL is the one inside the node binary: it exports its symbols to addons, and its SHA-256
 * uses the CPU's SHA extensions where they exist.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>
#include "args.h"
#include "hmac-chunks.h"

#define ID_BYTES 32
#define PAD_BYTES 64

typedef struct {
  SHA256_CTX inner;
  SHA256_CTX outer;
} pads_t;

static void pads_init(pads_t *pads, const uint8_t *key, size_t key_len) {
  uint8_t block[PAD_BYTES] = {0};
  uint8_t pad[PAD_BYTES];
  /* RFC 2104: a key longer than the block is replaced by its hash. */
  if (key_len > PAD_BYTES) SHA256(key, key_len, block);
  else memcpy(block, key, key_len);
  for (int i = 0; i < PAD_BYTES; i++) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&pads->inner);
  SHA256_Update(&pads->inner, pad, PAD_BYTES);
  for (int i = 0; i < PAD_BYTES; i++) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&pads->outer);
  SHA256_Update(&pads->outer, pad, PAD_BYTES);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
}

static void hmac(const pads_t *pads, const uint8_t *data, size_t len, uint8_t *out) {
  SHA256_CTX ctx = pads->inner;
  uint8_t inner[ID_BYTES];
  SHA256_Update(&ctx, data, len);
  SHA256_Final(inner, &ctx);
  ctx = pads->outer;
  SHA256_Update(&ctx, inner, ID_BYTES);
  SHA256_Final(out, &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
}

static int all_zero(const uint8_t *p, size_t len) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    memcpy(&word, p + i, 8);
    if (word) return 0;
  }
  for (; i < len; i++)
    if (p[i]) return 0;
  return 1;
}

/* hmacChunks(key, data, chunkSize, out, zeroAsHole) */
napi_value hmac_chunks(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  uint8_t *key, *data, *out;
  size_t key_len, data_len, out_len;
  uint32_t chunk_size;
  bool zero_as_hole;
  if (!args_of(env, info, 5, argv)) return throw_type_error(env, "hmacChunks takes (key, data, chunkSize, out, zeroAsHole)");
  if (!arg_bytes(env, argv[0], &key, &key_len) || key_len == 0) return throw_type_error(env, "key must be a non-empty Uint8Array");
  if (!arg_bytes(env, argv[1], &data, &data_len)) return throw_type_error(env, "data must be a Uint8Array");
  if (napi_get_value_uint32(env, argv[2], &chunk_size) != napi_ok || chunk_size == 0) return throw_type_error(env, "chunkSize must be a positive integer");
  if (!arg_bytes(env, argv[3], &out, &out_len)) return throw_type_error(env, "out must be a Uint8Array");
  if (napi_get_value_bool(env, argv[4], &zero_as_hole) != napi_ok) return throw_type_error(env, "zeroAsHole must be a boolean");
  size_t n = data_len / chunk_size + (data_len % chunk_size ? 1 : 0);
  if (out_len < n * ID_BYTES) return throw_type_error(env, "out is too small for one id per chunk");
  pads_t pads;
  pads_init(&pads, key, key_len);
  for (size_t i = 0; i < n; i++) {
    const uint8_t *chunk = data + i * chunk_size;
    size_t left = data_len - i * chunk_size;
    size_t len = left < chunk_size ? left : chunk_size;
    if (zero_as_hole && all_zero(chunk, len)) memset(out + i * ID_BYTES, 0, ID_BYTES);
    else hmac(&pads, chunk, len, out + i * ID_BYTES);
  }
  OPENSSL_cleanse(&pads, sizeof pads);
  return NULL;
}

/* hmacSpans(key, data, spans, out) */
napi_value hmac_spans(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  uint8_t *key, *data, *out;
  uint32_t *spans;
  size_t key_len, data_len, out_len, span_count;
  if (!args_of(env, info, 4, argv)) return throw_type_error(env, "hmacSpans takes (key, data, spans, out)");
  if (!arg_bytes(env, argv[0], &key, &key_len) || key_len == 0) return throw_type_error(env, "key must be a non-empty Uint8Array");
  if (!arg_bytes(env, argv[1], &data, &data_len)) return throw_type_error(env, "data must be a Uint8Array");
  if (!arg_u32s(env, argv[2], &spans, &span_count) || span_count % 2) return throw_type_error(env, "spans must be a Uint32Array of (offset, length) pairs");
  if (!arg_bytes(env, argv[3], &out, &out_len)) return throw_type_error(env, "out must be a Uint8Array");
  size_t n = span_count / 2;
  if (out_len < n * ID_BYTES) return throw_type_error(env, "out is too small for one id per span");
  for (size_t i = 0; i < n; i++)
    if ((size_t)spans[i * 2] + spans[i * 2 + 1] > data_len) return throw_type_error(env, "a span reaches past the end of data");
  pads_t pads;
  pads_init(&pads, key, key_len);
  for (size_t i = 0; i < n; i++) hmac(&pads, data + spans[i * 2], spans[i * 2 + 1], out + i * ID_BYTES);
  OPENSSL_cleanse(&pads, sizeof pads);
  return NULL;
}
