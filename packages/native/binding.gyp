{
  "targets": [
    {
      "target_name": "snapfleet_native",
      "sources": ["src/addon.c", "src/args.c", "src/hmac-chunks.c", "src/aes-gcm.c", "src/run-find.c", "src/run-find-batch.c", "src/drop-cache.c"],
      "cflags": ["-O3", "-Wall", "-Wextra"]
    }
  ]
}
