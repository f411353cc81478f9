// kvd's one native piece: read-only memory maps of segment files, so a read is a memory copy
// instead of a pread system call. Owns map() and unmap(); everything else (which files to map,
// bounds checks, when to unmap) is in src/shared/segment-fds.ts. Built by node-gyp
// (binding.gyp); when it is missing, kvd reads with pread.
//
// map(fd, length) -> ArrayBuffer over mmap(PROT_READ, MAP_SHARED) of the file's first `length`
// bytes. unmap(buffer) detaches the ArrayBuffer (every view of it becomes empty, so no JS code
// can touch the unmapped pages) and then munmaps it. A mapping that is never unmapped is
// munmapped when its ArrayBuffer is garbage-collected.

#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct {
  void *addr;
  size_t length;
  int mapped;
} Mapping;

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Mapping *m = (Mapping *)data;
  if (m->mapped) munmap(m->addr, m->length);
  free(m);
}

static napi_value throw_io(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s failed: %s", what, strerror(err));
  napi_throw_error(env, "KV_IO", message);
  return NULL;
}

static napi_value map_file(napi_env env, napi_callback_info info) {
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
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, NULL, NULL, &buffer) != napi_ok) {
    munmap(addr, (size_t)length);
    free(m);
    napi_throw_error(env, "KV_IO", "cannot wrap a mapping in an ArrayBuffer");
    return NULL;
  }
  if (napi_wrap(env, buffer, m, finalize_mapping, NULL, NULL) != napi_ok) {
    // Without the wrap nobody could unmap it: detach and unmap now, and fail.
    napi_detach_arraybuffer(env, buffer);
    munmap(addr, (size_t)length);
    free(m);
    napi_throw_error(env, "KV_IO", "cannot attach a mapping to its ArrayBuffer");
    return NULL;
  }
  return buffer;
}

static napi_value unmap_file(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Mapping *m = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_unwrap(env, argv[0], (void **)&m) != napi_ok || m == NULL) {
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
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "map", NAPI_AUTO_LENGTH, map_file, NULL, &fn);
  napi_set_named_property(env, exports, "map", fn);
  napi_create_function(env, "unmap", NAPI_AUTO_LENGTH, unmap_file, NULL, &fn);
  napi_set_named_property(env, exports, "unmap", fn);
  return exports;
}
