#ifndef SNAPFLEET_DROP_CACHE_H
#define SNAPFLEET_DROP_CACHE_H

#include <node_api.h>

napi_value drop_cache(napi_env env, napi_callback_info info);

#endif
