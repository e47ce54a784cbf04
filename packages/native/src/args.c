#include "args.h"

napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

int args_of(napi_env env, napi_callback_info info, size_t count, napi_value *argv) {
  size_t argc = count;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= count;
}

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

int arg_bytes(napi_env env, napi_value value, uint8_t **data, size_t *len) {
  return typed_array(env, value, napi_uint8_array, (void **)data, len);
}

int arg_u32s(napi_env env, napi_value value, uint32_t **data, size_t *count) {
  return typed_array(env, value, napi_uint32_array, (void **)data, count);
}
