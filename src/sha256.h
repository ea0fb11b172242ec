/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 (FIPS 180-4), for naming exactly which inputs produced an output. */
#ifndef PC_SHA256_H
#define PC_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct pc_sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t used;
};

void pc_sha256_init(struct pc_sha256 *s);
void pc_sha256_update(struct pc_sha256 *s, const void *data, size_t len);
/* Writes 64 lower-case hex digits and a NUL. */
void pc_sha256_hex(struct pc_sha256 *s, char out[65]);
/* For tests: nonzero keeps to the portable code where the CPU has SHA instructions. */
extern int pc_sha256_portable;
/* The hex digest of a buffer in one call. */
void pc_sha256_of(const void *data, size_t len, char out[65]);

#endif
