# CPU-only fallback build for machines without CMake (CMakeLists.txt is the primary build).
# npm runs `node-gyp rebuild` by itself for packages with a root binding.gyp and no install script, so
# when the cmake-js build already produced the addon this file defines a target that builds nothing.
{
  'variables': {
    'cmake_built%': '<!(node scripts/gyp-sources.mjs --built)',
  },
  'conditions': [
    ['cmake_built=="true"', {
      'targets': [{ 'target_name': 'fused_multilabel_prebuilt', 'type': 'none' }],
    }, {
      'targets': [{
        'target_name': 'fused_multilabel',
        'sources': ['<!@(node scripts/gyp-sources.mjs)'],
        'include_dirs': ['<!(node scripts/gyp-sources.mjs --napi)'],
        'defines': ['NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
        'cflags!': ['-fno-exceptions'],
        'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++1y', '-std=gnu++17'],
        'cflags': ['-fopenmp-simd', '-O3', '-fno-fast-math'],
        'cflags_cc': ['-std=c++17', '-fexceptions', '-fopenmp-simd', '-O3', '-fno-fast-math', '-Wno-unused-parameter'],
        'ldflags': ['-pthread'],
        # macOS: node-gyp passes Xcode settings there, not cflags; node-addon-api's C++ exceptions need them on
        'xcode_settings': {
          'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
          'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
          'MACOSX_DEPLOYMENT_TARGET': '10.15',
          'OTHER_CPLUSPLUSFLAGS': ['-O3', '-fno-fast-math'],
        },
      }],
    }],
  ],
}
