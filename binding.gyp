{
  "targets": [
    {
      "target_name": "kvd_mmap",
      "sources": ["src/native/kvd_mmap.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
