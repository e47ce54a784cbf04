/*
 * AES-256-GCM into memory the caller gives, in the layout of sealing.ts: nonce (12) |
 * ciphertext | tag (16).
 *
 * node:crypto's Cipher returns a new Buffer from every update(). In a codec thread, which
 * allocates little else, those buffers wait for its rare garbage collections: tens of MiB per
 * thread while an archive seals a gigabyte of frames. Here ciphertext goes straight to where the
 * frame is stored, and plaintext straight to where it is decompressed from.
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include "aes-gcm.h"
#include "args.h"

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define STEP (1 << 30)

/* Two ranges that share bytes without starting at the same place: EVP cannot work on those. */
static int partly_overlap(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
  return a != b && a < b + b_len && b < a + a_len;
}

static int gcm_update(EVP_CIPHER_CTX *ctx, int encrypt, uint8_t *out, const uint8_t *in, size_t len) {
  while (len > 0) {
    int n = len > STEP ? STEP : (int)len;
    int written = 0;
    int ok = encrypt ? EVP_EncryptUpdate(ctx, out, &written, in, n) : EVP_DecryptUpdate(ctx, out, &written, in, n);
    if (!ok || written != n) return 0;
    out += n;
    in += n;
    len -= (size_t)n;
  }
  return 1;
}

/* aesGcmSealInto(key, plaintext, out, at): the nonce is already at out[at, at + 12); writes the
 * ciphertext and tag after it and returns the sealed length. */
napi_value aes_gcm_seal_into(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  uint8_t *key, *plain, *out;
  size_t key_len, plain_len, out_len;
  uint32_t at;
  if (!args_of(env, info, 4, argv)) return throw_type_error(env, "aesGcmSealInto takes (key, plaintext, out, at)");
  if (!arg_bytes(env, argv[0], &key, &key_len) || key_len != KEY_BYTES) return throw_type_error(env, "key must be a 32-byte Uint8Array");
  if (!arg_bytes(env, argv[1], &plain, &plain_len)) return throw_type_error(env, "plaintext must be a Uint8Array");
  if (!arg_bytes(env, argv[2], &out, &out_len)) return throw_type_error(env, "out must be a Uint8Array");
  if (napi_get_value_uint32(env, argv[3], &at) != napi_ok) return throw_type_error(env, "at must be a non-negative integer");
  if ((size_t)at + NONCE_BYTES + plain_len + TAG_BYTES > out_len) return throw_type_error(env, "out has no room for the sealed bytes at that offset");
  uint8_t *body = out + at + NONCE_BYTES;
  if (partly_overlap(plain, plain_len, out + at, NONCE_BYTES + plain_len + TAG_BYTES)) return throw_type_error(env, "plaintext overlaps where the sealed bytes go");
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int final_len = 0;
  int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out + at) &&
           gcm_update(ctx, 1, body, plain, plain_len) &&
           EVP_EncryptFinal_ex(ctx, body + plain_len, &final_len) && final_len == 0 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, body + plain_len);
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    napi_throw_error(env, NULL, "AES-256-GCM sealing failed in OpenSSL");
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)(NONCE_BYTES + plain_len + TAG_BYTES), &result);
  return result;
}

/* aesGcmOpenInto(key, sealed, out): true when the sealed bytes are authentic, with the plaintext
 * in out[0, sealed.length - 28); out may be the sealed bytes' own ciphertext (decrypt in place).
 * On false, out holds nothing of the unauthenticated plaintext. */
napi_value aes_gcm_open_into(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint8_t *key, *sealed, *out;
  size_t key_len, sealed_len, out_len;
  if (!args_of(env, info, 3, argv)) return throw_type_error(env, "aesGcmOpenInto takes (key, sealed, out)");
  if (!arg_bytes(env, argv[0], &key, &key_len) || key_len != KEY_BYTES) return throw_type_error(env, "key must be a 32-byte Uint8Array");
  if (!arg_bytes(env, argv[1], &sealed, &sealed_len) || sealed_len < NONCE_BYTES + TAG_BYTES) return throw_type_error(env, "sealed must be a Uint8Array of at least 28 bytes");
  if (!arg_bytes(env, argv[2], &out, &out_len)) return throw_type_error(env, "out must be a Uint8Array");
  size_t body_len = sealed_len - NONCE_BYTES - TAG_BYTES;
  if (out_len < body_len) return throw_type_error(env, "out is too small for the plaintext");
  if (partly_overlap(sealed + NONCE_BYTES, body_len, out, body_len) || partly_overlap(sealed, NONCE_BYTES, out, body_len) ||
      partly_overlap(sealed + NONCE_BYTES + body_len, TAG_BYTES, out, body_len))
    return throw_type_error(env, "out overlaps the sealed bytes other than exactly at their ciphertext");
  uint8_t nonce[NONCE_BYTES], tag[TAG_BYTES];
  memcpy(nonce, sealed, NONCE_BYTES);
  memcpy(tag, sealed + NONCE_BYTES + body_len, TAG_BYTES);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int final_len = 0;
  int ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) &&
           gcm_update(ctx, 0, out, sealed + NONCE_BYTES, body_len);
  int authentic = ok && EVP_DecryptFinal_ex(ctx, out + body_len, &final_len) > 0 && final_len == 0;
  EVP_CIPHER_CTX_free(ctx);
  if (!authentic) OPENSSL_cleanse(out, body_len);
  napi_value result;
  napi_get_boolean(env, authentic, &result);
  return result;
}
