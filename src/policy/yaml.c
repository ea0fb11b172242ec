/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "yaml.h"

#include "portcullis/listfile.h"

#include <endian.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

/* The items of a container of at least this many bytes stay in the array they were read into. */
#define LIST_KEPT (16u << 10)

void pc_ydoc_init(struct pc_ydoc *doc)
{
	memset(doc, 0, sizeof(*doc));
	pc_arena_init(&doc->arena);
	pc_arena_init(&doc->nodes);
	doc->run_min = PC_YAML_RUN_MIN;
}

size_t pc_ydoc_drop_tree(struct pc_ydoc *doc)
{
	size_t bytes = doc->nodes.total;

	pc_arena_finish(&doc->nodes);
	for (size_t i = 0; i < doc->nlists; i++)
		free(doc->lists[i]);
	free(doc->lists);
	doc->lists = NULL;
	doc->nlists = 0;
	doc->root = NULL;
	return bytes;
}

void pc_ydoc_finish(struct pc_ydoc *doc)
{
	pc_ydoc_drop_tree(doc);
	free(doc->line_starts);
	free(doc->gone);
	free(doc->shown);
	pc_arena_finish(&doc->arena);
	free(doc->owned);
	memset(doc, 0, sizeof(*doc));
}

const struct pc_ynode *pc_ynode_get(const struct pc_ynode *map, const char *key)
{
	if (!map || map->kind != PC_Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->items[2 * i]->str, key))
			return map->items[2 * i + 1];
	return NULL;
}

static void line_index(struct pc_ydoc *doc)
{
	if (!doc->line_starts) {
		size_t cap = 64;
		doc->line_starts = xcalloc(cap, sizeof(*doc->line_starts));
		doc->nlines = 1;
		for (const char *p = doc->text, *end = p + doc->text_len;
				(p = memchr(p, '\n', (size_t)(end - p))); p++) {
			if (doc->nlines == cap)
				doc->line_starts = xreallocarray(doc->line_starts, cap *= 2,
						sizeof(*doc->line_starts));
			doc->line_starts[doc->nlines++] = (uint32_t)(p + 1 - doc->text);
		}
	}
}

size_t pc_ydoc_offset(struct pc_ydoc *doc, unsigned line, unsigned col)
{
	line_index(doc);
	return line && line <= doc->nlines ? doc->line_starts[line - 1] + (size_t)col - 1 : 0;
}

