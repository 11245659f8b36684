// <immintrin.h>, without the "'__Y' may be used uninitialized" warnings GCC 12 reports from inside it (its
// _mm512_undefined_* helpers initialise a variable from itself on purpose; GCC 13 no longer warns): dozens of
// them in every build, a user's `npm install` included. Only the header's own lines are exempt, so the same
// warnings in this project's code still show.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
