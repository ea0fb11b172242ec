/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A unified diff of two texts, line by line, as `diff -u` prints it: hunks
 * `@@ -L,N +L,N @@` with a number of lines of context, a line missing its
 * final newline marked `\ No newline at end of file`.
 *
 * The differences are found by Myers' O(ND) algorithm in linear space (the
 * middle snake, divide and conquer), after the common head and tail are
 * set aside: memory is a few words per line whatever the texts, and the
 * same inputs give the same bytes.  Where a part of the texts differs by
 * more than 2 * PC_LINEDIFF_MAX_COST edits, it is split where the forward
 * search got furthest (a correct diff, not always a shortest one), so time
 * stays bounded too.
 *
 * Ownership: nothing is kept; the caller owns the texts and the stream.
 */
#ifndef PORTCULLIS_LINEDIFF_H
#define PORTCULLIS_LINEDIFF_H

#include <stddef.h>
#include <stdio.h>

/* The edits each way the search of one part takes at most before it splits it. */
#define PC_LINEDIFF_MAX_COST 4096

/* One line: its bytes, with its newline when it has one. */
struct pc_line {
	const char *s;
	size_t len;
};

/*
 * Splits `text` (`len` bytes) into lines, each with its newline (the last may
 * have none).  Returns the array (the caller frees it; it points into text)
 * and its length in *n.
 */
struct pc_line *pc_lines_split(const char *text, size_t len, size_t *n);

/*
 * Writes the unified diff from `a` to `b` to `out`: the headers `--- LABEL_A`
 * and `+++ LABEL_B` (control characters and invalid UTF-8 in a label
 * escaped, as diagnostics escape them), then the hunks, with `context` lines
 * of context (3 as diff -u).  Nothing is written when the texts are equal.
 * Returns the number of hunks (0: equal).
 */
size_t pc_linediff(const struct pc_line *a, size_t na, const struct pc_line *b, size_t nb,
		const char *label_a, const char *label_b, unsigned context, FILE *out);

/*
 * The changes alone: `del[i]` is set to 1 for each line of `a` the diff
 * removes and `ins[j]` for each line of `b` it adds (arrays of `na` and `nb`
 * bytes the caller owns, zeroed first); the lines left unmarked are the
 * common subsequence, in order.
 */
void pc_linediff_marks(const struct pc_line *a, size_t na, const struct pc_line *b, size_t nb,
		unsigned char *del, unsigned char *ins);

/* The same for two buffers, split as pc_lines_split() splits them. */
size_t pc_linediff_text(const char *a, size_t alen, const char *b, size_t blen, const char *label_a,
		const char *label_b, unsigned context, FILE *out);

#endif