void pc_ydoc_locate(struct pc_ydoc *doc, size_t offset, unsigned *line, unsigned *col)
{
	line_index(doc);
	size_t lo = 0, hi = doc->nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (doc->line_starts[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	*line = (unsigned)lo + 1;
	*col = (unsigned)(offset - doc->line_starts[lo]) + 1;
}

static unsigned count_nl(const char *p, const char *end)
{
	unsigned n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

static void shown_reset(struct pc_ydoc *doc)
{
	free(doc->shown);
	doc->shown = NULL;
	doc->nshown = 0;
}

const char *pc_ydoc_give_back(struct pc_ydoc *doc, const struct pc_yrun *run, const char *from,
		const char *to, const char *at, unsigned at_line)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	const char *a = (const char *)(((uintptr_t)from + page - 1) & ~(page - 1));
	const char *b = (const char *)((uintptr_t)to & ~(page - 1));

	if (b <= a || !doc->owned)
		return from;
	pc_pages_release(a, (size_t)(b - a));
	shown_reset(doc);
	unsigned last = at_line - count_nl(b, at); /* a few bytes: those after b */
	/* In the text's order (runs are read in the order networks are resolved). */
	size_t k = 0, at_a = (size_t)(a - doc->text);
	while (k < doc->ngone && doc->gone[k].from < at_a)
		k++;
	if (k && doc->gone[k - 1].to == at_a) {
		doc->gone[k - 1].to = (size_t)(b - doc->text);
		doc->gone[k - 1].last = last;
	} else {
		doc->gone = pc_grow(doc->gone, doc->ngone, sizeof(*doc->gone));
		memmove(doc->gone + k + 1, doc->gone + k, (doc->ngone++ - k) * sizeof(*doc->gone));
		doc->gone[k] = (struct pc_ygone){at_a, (size_t)(b - doc->text),
				run->line + count_nl(run->text, a), last};
	}
	return b;
}

bool pc_ydoc_line_gone(const struct pc_ydoc *doc, unsigned line)
{
	for (size_t i = 0; i < doc->ngone; i++)
		if (line >= doc->gone[i].first && line <= doc->gone[i].last)
			return true;
	return false;
}

void pc_ydoc_restored(struct pc_ydoc *doc)
{
	shown_reset(doc);
	free(doc->gone);
	doc->gone = NULL;
	doc->ngone = 0;
}

/*
 * The lines of segment `k` of the text (before the first range given back,
 * between two, or after the last) start where the one before it ends and
 * end where the next begins; one of a range is never indexed.
 */
static void shown_segment(struct pc_ydoc *doc, size_t k, size_t *cap)
{
	const char *p = doc->text, *end = doc->text + doc->text_len;
	unsigned line = 1, stop = k < doc->ngone ? doc->gone[k].first : UINT_MAX;

	if (k) {
		/* Bytes given back are passed by their lines, to the line after the last they
		 * touch. */
		p = memchr(doc->text + doc->gone[k - 1].to, '\n',
				doc->text_len - doc->gone[k - 1].to);
		if (!p)
			return;
		p++;
		line = doc->gone[k - 1].last + 1;
	}
	for (; line < stop; line++) {
		if (line > doc->nshown) {
			if (line > *cap)
				doc->shown = xreallocarray(doc->shown, *cap = 2 * line + 64,
						sizeof(*doc->shown));
			for (size_t l = doc->nshown; l < line; l++)
				doc->shown[l] = UINT32_MAX;
			doc->nshown = line;
		}
		doc->shown[line - 1] = (uint32_t)(p - doc->text);
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return;
		p++;
	}
}

/* Where each line begins, found in one pass (a line a time, every line shown cost the file). */
static void shown_index(struct pc_ydoc *doc)
{
	size_t cap = 0;

	doc->nshown = 0;
	for (size_t k = 0; k <= doc->ngone; k++)
		shown_segment(doc, k, &cap);
	if (!doc->shown) /* indexed, if with no line */
		doc->shown = xcalloc(1, sizeof(*doc->shown));
}

const char *pc_ydoc_line(struct pc_ydoc *doc, unsigned line, size_t *len)
{
	const char *end = doc->text + doc->text_len;

	if (!doc->text || line == 0 || pc_ydoc_line_gone(doc, line))
		return NULL;
	if (!doc->shown)
		shown_index(doc);
	if (line > doc->nshown || doc->shown[line - 1] == UINT32_MAX)
		return NULL;
	const char *p = doc->text + doc->shown[line - 1];
	const char *e = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((e ? e : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

/* ---- before libyaml: bytes it would misplace or accept ---------------- */

/*
 * libyaml reports encoding errors at 0:0, counts U+0085, U+2028, U+2029 and a
 * lone CR as line breaks (so its lines would not be ours), and lets format
 * characters through; what it refuses (U+FFFE, U+FFFF) must be found here
 * too, as a comment in a run's cut never reaches it.  Every such byte is reported here at its own
 * line and column, and libyaml never sees the text.
 */
/* Whether a byte of w is outside printable ASCII (0x20-0x7e); exact for the word, not the byte. */
static bool unusual(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;

	return (((w - 0x20 * ones) & ~w) | (w + ones) | w) & high;
}

static int prescan(const char *file, const unsigned char *s, size_t len, struct pc_diags *d,
		bool *multibyte)
{
	unsigned line = 1;
	size_t line_start = 0;
	int bad = 0;

	if (len >= 2 && ((s[0] == 0xff && s[1] == 0xfe) || (s[0] == 0xfe && s[1] == 0xff))) {
		pc_diag_add(d, PC_SEV_ERROR, "yaml-encoding", file, 1, 1,
				"the policy is UTF-16; policies must be UTF-8");
		return -1;
	}
	for (size_t i = 0; i < len && bad < 20;) {
		/* Printable ASCII, the bulk of any policy, needs no look: passed 8 bytes at a time.
		 */
		for (uint64_t w; i + 8 <= len && (memcpy(&w, s + i, 8), !unusual(w));)
			i += 8;
		while (i < len && s[i] >= 0x20 && s[i] < 0x7f)
			i++;
		if (i == len)
			break;
		unsigned col = (unsigned)(i - line_start + 1);
		unsigned char c = s[i];
		*multibyte |= c >= 0x80;
		size_t n = pc_utf8_seq(s + i, len - i);

		if (c == '\n') {
			line++;
			line_start = ++i;
			continue;
		}
		if (n == 0) {
			pc_diag_add(d, PC_SEV_ERROR, "yaml-encoding", file, line, col,
					"invalid UTF-8 (byte 0x%02x); policies must be UTF-8", c);
			bad++;
			i++;
			continue;
		}
		const char *what = NULL;
		if (c == 0)
			what = "a NUL byte";
		else if (c == '\r' && (i + 1 >= len || s[i + 1] != '\n'))
			what = "a carriage return without a line feed";
		else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			what = "a control character";
		else if (n == 2 && c == 0xc2 && s[i + 1] < 0xa0)
			what = "a C1 control character (U+0080-U+009F)";
		else if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
				((s[i + 2] >= 0x8b && s[i + 2] <= 0x8f) ||
						(s[i + 2] >= 0xa8 && s[i + 2] <= 0xae)))
			what = "a line separator, zero-width or bidirectional control character";
		else if (n == 3 && c == 0xe2 && s[i + 1] == 0x81 && s[i + 2] >= 0xa6 &&
				s[i + 2] <= 0xa9)
			what = "a bidirectional isolate character";
		else if (n == 3 && c == 0xef && s[i + 1] == 0xbb && s[i + 2] == 0xbf && i != 0)
			what = "a byte order mark inside the text";
		else if (n == 3 && c == 0xef && s[i + 1] == 0xbf && s[i + 2] >= 0xbe)
			what = "a noncharacter (U+FFFE or U+FFFF)";
		if (what) {
			struct pc_diag *x = pc_diag_add(d, PC_SEV_ERROR, "yaml-character", file,
					line, col, "%s is not allowed in a policy", what);
			if (c == 0)
				pc_diag_hint(x, "the file may be binary or truncated");
			bad++;
		}
		i += n;
	}
	return bad ? -1 : 0;
}

/* ---- runs: long lists of addresses, cut out of libyaml's text ----------- */

/*
 * One run: the bytes [from, to) of the document are replaced in the text
 * libyaml reads, which keeps the sequence's brackets: the items of a flow
 * sequence go, and a block sequence's lines become "[]" on the first one,
 * indented one past its dash (a value there is still that key's, or that
 * item's).
 */
struct cut {
	size_t from, to;
	bool block;
	unsigned line, col; /* 0-based: the node (its '[' or first '-') */
	struct pc_yrun run;
	/* In libyaml's text; indexes and columns in its units (cuts_in_chars()). */
	size_t mod_open; /* the '[' */
	size_t mod_at; /* the first byte after the replacement: the document's `to` */
	size_t mod_line, mod_col; /* of mod_at */
	size_t col_at; /* the document's column of `to` */
	/* The largest column an item starts at: on the first item's line (in bytes), after it. */
	unsigned far_first, far;
	size_t d_index, d_line; /* from libyaml's text to the document's, from mod_at on */
	size_t lines; /* the line breaks in [from, to) */
};

struct finder {
	const char *t;
	size_t len;
	size_t min;
	struct cut *cuts;
	size_t n, cap;
};

/* The characters of a run's items: 0-9 a-f A-F . : / (a byte each: one load a character). */
#define A1(c) [c] = true
#define A10(c)                                                                                     \
	A1(c), A1(c + 1), A1(c + 2), A1(c + 3), A1(c + 4), A1(c + 5), A1(c + 6), A1(c + 7),        \
			A1(c + 8), A1(c + 9)
static const bool addr_chars[256] = {A1('.'), A1('/'), A10('0'), A1(':'), A1('a'), A1('b'), A1('c'),
		A1('d'), A1('e'), A1('f'), A1('A'), A1('B'), A1('C'), A1('D'), A1('E'), A1('F')};
#undef A10
#undef A1

static bool addr_char(unsigned char c)
{
	return addr_chars[c];
}

/*
 * The first byte from p on that is not one of . / 0-9 : (0x2e-0x3a, most of
 * an item's characters), or the last 8 bytes before `stop`: read 8 bytes at a
 * time, without a branch a byte (an item's length varies, and a branch on each
 * of its bytes is mispredicted once an item).
 */
static const char *digits_end(const char *p, const char *stop)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu, high = 0x8080808080808080u;
	const uint64_t ones = 0x0101010101010101u;

	for (uint64_t w; stop - p >= 8; p += 8) {
		memcpy(&w, p, 8);
		w = le64toh(w);
		/* A byte's top bit: set when it is below 0x2e, or above 0x3a (no carry between
		 * bytes). */
		uint64_t below = ~(((w & low7) + (0x80 - 0x2e) * ones) | w) & high;
		uint64_t above = (((w & low7) + (0x7f - 0x3a) * ones) | w) & high;
		if (below | above)
			return p + __builtin_ctzll(below | above) / 8;
	}
	return p;
}

/*
 * The token at p: an item's characters, plain or in quotes without escapes.
 * Returns its end (after a closing quote), or NULL if it is not an item as a
 * run holds it: one that reads as an address (a digit first, or a ':'), and
 * as plain YAML reads it alone (no ':' first or last, where it would be an
 * indicator).
 */
static const char *scan_item(const char *p, const char *end, struct pc_yitem *it)
{
	char q = *p == '"' || *p == '\'' ? *p : 0;
	const char *s = p + (q != 0), *e = s;
	const char *stop = (size_t)(end - s) > PC_YAML_RUN_ITEM ? s + PC_YAML_RUN_ITEM + 1 : end;

	e = digits_end(e, stop);
	while (e < stop && addr_char((unsigned char)*e))
		e++;
	size_t n = (size_t)(e - s);
	if (n == 0 || n > PC_YAML_RUN_ITEM)
		return NULL;
	if (q && (e == end || *e != q))
		return NULL;
	if (!q && (s[0] == ':' || s[n - 1] == ':'))
		return NULL;
	if (!(s[0] >= '0' && s[0] <= '9') && !memchr(s, ':', n))
		return NULL;
	it->s = s;
	it->len = n;
	it->quoted = q != 0;
	return q ? e + 1 : e;
}

static void add_cut(struct finder *f, const struct cut *c)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 8;
		f->cuts = xreallocarray(f->cuts, f->cap, sizeof(*f->cuts));
	}
	f->cuts[f->n++] = *c;
}

/*
 * A flow sequence opening at t[b] ('[' on line `line`, which starts at ls and
 * is indented by `indent`): its run if every item is one, else nothing.
 * Returns where the search goes on: after its ']', or where it stopped.
 */
static size_t flow_run(struct finder *f, size_t b, size_t ls, unsigned line, size_t indent)
{
	const char *t = f->t, *end = t + f->len, *p = t + b + 1;
	const char *first = NULL, *last = NULL, *lstart = t + ls;
	unsigned l = line, first_line = 0, first_col = 0, last_line = 0, far_first = 0,
		 far_later = 0;
	uint32_t n = 0;
	bool want_item = true;

	for (;;) {
		if (p == end)
			return f->len;
		char c = *p;
		if (c == ' ') {
			p++;
		} else if (c == '\n' || (c == '\r' && p + 1 < end && p[1] == '\n')) {
			p += c == '\r' ? 2 : 1;
			l++;
			lstart = p;
			/* Continuation lines indented past the line of the '[' only. */
			const char *q = p;
			while (q < end && *q == ' ')
				q++;
			if (q < end && *q != '\n' && *q != '\r' && (size_t)(q - p) <= indent)
				return (size_t)(q - t);
		} else if (want_item) {
			struct pc_yitem it;
			const char *e = scan_item(p, end, &it);
			if (!e)
				return (size_t)(p - t);
			if (!first) {
				first = p;
				first_line = l;
				first_col = (unsigned)(p - lstart);
			}
			unsigned *far = l == first_line ? &far_first : &far_later;
			if ((unsigned)(p - lstart) > *far)
				*far = (unsigned)(p - lstart);
			last = e;
			last_line = l;
			n++;
			p = e;
			want_item = false;
		} else if (c == ',') {
			want_item = true;
			p++;
		} else if (c == ']') {
			break;
		} else {
			return (size_t)(p - t);
		}
	}
	/* A comma before ']' (an empty last item) is left to libyaml. */
	if (want_item || n < f->min)
		return (size_t)(p - t) + 1;
	struct cut c = {.from = b + 1,
			.to = (size_t)(p - t),
			.line = line,
			.col = (unsigned)(b - ls),
			.col_at = (size_t)(p - lstart),
			.far_first = far_first,
			.far = far_later,
			.lines = l - line};
	c.run = (struct pc_yrun){NULL, first, (size_t)(last - first), first_line + 1, first_col + 1,
			last_line + 1, n, 0};
	add_cut(f, &c);
	return (size_t)(p - t) + 1;
}

/* A line of a block sequence that a run can hold: `- ITEM`, blanks and a comment after it. */
static bool block_item(const char *p, const char *e, size_t *dash, struct pc_yitem *it,
		const char **item_end)
{
	const char *q = p;

	while (q < e && *q == ' ')
		q++;
	if (q + 2 >= e || q[0] != '-' || q[1] != ' ')
		return false;
	*dash = (size_t)(q - p);
	q += 2;
	while (q < e && *q == ' ')
		q++;
	if (q == e)
		return false;
	const char *x = scan_item(q, e, it);
	if (!x)
		return false;
	*item_end = x;
	const char *b = x;
	while (x < e && *x == ' ')
		x++;
	return x == e || (*x == '#' && x > b);
}

struct block {
	bool open;
	size_t indent; /* of the dashes */
	size_t from; /* the first item line's start */
	unsigned line, n;
	const char *first, *last;
	unsigned first_line, first_col, last_line;
	size_t last_eol; /* the end of the last item line: its '\n' (or '\r\n'), or the text's end
			  */
	size_t last_ls;
	unsigned far; /* the largest column an item starts at */
};

static void block_close(struct finder *f, struct block *k, bool keep)
{
	if (k->open && keep && k->n >= f->min) {
		struct cut c = {.from = k->from,
				.to = k->last_eol,
				.block = true,
				.line = k->line,
				.col = (unsigned)k->indent,
				.col_at = k->last_eol - k->last_ls,
				.far = k->far,
				.lines = k->last_line - k->line};
		c.run = (struct pc_yrun){NULL, k->first, (size_t)(k->last - k->first),
				k->first_line + 1, k->first_col + 1, k->last_line + 1, k->n, 0};
		add_cut(f, &c);
	}
	k->open = false;
}

/*
 * Finds the runs of the text: line by line, block sequences of item lines,
 * and flow sequences after `KEY: `, `- ` or indentation.  What it takes for
 * one libyaml must confirm (parse()), so a '[' in a quoted value, a comment or
 * a block scalar costs a second read, never a wrong one.  A block run starts
 * where a sequence starts: after a line less indented, or as indented and
 * not an item (`key:` of a compact list); it ends where the sequence ends:
 * before a line less indented, or as indented and not an item.
 */
static void find_runs(struct finder *f)
{
	const char *t = f->t;
	struct block k = {0};
	/* The last significant line (not blank, not a comment): its indentation and whether a
	 * dash starts it; -1: none yet; -2: not known (skipped inside a flow sequence). */
	long prev = -1;
	bool prev_dash = false;
	unsigned line = 0;

	for (size_t ls = 0; ls < f->len;) {
		const char *nl = memchr(t + ls, '\n', f->len - ls);
		size_t le = nl ? (size_t)(nl - t) : f->len, eol = le;
		if (eol > ls && t[eol - 1] == '\r')
			eol--;
		const char *p = t + ls, *e = t + eol, *q = p;
		while (q < e && *q == ' ')
			q++;
		size_t indent = (size_t)(q - p), dash, resume = SIZE_MAX;
		struct pc_yitem it;
		const char *item_end;

		if (q == e || *q == '#') {
			/* Blank or a comment: nothing for either. */
		} else if (block_item(p, e, &dash, &it, &item_end)) {
			if (k.open && k.indent != dash)
				block_close(f, &k, dash < k.indent);
			if (!k.open && (prev == -1 || (prev >= 0 && ((size_t)prev < dash ||
										    ((size_t)prev == dash &&
												    !prev_dash)))))
				k = (struct block){true, dash, ls, line, 0, it.s - it.quoted, NULL,
						line, (unsigned)(it.s - it.quoted - p), 0, 0, 0, 0};
			if (k.open) {
				k.n++;
				k.last = item_end;
				k.last_line = line;
				k.last_eol = eol;
				k.last_ls = ls;
				if ((unsigned)(it.s - it.quoted - p) > k.far)
					k.far = (unsigned)(it.s - it.quoted - p);
			}
			prev = (long)dash;
			prev_dash = true;
		} else {
			block_close(f, &k, indent < k.indent || (indent == k.indent && *q != '-'));
			/* `- - x` opens a list at each dash: the last one's goes on below it. */
			size_t last = indent;
			for (const char *x = q; x < e && *x == '-' &&
						(x + 1 == e || x[1] == ' ' || x[1] == '\t');) {
				last = (size_t)(x - p);
				for (x++; x < e && (*x == ' ' || *x == '\t'); x++)
					;
			}
			prev = (long)last;
			prev_dash = *q == '-';
			/* Flow sequences on the line. */
			for (size_t b = (size_t)(q - t); b < eol;) {
				const char *o = memchr(t + b, '[', eol - b);
				if (!o)
					break;
				b = (size_t)(o - t);
				const char *w = o;
				while (w > p && w[-1] == ' ')
					w--;
				if (!(w == p || (w < o && (w[-1] == ':' ||
									  (w[-1] == '-' &&
											  w - 1 == q))))) {
					b++;
					continue;
				}
				b = flow_run(f, b, ls, line, indent);
				if (b >= le) {
					resume = b;
					break;
				}
			}
		}
		if (resume == SIZE_MAX) {
			ls = le + 1;
			line++;
			continue;
		}
		/* A sequence ran past the line: on from the line after the one it stopped on. */
		while (ls <= resume && ls < f->len) {
			const char *x = memchr(t + ls, '\n', f->len - ls);
			if (!x) {
				ls = f->len;
				break;
			}
			ls = (size_t)(x - t) + 1;
			line++;
		}
		prev = -2;
	}
	block_close(f, &k, true);
}

/*
 * Builds libyaml's text: the document with the runs cut out, and for each cut
 * where it lands there.
 */
static char *cut_text(const struct pc_ydoc *doc, struct cut *cuts, size_t ncuts, size_t *len)
{
	const char *t = doc->text;
	struct pc_buf b;
	size_t at = 0, lines = 0;

	pc_buf_init(&b);
	for (size_t i = 0; i < ncuts; i++) {
		struct cut *c = &cuts[i];
		pc_buf_add(&b, t + at, c->from - at);
		lines += c->lines;
		if (c->block) {
			for (unsigned s = 0; s <= c->col; s++) /* col: the dash's, in bytes */
				pc_buf_add(&b, " ", 1);
			c->mod_open = b.len;
			pc_buf_add(&b, "[]", 2);
		} else {
			c->mod_open = b.len - 1;
		}
		c->mod_at = b.len;
		c->d_index = c->to - c->mod_at;
		c->d_line = lines;
		at = c->to;
	}
	pc_buf_add(&b, t + at, doc->text_len - at);
	/* The line and column of each cut's end in this text. */
	size_t line = 0, ls = 0, pos = 0;
	for (size_t i = 0; i < ncuts; i++) {
		struct cut *c = &cuts[i];
		for (const char *x; pos < c->mod_at &&
				    (x = memchr(b.data + pos, '\n', c->mod_at - pos));
				pos = ls) {
			line++;
			ls = (size_t)(x - b.data) + 1;
		}
		pos = c->mod_at;
		c->mod_line = line;
		c->mod_col = c->mod_at - ls;
	}
	*len = b.len;
	return b.data;
}

/* Characters as libyaml counts them (a UTF-8 sequence is one), through a text, forward only. */
struct counter {
	const char *t;
	size_t at, cont; /* continuation bytes before `at` */
	size_t ls, ls_cont; /* the start of at's line, and continuation bytes before it */
};

static size_t count_to(struct counter *k, size_t to)
{
	for (; k->at < to; k->at++) {
		unsigned char c = (unsigned char)k->t[k->at];
		if (c == '\n') {
			k->ls = k->at + 1;
			k->ls_cont = k->cont;
		}
		k->cont += (c & 0xc0) == 0x80;
	}
	return (k->at - k->ls) - (k->cont - k->ls_cont); /* the column, 0-based */
}

/*
 * libyaml's marks count characters: in a text with some of several bytes,
 * each cut's places (found in bytes) are given in characters, the document's
 * and those of libyaml's text `mod`.
 */
static void cuts_in_chars(const char *doc, const char *mod, struct cut *cuts, size_t ncuts)
{
	struct counter d = {doc, 0, 0, 0, 0}, m = {mod, 0, 0, 0, 0};

	for (size_t i = 0; i < ncuts; i++) {
		struct cut *c = &cuts[i];
		if (!c->block)
			c->col = (unsigned)count_to(&d, c->from - 1);
		size_t first = (size_t)(c->run.text - doc);
		c->run.skew = c->run.col - 1 - (unsigned)count_to(&d, first);
		c->col_at = count_to(&d, c->to);
		size_t to = c->to - d.cont;
		count_to(&m, c->mod_open);
		c->mod_open -= m.cont;
		c->mod_col = count_to(&m, c->mod_at);
		c->mod_at -= m.cont;
		c->d_index = to - c->mod_at;
	}
}

/*
 * The item at p when it is a dotted quad (the common item, read in one pass):
 * its end, the numbers in v4; NULL for any other item, which scan_item() reads.
 */
static const char *scan_quad(const char *p, const char *end, uint8_t v4[4])
{
	const unsigned char *q = (const unsigned char *)p, *e = (const unsigned char *)end;

	if (!pc_ipv4_quad(&q, e, v4))
		return NULL;
	return q < e && addr_char(*q) ? NULL : (const char *)q;
}

void pc_yrun_begin(struct pc_yrun_it *it, const struct pc_yrun *run)
{
	memset(it, 0, sizeof(*it));
	it->run = run;
	it->at = run->text;
	it->line = run->line;
	it->line_start = run->text - (run->col - 1);
}

/* Whether the bytes at p are the last separator's, an item after them: one comparison. */
static bool same_sep(const struct pc_yrun_it *it, const char *p, const char *end)
{
	uint64_t a, b;

	if (it->sep_len == 0 || end - p <= 16)
		return false;
	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	return !(((a ^ it->sep[0]) & it->mask[0]) | ((b ^ it->sep[1]) & it->mask[1])) &&
	       addr_char((unsigned char)p[it->sep_len]);
}

/* Keeps the separator [from, p) for same_sep(), when it can hold it. */
static void keep_sep(struct pc_yrun_it *it, const char *from, const char *p, const char *end,
		unsigned lines, bool comment)
{
	size_t n = (size_t)(p - from);
	unsigned char m[16] = {0};

	it->sep_len = 0;
	if (comment || n == 0 || n > 16 || end - from < 16 || p == end ||
			!addr_char((unsigned char)*p))
		return;
	memset(m, 0xff, n);
	memcpy(it->sep, from, 16);
	memcpy(it->mask, m, 16);
	it->sep_len = n;
	it->sep_lines = lines;
	it->sep_tail = (size_t)(p - it->line_start);
}

bool pc_yrun_next(struct pc_yrun_it *it, struct pc_yitem *item)
{
	const char *end = it->run->text + it->run->len, *p = it->at;

	if (same_sep(it, p, end)) {
		p += it->sep_len;
		it->line += it->sep_lines;
		if (it->sep_lines)
			it->line_start = p - it->sep_tail;
	} else {
		/* Between items: blanks, commas, line ends, dashes, comments (the run holds no
		 * more). */
		const char *from = p;
		unsigned lines = 0;
		bool comment = false;
		while (p < end && !addr_char((unsigned char)*p) && *p != '"' && *p != '\'') {
			if (*p == '\n') {
				it->line++;
				lines++;
				it->line_start = p + 1;
			} else if (*p == '#') {
				comment = true;
				while (p + 1 < end && p[1] != '\n')
					p++;
			}
			p++;
		}
		keep_sep(it, from, p, end, lines, comment);
	}
	if (p == end)
		return false;
	const char *q = scan_quad(p, end, item->v4);
	item->quad = q != NULL;
	if (q) {
		item->s = p;
		item->len = (size_t)(q - p);
		item->quoted = false;
		it->at = q;
	} else {
		it->at = scan_item(p, end, item);
	}
	item->line = it->line;
	item->col = (unsigned)(p - it->line_start) + 1 -
		    (it->line == it->run->line ? it->run->skew : 0);
	return true;
}

void pc_ydoc_unpack(struct pc_ydoc *doc, struct pc_ynode *seq)
{
	const struct pc_yrun *run = seq->run;
	struct pc_yrun_it it;
	struct pc_yitem x;
	bool kept = run->n * sizeof(struct pc_ynode *) >= LIST_KEPT;
	struct pc_ynode **items = kept ? xcalloc(run->n, sizeof(*items))
				       : pc_arena_alloc(&doc->nodes, run->n * sizeof(*items));
	uint32_t i = 0;

	if (kept) {
		doc->lists = pc_grow(doc->lists, doc->nlists, sizeof(*doc->lists));
		doc->lists[doc->nlists++] = items;
	}
	pc_yrun_begin(&it, run);
	while (i < run->n && pc_yrun_next(&it, &x)) {
		struct pc_ynode *n = pc_arena_alloc(&doc->nodes, sizeof(*n)); /* zeroed */
		n->kind = PC_Y_SCALAR;
		n->line = x.line;
		n->col = x.col;
		n->str = pc_arena_strndup(&doc->arena, x.s, x.len);
		n->len = (uint16_t)x.len;
		n->plain = !x.quoted;
		items[i++] = n;
	}
	seq->packed = false;
	seq->items = items;
	seq->n = i;
}

/* ---- the event stream ------------------------------------------------- */

struct frame {
	struct pc_ynode *node;
	struct pc_ynode **items;
	size_t n, cap;
};

struct reader {
	struct pc_ydoc *doc;
	struct pc_diags *diags;
	struct cut *cuts; /* sorted; NULL: none */
	size_t ncuts, next; /* next: the first cut not yet met */
	struct frame stack[PC_YAML_MAX_DEPTH + 1];
	int depth; /* open containers */
	size_t nodes;
	int errors;
	bool stop; /* a problem after which the rest cannot be trusted */
};

/* Where a mark of libyaml's text is in the document (0-based, as libyaml counts). */
static yaml_mark_t mark_in_doc(const struct reader *r, yaml_mark_t m)
{
	size_t lo = 0, hi = r->ncuts;

	/* The last cut whose text ends at or before the mark. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->cuts[mid].mod_at <= m.index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return m;
	const struct cut *c = &r->cuts[lo - 1];
	yaml_mark_t o = {m.index + c->d_index, m.line + c->d_line, m.column};
	if (m.line == c->mod_line)
		o.column = c->col_at + (m.column - c->mod_col);
	return o;
}

static PC_PRINTF(5, 6) struct pc_diag *rerror(struct reader *r, const char *code, yaml_mark_t mark,
		bool stop, const char *fmt, ...)
{
	va_list ap;
	struct pc_diag *d;

	va_start(ap, fmt);
	d = pc_diag_addv(r->diags, PC_SEV_ERROR, code, r->doc->file, (unsigned)mark.line + 1,
			(unsigned)mark.column + 1, fmt, ap);
	va_end(ap);
	r->errors++;
	r->stop |= stop;
	return d;
}

static struct pc_ynode *new_node(struct reader *r, enum pc_ynode_kind kind, yaml_mark_t mark)
{
	struct pc_ynode *n = pc_arena_alloc(&r->doc->nodes, sizeof(*n));

	n->kind = kind;
	n->line = (unsigned)mark.line + 1;
	n->col = (unsigned)mark.column + 1;
	r->doc->wide |= n->col > UINT16_MAX;
	return n;
}

static bool expecting_key(const struct reader *r)
{
	const struct frame *f = r->depth ? &r->stack[r->depth - 1] : NULL;

	return f && f->node->kind == PC_Y_MAP && f->n % 2 == 0;
}

static void attach(struct reader *r, struct pc_ynode *n)
{
	if (r->depth == 0) {
		r->doc->root = n;
		return;
	}
	struct frame *f = &r->stack[r->depth - 1];
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->items = xreallocarray(f->items, f->cap, sizeof(*f->items));
	}
	f->items[f->n++] = n;
}

static int cmp_keys(const void *a, const void *b)
{
	const struct pc_ynode *x = *(const struct pc_ynode *const *)a;
	const struct pc_ynode *y = *(const struct pc_ynode *const *)b;
	int c = strcmp(x->str, y->str);

	if (c)
		return c;
	return x->line != y->line ? (x->line < y->line ? -1 : 1) : (x->col < y->col ? -1 : 1);
}

/* Duplicate keys (libyaml accepts them), found by sorting: linear-log time. */
static void check_duplicates(struct reader *r, const struct pc_ynode *map)
{
	size_t n = map->n;

	if (n < 2)
		return;
	struct pc_ynode **keys = xcalloc(n, sizeof(*keys));
	for (size_t i = 0; i < n; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i]->str, keys[i - 1]->str))
			continue;
		size_t first = i - 1;
		while (first > 0 && !strcmp(keys[first - 1]->str, keys[i]->str))
			first--;
		yaml_mark_t m = {0, keys[i]->line - 1, keys[i]->col - 1};
		rerror(r, "yaml-duplicate-key", m, false, "duplicate key '%s' (first at %u:%u)",
				keys[i]->str, keys[first]->line, keys[first]->col);
	}
	free(keys);
}

