{
  "targets": [
    {
      "target_name": "kvd_native",
      "sources": ["src/native/kvd_native.c", "src/native/thread_maps.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
