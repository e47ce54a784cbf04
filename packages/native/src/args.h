/* Argument checks shared by the addon's functions: each failure throws a TypeError naming the
 * argument, so a caller's mistake never reads or writes memory it does not own. */
#ifndef SNAPFLEET_ARGS_H
#define SNAPFLEET_ARGS_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

napi_value throw_type_error(napi_env env, const char *message);
/* The call's first `count` arguments into argv; 0 if fewer were passed. */
int args_of(napi_env env, napi_callback_info info, size_t count, napi_value *argv);
/* The bytes of a Uint8Array (any backing store, shared memory included); 0 if it is not one. */
int arg_bytes(napi_env env, napi_value value, uint8_t **data, size_t *len);
/* The elements of a Uint32Array; 0 if it is not one. */
int arg_u32s(napi_env env, napi_value value, uint32_t **data, size_t *count);

#endif
