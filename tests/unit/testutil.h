/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the unit suites: locating source files and checking diagnostics. */
#ifndef PC_TESTUTIL_H
#define PC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portcullis/diag.h"
#include "util.h"

/* A path below the source tree (PC_SOURCE_ROOT, set by meson test). */
static inline const char *src_path(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("PC_SOURCE_ROOT");

	snprintf(buf, sizeof(buf), "%s/%s", root ? root : ".", rel);
	return buf;
}

/* The first diagnostic with this code, or NULL. */
static inline const struct pc_diag *find_diag(const struct pc_diags *d, const char *code)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].code && !strcmp(d->v[i].code, code))
			return &d->v[i];
	return NULL;
}

static inline size_t count_diag(const struct pc_diags *d, const char *code)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].code && !strcmp(d->v[i].code, code);
	return n;
}

/* Asserts a diagnostic with this code at line:col (col 0: any). */
#define assert_diag_at(d, code, line_, col_)                                                       \
	do {                                                                                       \
		const struct pc_diag *x_ = find_diag((d), (code));                                 \
		if (!x_)                                                                           \
			fail_msg("no diagnostic [%s]", (code));                                    \
		assert_int_equal(x_->line, (line_));                                               \
		if ((col_))                                                                        \
			assert_int_equal(x_->col, (col_));                                         \
	} while (0)

#endif
