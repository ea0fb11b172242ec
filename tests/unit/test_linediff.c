/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unified diff of two texts: hunks exactly as diff -u writes them, a
 * diff that turns one text into the other, a shortest one where the search
 * is not cut short, and bounded time on texts that share nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portcullis/linediff.h"
#include "util.h"

/* The diff of two texts, as one string (freed by the caller); *hunks gets the count. */
static char *diff_of(const char *a, const char *b, unsigned context, size_t *hunks)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	*hunks = pc_linediff_text(a, strlen(a), b, strlen(b), "a/x", "b/x", context, f);
	fclose(f);
	return text;
}

static void expect_diff(const char *a, const char *b, const char *want, size_t want_hunks)
{
	size_t hunks;
	char *got = diff_of(a, b, 3, &hunks);

	assert_string_equal(got, want);
	assert_int_equal(hunks, want_hunks);
	free(got);
}

static void test_equal(void **state)
{
	(void)state;
	expect_diff("", "", "", 0);
	expect_diff("a\nb\n", "a\nb\n", "", 0);
}

static void test_one_change(void **state)
{
	(void)state;
	expect_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- a/x\n+++ b/x\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
			1);
}

static void test_edges(void **state)
{
	(void)state;
	/* From nothing, to nothing: the empty side is "0,0". */
	expect_diff("", "a\nb\n", "--- a/x\n+++ b/x\n@@ -0,0 +1,2 @@\n+a\n+b\n", 1);
	expect_diff("a\n", "", "--- a/x\n+++ b/x\n@@ -1 +0,0 @@\n-a\n", 1);
	/* At the head and the tail, with the context there is. */
	expect_diff("a\nb\nc\n", "z\na\nb\nc\n",
			"--- a/x\n+++ b/x\n@@ -1,3 +1,4 @@\n+z\n a\n b\n c\n", 1);
	expect_diff("a\nb\nc\n", "a\nb\n", "--- a/x\n+++ b/x\n@@ -1,3 +1,2 @@\n a\n b\n-c\n", 1);
	/* A last line without a newline differs from one with it, and says so. */
	expect_diff("a\nb", "a\nb\n",
			"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
			1);
}

static void test_hunks(void **state)
{
	char a[4096] = "", b[4096] = "";
	size_t hunks;

	(void)state;
	/* Changes 7 equal lines apart are two hunks; 6 apart (2 * 3 of context), one. */
	for (int i = 1; i <= 20; i++) {
		char line[16];
		snprintf(line, sizeof(line), "%d\n", i);
		strcat(a, line);
		strcat(b, i == 3 || i == 11 ? "x\n" : line);
	}
	char *d = diff_of(a, b, 3, &hunks);
	assert_int_equal(hunks, 2);
	assert_non_null(strstr(d, "@@ -1,6 +1,6 @@\n"));
	assert_non_null(strstr(d, "@@ -8,7 +8,7 @@\n"));
	free(d);
	b[0] = '\0';
	for (int i = 1; i <= 20; i++) {
		char line[16];
		snprintf(line, sizeof(line), "%d\n", i);
		strcat(b, i == 3 || i == 10 ? "x\n" : line);
	}
	d = diff_of(a, b, 3, &hunks);
	assert_int_equal(hunks, 1);
	assert_non_null(strstr(d, "@@ -1,13 +1,13 @@\n"));
	free(d);
	/* No context: the changed lines alone. */
	d = diff_of(a, b, 0, &hunks);
	assert_int_equal(hunks, 2);
	assert_non_null(strstr(d, "@@ -3 +3 @@\n-3\n+x\n@@ -10 +10 @@\n-10\n+x\n"));
	free(d);
}

/*
 * Applies a unified diff to `a`: returns the text it gives, and *edits the
 * number of lines removed and added.  Checks each context and removed line
 * against `a` on the way.
 */
