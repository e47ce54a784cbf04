#ifndef SNAPFLEET_AES_GCM_H
#define SNAPFLEET_AES_GCM_H
#include <node_api.h>
napi_value aes_gcm_seal_into(napi_env env, napi_callback_info info);
napi_value aes_gcm_open_into(napi_env env, napi_callback_info info);
#endif
