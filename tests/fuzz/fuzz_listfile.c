// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The address list reader: the input read whole, in blocks of a size its
 * first byte gives and a byte at a time (where no line is whole in a block,
 * so every line goes through the strict parser, not the quick path for
 * common lines) must give the same addresses, diagnostics and digest;
 * every address must have no host bits and read back the same from its
 * text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portcullis/listfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	uint64_t sum; /* of every address's bytes, length and line */
	size_t n;
};

static void check_prefix(const struct pc_prefix *x)
{
	unsigned max = x->family == 4 ? 32 : 128;
	char text[PC_ADDR_TEXT_MAX + 4];
	struct pc_prefix y = {0};

	if ((x->family != 4 && x->family != 6) || x->len > max)
		abort();
	for (unsigned bit = x->len; bit < max; bit++)
		if (x->bytes[bit / 8] & (0x80u >> (bit % 8)))
			abort();
	pc_prefix_text(text, x);
	if (pc_prefix_parse(text, strlen(text), &y) != PC_ADDR_OK || y.family != x->family ||
			y.len != x->len || memcmp(y.bytes, x->bytes, 16))
		abort();
}

static void add(void *arg, const struct pc_prefix *x)
{
	struct seen *s = arg;

	check_prefix(x);
	s->n++;
	s->sum = s->sum * 1099511628211u + x->len + x->where * 131u + x->col;
	for (size_t i = 0; i < 16; i++)
		s->sum = s->sum * 31u + x->bytes[i];
}

static void run(const uint8_t *data, size_t size, size_t block, struct seen *s, struct pc_diags *d,
		char hex[65])
{
	struct pc_listfile lf;

	memset(s, 0, sizeof(*s));
	pc_listfile_init(&lf, "fuzz.txt", d, add, s);
	for (size_t at = 0; at < size; at += block)
		if (pc_listfile_feed(&lf, (const char *)data + at,
				    size - at < block ? size - at : block) < 0)
			break;
	pc_listfile_end(&lf, hex);
	pc_listfile_finish(&lf);
}

/* Aborts unless the two readings gave the same. */
static void same(const struct seen *s1, const struct pc_diags *d1, const char *h1,
		const struct seen *s2, const struct pc_diags *d2, const char *h2)
{
	if (s1->n != s2->n || s1->sum != s2->sum || d1->n != d2->n || d1->nerrors != d2->nerrors)
		abort();
	for (size_t i = 0; i < d1->n; i++)
		if (d1->v[i].line != d2->v[i].line || d1->v[i].col != d2->v[i].col ||
				strcmp(d1->v[i].code, d2->v[i].code) ||
				strcmp(d1->v[i].msg, d2->v[i].msg) ||
				!d1->v[i].hint != !d2->v[i].hint ||
				(d1->v[i].hint && strcmp(d1->v[i].hint, d2->v[i].hint)))
			abort();
	/* A stop past the limits leaves the digest of what was fed before it. */
	if (d1->nerrors <= PC_LIST_MAX_ERRORS && strcmp(h1, h2))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_diags d1, d2, d3;
	struct seen s1, s2, s3;
	char h1[65], h2[65], h3[65];
	size_t block = size ? 1 + data[0] % 61 : 1;

	pc_diags_init(&d1);
	pc_diags_init(&d2);
	pc_diags_init(&d3);
	run(data, size, size ? size : 1, &s1, &d1, h1);
	run(data, size, block, &s2, &d2, h2);
	run(data, size, 1, &s3, &d3, h3);
	same(&s1, &d1, h1, &s2, &d2, h2);
	same(&s1, &d1, h1, &s3, &d3, h3);
	pc_diags_finish(&d1);
	pc_diags_finish(&d2);
	pc_diags_finish(&d3);
	return 0;
}
