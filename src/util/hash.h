/* hash.h - a fast 64-bit hash for byte strings.
 *
 * Used to find groups and interned strings; every hit is confirmed with a
 * byte comparison, so the hash only has to spread well, not resist attack. */
#ifndef REEF_HASH_H
#define REEF_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hash_mix(uint64_t x)
{
    /* Final avalanche step with the well-known 64-bit finalizer constants. */
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t hash_bytes(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
        h = (h << 31) | (h >> 33);
        p += 8;
        n -= 8;
    }
    uint64_t t = 0;
    if (n) memcpy(&t, p, n); /* p may be NULL when n is 0 */
    h = (h ^ t) * 0x9fb21c651e98df25ULL;
    return hash_mix(h);
}

#endif
