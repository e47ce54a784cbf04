#ifndef SNAPFLEET_HMAC_CHUNKS_H
#define SNAPFLEET_HMAC_CHUNKS_H
#include <node_api.h>
napi_value hmac_chunks(napi_env env, napi_callback_info info);
napi_value hmac_spans(napi_env env, napi_callback_info info);
#endif
