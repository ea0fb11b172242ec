/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sha256.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PC_SHA256_X86 1
/*
 * What the C library learnt of the CPU at start-up where it says (glibc
 * 2.33 and later): a CPUID instruction of our own traps to the hypervisor
 * in a virtual machine, tens of microseconds a process.
 */
#if defined(__has_include) && __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define PC_SHA256_LIBC_CPU 1
#else
#include <cpuid.h>
#endif
#endif

int pc_sha256_portable;

static const uint32_t K[64] = {
		0x428a2f98,
		0x71374491,
		0xb5c0fbcf,
		0xe9b5dba5,
		0x3956c25b,
		0x59f111f1,
		0x923f82a4,
		0xab1c5ed5,
		0xd807aa98,
		0x12835b01,
		0x243185be,
		0x550c7dc3,
		0x72be5d74,
		0x80deb1fe,
		0x9bdc06a7,
		0xc19bf174,
		0xe49b69c1,
		0xefbe4786,
		0x0fc19dc6,
		0x240ca1cc,
		0x2de92c6f,
		0x4a7484aa,
		0x5cb0a9dc,
		0x76f988da,
		0x983e5152,
		0xa831c66d,
		0xb00327c8,
		0xbf597fc7,
		0xc6e00bf3,
		0xd5a79147,
		0x06ca6351,
		0x14292967,
		0x27b70a85,
		0x2e1b2138,
		0x4d2c6dfc,
		0x53380d13,
		0x650a7354,
		0x766a0abb,
		0x81c2c92e,
		0x92722c85,
		0xa2bfe8a1,
		0xa81a664b,
		0xc24b8b70,
		0xc76c51a3,
		0xd192e819,
		0xd6990624,
		0xf40e3585,
		0x106aa070,
		0x19a4c116,
		0x1e376c08,
		0x2748774c,
		0x34b0bcb5,
		0x391c0cb3,
		0x4ed8aa4a,
		0x5b9cca4f,
		0x682e6ff3,
		0x748f82ee,
		0x78a5636f,
		0x84c87814,
		0x8cc70208,
		0x90befffa,
		0xa4506ceb,
		0xbef9a3f7,
		0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void compress_one(uint32_t *hs, const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = hs[0], b = hs[1], c = hs[2], d = hs[3];
	e = hs[4], f = hs[5], g = hs[6], h = hs[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
			      K[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	hs[0] += a, hs[1] += b, hs[2] += c, hs[3] += d;
	hs[4] += e, hs[5] += f, hs[6] += g, hs[7] += h;
}

#ifdef PC_SHA256_X86
/*
 * The same compression with the CPU's SHA instructions (SHA-NI: Intel since
 * Goldmont and Ice Lake, AMD since Zen), several times faster: hashing a
 * list file of a million addresses was a third of reading it.  The state
 * lives as two vectors, ABEF and CDGH, the order sha256rnds2 works in; each
 * step of four rounds takes four message words plus their constants, the
 * words past the sixteenth made by sha256msg1/msg2 from the four steps before.
 */
__attribute__((target("sha,sse4.1"))) static void compress_ni(
		uint32_t *hs, const uint8_t *p, size_t nblocks)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i dcba = _mm_loadu_si128((const __m128i *)(const void *)&hs[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)(const void *)&hs[4]);
	__m128i badc = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
	__m128i abef = _mm_alignr_epi8(badc, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, badc, 0xf0);

	for (; nblocks; nblocks--, p += 64) {
		__m128i w[4], abef0 = abef, cdgh0 = cdgh;
		for (int t = 0; t < 16; t++) {
			__m128i m;
			if (t < 4) {
				m = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * t));
				m = _mm_shuffle_epi8(m, swap);
			} else {
				/* w[i-16] + s0(w[i-15]) + w[i-7], then + s1(w[i-2]). */
				m = _mm_sha256msg1_epu32(w[t & 3], w[(t + 1) & 3]);
				m = _mm_add_epi32(m,
						_mm_alignr_epi8(w[(t + 3) & 3], w[(t + 2) & 3], 4));
				m = _mm_sha256msg2_epu32(m, w[(t + 3) & 3]);
			}
			w[t & 3] = m;
			__m128i k = _mm_add_epi32(m,
					_mm_loadu_si128((const __m128i *)(const void *)&K[4 * t]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(k, 0x0e));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	__m128i feba = _mm_shuffle_epi32(abef, 0x1b);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)(void *)&hs[0], _mm_blend_epi16(feba, dchg, 0xf0));
	_mm_storeu_si128((__m128i *)(void *)&hs[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* Whether the CPU has the SHA extensions and SSE4.1 (asked once). */
static bool have_sha_ni(void)
{
	static int known = -1;

	if (known < 0) {
#ifdef PC_SHA256_LIBC_CPU
		known = CPU_FEATURE_ACTIVE(SSE4_1) && CPU_FEATURE_ACTIVE(SSSE3) &&
			CPU_FEATURE_ACTIVE(SHA);
#else
		unsigned a, b, c, d;
		known = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_SSSE3) &&
			__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
#endif
	}
	return known;
}
#endif

/* `n` whole blocks at `p` into the state. */
static void compress(uint32_t *hs, const uint8_t *p, size_t n)
{
#ifdef PC_SHA256_X86
	if (!pc_sha256_portable && have_sha_ni()) {
		compress_ni(hs, p, n);
		return;
	}
#endif
	for (; n; n--, p += 64)
		compress_one(hs, p);
}

void pc_sha256_init(struct pc_sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f,
			0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(s->h, iv, sizeof(iv));
	s->bytes = 0;
	s->used = 0;
}

void pc_sha256_update(struct pc_sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!len)
		return;
	s->bytes += len;
	if (s->used) {
		size_t n = 64 - s->used < len ? 64 - s->used : len;
		memcpy(s->block + s->used, p, n);
		s->used += n;
		p += n;
		len -= n;
		if (s->used < 64)
			return;
		compress(s->h, s->block, 1);
		s->used = 0;
	}
	/* Whole blocks straight from the input, then what is left kept for later. */
	if (len >= 64) {
		compress(s->h, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	if (len)
		memcpy(s->block, p, len);
	s->used = len;
}

void pc_sha256_hex(struct pc_sha256 *s, char out[65])
{
	uint64_t bits = s->bytes * 8;
	uint8_t pad = 0x80, zero = 0, len[8];

	pc_sha256_update(s, &pad, 1);
	while (s->used != 56)
		pc_sha256_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	pc_sha256_update(s, len, 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

void pc_sha256_of(const void *data, size_t len, char out[65])
{
	struct pc_sha256 s;

	pc_sha256_init(&s);
	pc_sha256_update(&s, data, len);
	pc_sha256_hex(&s, out);
}
