/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A unified diff of two texts, line by line (portcullis/linediff.h).
 *
 * Lines become numbers first (equal lines, equal numbers, through one hash
 * table), so the search compares words.  The search is Myers' "An O(ND)
 * Difference Algorithm and Its Variations" (1986), section 4b: the middle
 * snake of an optimal path is found by searching forward from the start and
 * backward from the end at once, and the two halves around it are diffed the
 * same way.  Each part first sets aside its common head and tail.
 */
#include "portcullis/linediff.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portcullis/diag.h"
#include "util.h"

struct pc_line *pc_lines_split(const char *text, size_t len, size_t *n)
{
	size_t count = 0, cap = 0, at = 0;
	struct pc_line *v = NULL;

	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) + 1 : len;
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[count++] = (struct pc_line){text + at, end - at};
		at = end;
	}
	*n = count;
	return v;
}

struct search {
	const uint32_t *a, *b; /* the lines as numbers */
	unsigned char *del, *ins; /* per line of a (b): removed (added) */
	ptrdiff_t *v1, *v2; /* the furthest x per diagonal, forward and backward */
};

static bool same(const struct pc_line *x, const struct pc_line *y)
{
	return x->len == y->len && !memcmp(x->s, y->s, x->len);
}

static uint64_t hash_line(const struct pc_line *l)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < l->len; i++)
		h = (h ^ (unsigned char)l->s[i]) * 1099511628211ull;
	return h;
}

/* Numbers the lines of a and b: equal lines get equal numbers.  Returns how many numbers. */
static uint32_t number_lines(const struct pc_line *a, size_t na, const struct pc_line *b, size_t nb,
		uint32_t *ida, uint32_t *idb)
{
	size_t cap = 16, total = na + nb;
	const struct pc_line **slot;
	uint32_t *slot_id, next = 0;

	while (cap < 2 * total)
		cap *= 2;
	slot = xcalloc(cap, sizeof(*slot));
	slot_id = xcalloc(cap, sizeof(*slot_id));
	for (size_t i = 0; i < total; i++) {
		const struct pc_line *l = i < na ? &a[i] : &b[i - na];
		size_t h = (size_t)hash_line(l) & (cap - 1);
		while (slot[h] && !same(slot[h], l))
			h = (h + 1) & (cap - 1);
		if (!slot[h]) {
			slot[h] = l;
			slot_id[h] = next++;
		}
		if (i < na)
			ida[i] = slot_id[h];
		else
			idb[i - na] = slot_id[h];
	}
	free(slot);
	free(slot_id);
	return next;
}

static void mark_all(struct search *s, size_t alo, size_t ahi, size_t blo, size_t bhi)
{
	memset(s->del + alo, 1, ahi - alo);
	memset(s->ins + blo, 1, bhi - blo);
}

/*
 * The middle snake of a[alo, alo + n) against b[blo, blo + m) (neither
 * empty, their heads and tails differing): a point (*x, *y) on an optimal
 * path, relative to alo and blo.  When the parts differ by more than
 * 2 * PC_LINEDIFF_MAX_COST edits, the point is the furthest (x + y largest)
 * the forward search reached: a split that keeps the diff correct, not
 * always shortest, and the time bounded.
 */
static void middle(struct search *s, size_t alo, ptrdiff_t n, size_t blo, ptrdiff_t m,
		ptrdiff_t *px, ptrdiff_t *py)
{
	ptrdiff_t bx = 0, by = 0;
	ptrdiff_t max = (n + m + 1) / 2, delta = n - m;
	bool front = delta % 2 != 0;
	ptrdiff_t k1start = 0, k1end = 0, k2start = 0, k2end = 0;

	if (max > PC_LINEDIFF_MAX_COST)
		max = PC_LINEDIFF_MAX_COST;
	ptrdiff_t off = max + 1, len = 2 * max + 3;
	ptrdiff_t *v1 = s->v1, *v2 = s->v2;
	for (ptrdiff_t i = 0; i < len; i++)
		v1[i] = v2[i] = -1;
	v1[off + 1] = 0;
	v2[off + 1] = 0;
	for (ptrdiff_t d = 0; d <= max; d++) {
		/* Forward: the furthest x on each diagonal k = x - y after d edits. */
		for (ptrdiff_t k = -d + k1start; k <= d - k1end; k += 2) {
			ptrdiff_t x;
			if (k == -d || (k != d && v1[off + k - 1] < v1[off + k + 1]))
				x = v1[off + k + 1];
			else
				x = v1[off + k - 1] + 1;
			ptrdiff_t y = x - k;
			while (x < n && y < m && s->a[alo + (size_t)x] == s->b[blo + (size_t)y])
				x++, y++;
			v1[off + k] = x;
			if (x > n) {
				k1end += 2; /* off the right edge: no need to look further right */
			} else if (y > m) {
				k1start += 2; /* off the bottom edge */
			} else {
				ptrdiff_t k2 = delta - k;
				if (x + y > bx + by)
					bx = x, by = y;
				if (front && off + k2 >= 0 && off + k2 < len &&
						v2[off + k2] != -1 && x >= n - v2[off + k2]) {
					*px = x;
					*py = y;
					return;
				}
			}
		}
		/* Backward, from the ends, in mirrored coordinates. */
		for (ptrdiff_t k = -d + k2start; k <= d - k2end; k += 2) {
			ptrdiff_t x;
			if (k == -d || (k != d && v2[off + k - 1] < v2[off + k + 1]))
				x = v2[off + k + 1];
			else
				x = v2[off + k - 1] + 1;
			ptrdiff_t y = x - k;
			while (x < n && y < m &&
					s->a[alo + (size_t)(n - x - 1)] ==
							s->b[blo + (size_t)(m - y - 1)])
				x++, y++;
			v2[off + k] = x;
			if (x > n) {
				k2end += 2;
			} else if (y > m) {
				k2start += 2;
			} else if (!front) {
				ptrdiff_t k1 = delta - k;
				if (off + k1 >= 0 && off + k1 < len && v1[off + k1] != -1) {
					ptrdiff_t x1 = v1[off + k1];
					if (x1 >= n - x) {
						*px = x1;
						*py = x1 - k1;
						return;
					}
				}
			}
		}
	}
	*px = bx;
	*py = by;
}

