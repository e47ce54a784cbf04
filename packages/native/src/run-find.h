/* One lookup in a run file of the host index table (see run-find.c). */
#ifndef SNAPFLEET_RUN_FIND_H
#define SNAPFLEET_RUN_FIND_H

#include <node_api.h>

napi_value run_find(napi_env env, napi_callback_info info);

#endif
