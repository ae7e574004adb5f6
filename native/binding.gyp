# Builds faiss-node 0.5.1's src/faiss.cc (patched by faiss-node.patch) against a FAISS build.
# scripts/install-native.mjs copies this file and compat.h into a temporary build folder and
# writes piramid-vars.gypi beside them with the paths of the chosen route (FAISS headers and
# library, BLAS, node-addon-api), then runs node-gyp there.
{
  "includes": ["piramid-vars.gypi"],
  "targets": [
    {
      "target_name": "faiss-node",
      "sources": ["src/faiss.cc"],
      "include_dirs": ["<@(piramid_include_dirs)"],
      "defines": ["NAPI_VERSION=6", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": [
        "-std=c++17", "-O3", "-fexceptions", "-frtti", "-fopenmp",
        # keep FAISS and the binding's own symbols private, so two builds (route A and B)
        # can be loaded into one process without binding to each other's symbols
        "-fvisibility=hidden", "-fvisibility-inlines-hidden",
        "-include", "<(module_root_dir)/compat.h",
        "<@(piramid_cflags)"
      ],
      "ldflags": ["-fopenmp", "-Wl,--exclude-libs,ALL", "<@(piramid_ldflags)"],
      "libraries": ["<@(piramid_libraries)"]
    }
  ]
}