static void close_container(struct reader *r)
{
	struct frame *f = &r->stack[--r->depth];
	struct pc_ynode *n = f->node;

	if (n->packed) {
		/* Its items are the run's. */
	} else if (f->n * sizeof(*n->items) >= LIST_KEPT) {
		/* A long list (a network's addresses) keeps its array, cut to its size. */
		struct pc_ydoc *doc = r->doc;
		doc->lists = pc_grow(doc->lists, doc->nlists, sizeof(*doc->lists));
		doc->lists[doc->nlists++] = n->items =
				xreallocarray(f->items, f->n, sizeof(*n->items));
		f->items = NULL;
	} else {
		n->items = pc_arena_alloc(&r->doc->nodes, (f->n ? f->n : 1) * sizeof(*n->items));
		if (f->n)
			memcpy(n->items, f->items, f->n * sizeof(*n->items));
	}
	if (!n->packed)
		n->n = (uint32_t)(n->kind == PC_Y_MAP ? f->n / 2 : f->n);
	else
		n->n = n->run->n;
	free(f->items);
	memset(f, 0, sizeof(*f));
	if (n->kind == PC_Y_MAP)
		check_duplicates(r, n);
	attach(r, n);
}

static bool node_start(struct reader *r, yaml_mark_t mark, const yaml_char_t *anchor,
		const yaml_char_t *tag, bool implicit_tag)
{
	if (anchor) {
		rerror(r, "yaml-anchor", mark, true,
				"anchors (&%s) and aliases are not supported in policies", anchor);
		return false;
	}
	if (tag && !implicit_tag) /* reported; the node is still read, so more can be found */
		rerror(r, "yaml-tag", mark, false, "tags (%s) are not supported in policies", tag);
	if (++r->nodes > PC_YAML_MAX_NODES) {
		rerror(r, "yaml-limit", mark, true, "more than %u values in one policy",
				PC_YAML_MAX_NODES);
		return false;
	}
	return true;
}