static void diff_range(struct search *s, size_t alo, size_t ahi, size_t blo, size_t bhi)
{
	while (alo < ahi && blo < bhi && s->a[alo] == s->b[blo])
		alo++, blo++;
	while (alo < ahi && blo < bhi && s->a[ahi - 1] == s->b[bhi - 1])
		ahi--, bhi--;
	if (alo == ahi || blo == bhi) {
		mark_all(s, alo, ahi, blo, bhi);
		return;
	}
	ptrdiff_t x, y;
	middle(s, alo, (ptrdiff_t)(ahi - alo), blo, (ptrdiff_t)(bhi - blo), &x, &y);
	if ((x == 0 && y == 0) || ((size_t)x == ahi - alo && (size_t)y == bhi - blo)) {
		/* No split that makes progress (never met): the part replaced whole. */
		mark_all(s, alo, ahi, blo, bhi);
		return;
	}
	diff_range(s, alo, alo + (size_t)x, blo, blo + (size_t)y);
	diff_range(s, alo + (size_t)x, ahi, blo + (size_t)y, bhi);
}

static void print_label(FILE *out, const char *mark, const char *label)
{
	fputs(mark, out);
	pc_fputs_escaped(label, out);
	fputc('\n', out);
}

/* "L,N" of a hunk's side, as diff -u writes it: N left out when 1, L the line before when 0. */
static void print_range(FILE *out, size_t start, size_t count)
{
	if (count == 1)
		fprintf(out, "%zu", start + 1);
	else
		fprintf(out, "%zu,%zu", count ? start + 1 : start, count);
}

static void print_line(FILE *out, char mark, const struct pc_line *l)
{
	fputc(mark, out);
	fwrite(l->s, 1, l->len, out);
	if (!l->len || l->s[l->len - 1] != '\n')
		fputs("\n\\ No newline at end of file\n", out);
}

/*
 * The lines of `a` that `side` (a or b) keeps when `keep[id]` & `bit`, as
 * numbers in `ids` and their places in `at`; the others are marked in
 * `mark` (removed, or added).  Returns how many are kept.
 */
static size_t keep_shared(const uint32_t *id, size_t n, size_t first, const unsigned char *seen,
		unsigned bit, uint32_t *ids, size_t *at, unsigned char *mark)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (seen[id[i]] & bit) {
			ids[k] = id[i];
			at[k++] = first + i;
		} else {
			mark[first + i] = 1;
		}
	}
	return k;
}

/*
 * Marks the lines of a removed (del) and of b added (ins).  The common head
 * and tail are set aside first, then, as diff does, the lines only one side
 * holds (removed or added whatever the rest, so the shortest diff is the
 * same): only the others are numbered into the search.
 */
