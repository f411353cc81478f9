// Owns the addon's memory maps and each thread's table of them (what kvd_native.c's header
// describes as map, unmap and mapId): mmap of a segment wrapped in an ArrayBuffer, its id in the
// table of the thread (napi env) that made it, and its unmapping, by unmap() or when the
// ArrayBuffer is collected.

#include "thread_maps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void kvd_release_thread_maps(ThreadMaps *t) {
  if (--t->refs > 0) return;
  free(t->maps);
  free(t);
}

// Gives `m` the lowest free id of its thread's table (growing it); 0 when memory runs out.
static int register_mapping(ThreadMaps *t, Mapping *m) {
  uint32_t id = 0;
  while (id < t->capacity && t->maps[id] != NULL) id++;
  if (id == t->capacity) {
    uint32_t capacity = t->capacity == 0 ? 64 : t->capacity * 2;
    Mapping **grown = realloc(t->maps, capacity * sizeof *grown);
    if (grown == NULL) return 0;
    memset(grown + t->capacity, 0, (capacity - t->capacity) * sizeof *grown);
    t->maps = grown;
    t->capacity = capacity;
  }
  t->maps[id] = m;
  m->owner = t;
  m->id = id;
  t->refs++;
  return 1;
}

// The map's id no longer names it (unmapped or finalized).
static void unregister_mapping(Mapping *m) {
  if (m->owner != NULL && m->owner->maps[m->id] == m) m->owner->maps[m->id] = NULL;
}

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Mapping *m = (Mapping *)data;
  unregister_mapping(m);
  if (m->mapped) munmap(m->addr, m->length);
  if (m->owner != NULL) kvd_release_thread_maps(m->owner);
  free(m);
}

void kvd_finalize_thread_maps(napi_env env, void *data, void *hint) {
  (void)hint;
  ThreadMaps *t = (ThreadMaps *)data;
  if (t->args_ref != NULL) napi_delete_reference(env, t->args_ref);
  t->args = NULL;
  kvd_release_thread_maps(t);
}

ThreadMaps *kvd_thread_maps(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return (ThreadMaps *)data;
}

static napi_value throw_io(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s failed: %s", what, strerror(err));
  napi_throw_error(env, "KV_IO", message);
  return NULL;
}

// Undoes a map that was registered but could not be handed to JS, and throws `why`.
static napi_value discard_mapping(napi_env env, ThreadMaps *t, Mapping *m, const char *why) {
  unregister_mapping(m);
  kvd_release_thread_maps(t);
  munmap(m->addr, m->length);
  free(m);
  napi_throw_error(env, "KV_IO", why);
  return NULL;
}

// The Mapping of the buffer that is the call's first argument (stored in `buffer`), or NULL.
static Mapping *mapping_argument(napi_env env, napi_callback_info info, napi_value *buffer) {
  size_t argc = 1;
  Mapping *m = NULL;
  if (napi_get_cb_info(env, info, &argc, buffer, NULL, NULL) != napi_ok || argc < 1 ||
      napi_unwrap(env, *buffer, (void **)&m) != napi_ok)
    return NULL;
  return m;
}

napi_value kvd_map_file(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  int64_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &length) != napi_ok || fd < 0 || length <= 0) {
    napi_throw_type_error(env, "KV_INVALID_ARGUMENT", "map(fd, length) needs an fd and a positive length");
    return NULL;
  }
  void *addr = mmap(NULL, (size_t)length, PROT_READ, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return throw_io(env, "mmap", errno);
  Mapping *m = malloc(sizeof *m);
  if (m == NULL) {
    munmap(addr, (size_t)length);
    return throw_io(env, "malloc", ENOMEM);
  }
  m->addr = addr;
  m->length = (size_t)length;
  m->mapped = 1;
  m->owner = NULL;
  m->id = 0;
  ThreadMaps *t = kvd_thread_maps(env);
  if (t == NULL || !register_mapping(t, m)) {
    munmap(addr, (size_t)length);
    free(m);
    return throw_io(env, "malloc", ENOMEM);
  }
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, NULL, NULL, &buffer) != napi_ok)
    return discard_mapping(env, t, m, "cannot wrap a mapping in an ArrayBuffer");
  if (napi_wrap(env, buffer, m, finalize_mapping, NULL, NULL) != napi_ok) {
    // Without the wrap nobody could unmap it: detach and unmap now, and fail.
    napi_detach_arraybuffer(env, buffer);
    return discard_mapping(env, t, m, "cannot attach a mapping to its ArrayBuffer");
  }
  return buffer;
}

napi_value kvd_unmap_file(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Mapping *m = mapping_argument(env, info, argv);
  if (m == NULL) {
    napi_throw_type_error(env, "KV_INVALID_ARGUMENT", "unmap(buffer) needs a buffer from map()");
    return NULL;
  }
  if (m->mapped) {
    if (napi_detach_arraybuffer(env, argv[0]) != napi_ok) {
      napi_throw_error(env, "KV_INTERNAL", "cannot detach a mapping's ArrayBuffer");
      return NULL;
    }
    munmap(m->addr, m->length);
    m->mapped = 0;
    unregister_mapping(m);
  }
  return NULL;
}

napi_value kvd_map_id(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Mapping *m = mapping_argument(env, info, argv);
  if (m == NULL || !m->mapped || m->owner == NULL || m->owner != kvd_thread_maps(env)) {
    napi_throw_type_error(env, "KV_INVALID_ARGUMENT",
                          "mapId(buffer) needs a buffer this thread mapped and has not unmapped");
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, m->id, &result);
  return result;
}