static void on_scalar(struct reader *r, const yaml_event_t *e)
{
	const char *v = (const char *)e->data.scalar.value;
	size_t len = e->data.scalar.length;
	yaml_mark_t m = e->start_mark;
	bool key = expecting_key(r);

	if (!node_start(r, m, e->data.scalar.anchor, e->data.scalar.tag,
			    e->data.scalar.plain_implicit || e->data.scalar.quoted_implicit))
		return;
	if (key && len > PC_YAML_MAX_KEY) {
		rerror(r, "yaml-limit", m, true, "a key longer than %u bytes", PC_YAML_MAX_KEY);
		return;
	}
	if (len > PC_YAML_MAX_SCALAR) {
		rerror(r, "yaml-limit", m, false, "a value longer than %u bytes",
				PC_YAML_MAX_SCALAR);
		len = 0;
	}
	/* Escapes ("\0", "\e", "\u202e") can put in a value what the file may not hold. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			rerror(r, "yaml-character", m, false,
					"control character 0x%02x in a value (written as an escape)",
					c);
			break;
		}
	}
	if (key && e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && len == 2 &&
			!memcmp(v, "<<", 2))
		rerror(r, "yaml-merge", m, false, "merge keys (<<) are not supported in policies");
	struct pc_ynode *n = new_node(r, PC_Y_SCALAR, m);
	n->str = pc_arena_strndup(&r->doc->arena, v, len);
	n->len = (uint16_t)len;
	n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	attach(r, n);
}

/* A container opens; `c`: the cut whose '[' it is. */
static void on_open(struct reader *r, const yaml_event_t *e, enum pc_ynode_kind kind,
		const struct cut *c)
{
	yaml_mark_t m = e->start_mark;
	const yaml_char_t *anchor = kind == PC_Y_MAP ? e->data.mapping_start.anchor
						     : e->data.sequence_start.anchor;
	const yaml_char_t *tag =
			kind == PC_Y_MAP ? e->data.mapping_start.tag : e->data.sequence_start.tag;
	int implicit = kind == PC_Y_MAP ? e->data.mapping_start.implicit
					: e->data.sequence_start.implicit;

	if (expecting_key(r)) {
		rerror(r, "yaml-complex-key", m, true, "mapping keys must be plain values, not %s",
				kind == PC_Y_MAP ? "mappings" : "lists");
		return;
	}
	if (!node_start(r, m, anchor, tag, implicit))
		return;
	if (r->depth >= PC_YAML_MAX_DEPTH) {
		rerror(r, "yaml-limit", m, true, "nesting deeper than %d levels",
				PC_YAML_MAX_DEPTH);
		return;
	}
	struct pc_ynode *n = new_node(r, kind, m);
	n->flow = kind == PC_Y_MAP ? e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
				   : e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	if (c) {
		/* A run: the sequence libyaml read empty holds its items. */
		struct pc_yrun *run = pc_arena_alloc(&r->doc->arena, sizeof(*run));
		*run = c->run;
		run->file = r->doc->file;
		n->line = c->line + 1;
		n->col = c->col + 1;
		n->flow = !c->block;
		n->packed = true;
		n->run = run;
		/* An item past column 65 535, as new_node() would have seen it. */
		r->doc->wide |= c->far >= UINT16_MAX || c->far_first - c->run.skew >= UINT16_MAX;
		r->nodes += run->n;
		if (r->nodes > PC_YAML_MAX_NODES)
			rerror(r, "yaml-limit", m, true, "more than %u values in one policy",
					PC_YAML_MAX_NODES);
	}
	r->stack[r->depth++] = (struct frame){n, NULL, 0, 0};
}

/* libyaml's words, rewritten for people who edit policies. */
static void parser_error(struct reader *r, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	const char *context = p->context ? p->context : "";
	yaml_mark_t m = mark_in_doc(r, p->problem_mark);
	struct pc_diag *d;

	if (p->error == YAML_MEMORY_ERROR)
		pc_oom_size(0); /* as every other allocation that fails */
	if (p->error == YAML_READER_ERROR) {
		rerror(r, "yaml-encoding", m, true, "%s", problem);
		return;
	}
	size_t off = m.index;
	char at = off < r->doc->text_len ? r->doc->text[off] : '\0';
	if (strstr(problem, "cannot start any token") && at == '\t') {
		d = rerror(r, "yaml-tab", m, true, "tabs are not allowed for indentation");
		pc_diag_hint(d, "indent with spaces");
	} else if (strstr(problem, "found unexpected end of stream") &&
			strstr(context, "quoted scalar")) {
		/* Said where the quote opens: the end of the file is no help. */
		d = rerror(r, "yaml-syntax", mark_in_doc(r, p->context_mark), true,
				"unterminated quoted string: it runs to the end of the file");
		pc_diag_hint(d, "close the quote");
	} else if ((strstr(problem, "mapping values are not allowed") ||
				   strstr(problem, "could not find expected ':'")) &&
			m.column > PC_YAML_MAX_KEY &&
			!memchr(r->doc->text + off - m.column, ':', m.column)) {
		rerror(r, "yaml-limit", m, true, "a key longer than %u bytes", PC_YAML_MAX_KEY);
	} else if (strstr(problem, "mapping values are not allowed")) {
		d = rerror(r, "yaml-syntax", m, true, "unexpected ':' here");
		pc_diag_hint(d, "a value holding ': ' must be quoted; or check the indentation");
	} else if (strstr(problem, "could not find expected ':'")) {
		d = rerror(r, "yaml-syntax", m, true, "expected 'key: value' (a ':' is missing)");
		pc_diag_hint(d, "check the line before: a key needs ': ' after it");
	} else if (strstr(problem, "did not find expected node content") && at == ':') {
		d = rerror(r, "yaml-syntax", m, true, "a value cannot start with ':' here");
		pc_diag_hint(d, "quote IPv6 addresses: \"::/0\", \"2001:db8::1\"");
	} else if (strstr(problem, "did not find expected key") ||
			strstr(problem, "did not find expected '-' indicator") ||
			strstr(problem, "did not find expected node content")) {
		d = rerror(r, "yaml-syntax", m, true, "bad indentation or a misplaced entry (%s)",
				problem);
		pc_diag_hint(d, "entries of one mapping or list start in the same column");
	} else if (strstr(problem, "found incompatible YAML document") ||
			strstr(problem, "found duplicate %YAML directive")) {
		rerror(r, "yaml-syntax", m, true, "only YAML 1.1 and 1.2 documents are read (%s)",
				problem);
	} else if (strstr(problem, "found character that cannot start any token") && at == '@') {
		d = rerror(r, "yaml-syntax", m, true, "a value cannot start with '@'");
		pc_diag_hint(d, "quote it");
	} else {
		rerror(r, "yaml-syntax", m, true, "%s%s%s", problem, *context ? " " : "", context);
	}
}

/*
 * Reads `text` (the document's, or it with the cuts made) into doc->root.
 * Returns 0, or -1 with the problems in `diags`.
 */
static int read_text(struct pc_ydoc *doc, struct pc_diags *diags, const char *text, size_t len,
		struct cut *cuts, size_t ncuts)
{
	struct reader r;
	yaml_parser_t parser;
	yaml_event_t event;
	int docs = 0;
	size_t before = diags->nerrors;

	memset(&r, 0, sizeof(r));
	r.doc = doc;
	r.diags = diags;
	r.cuts = cuts;
	r.ncuts = ncuts;
	if (!yaml_parser_initialize(&parser))
		pc_oom_size(sizeof(parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!r.stop) {
		if (!yaml_parser_parse(&parser, &event)) {
			parser_error(&r, &parser);
			break;
		}
		yaml_event_type_t type = event.type;
		/* A cut: the sequence libyaml starts at its '['.  A block one inside a flow
		 * collection was dashes there, an error libyaml's text no longer holds. */
		const struct cut *c = NULL;
		if (r.next < r.ncuts && type == YAML_SEQUENCE_START_EVENT &&
				event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE &&
				event.start_mark.index == r.cuts[r.next].mod_open &&
				!(r.cuts[r.next].block && r.depth > 0 &&
						r.stack[r.depth - 1].node->flow))
			c = &r.cuts[r.next++];
		event.start_mark = mark_in_doc(&r, event.start_mark);
		switch (type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rerror(&r, "yaml-documents", event.start_mark, true,
						"a policy is one YAML document; a second one starts "
						"here");
			else if (event.data.document_start.tag_directives.start !=
					event.data.document_start.tag_directives.end)
				rerror(&r, "yaml-tag", event.start_mark, true,
						"%%TAG directives are not supported in policies");
			break;
		case YAML_ALIAS_EVENT:
			rerror(&r, "yaml-anchor", event.start_mark, true,
					"anchors and aliases (*%s) are not supported in policies",
					event.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&r, &event);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_open(&r, &event, PC_Y_SEQ, c);
			break;
		case YAML_MAPPING_START_EVENT:
			on_open(&r, &event, PC_Y_MAP, NULL);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (r.depth > 0)
				close_container(&r);
			break;
		default:
			break;
		}
		yaml_event_delete(&event);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&parser);
	while (r.depth > 0) {
		struct frame *f = &r.stack[--r.depth];
		free(f->items);
	}
	if (diags->nerrors == before && !doc->root) {
		pc_diag_add(diags, PC_SEV_ERROR, "yaml-empty", doc->file, 1, 1,
				"the policy is empty");
	}
	/* A cut libyaml did not read as a sequence of its own: the text is read whole. */
	if (diags->nerrors != before || r.next != r.ncuts) {
		doc->root = NULL;
		return -1;
	}
	return 0;
}

/* Parses doc->text, set by the caller: with its runs cut out when it has some (see yaml.h). */
static int parse(struct pc_ydoc *doc, struct pc_diags *diags)
{
	bool multibyte = false;
	if (prescan(doc->file, (const unsigned char *)doc->text, doc->text_len, diags, &multibyte) <
			0)
		return -1;
	struct finder f = {doc->text, doc->text_len, doc->run_min, NULL, 0, 0};
	if (doc->run_min != SIZE_MAX)
		find_runs(&f);
	if (f.n) {
		size_t len;
		char *text = cut_text(doc, f.cuts, f.n, &len);
		if (multibyte)
			cuts_in_chars(doc->text, text, f.cuts, f.n);
		struct pc_diags quiet;
		pc_diags_init(&quiet);
		int ret = read_text(doc, &quiet, text, len, f.cuts, f.n);
		free(text);
		free(f.cuts);
		if (ret == 0)
			pc_diags_take(diags, &quiet);
		pc_diags_finish(&quiet); /* a read given up: what it said is not kept */
		if (ret == 0)
			return 0;
		pc_ydoc_drop_tree(doc);
		doc->wide = false;
	}
	return read_text(doc, diags, doc->text, doc->text_len, NULL, 0);
}

/* The file's name, and whether the text is within the size limit. */
static int parse_start(struct pc_ydoc *doc, const char *file, size_t len, struct pc_diags *diags)
{
	doc->file = pc_arena_strndup(&doc->arena, file, strlen(file));
	doc->root = NULL;
	if (len > PC_YAML_MAX_BYTES) {
		pc_diag_add(diags, PC_SEV_ERROR, "yaml-limit", file, 0, 0,
				"the policy is larger than %u bytes", PC_YAML_MAX_BYTES);
		return -1;
	}
	return 0;
}

int pc_yaml_parse(struct pc_ydoc *doc, const char *file, const char *data, size_t len,
		struct pc_diags *diags)
{
	if (parse_start(doc, file, len, diags) < 0)
		return -1;
	doc->text = pc_arena_strndup(&doc->arena, data, len);
	doc->text_len = len;
	return parse(doc, diags);
}

int pc_yaml_parse_buf(
		struct pc_ydoc *doc, const char *file, struct pc_buf *buf, struct pc_diags *diags)
{
	if (parse_start(doc, file, buf->len, diags) < 0)
		return -1;
	if (!buf->data)
		pc_buf_add(buf, "", 0);
	doc->owned = buf->data;
	doc->text = buf->data;
	doc->text_len = buf->len;
	pc_buf_init(buf);
	return parse(doc, diags);
}