static void find_changes(const struct pc_line *a, size_t na, const struct pc_line *b, size_t nb,
		unsigned char *del, unsigned char *ins)
{
	size_t head = 0, tail = 0;

	while (head < na && head < nb && same(&a[head], &b[head]))
		head++;
	while (tail < na - head && tail < nb - head && same(&a[na - 1 - tail], &b[nb - 1 - tail]))
		tail++;
	size_t ma = na - head - tail, mb = nb - head - tail;
	uint32_t *ida = xcalloc(ma + 1, sizeof(*ida)), *idb = xcalloc(mb + 1, sizeof(*idb));
	uint32_t nids = number_lines(a + head, ma, b + head, mb, ida, idb);
	unsigned char *seen = xcalloc((size_t)nids + 1, 1);
	for (size_t i = 0; i < ma; i++)
		seen[ida[i]] |= 1;
	for (size_t i = 0; i < mb; i++)
		seen[idb[i]] |= 2;
	uint32_t *ca = xcalloc(ma + 1, sizeof(*ca)), *cb = xcalloc(mb + 1, sizeof(*cb));
	size_t *at_a = xcalloc(ma + 1, sizeof(*at_a)), *at_b = xcalloc(mb + 1, sizeof(*at_b));
	size_t nca = keep_shared(ida, ma, head, seen, 2, ca, at_a, del);
	size_t ncb = keep_shared(idb, mb, head, seen, 1, cb, at_b, ins);
	free(ida);
	free(idb);
	free(seen);

	struct search s;
	ptrdiff_t vlen = 2 * PC_LINEDIFF_MAX_COST + 3;
	if ((size_t)vlen > nca + ncb + 5)
		vlen = (ptrdiff_t)(nca + ncb + 5);
	s.a = ca;
	s.b = cb;
	s.del = xcalloc(nca + 1, 1);
	s.ins = xcalloc(ncb + 1, 1);
	s.v1 = xcalloc((size_t)vlen, sizeof(*s.v1));
	s.v2 = xcalloc((size_t)vlen, sizeof(*s.v2));
	diff_range(&s, 0, nca, 0, ncb);
	for (size_t k = 0; k < nca; k++)
		del[at_a[k]] |= s.del[k];
	for (size_t k = 0; k < ncb; k++)
		ins[at_b[k]] |= s.ins[k];
	free(ca);
	free(cb);
	free(at_a);
	free(at_b);
	free(s.del);
	free(s.ins);
	free(s.v1);
	free(s.v2);
}

void pc_linediff_marks(const struct pc_line *a, size_t na, const struct pc_line *b, size_t nb,
		unsigned char *del, unsigned char *ins)
{
	memset(del, 0, na);
	memset(ins, 0, nb);
	find_changes(a, na, b, nb, del, ins);
}

size_t pc_linediff(const struct pc_line *a, size_t na, const struct pc_line *b, size_t nb,
		const char *label_a, const char *label_b, unsigned context, FILE *out)
{
	struct search s;
	size_t hunks = 0, i = 0, j = 0;

	s.del = xcalloc(na + 1, 1);
	s.ins = xcalloc(nb + 1, 1);
	pc_linediff_marks(a, na, b, nb, s.del, s.ins);

	/* The hunks: changes closer than 2 * context lines of each other share one. */
	while (i < na || j < nb) {
		if ((i < na && s.del[i]) || (j < nb && s.ins[j])) {
			/* The hunk's end: past the changes, and the equal runs too short to split
			 * on. */
			size_t ei = i, ej = j, gap = 0;
			while (ei < na || ej < nb) {
				if ((ei < na && s.del[ei]) || (ej < nb && s.ins[ej])) {
					while (ei < na && s.del[ei])
						ei++;
					while (ej < nb && s.ins[ej])
						ej++;
					gap = 0;
					continue;
				}
				size_t run = 0;
				while (ei + run < na && ej + run < nb && !s.del[ei + run] &&
						!s.ins[ej + run])
					run++;
				if ((ei + run < na || ej + run < nb) &&
						run <= 2 * (size_t)context) {
					ei += run;
					ej += run;
					continue;
				}
				gap = run;
				break;
			}
			size_t lead = i < context ? i : context;
			lead = j < lead ? j : lead;
			size_t trail = gap < context ? gap : context;
			size_t si = i - lead, sj = j - lead, ti = ei + trail, tj = ej + trail;
			if (!hunks) {
				print_label(out, "--- ", label_a);
				print_label(out, "+++ ", label_b);
			}
			hunks++;
			fputs("@@ -", out);
			print_range(out, si, ti - si);
			fputs(" +", out);
			print_range(out, sj, tj - sj);
			fputs(" @@\n", out);
			i = si;
			j = sj;
			while (i < ti || j < tj) {
				if (i < ti && s.del[i]) {
					print_line(out, '-', &a[i++]);
				} else if (j < tj && s.ins[j]) {
					print_line(out, '+', &b[j++]);
				} else {
					print_line(out, ' ', &a[i]);
					i++;
					j++;
				}
			}
			continue;
		}
		i++;
		j++;
	}
	free(s.del);
	free(s.ins);
	return hunks;
}

size_t pc_linediff_text(const char *a, size_t alen, const char *b, size_t blen, const char *label_a,
		const char *label_b, unsigned context, FILE *out)
{
	size_t na, nb, hunks;
	struct pc_line *la = pc_lines_split(a, alen, &na), *lb = pc_lines_split(b, blen, &nb);

	hunks = pc_linediff(la, na, lb, nb, label_a, label_b, context, out);
	free(la);
	free(lb);
	return hunks;
}
