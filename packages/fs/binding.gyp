{
  "targets": [
    {
      "target_name": "quire_fs",
      "sources": ["native/addon.c", "native/addon-req.c", "native/addon-read.c", "native/read.c", "native/publish.c", "native/commit.c", "native/pool.c", "native/back.c"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,-z,nodelete"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
