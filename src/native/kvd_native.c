// kvd's one native piece, for what Node's fs cannot do. Built by node-gyp (binding.gyp); when
// it is missing, kvd reads with pread and locks its directory with an abstract socket.
//
// map(fd, length) -> ArrayBuffer over mmap(PROT_READ, MAP_SHARED) of the file's first `length`
// bytes, so a read is a memory copy instead of a pread system call. unmap(buffer) detaches the
// ArrayBuffer (every view of it becomes empty, so no JS code can touch the unmapped pages) and
// then munmaps it. A mapping that is never unmapped is munmapped when its ArrayBuffer is
// garbage-collected (thread_maps.c, with each thread's table of its maps). Which files to map,
// bounds checks and when to unmap are in src/shared/segment-fds.ts.
//
// lock(fd) -> 0, or the errno's name ("EAGAIN": someone else holds it): an exclusive,
// non-blocking, whole-file lock on the open file description of `fd` (see lock_file). What the
// lock means (the store directory's LOCK file) is in src/main/dir-lock.ts.
//
// trim() -> whether the C library gave freed heap memory back to the system: glibc's
// malloc_trim(0), which returns the free pages of every thread's arena (glibc keeps them after
// a burst of Buffers is freed, so an idle daemon would keep its peak). False elsewhere. When
// to call it is src/main/server/idle-trim.ts's.
//
// mmapThreshold(bytes) -> whether glibc took it: mallopt(M_MMAP_THRESHOLD), so that blocks of at
// least `bytes` are mapped on their own and unmapped when freed instead of staying in an arena.
// Process-wide: only `kvd serve` sets it (its own process), never the library.
//
// dupFd(fd) -> a new fd for the same open file (fcntl F_DUPFD_CLOEXEC), or the errno's name. The
// daemon moves a client's socket between its threads with it: the thread giving the socket up
// closes its own fd, the one taking it wraps the copy (src/main/server/network-threads.ts).
//
// crc32c(bytes, start, end, seed) -> the CRC32C of bytes[start, end) continuing from `seed`, by
// the CPU's crc32 instruction (SSE 4.2). Exported only on x86-64 CPUs that have it; elsewhere
// src/shared/crc32c.ts computes it in JS. Which inputs come here is that file's choice.
//
// The same checksum of a range of a map, without arguments: converting four JS arguments costs
// ~60 ns a call here, more than the instruction takes for a record. Each thread (napi env) has
// its own table of the maps it made, by id (`mapId(buffer)`, stable until the map is unmapped
// or collected), and its own five argument words, exported as `crcWords` (a Uint32Array made
// here, so every copy of kvd's JS that loads this addon on a thread writes the same words).
// `crc32cMapped()` reads [map id, start, end, seed] from words 0-3 and writes the CRC to word
// 4; it throws unless the id names a live map of this thread and start <= end <= its length.

#define _GNU_SOURCE // F_OFD_SETLK
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thread_maps.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define KVD_HARDWARE_CRC 1
#endif

// The errno values fcntl(F_OFD_SETLK) can give, by name; others as "errno N".
static const char *errno_name(int err, char *buf, size_t size) {
  switch (err) {
    case EAGAIN: return "EAGAIN";
#if EACCES != EAGAIN
    case EACCES: return "EACCES";
#endif
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOLCK: return "ENOLCK";
    case ENOSYS: return "ENOSYS";
#ifdef EOPNOTSUPP
    case EOPNOTSUPP: return "EOPNOTSUPP";
#endif
    default: snprintf(buf, size, "errno %d", err); return buf;
  }
}

// Why an open file description (OFD) lock, fcntl(F_OFD_SETLK), and not flock or a classic
// POSIX lock (F_SETLK): like flock, an OFD lock belongs to the open file description, so two
// opens of LOCK conflict even inside one process (a second Store.open is refused), and it is
// released when the last fd of that description is closed or the process dies, however it dies.
// Classic POSIX locks belong to the process: they never conflict within it, and closing *any* fd
// of the file (say, reading LOCK to name its holder) silently drops them. Over NFS an OFD lock
// goes to the server's lock manager as a byte-range lock, where flock is only emulated (as a
// byte-range lock, since Linux 2.6.12) and whether it reaches the server depends on the mount
// (local_lock=). All three are per inode, so bind mounts and mount or network namespaces do
// not split them. FD_CLOEXEC is set so no child process can inherit the fd and keep the lock
// alive after the holder dies (libuv opens with O_CLOEXEC already; this keeps it true).
static napi_value lock_file(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "KV_INVALID_ARGUMENT", "lock(fd) needs a file descriptor");
    return NULL;
  }
  int err = 0;
#ifdef F_OFD_SETLK
  struct flock whole;
  memset(&whole, 0, sizeof whole); // l_pid must be 0 for OFD locks
  whole.l_type = F_WRLCK;
  whole.l_whence = SEEK_SET;
  whole.l_start = 0;
  whole.l_len = 0; // to the end of the file, however long it grows
  int rc;
  do {
    rc = fcntl(fd, F_OFD_SETLK, &whole);
  } while (rc == -1 && errno == EINTR);
  if (rc == -1) err = errno;
  else if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) err = errno;
#else
  (void)fd;
  err = ENOSYS; // no OFD locks on this platform: the caller falls back
#endif
  napi_value result;
  if (err == 0) {
    napi_create_int32(env, 0, &result);
  } else {
    char buf[32];
    napi_create_string_utf8(env, errno_name(err, buf, sizeof buf), NAPI_AUTO_LENGTH, &result);
  }
  return result;
}