static char *apply(const char *a, const char *diff, size_t *edits)
{
	struct pc_buf out;
	size_t na, nd, ai = 0;
	struct pc_line *la = pc_lines_split(a, strlen(a), &na);
	struct pc_line *ld = pc_lines_split(diff, strlen(diff), &nd);

	pc_buf_init(&out);
	*edits = 0;
	for (size_t i = 2; i < nd; i++) {
		const struct pc_line *l = &ld[i];
		if (l->s[0] == '@') {
			char *end;
			unsigned long start = strtoul(l->s + 4, &end, 10);
			size_t target = start ? start - 1 : 0;
			/* "-L,0": nothing of a in this hunk, which goes after line L. */
			if (!strncmp(end, ",0 ", 3))
				target = start;
			while (ai < target)
				pc_buf_add(&out, la[ai].s, la[ai].len), ai++;
			continue;
		}
		bool nonl = i + 1 < nd && ld[i + 1].s[0] == '\\';
		if (l->s[0] == ' ' || l->s[0] == '-') {
			assert_true(ai < na);
			assert_int_equal(la[ai].len, nonl ? l->len - 2 : l->len - 1);
			assert_memory_equal(la[ai].s, l->s + 1, la[ai].len);
			if (l->s[0] == ' ')
				pc_buf_add(&out, la[ai].s, la[ai].len);
			else
				(*edits)++;
			ai++;
		} else if (l->s[0] == '+') {
			pc_buf_add(&out, l->s + 1, nonl ? l->len - 2 : l->len - 1);
			(*edits)++;
		}
		if (nonl)
			i++;
	}
	while (ai < na)
		pc_buf_add(&out, la[ai].s, la[ai].len), ai++;
	free(la);
	free(ld);
	if (!out.data)
		pc_buf_add(&out, "", 0);
	return out.data;
}

/* The fewest lines removed and added, by the longest common subsequence (O(nm)). */
static size_t shortest(const char *a, const char *b)
{
	size_t na, nb;
	struct pc_line *la = pc_lines_split(a, strlen(a), &na);
	struct pc_line *lb = pc_lines_split(b, strlen(b), &nb);
	size_t *row = calloc((nb + 1) * (na + 1), sizeof(size_t));

	for (size_t i = 1; i <= na; i++)
		for (size_t j = 1; j <= nb; j++) {
			bool eq = la[i - 1].len == lb[j - 1].len &&
				  !memcmp(la[i - 1].s, lb[j - 1].s, la[i - 1].len);
			size_t up = row[(i - 1) * (nb + 1) + j], left = row[i * (nb + 1) + j - 1];
			row[i * (nb + 1) + j] = eq ? row[(i - 1) * (nb + 1) + j - 1] + 1
						   : (up > left ? up : left);
		}
	size_t lcs = row[na * (nb + 1) + nb];
	free(row);
	free(la);
	free(lb);
	return na + nb - 2 * lcs;
}

/* A text of n lines drawn from `alphabet` letters, the last without a newline sometimes. */
static char *random_text(unsigned *seed, size_t n, unsigned alphabet)
{
	struct pc_buf b;

	pc_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		char c = (char)('a' + rand_r(seed) % alphabet);
		pc_buf_add(&b, &c, 1);
		if (i + 1 < n || rand_r(seed) % 4)
			pc_buf_add(&b, "\n", 1);
	}
	if (!b.data)
		pc_buf_add(&b, "", 0);
	return b.data;
}

static void test_random(void **state)
{
	unsigned seed = 1;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		char *a = random_text(&seed, (size_t)rand_r(&seed) % 25, 1 + (unsigned)round % 5);
		char *b = random_text(&seed, (size_t)rand_r(&seed) % 25, 1 + (unsigned)round % 5);
		size_t hunks, edits;
		char *d = diff_of(a, b, (unsigned)round % 4, &hunks);
		char *got = apply(a, d, &edits);
		assert_string_equal(got, b);
		assert_int_equal(edits, shortest(a, b));
		assert_int_equal(hunks == 0, strcmp(a, b) == 0);
		free(a);
		free(b);
		free(d);
		free(got);
	}
}

/*
 * The same lines in another order, and lines only one side holds: past
 * 2 * PC_LINEDIFF_MAX_COST edits the search splits where it got furthest,
 * still a diff that turns one text into the other.
 */
static void test_costly(void **state)
{
	struct pc_buf a, b;
	size_t hunks, edits;

	(void)state;
	pc_buf_init(&a);
	pc_buf_init(&b);
	for (int i = 0; i < 9000; i++) {
		pc_buf_printf(&a, "rule %d\n", i);
		if (i % 3 == 0)
			pc_buf_printf(&b, "other %d\n", i);
		pc_buf_printf(&b, "rule %d\n", (int)((long)i * 7919 % 9000));
	}
	char *d = diff_of(a.data, b.data, 3, &hunks);
	char *got = apply(a.data, d, &edits);
	assert_string_equal(got, b.data);
	assert_true(hunks >= 1);
	free(d);
	free(got);
	pc_buf_finish(&a);
	pc_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_equal),
			cmocka_unit_test(test_one_change),
			cmocka_unit_test(test_edges),
			cmocka_unit_test(test_hunks),
			cmocka_unit_test(test_random),
			cmocka_unit_test(test_costly),
	};
	return cmocka_run_group_tests_name("linediff", tests, NULL, NULL);
}
