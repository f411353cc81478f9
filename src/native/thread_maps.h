// Declares the per-thread table of memory maps (thread_maps.c) that kvd_native.c's module
// set-up and its mapped-range CRC share: a thread's maps by id, and the addon's map, unmap and
// mapId functions.

#ifndef KVD_THREAD_MAPS_H
#define KVD_THREAD_MAPS_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Mapping Mapping;

// One thread's maps by id, and its registered argument words (crc32c_mapped). Freed once the
// env is torn down and every map it made has been finalized, whichever comes last.
typedef struct {
  Mapping **maps;
  uint32_t capacity;
  uint32_t *args; // `words` once exported as `crcWords`, or NULL without the CRC instruction
  uint32_t words[5];
  napi_ref args_ref;
  size_t refs; // 1 for the env, 1 for each live Mapping
} ThreadMaps;

struct Mapping {
  void *addr;
  size_t length;
  int mapped;
  ThreadMaps *owner;
  uint32_t id;
};

// Drops one reference to `t` (the env's, or a live map's); frees it with the last.
void kvd_release_thread_maps(ThreadMaps *t);
// The env's instance-data finalizer: the env's reference, and its `crcWords` reference.
void kvd_finalize_thread_maps(napi_env env, void *data, void *hint);
// This thread's table (the env's instance data), or NULL.
ThreadMaps *kvd_thread_maps(napi_env env);

// map(fd, length), unmap(buffer), mapId(buffer): see kvd_native.c's header.
napi_value kvd_map_file(napi_env env, napi_callback_info info);
napi_value kvd_unmap_file(napi_env env, napi_callback_info info);
napi_value kvd_map_id(napi_env env, napi_callback_info info);

#endif