static napi_value trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  napi_value result;
  napi_get_boolean(env, released != 0, &result);
  return result;
}

static napi_value set_mmap_threshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t bytes = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &bytes) != napi_ok || bytes < 0) {
    napi_throw_type_error(env, "KV_INVALID_ARGUMENT", "mmapThreshold(bytes) needs a byte count");
    return NULL;
  }
  int ok = 0;
#ifdef __GLIBC__
  ok = mallopt(M_MMAP_THRESHOLD, bytes);
#endif
  napi_value result;
  napi_get_boolean(env, ok != 0, &result);
  return result;
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "KV_INVALID_ARGUMENT", "dupFd(fd) needs a file descriptor");
    return NULL;
  }
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  napi_value result;
  if (copy < 0) {
    napi_create_string_utf8(env, errno == EBADF ? "EBADF" : errno == EMFILE ? "EMFILE" : "EIO",
                            NAPI_AUTO_LENGTH, &result);
  } else {
    napi_create_int32(env, copy, &result);
  }
  return result;
}

#ifdef KVD_HARDWARE_CRC
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t seed, const uint8_t *p,
                                                               size_t n) {
  uint64_t crc = (uint32_t)~seed;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    memcpy(&word, p, 8); // unaligned load
    crc = _mm_crc32_u64(crc, word);
  }
  uint32_t crc32 = (uint32_t)crc;
  for (; n > 0; p++, n--) crc32 = _mm_crc32_u8(crc32, *p);
  return ~crc32;
}

static napi_value crc32c_hardware(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  uint32_t start = 0, end = 0, seed = 0;
  // Every argument is checked, and the range against the array's own length (a detached
  // buffer has length 0), so no call can read outside the array.
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array || napi_get_value_uint32(env, argv[1], &start) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &end) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &seed) != napi_ok || start > end || end > length) {
    napi_throw_range_error(env, "KV_INVALID_ARGUMENT",
                           "crc32c(bytes, start, end, seed) needs a Uint8Array and "
                           "0 <= start <= end <= its length");
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, crc32c_sse42(seed, (const uint8_t *)data + start, end - start),
                     &result);
  return result;
}

static napi_value crc32c_mapped(napi_env env, napi_callback_info info) {
  (void)info;
  ThreadMaps *t = kvd_thread_maps(env);
  uint32_t *w = t != NULL ? t->args : NULL;
  Mapping *m = NULL;
  if (w != NULL && w[0] < t->capacity) m = t->maps[w[0]];
  // A map's id is cleared when it is unmapped, so a live entry is a mapped range.
  if (m == NULL || w[1] > w[2] || w[2] > m->length) {
    napi_throw_range_error(env, "KV_INVALID_ARGUMENT",
                           "crc32cMapped() needs the id of a live map and "
                           "0 <= start <= end <= its length in crcWords");
    return NULL;
  }
  w[4] = crc32c_sse42(w[3], (const uint8_t *)m->addr + w[1], w[2] - w[1]);
  return NULL;
}
#endif

NAPI_MODULE_INIT() {
  napi_value fn;
  ThreadMaps *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->refs = 1;
  if (napi_set_instance_data(env, t, kvd_finalize_thread_maps, NULL) != napi_ok) {
    free(t);
    return NULL;
  }
  napi_create_function(env, "mapId", NAPI_AUTO_LENGTH, kvd_map_id, NULL, &fn);
  napi_set_named_property(env, exports, "mapId", fn);
  napi_create_function(env, "map", NAPI_AUTO_LENGTH, kvd_map_file, NULL, &fn);
  napi_set_named_property(env, exports, "map", fn);
  napi_create_function(env, "unmap", NAPI_AUTO_LENGTH, kvd_unmap_file, NULL, &fn);
  napi_set_named_property(env, exports, "unmap", fn);
  napi_create_function(env, "lock", NAPI_AUTO_LENGTH, lock_file, NULL, &fn);
  napi_set_named_property(env, exports, "lock", fn);
  napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim_heap, NULL, &fn);
  napi_set_named_property(env, exports, "trim", fn);
  napi_create_function(env, "mmapThreshold", NAPI_AUTO_LENGTH, set_mmap_threshold, NULL, &fn);
  napi_set_named_property(env, exports, "mmapThreshold", fn);
  napi_create_function(env, "dupFd", NAPI_AUTO_LENGTH, dup_fd, NULL, &fn);
  napi_set_named_property(env, exports, "dupFd", fn);
#ifdef KVD_HARDWARE_CRC
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) {
    napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, crc32c_hardware, NULL, &fn);
    napi_set_named_property(env, exports, "crc32c", fn);
    // The words are this thread's own memory, kept until its table is freed: even if JS
    // detached their ArrayBuffer, crc32c_mapped would write where it always did.
    napi_value buffer, words;
    if (napi_create_external_arraybuffer(env, t->words, sizeof t->words, NULL, NULL, &buffer) ==
            napi_ok &&
        napi_create_typedarray(env, napi_uint32_array, 5, buffer, 0, &words) == napi_ok &&
        napi_create_reference(env, words, 1, &t->args_ref) == napi_ok) {
      t->args = t->words;
      napi_set_named_property(env, exports, "crcWords", words);
      napi_create_function(env, "crc32cMapped", NAPI_AUTO_LENGTH, crc32c_mapped, NULL, &fn);
      napi_set_named_property(env, exports, "crc32cMapped", fn);
    }
  }
#endif
  return exports;
}
