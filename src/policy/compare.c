/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two policies compared by their verdicts.  The packet space of each
 * direction, protocol, family and class of interfaces is cut at every
 * boundary either policy writes (port range ends, then, for each run of
 * ports, the prefix bounds of the rules that can decide there); one packet
 * of each cell is given to the evaluator with both policies, and the cells
 * whose outcome differs are merged, along each dimension in turn, into as
 * few regions as the same change and the same deciding rules allow.
 *
 * The evaluator is the semantics: a cell's policies are the two policies
 * with only the rules that can match its ports and interface left in, which
 * changes no verdict (a rule that cannot match is passed over) and keeps the
 * cost of a cell to the rules that matter there.
 */
#include "portcullis/compare.h"

#include <stdlib.h>
#include <string.h>

#include "policy/yaml.h"
#include "util.h"

/* ---- addresses ---------------------------------------------------------- */

static unsigned bits_of(int family)
{
	return family == 4 ? 32 : 128;
}

pc_addr128 pc_addr128_max(int family)
{
	return family == 4 ? (pc_addr128)0xffffffffu : ~(pc_addr128)0;
}

pc_addr128 pc_addr128_from(int family, const uint8_t *bytes)
{
	pc_addr128 a = 0;

	for (unsigned i = 0; i < bits_of(family) / 8; i++)
		a = (a << 8) | bytes[i];
	return a;
}

void pc_addr128_bytes(int family, pc_addr128 a, uint8_t *bytes)
{
	unsigned n = bits_of(family) / 8;

	for (unsigned i = 0; i < n; i++)
		bytes[n - 1 - i] = (uint8_t)(a >> (8 * i));
}

/* The last address of a prefix of `len` bits starting at `lo`. */
static pc_addr128 span_end(int family, pc_addr128 lo, unsigned len)
{
	unsigned host = bits_of(family) - len;

	if (host >= bits_of(family))
		return pc_addr128_max(family);
	return lo + (((pc_addr128)1 << host) - 1);
}

size_t pc_addr128_prefixes(int family, pc_addr128 lo, pc_addr128 hi, struct pc_prefix *out)
{
	unsigned bits = bits_of(family);
	size_t n = 0;

	for (;;) {
		unsigned host = 0;
		/* The largest aligned block at lo that ends within hi. */
		while (host < bits && !(lo & ((pc_addr128)1 << host)) &&
				span_end(family, lo, bits - host - 1) <= hi)
			host++;
		struct pc_prefix *x = &out[n++];
		memset(x, 0, sizeof(*x));
		x->family = (uint8_t)family;
		x->len = (uint8_t)(bits - host);
		pc_addr128_bytes(family, lo, x->bytes);
		pc_addr128 end = span_end(family, lo, bits - host);
		if (end >= hi)
			return n;
		lo = end + 1;
	}
}

/* ---- one packet ----------------------------------------------------------- */

/* One decision of the evaluator as an outcome. */
static void outcome_of(const struct pc_policy *p, const struct pc_packet *pkt,
		struct pc_compare_beyond *out)
{
	struct pc_decision dec;
	enum pc_direction reply;

	pc_policy_evaluate(p, pkt, &dec);
	memset(out, 0, sizeof(*out));
	out->verdict = dec.verdict;
	out->reject = dec.by_rule && dec.action == PC_ACTION_REJECT;
	out->by_rule = dec.by_rule;
	out->by_loopback = dec.by_loopback;
	out->rule = dec.rule;
	out->match = dec.match;
	out->unusable = pc_decision_unusable(p, pkt, &dec, &reply);
}

void pc_compare_packet(
		const struct pc_policy *p, const struct pc_packet *pkt, struct pc_compare_side *out)
{
	struct pc_compare_beyond in;

	memset(out, 0, sizeof(*out));
	outcome_of(p, pkt, &in);
	out->verdict = in.verdict;
	out->reject = in.reject;
	out->unusable = in.unusable;
	out->by_rule = in.by_rule;
	out->by_loopback = in.by_loopback;
	out->rule = in.rule;
	out->match = in.match;
	out->over = in;
	if (in.by_rule && (p->rules[in.rule].flags & PC_RULE_F_LIMIT)) {
		/* No rule before it matched: beyond its rate, the rules after it decide. */
		struct pc_packet over = *pkt;
		over.over_limit = true;
		out->limited = true;
		out->limit_rate = p->rules[in.rule].limit_rate;
		out->limit_unit = p->rules[in.rule].limit_unit;
		outcome_of(p, &over, &out->over);
	}
}

static bool beyond_same(const struct pc_compare_beyond *a, const struct pc_compare_beyond *b)
{
	return a->verdict == b->verdict && a->reject == b->reject && a->unusable == b->unusable;
}

/* Whether the side's limit shows: beyond its rate the packet gets another outcome. */
static bool limit_shows(const struct pc_compare_side *s)
{
	return s->limited && (s->verdict != s->over.verdict || s->reject != s->over.reject ||
					     s->unusable != s->over.unusable);
}

bool pc_compare_side_same(const struct pc_compare_side *a, const struct pc_compare_side *b)
{
	if (a->verdict != b->verdict || a->reject != b->reject || a->unusable != b->unusable ||
			!beyond_same(&a->over, &b->over))
		return false;
	/* Where the rate decides, a packet between two rates changes. */
	if (!limit_shows(a))
		return true;
	return a->limit_rate == b->limit_rate && a->limit_unit && b->limit_unit &&
	       !strcmp(a->limit_unit, b->limit_unit);
}

bool pc_compare_side_open(const struct pc_compare_side *s, bool beyond)
{
	if (beyond)
		return s->over.verdict == PC_VERDICT_ACCEPT && s->over.unusable == PC_USABLE;
	return s->verdict == PC_VERDICT_ACCEPT && s->unusable == PC_USABLE;
}

/* ---- interface classes ------------------------------------------------------- */

struct names {
	const char **v;
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every interface name or wildcard the rules of `dir` write, in both policies, sorted, once each.
 */
static void collect_names(
		const struct pc_policy *const pol[2], enum pc_direction dir, struct names *out)
{
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < pol[s]->nrules; i++)
			if (pol[s]->rules[i].direction == dir)
				cap += pol[s]->rules[i].interface.n;
	if (dir != PC_DIR_FORWARD)
		cap++;
	out->v = xcalloc(cap + 1, sizeof(*out->v));
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < pol[s]->nrules; i++) {
			const struct pc_rule *r = &pol[s]->rules[i];
			if (r->direction != dir)
				continue;
			for (size_t k = 0; k < r->interface.n; k++)
				out->v[out->n++] = r->interface.names[k];
		}
	/* lo: `loopback: accept` decides there before any rule. */
	if (dir != PC_DIR_FORWARD)
		out->v[out->n++] = "lo";
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++)
		if (!w || strcmp(out->v[w - 1], out->v[i]))
			out->v[w++] = out->v[i];
	out->n = w;
}

static size_t stem_len(const char *pat)
{
	return strlen(pat) - pc_ifname_wild(pat);
}

/* The longest interface name or wildcard a policy takes ('*' counted), as the kernel's. */
#define IFNAME_LEN 15

/* The first of the sorted `names` at or after `key` (its first `len` bytes), or names->n. */
static size_t names_from(const struct names *names, const char *key, size_t len)
{
	size_t lo = 0, hi = names->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *v = names->v[mid];
		int d = strncmp(v, key, len);
		/* v holds key's `len` bytes and goes on: it sorts after them. */
		if (d < 0 || (d == 0 && strlen(v) < len))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether names->v[i] is the name of `len` bytes `name`. */
static bool names_is(const struct names *names, size_t i, const char *name, size_t len)
{
	return i < names->n && !strncmp(names->v[i], name, len) && names->v[i][len] == '\0';
}

/*
 * The longest wildcard among `names` whose stem begins `name`, or NULL: of
 * each stem the name begins with, from the longest, the wildcard found by a
 * binary search.
 */
static const char *longest_stem(const struct names *names, const char *name)
{
	size_t n = strlen(name);
	char pat[IFNAME_LEN + 2];

	for (size_t len = n < IFNAME_LEN ? n : IFNAME_LEN;; len--) {
		memcpy(pat, name, len);
		pat[len] = '*';
		size_t i = names_from(names, pat, len + 1);
		if (names_is(names, i, pat, len + 1))
			return names->v[i];
		if (!len)
			return NULL;
	}
}

static bool is_exact(const struct names *names, const char *name)
{
	size_t n = strlen(name);

	return names_is(names, names_from(names, name, n), name, n);
}

/* The names within wildcard `wild` (those its stem begins), wild among them: [*from, *to). */
static void names_within(const struct names *names, const char *wild, size_t *from, size_t *to)
{
	size_t len = stem_len(wild);

	*from = *to = names_from(names, wild, len);
	while (*to < names->n && !strncmp(names->v[*to], wild, len))
		++*to;
}

/*
 * A name of the class of wildcard `wild` (NULL: of no wildcard): written by
 * neither policy, its longest wildcard `wild`.  Returns false when none is
 * found in the names tried.
 */
static bool class_sample(const struct names *names, const char *wild, char sample[16])
{
	static const char chars[] = "0123456789abcdefghijklmnopqrstuvwxyz._-";
	size_t base = wild ? stem_len(wild) : 0;

	for (size_t a = 0; a <= sizeof(chars) - 1; a++)
		for (size_t b = 0; b <= sizeof(chars) - 1; b++) {
			char name[32];
			size_t n = 0;
			if (base)
				memcpy(name, wild, base);
			n = base;
			if (a < sizeof(chars) - 1)
				name[n++] = chars[a];
			if (b < sizeof(chars) - 1 && a < sizeof(chars) - 1)
				name[n++] = chars[b];
			else if (b < sizeof(chars) - 1)
				continue;
			name[n] = '\0';
			if (!n || n > 15 || is_exact(names, name))
				continue;
			const char *l = longest_stem(names, name);
			if ((l == NULL) != (wild == NULL) || (l && strcmp(l, wild)))
				continue;
			memcpy(sample, name, n + 1);
			return true;
		}
	return false;
}

/* Whether some other name or wildcard lies within wildcard `wild`: its class is "the others". */
static bool has_inner(const struct names *names, const char *wild)
{
	size_t len = stem_len(wild), from = names_from(names, wild, len);

	/* Those the stem begins sort together, wild one of them: another is first or next. */
	return from + 1 < names->n && !strncmp(names->v[from + 1], wild, len);
}

static void add_iface(struct pc_compare *c, enum pc_direction dir, const char *name, bool others,
		const char *sample, const struct names *names)
{
	struct pc_compare_iface *x;

	c->ifaces = pc_grow(c->ifaces, c->nifaces, sizeof(*c->ifaces));
	x = &c->ifaces[c->nifaces++];
	memset(x, 0, sizeof(*x));
	x->direction = dir;
	x->name = name;
	x->others = others;
	snprintf(x->sample, sizeof(x->sample), "%s", sample);
	if (!others)
		return;
	/* What the class leaves out: every name written, or those within the wildcard. */
	size_t from = 0, to = names->n;
	if (name)
		names_within(names, name, &from, &to);
	x->except = xcalloc(to - from + 1, sizeof(*x->except));
	for (size_t i = from; i < to; i++)
		if (!name || strcmp(names->v[i], name))
			x->except[x->nexcept++] = names->v[i];
}

/*
 * The classes of interfaces of `dir`: each name written, each wildcard's
 * others, every other.  `names`: the names and wildcards written, sorted;
 * class_of[i]: the class of names->v[i], or SIZE_MAX (a wildcard whose
 * names are all others').
 */
static void make_classes(struct pc_compare *c, const struct pc_policy *const pol[2],
		enum pc_direction dir, struct names *names, size_t **class_of)
{
	char sample[16];

	collect_names(pol, dir, names);
	*class_of = xcalloc(names->n + 1, sizeof(**class_of));
	c->class_first[dir] = c->nifaces;
	for (size_t i = 0; i < names->n; i++) {
		const char *p = names->v[i];
		(*class_of)[i] = c->nifaces;
		if (!pc_ifname_wild(p))
			add_iface(c, dir, p, false, p, names);
		else if (class_sample(names, p, sample))
			add_iface(c, dir, p, has_inner(names, p), sample, names);
		else
			(*class_of)[i] = SIZE_MAX;
	}
	if (class_sample(names, NULL, sample))
		add_iface(c, dir, NULL, true, sample, names);
	c->nclasses[dir] = c->nifaces - c->class_first[dir];
}

size_t pc_compare_iface_class(const struct pc_compare *c, enum pc_direction dir, const char *name)
{
	size_t best = SIZE_MAX, other = SIZE_MAX;

	for (size_t i = 0; i < c->nifaces; i++) {
		const struct pc_compare_iface *x = &c->ifaces[i];
		if (x->direction != dir)
			continue;
		if (!x->name)
			other = i;
		else if (!pc_ifname_wild(x->name) && !strcmp(x->name, name))
			return i;
		else if (pc_ifname_wild(x->name) && !strncmp(x->name, name, stem_len(x->name)) &&
				(best == SIZE_MAX ||
						stem_len(x->name) > stem_len(c->ifaces[best].name)))
			best = i;
	}
	return best != SIZE_MAX ? best : other;
}

/* ---- cells and their merging ------------------------------------------------ */

struct cell {
	struct pc_compare_region r;
	size_t iface; /* class index */
};

struct cells {
	struct cell *v;
	size_t n, cap;
};

static void cells_add(struct cells *cs, const struct cell *c)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? 2 * cs->cap : 64;
		cs->v = xreallocarray(cs->v, cs->cap, sizeof(*cs->v));
	}
	cs->v[cs->n++] = *c;
}

#define CMP(a, b)                                                                                  \
	do {                                                                                       \
		if ((a) != (b))                                                                    \
			return (a) < (b) ? -1 : 1;                                                 \
	} while (0)

static int cmp_name(const char *a, const char *b);

static int cmp_side(const struct pc_compare_side *a, const struct pc_compare_side *b)
{
	int d;

	CMP(a->verdict, b->verdict);
	CMP(a->reject, b->reject);
	CMP(a->unusable, b->unusable);
	CMP(a->by_rule, b->by_rule);
	CMP(a->by_loopback, b->by_loopback);
	CMP(a->rule, b->rule);
	CMP(a->limited, b->limited);
	CMP(a->limit_rate, b->limit_rate);
	if ((d = cmp_name(a->limit_unit, b->limit_unit)))
		return d;
	CMP(a->over.verdict, b->over.verdict);
	CMP(a->over.reject, b->over.reject);
	CMP(a->over.unusable, b->over.unusable);
	CMP(a->over.by_rule, b->over.by_rule);
	CMP(a->over.by_loopback, b->over.by_loopback);
	CMP(a->over.rule, b->over.rule);
	return 0;
}

static int cmp_name(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* What a region is about, its extent aside. */
static int cmp_key(const struct cell *a, const struct cell *b)
{
	int d;

	CMP(a->r.direction, b->r.direction);
	CMP(a->r.proto, b->r.proto);
	CMP(a->r.family, b->r.family);
	CMP(a->iface, b->iface);
	if ((d = cmp_name(a->r.service, b->r.service)))
		return d;
	if ((d = cmp_side(&a->r.old, &b->r.old)))
		return d;
	return cmp_side(&a->r.new, &b->r.new);
}

enum dim {
	DIM_PORT,
	DIM_SRC,
	DIM_DST,
	DIM_COUNT
};

static pc_addr128 dim_lo(const struct cell *c, enum dim d)
{
	return d == DIM_PORT ? c->r.lo : d == DIM_SRC ? c->r.src_lo : c->r.dst_lo;
}

static pc_addr128 dim_hi(const struct cell *c, enum dim d)
{
	return d == DIM_PORT ? c->r.hi : d == DIM_SRC ? c->r.src_hi : c->r.dst_hi;
}

/* Orders by the key, then the other dimensions, then `along`: neighbours along it come together. */
static int cmp_along(const struct cell *a, const struct cell *b, enum dim along)
{
	int d = cmp_key(a, b);

	if (d)
		return d;
	for (int k = 0; k < DIM_COUNT; k++) {
		if (k == (int)along)
			continue;
		CMP(dim_lo(a, (enum dim)k), dim_lo(b, (enum dim)k));
		CMP(dim_hi(a, (enum dim)k), dim_hi(b, (enum dim)k));
	}
	CMP(dim_lo(a, along), dim_lo(b, along));
	return 0;
}

static int cmp_port(const void *a, const void *b)
{
	return cmp_along(a, b, DIM_PORT);
}

static int cmp_src(const void *a, const void *b)
{
	return cmp_along(a, b, DIM_SRC);
}

static int cmp_dst(const void *a, const void *b)
{
	return cmp_along(a, b, DIM_DST);
}

static int (*const dim_cmp[DIM_COUNT])(const void *, const void *) = {
		[DIM_PORT] = cmp_port,
		[DIM_SRC] = cmp_src,
		[DIM_DST] = cmp_dst,
};

static void set_dim(struct cell *c, enum dim d, pc_addr128 lo, pc_addr128 hi)
{
	if (d == DIM_PORT) {
		c->r.lo = (uint16_t)lo;
		c->r.hi = (uint16_t)hi;
	} else if (d == DIM_SRC) {
		c->r.src_lo = lo;
		c->r.src_hi = hi;
	} else {
		c->r.dst_lo = lo;
		c->r.dst_hi = hi;
	}
}

/* Whether b is a's neighbour along `d`: the same but for `d`, starting where a ends. */
static bool joins(const struct cell *a, const struct cell *b, enum dim d)
{
	struct cell probe = *b;

	if (dim_hi(a, d) + 1 != dim_lo(b, d))
		return false;
	set_dim(&probe, d, dim_lo(a, d), dim_hi(a, d));
	return !cmp_along(a, &probe, DIM_COUNT);
}

/* Joins neighbours along `d` in v[0..n); returns the number left. */
static size_t merge_along(struct cell *v, size_t n, enum dim d)
{
	size_t w = 0;

	if (n < 2)
		return n;
	qsort(v, n, sizeof(*v), dim_cmp[d]);
	for (size_t i = 0; i < n; i++) {
		if (w && joins(&v[w - 1], &v[i], d)) {
			set_dim(&v[w - 1], d, dim_lo(&v[w - 1], d), dim_hi(&v[i], d));
			continue;
		}
		v[w++] = v[i];
	}
	return w;
}

/* Merges along every dimension until nothing more joins. */
static size_t merge_all(struct cell *v, size_t n, const enum dim *order, size_t norder)
{
	for (size_t before = 0; n != before;) {
		before = n;
		for (size_t k = 0; k < norder; k++)
			n = merge_along(v, n, order[k]);
	}
	return n;
}

/* ---- the sweep ------------------------------------------------------------------ */

struct bounds {
	pc_addr128 *v;
	size_t n, cap;
};

static void bounds_add(struct bounds *b, pc_addr128 x)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->v = xreallocarray(b->v, b->cap, sizeof(*b->v));
	}
	b->v[b->n++] = x;
}

static int cmp_addr(const void *a, const void *b)
{
	pc_addr128 x = *(const pc_addr128 *)a, y = *(const pc_addr128 *)b;

	return x < y ? -1 : x > y;
}

static void bounds_sort(struct bounds *b)
{
	size_t w = 0;

	qsort(b->v, b->n, sizeof(*b->v), cmp_addr);
	for (size_t i = 0; i < b->n; i++)
		if (!w || b->v[w - 1] != b->v[i])
			b->v[w++] = b->v[i];
	b->n = w;
}

/* The cuts of one side of a rule's addresses in `family`. */
static void addr_bounds(struct bounds *b, const struct pc_addrset *set, size_t npeers, int family)
{
	const struct pc_prefix *v = family == 4 ? set->v4 : set->v6;
	size_t n = family == 4 ? set->nv4 : set->nv6;

	if (!npeers || set->any)
		return;
	for (size_t i = 0; i < n; i++) {
		pc_addr128 lo = pc_addr128_from(family, v[i].bytes);
		pc_addr128 hi = span_end(family, lo, v[i].len);
		bounds_add(b, lo);
		if (hi != pc_addr128_max(family))
			bounds_add(b, hi + 1);
	}
}

/* A policy with only some of its rules: `map` gives each one's index in the whole. */
struct sub {
	struct pc_policy p;
	struct pc_rule *rules;
	size_t *map;
	size_t *mbase; /* the index of its first match in the whole rule */
};

static void sub_init(struct sub *s, const struct pc_policy *whole)
{
	s->p = *whole;
	s->rules = xcalloc(whole->nrules + 1, sizeof(*s->rules));
	s->map = xcalloc(whole->nrules + 1, sizeof(*s->map));
	s->mbase = xcalloc(whole->nrules + 1, sizeof(*s->mbase));
	s->p.rules = s->rules;
	s->p.nrules = 0;
}

static void sub_finish(struct sub *s)
{
	free(s->rules);
	free(s->map);
	free(s->mbase);
}

/* Rule indexes in policy order, each once, and the first match of each that counts. */
struct ilist {
	size_t *v, *m;
	size_t n, cap;
};

static void ilist_add(struct ilist *l, size_t x, size_t match)
{
	if (l->n && l->v[l->n - 1] == x)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		l->m = xreallocarray(l->m, l->cap, sizeof(*l->m));
	}
	l->m[l->n] = match;
	l->v[l->n++] = x;
}

static struct ilist *ilists(size_t n)
{
	return xcalloc(n + 1, sizeof(struct ilist));
}

/* What list l holds, freed: l is empty again. */
static void ilist_release(struct ilist *l)
{
	free(l->v);
	free(l->m);
	memset(l, 0, sizeof(*l));
}

static void ilists_free(struct ilist *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ilist_release(&v[i]);
	free(v);
}

/* The last value of interval i of sorted bounds b: up to the next bound, or `max`. */
static pc_addr128 bound_end(const struct bounds *b, size_t i, pc_addr128 max)
{
	return i + 1 < b->n ? b->v[i + 1] - 1 : max;
}

/* The interval of sorted bounds b (b->v[0] at most x) that holds x. */
static size_t interval_of(const struct bounds *b, pc_addr128 x)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

/* Whether rule r applies on the interfaces it names only (no `not:`): those classes list it. */
static bool names_ifaces(const struct pc_rule *r)
{
	return r->interface.n && !r->interface.negate;
}

/*
 * A list `a` of rules of policy p made ready for sub_fill() on each class:
 * pos[i] is 1 + rule i's place in a (0: not in it), and `any` the places
 * of a's rules that no class lists (those on every interface, or with
 * `not:`).  places_end() clears pos again.
 */
static void places_begin(
		const struct pc_policy *p, const struct ilist *a, size_t *pos, struct ilist *any)
{
	any->n = 0;
	for (size_t i = 0; i < a->n; i++) {
		pos[a->v[i]] = i + 1;
		if (!names_ifaces(&p->rules[a->v[i]]))
			ilist_add(any, i, 0);
	}
}

static void places_end(const struct ilist *a, size_t *pos)
{
	for (size_t i = 0; i < a->n; i++)
		pos[a->v[i]] = 0;
}

/*
 * s: the rules of policy p listed in `a` (for a run of ports) that apply
 * on interface class `named` lists the rules of (its sample `iface`), each
 * with the one match that counts there (the first of its matches that
 * holds the run: the evaluator stops at it), or with `whole` every match.
 * `pos` and `any` are places_begin()'s for `a`: the rules walked are a's
 * on every interface and the class's own, merged in policy order, not
 * every rule of `a` for every class; for a run, none after the first that
 * decides every packet of it (many rules each on every interface but its
 * own cost each class the first of them).  A rule of many ports costs one
 * match per packet.
 */
static bool decides_all(const struct pc_rule *r, bool src);

static void sub_fill(struct sub *s, const struct pc_policy *p, const struct ilist *a,
		const struct ilist *any, const size_t *pos, const struct ilist *named,
		const char *iface, bool whole)
{
	size_t i = 0, j = 0;

	s->p.nrules = 0;
	for (;;) {
		while (j < named->n && !pos[named->v[j]])
			j++;
		size_t xa = i < any->n ? any->v[i] : SIZE_MAX;
		size_t xn = j < named->n ? pos[named->v[j]] - 1 : SIZE_MAX;
		if (xa == SIZE_MAX && xn == SIZE_MAX)
			break;
		size_t x = xa < xn ? xa : xn;
		i += xa < xn;
		j += xn < xa;
		const struct pc_rule *r = &p->rules[a->v[x]];
		if (r->interface.n && !pc_ifaces_match(&r->interface, iface))
			continue;
		s->rules[s->p.nrules] = *r;
		if (!whole) {
			s->rules[s->p.nrules].matches = &r->matches[a->m[x]];
			s->rules[s->p.nrules].nmatches = 1;
		}
		s->mbase[s->p.nrules] = whole ? 0 : a->m[x];
		s->map[s->p.nrules++] = a->v[x];
		/* One that takes every address and has no limit decides the run: none after. */
		if (!whole && decides_all(r, false) && decides_all(r, true))
			break;
	}
}

/*
 * Whether rule r, of a part whose rules each hold a cell's sources, ports
 * and interface, decides every packet of the cell: unless it names
 * destinations, or has a limit (beyond its rate the rules after it decide).
 * No rule after it can decide any packet there: the part ends with it.
 * With `src` the mirror: the part's rules hold the cell's destinations,
 * and r must take every source.
 */
static bool decides_all(const struct pc_rule *r, bool src)
{
	bool every = src ? !r->nfrom || r->src.any : !r->nto || r->dst.any;

	return every && !(r->flags & PC_RULE_F_LIMIT);
}

/*
 * s: the rules of the part `from` listed in `a` or `b` (each sorted), in
 * order.  A rule of `b` (sources per span, or with `dst` destinations;
 * `b->m` the prefix of `family` that holds the span) keeps that prefix
 * alone: it matches the span's packets as the whole list does, in one step
 * instead of a walk of the list.
 * With `cut` (each rule of `from` holds the cell's ports), none after the
 * first that decides every packet of the cell.
 */
static void sub_part(struct sub *s, const struct sub *from, const struct ilist *a,
		const struct ilist *b, int family, bool cut, bool dst)
{
	size_t i = 0, k = 0;

	s->p.nrules = 0;
	while ((i < a->n || k < b->n) &&
			!(cut && s->p.nrules && decides_all(&s->rules[s->p.nrules - 1], false))) {
		bool one = !(k >= b->n || (i < a->n && a->v[i] < b->v[k]));
		size_t x = one ? b->v[k] : a->v[i];
		struct pc_rule *r = &s->rules[s->p.nrules];
		*r = from->p.rules[x];
		if (one) {
			struct pc_addrset *set = dst ? &r->dst : &r->src;
			struct pc_prefix *v = family == 4 ? set->v4 : set->v6;
			set->v4 = set->v6 = &v[b->m[k]];
			set->nv4 = family == 4;
			set->nv6 = family == 6;
			k++;
		} else {
			i++;
		}
		s->mbase[s->p.nrules] = from->mbase[x];
		s->map[s->p.nrules++] = from->map[x];
	}
}

/* A side decided in part s, its rule and match as the whole policy numbers them. */
static void sub_side(const struct sub *s, struct pc_compare_side *side)
{
	if (side->over.by_rule) {
		side->over.match += s->mbase[side->over.rule];
		side->over.rule = s->map[side->over.rule];
	}
	if (!side->by_rule)
		return;
	side->match += s->mbase[side->rule];
	side->rule = s->map[side->rule];
}

/*
 * The name a deciding rule gave these ports: the new policy's, else the old
 * one's (a rule of numbers on one side, of a name on the other: the name).
 */
static const char *service_of(const struct pc_policy *const pol[2], const struct pc_compare_side *o,
		const struct pc_compare_side *n)
{
	const char *name = NULL;

	if (n->by_rule)
		name = pol[1]->rules[n->rule].matches[n->match].service;
	if (!name && o->by_rule)
		name = pol[0]->rules[o->rule].matches[o->match].service;
	return name;
}

/*
 * Where a rule starts to hold a run of ports or a span of sources, or
 * stops (one past its end): the rule's index in its part, its side (0 old,
 * 1 new) and, for a span, the index of the prefix that holds it.
 */
struct edge {
	uint32_t at;
	uint32_t rule;
	uint32_t what;
	uint8_t side;
	int8_t step; /* +1 or -1 */
};

/*
 * The edges of a sweep along one dimension, and per side the rules that
 * hold where it is: a run of ports or a span of sources costs the rules
 * that hold it, not every rule of the part.
 */
struct holding {
	struct edge *v;
	size_t n, cap, at; /* the edges, and the first not yet applied */
	uint32_t *count[2]; /* per rule of the part: its matches (or prefixes) that hold */
	uint32_t *what[2]; /* per rule: the prefix that holds the span */
	uint64_t *on[2]; /* a bit per rule of the part: it holds */
	uint64_t *sum[2]; /* a bit per word of `on`: not zero (a sparse one walked quickly) */
};

struct sweep {
	const struct pc_policy *pol[2];
	struct sub sub[2]; /* the rules that can decide a run of ports on an interface */
	struct sub part[2]; /* of those, the ones that can decide a span of sources */
	struct sub one[2]; /* sources first: of a span's rules, those of a run of ports */
	struct holding by_span; /* the rules of sub that hold each span of sources */
	struct holding by_port; /* sources first: of part, those that hold each run of ports */
	struct holding by_across; /* of a span's rules, those that hold each span across it */
	struct ilist across_every[2], across_held[2]; /* cells_across()'s, kept for the next */
	struct sub cell[2]; /* of those, the ones that can decide one cell */
	struct pc_compare *c;
	struct cells all; /* merged per run of ports */
	struct cells run; /* the cells of one run */
	/*
	 * differs[s][i]: rule i of policy s has no equal rule in the other
	 * kept in the same order.  A packet no such rule matches meets the same
	 * rules in the same order in both, so gets the same outcome, unless the
	 * defaults differ (everywhere: every packet may change).
	 */
	bool *differs[2];
	bool everywhere;
	enum pc_compare_order order; /* the sweep's order, or AUTO: sweep_area() counts */
	/*
	 * named[s][k]: the rules of policy s whose names (or wildcards) hold
	 * interface class k, in policy order (index_named()); pos[s]: room for
	 * places_begin().
	 */
	struct ilist *named[2];
	size_t *pos[2];
	/* rule_classes[s][i]: the classes rule i of policy s names (or with `not:` leaves out). */
	struct ilist *rule_classes[2];
};

static void holding_init(struct holding *h, const struct pc_policy *const pol[2])
{
	memset(h, 0, sizeof(*h));
	for (int s = 0; s < 2; s++) {
		h->count[s] = xcalloc(pol[s]->nrules + 1, sizeof(*h->count[s]));
		h->what[s] = xcalloc(pol[s]->nrules + 1, sizeof(*h->what[s]));
		h->on[s] = xcalloc(pol[s]->nrules / 64 + 1, sizeof(*h->on[s]));
		h->sum[s] = xcalloc(pol[s]->nrules / 4096 + 1, sizeof(*h->sum[s]));
	}
}

static void holding_finish(struct holding *h)
{
	free(h->v);
	for (int s = 0; s < 2; s++) {
		free(h->count[s]);
		free(h->what[s]);
		free(h->on[s]);
		free(h->sum[s]);
	}
}

static int cmp_edge(const void *pa, const void *pb)
{
	const struct edge *a = pa, *b = pb;

	return (a->at > b->at) - (a->at < b->at);
}

/* Rule `rule` of side `side` holds from `lo` to `hi` (`what`: the prefix that does). */
static void edges_add(struct holding *h, uint32_t lo, uint32_t hi, uint32_t end, size_t rule,
		int side, uint32_t what)
{
	if (h->cap - h->n < 2) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	h->v[h->n++] = (struct edge){lo, (uint32_t)rule, what, (uint8_t)side, 1};
	if (hi < end)
		h->v[h->n++] = (struct edge){hi + 1, (uint32_t)rule, what, (uint8_t)side, -1};
}

/* The edges added, sorted, none applied yet. */
static void edges_sort(struct holding *h)
{
	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), cmp_edge);
	h->at = 0;
}

/* The edges at `at` applied: their rules hold from there (or no longer). */
static void edges_apply(struct holding *h, uint32_t at)
{
	for (; h->at < h->n && h->v[h->at].at == at; h->at++) {
		const struct edge *e = &h->v[h->at];
		uint32_t *c = &h->count[e->side][e->rule];
		uint64_t *w = &h->on[e->side][e->rule / 64];
		uint64_t *sum = &h->sum[e->side][e->rule / 4096];
		uint64_t bit = (uint64_t)1 << (e->rule % 64),
			 wbit = (uint64_t)1 << (e->rule / 64 % 64);
		*c += (uint32_t)e->step;
		if (e->step > 0)
			h->what[e->side][e->rule] = e->what;
		if (*c)
			*w |= bit;
		else
			*w &= ~bit;
		if (*w)
			*sum |= wbit;
		else
			*sum &= ~wbit;
	}
}

/* The first rule of side s at `from` or after (of the part's n) that holds, or n. */
static size_t holding_next(const struct holding *h, int s, size_t from, size_t n)
{
	const uint64_t *on = h->on[s], *sum = h->sum[s];

	if (from >= n)
		return n;
	uint64_t bits = on[from / 64] & (~(uint64_t)0 << (from % 64));
	if (bits)
		return from / 64 * 64 + (size_t)__builtin_ctzll(bits);
	/* The next word not zero, found by the summary's bits. */
	size_t word = from / 64 + 1;
	for (size_t g = word / 64; g <= (n - 1) / 4096; g++) {
		uint64_t wb = sum[g];
		if (g == word / 64)
			wb &= word % 64 ? ~(uint64_t)0 << (word % 64) : ~(uint64_t)0;
		if (wb) {
			size_t w = g * 64 + (size_t)__builtin_ctzll(wb);
			return w * 64 + (size_t)__builtin_ctzll(on[w]);
		}
	}
	return n;
}

/* Where the next edge is, or `end`. */
static uint32_t edges_next(const struct holding *h, uint32_t end)
{
	return h->at < h->n ? h->v[h->at].at : end;
}

/* Every rule of the parts `sub` off, and the edges gone: for the next sweep. */
static void edges_clear(struct holding *h, const struct sub sub[2])
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sub[s].p.nrules; i++) {
			h->count[s][i] = 0;
			h->on[s][i / 64] = 0;
			h->sum[s][i / 4096] = 0;
		}
	h->n = h->at = 0;
}

/*
 * A rule's sources, or with `dst` its destinations, in `family` (perhaps
 * none); false when it takes every address.
 */
static bool side_of(const struct pc_rule *r, bool dst, int family, const struct pc_prefix **v,
		size_t *n)
{
	const struct pc_addrset *set = dst ? &r->dst : &r->src;

	*v = family == 4 ? set->v4 : set->v6;
	*n = family == 4 ? set->nv4 : set->nv6;
	return (dst ? r->nto : r->nfrom) && !set->any;
}

/*
 * The sweep of the spans of sources `src` (with `dst` of destinations)
 * begun, for the rules of the parts `sub`: in `every` (emptied first, its
 * room kept) those that take every source, the others in `h` from the span
 * each prefix of the family starts to the one it ends in (spans are cut at
 * every prefix's ends).
 */
static void spans_begin(struct holding *h, const struct sub sub[2], int family,
		const struct bounds *src, bool dst, struct ilist every[2])
{
	for (int s = 0; s < 2; s++) {
		every[s].n = 0;
		for (size_t k = 0; k < sub[s].p.nrules; k++) {
			const struct pc_prefix *v;
			size_t n;
			if (!side_of(&sub[s].p.rules[k], dst, family, &v, &n)) {
				ilist_add(&every[s], k, 0);
				continue;
			}
			for (size_t i = 0; i < n; i++) {
				pc_addr128 lo = pc_addr128_from(family, v[i].bytes);
				edges_add(h, (uint32_t)interval_of(src, lo),
						(uint32_t)interval_of(src,
								span_end(family, lo, v[i].len)),
						(uint32_t)src->n - 1, k, s, (uint32_t)i);
			}
		}
	}
	edges_sort(h);
}

/*
 * Of the parts `sub`, the rules whose prefixes hold span `a` (the next of
 * the sweep spans_begin() began), in order, each with the index of that
 * prefix: into `held`.
 */
static void spans_next(struct holding *h, const struct sub sub[2], size_t a, struct ilist held[2])
{
	edges_apply(h, (uint32_t)a);
	for (int s = 0; s < 2; s++) {
		size_t n = sub[s].p.nrules;
		held[s].n = 0;
		for (size_t k = holding_next(h, s, 0, n); k < n; k = holding_next(h, s, k + 1, n))
			ilist_add(&held[s], k, h->what[s][k]);
	}
}

/* The sweep spans_begin() began, ended. */
static void spans_end(struct holding *h, const struct sub sub[2], struct ilist every[2],
		struct ilist held[2])
{
	edges_clear(h, sub);
	for (int s = 0; s < 2; s++) {
		ilist_release(&every[s]);
		ilist_release(&held[s]);
	}
}

/*
 * b: the cuts of the sources (or with `dst` the destinations) of the rules
 * of parts `sub`, in `family`, and 0, sorted.
 */
static void sub_bounds(struct bounds *b, const struct sub sub[2], int family, bool dst)
{
	b->n = 0;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sub[s].p.nrules; i++) {
			const struct pc_rule *r = &sub[s].p.rules[i];
			if (dst)
				addr_bounds(b, &r->dst, r->nto, family);
			else
				addr_bounds(b, &r->src, r->nfrom, family);
		}
	bounds_add(b, 0);
	bounds_sort(b);
}

/* The cells of sw->run merged along d0 and d1, into sw->all. */
static void keep_run(struct sweep *sw, enum dim d0, enum dim d1)
{
	const enum dim dims[] = {d0, d1};
	size_t n = merge_all(sw->run.v, sw->run.n, dims, PC_ARRAY_SIZE(dims));

	for (size_t i = 0; i < n; i++)
		cells_add(&sw->all, &sw->run.v[i]);
}

/*
 * Whether a rule of the parts `sub` (the sweep's sub or part) differs, or
 * every packet may change: else no cell they decide can.
 */
static bool sub_differs(const struct sweep *sw, const struct sub sub[2])
{
	if (sw->everywhere)
		return true;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sub[s].p.nrules; i++)
			if (sw->differs[s][sub[s].map[i]])
				return true;
	return false;
}

/* A packet of `proto` in `dir` and `family`, from and to an address (each set later). */
static void packet_init(
		struct pc_packet *pkt, enum pc_direction dir, enum pc_proto proto, int family)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->direction = dir;
	pkt->proto = proto;
	pkt->family = (uint8_t)family;
	pkt->has_src = pkt->has_dst = true;
}

/* Up to this many spans across, cells_across() gives each packet the whole part. */
#define ACROSS_DIRECT 16

/*
 * The cells of packet `pkt` (its direction, protocol, family, interface and
 * port set; its source set here, the start of span `a` of `at`) for each
 * span of destinations `across`, decided by the parts `part`: each cell whose
 * outcome differs, with its extent (ports lo to hi, span a, the span of
 * destinations) and its sides as the whole policies number their rules, into
 * sw->run.  With `src` the other way round: `at` destinations, `across`
 * sources.  A cell's packet meets the rules of `part` that take every
 * address across and those whose prefixes hold its span (kept from span to
 * span in sw->by_across as prefixes start and end), not every rule of `part`:
 * many rules each to its own host cost each cell its own rule.
 */
static void cells_across(struct sweep *sw, const struct sub part[2], struct pc_packet *pkt,
		size_t iface, uint16_t lo, uint16_t hi, const struct bounds *at, size_t a,
		const struct bounds *across, bool src)
{
	int family = pkt->family;
	struct ilist *every = sw->across_every, *held = sw->across_held;
	bool direct = across->n <= ACROSS_DIRECT;
	const struct sub *cell = direct ? part : sw->cell;
	pc_addr128 at_hi = bound_end(at, a, pc_addr128_max(family));

	pc_addr128_bytes(family, at->v[a], src ? pkt->dst : pkt->src);
	if (!direct)
		spans_begin(&sw->by_across, part, family, across, !src, every);
	for (size_t b = 0; b < across->n; b++) {
		struct cell c;
		pc_addr128 b_hi = bound_end(across, b, pc_addr128_max(family));
		if (!direct) {
			/* Those that take every address across, and those that hold the span. */
			spans_next(&sw->by_across, part, b, held);
			for (int s = 0; s < 2; s++)
				sub_part(&sw->cell[s], &part[s], &every[s], &held[s], family, true,
						!src);
		}
		memset(&c, 0, sizeof(c));
		pc_addr128_bytes(family, across->v[b], src ? pkt->src : pkt->dst);
		pc_compare_packet(&cell[0].p, pkt, &c.r.old);
		pc_compare_packet(&cell[1].p, pkt, &c.r.new);
		sw->c->cells++;
		if (pc_compare_side_same(&c.r.old, &c.r.new))
			continue;
		sub_side(&cell[0], &c.r.old);
		sub_side(&cell[1], &c.r.new);
		c.r.direction = pkt->direction;
		c.r.proto = pkt->proto;
		c.r.family = (uint8_t)family;
		c.r.lo = lo;
		c.r.hi = hi;
		c.r.src_lo = src ? across->v[b] : at->v[a];
		c.r.src_hi = src ? b_hi : at_hi;
		c.r.dst_lo = src ? at->v[a] : across->v[b];
		c.r.dst_hi = src ? at_hi : b_hi;
		c.r.service = service_of(sw->pol, &c.r.old, &c.r.new);
		c.iface = iface;
		cells_add(&sw->run, &c);
	}
	if (!direct)
		edges_clear(&sw->by_across, part);
}

/*
 * Every cell of one run of ports on one interface class (the rules that can
 * decide there listed in `cand`, per policy): sources cut at the bounds of
 * those rules, then per span of sources the destinations at the bounds of
 * the rules that can match it, and one packet of each cell evaluated.
 */
static void sweep_run(struct sweep *sw, enum pc_direction dir, enum pc_proto proto, int family,
		size_t iface, uint16_t lo, uint16_t hi, const struct ilist *const cand[2],
		const struct ilist any[2])
{
	const char *name = sw->c->ifaces[iface].sample;
	struct bounds src = {NULL, 0, 0}, dst = {NULL, 0, 0};
	struct ilist every[2] = {{0}}, held[2] = {{0}};

	for (int s = 0; s < 2; s++)
		sub_fill(&sw->sub[s], sw->pol[s], cand[s], &any[s], sw->pos[s],
				&sw->named[s][iface], name, false);
	if (!sub_differs(sw, sw->sub))
		return;
	sub_bounds(&src, sw->sub, family, false);
	spans_begin(&sw->by_span, sw->sub, family, &src, false, every);

	struct pc_packet pkt;
	packet_init(&pkt, dir, proto, family);
	pkt.port = lo;
	snprintf(pkt.iface, sizeof(pkt.iface), "%s", name);
	sw->run.n = 0;
	for (size_t a = 0; a < src.n; a++) {
		spans_next(&sw->by_span, sw->sub, a, held);
		for (int s = 0; s < 2; s++)
			sub_part(&sw->part[s], &sw->sub[s], &every[s], &held[s], family, true,
					false);
		sub_bounds(&dst, sw->part, family, true);
		cells_across(sw, sw->part, &pkt, iface, lo, hi, &src, a, &dst, false);
	}
	keep_run(sw, DIM_DST, DIM_SRC);
	spans_end(&sw->by_span, sw->sub, every, held);
	free(src.v);
	free(dst.v);
}

/*
 * The sources (or destinations), in one family, where a packet of `proto`
 * in `dir` can change: the prefixes of the differing rules there, sorted,
 * nested ones in the one holding them (prefixes nest or are apart); `all`
 * when one of them takes every source, or every packet can change.
 */
struct area {
	bool all;
	struct pc_compare_span *v;
	size_t n, cap;
};

/*
 * Both: a packet that changes is matched by a differing rule, so its source
 * is in the one and its destination in the other.
 */
struct areas {
	struct area src, dst;
};

static int cmp_span(const void *pa, const void *pb);

static bool has_proto(const struct pc_rule *r, enum pc_proto proto)
{
	for (size_t k = 0; k < r->nmatches; k++)
		if (r->matches[k].proto == proto)
			return true;
	return false;
}

static void area_add(struct area *a, int family, const struct pc_prefix *x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	a->v[a->n].lo = pc_addr128_from(family, x->bytes);
	a->v[a->n].hi = span_end(family, a->v[a->n].lo, x->len);
	a->n++;
}

static void area_make(const struct sweep *sw, enum pc_direction dir, enum pc_proto proto,
		int family, bool dst, struct area *a)
{
	size_t w = 0;

	memset(a, 0, sizeof(*a));
	a->all = sw->everywhere;
	for (int s = 0; s < 2 && !a->all; s++)
		for (size_t i = 0; i < sw->pol[s]->nrules; i++) {
			const struct pc_rule *r = &sw->pol[s]->rules[i];
			if (!sw->differs[s][i] || r->direction != dir || !has_proto(r, proto))
				continue;
			const struct pc_prefix *v;
			size_t n;
			if (!side_of(r, dst, family, &v, &n)) {
				a->all = true;
				break;
			}
			for (size_t k = 0; k < n; k++)
				area_add(a, family, &v[k]);
		}
	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), cmp_span);
	for (size_t i = 0; i < a->n; i++)
		if (!w || a->v[i].lo > a->v[w - 1].hi)
			a->v[w++] = a->v[i];
		else if (a->v[i].hi > a->v[w - 1].hi)
			a->v[w - 1].hi = a->v[i].hi;
	a->n = w;
}

/* Whether rule r's sources (or destinations) meet the area. */
static bool side_near(const struct area *a, const struct pc_rule *r, bool dst, int family)
{
	const struct pc_prefix *v;
	size_t n;

	if (!side_of(r, dst, family, &v, &n))
		return true;
	if (a->all)
		return n > 0; /* none of the family: it matches no packet of it */
	for (size_t i = 0; i < n; i++) {
		pc_addr128 lo = pc_addr128_from(family, v[i].bytes);
		pc_addr128 hi = span_end(family, lo, v[i].len);
		size_t l = 0, h = a->n;
		/* The first span of the area that ends at lo or after. */
		while (l < h) {
			size_t mid = l + (h - l) / 2;
			if (a->v[mid].hi < lo)
				l = mid + 1;
			else
				h = mid;
		}
		if (l < a->n && a->v[l].lo <= hi)
			return true;
	}
	return false;
}

/*
 * Whether rule r can decide a packet whose source and destination are in
 * the areas.  One whose sources (or destinations) are all outside them (or
 * all of the other family) decides none, and cuts them nowhere inside (its
 * prefixes end where the area's do, or apart): left out, the cells in the
 * areas are the same, each decided the same way.  Outside them no differing
 * rule matches: the rules left meet a packet there in the same order in
 * both policies, as the whole ones do.
 */
static bool area_near(const struct areas *a, const struct pc_rule *r, int family)
{
	return side_near(&a->src, r, false, family) && side_near(&a->dst, r, true, family);
}

/* The cuts of the port range for `proto` that the ends of rule r's matches make. */
static void match_bounds(struct bounds *b, const struct pc_rule *r, enum pc_proto proto)
{
	for (size_t k = 0; k < r->nmatches; k++) {
		if (r->matches[k].proto != proto)
			continue;
		if (r->matches[k].lo > 1)
			bounds_add(b, r->matches[k].lo);
		if (r->matches[k].hi < 65535)
			bounds_add(b, (pc_addr128)r->matches[k].hi + 1);
	}
}

/*
 * The cuts of the port range for `proto`: the ends of the matches of the
 * rules listed in `rel`, per policy (those that can decide in the area:
 * another rule's ends cut it nowhere a packet's outcome changes).
 */
static void port_bounds(const struct pc_policy *const pol[2], const struct ilist rel[2],
		enum pc_proto proto, struct bounds *b)
{
	b->n = 0;
	bounds_add(b, 1);
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < rel[s].n; i++)
			match_bounds(b, &pol[s]->rules[rel[s].v[i]], proto);
	bounds_sort(b);
}

/*
 * The rules of p that can decide each run of ports of `ports`, for `proto` in
 * `dir`, of those near the area in `family`.
 */
static struct ilist *by_port(const struct pc_policy *p, enum pc_direction dir, enum pc_proto proto,
		const struct bounds *ports, const struct areas *near, int family)
{
	struct ilist *lists = ilists(ports->n);

	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		if (r->direction != dir || !area_near(near, r, family))
			continue;
		for (size_t k = 0; k < r->nmatches; k++) {
			const struct pc_match *m = &r->matches[k];
			if (m->proto != proto)
				continue;
			size_t last = interval_of(ports, m->hi);
			for (size_t j = interval_of(ports, m->lo ? m->lo : 1); j <= last; j++)
				ilist_add(&lists[j], i, k);
		}
	}
	return lists;
}

/*
 * Past this many classes of interfaces in a direction, the classes no rule
 * of a run of ports writes (names, or leaves out with `not:`) share one
 * sweep of the run: each would meet the same rules (those on every
 * interface, and those with `not:` that leave it in), so get the same
 * outcomes.  The class of every other interface sweeps for them; the
 * cells it finds, merged over every run, are each such class's, cut where
 * the class was swept alone.  Below, each class sweeps each run (as the
 * answer for a few interfaces was always cut).
 */
#define CLASSES_SHARED 16

struct shared {
	bool on;
	size_t first, n; /* the direction's classes */
	size_t rep; /* the class that sweeps for the others: every other interface */
	size_t lo; /* the class of `lo` (decided by `loopback:`), swept alone; or SIZE_MAX */
	size_t *last; /* per class of the direction: the last run it was swept alone in, + 1 */
	struct ilist *runs; /* per class of the direction: the runs it was swept alone in */
	struct ilist now; /* the classes swept alone in this run */
	struct cells generic; /* rep's cells */
};

static void shared_begin(struct sweep *sw, enum pc_direction dir, struct shared *sh)
{
	size_t first = sw->c->class_first[dir], n = sw->c->nclasses[dir];

	memset(sh, 0, sizeof(*sh));
	sh->first = first;
	sh->n = n;
	sh->rep = sh->lo = SIZE_MAX;
	for (size_t k = first; k < first + n; k++) {
		const char *name = sw->c->ifaces[k].name;
		if (!name)
			sh->rep = k;
		else if (!strcmp(name, "lo"))
			sh->lo = k;
	}
	sh->on = n > CLASSES_SHARED && sh->rep != SIZE_MAX;
	if (!sh->on)
		return;
	sh->last = xcalloc(n + 1, sizeof(*sh->last));
	sh->runs = ilists(n);
}

/* A class swept alone in run b: once. */
static void shared_alone(struct shared *sh, size_t k, size_t b)
{
	size_t i = k - sh->first;

	if (sh->last[i] == b + 1)
		return;
	sh->last[i] = b + 1;
	ilist_add(&sh->runs[i], b, 0);
	ilist_add(&sh->now, k, 0);
}

/* sh->now: the classes the rules of run b (`cand`) write, and lo. */
static void shared_run(
		struct sweep *sw, struct shared *sh, const struct ilist *const cand[2], size_t b)
{
	sh->now.n = 0;
	if (sh->lo != SIZE_MAX)
		shared_alone(sh, sh->lo, b);
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < cand[s]->n; i++) {
			const struct ilist *c = &sw->rule_classes[s][cand[s]->v[i]];
			for (size_t k = 0; k < c->n; k++)
				shared_alone(sh, c->v[k], b);
		}
}

/*
 * Every class but lo its share of the cells rep found, merged over the runs:
 * each cell cut out of the runs the class was swept alone in (sorted).
 */
static void shared_end(struct sweep *sw, struct shared *sh, const struct bounds *ports)
{
	static const enum dim dims[] = {DIM_PORT, DIM_DST, DIM_SRC};
	size_t n = merge_all(sh->generic.v, sh->generic.n, dims, PC_ARRAY_SIZE(dims));

	for (size_t i = 0; i < sh->n; i++) {
		const struct ilist *runs = &sh->runs[i];
		if (sh->first + i == sh->lo)
			continue;
		for (size_t g = 0; g < n; g++) {
			struct cell c = sh->generic.v[g];
			uint32_t at = c.r.lo, end = c.r.hi;
			/* Of the class's own runs, the first that ends where the cell starts or
			 * later. */
			size_t lo = 0, hi = runs->n;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (bound_end(ports, runs->v[mid], 65535) < at)
					lo = mid + 1;
				else
					hi = mid;
			}
			c.iface = sh->first + i;
			for (size_t j = lo; j < runs->n && at <= end; j++) {
				size_t b = runs->v[j];
				uint32_t b_lo = (uint32_t)ports->v[b];
				if (b_lo > end)
					break;
				if (b_lo > at) {
					c.r.lo = (uint16_t)at;
					c.r.hi = (uint16_t)(b_lo - 1);
					cells_add(&sw->all, &c);
				}
				at = (uint32_t)bound_end(ports, b, 65535) + 1;
			}
			if (at <= end) {
				c.r.lo = (uint16_t)at;
				c.r.hi = (uint16_t)end;
				cells_add(&sw->all, &c);
			}
		}
	}
	free(sh->generic.v);
	free(sh->last);
	ilists_free(sh->runs, sh->n);
	ilist_release(&sh->now);
}

/* Every run of ports `ports` of `proto` in `dir`, in one family, for the rules near the area. */
static void sweep_family(struct sweep *sw, enum pc_direction dir, enum pc_proto proto, int family,
		const struct bounds *ports, const struct areas *near)
{
	struct ilist *lists[2] = {
			by_port(sw->pol[0], dir, proto, ports, near, family),
			by_port(sw->pol[1], dir, proto, ports, near, family),
	};
	struct ilist any[2] = {{0}};
	size_t first = sw->c->class_first[dir], n = sw->c->nclasses[dir];
	struct shared sh;

	shared_begin(sw, dir, &sh);
	for (size_t b = 0; b < ports->n; b++) {
		const struct ilist *const cand[2] = {&lists[0][b], &lists[1][b]};
		uint16_t lo = (uint16_t)ports->v[b];
		uint16_t hi = (uint16_t)bound_end(ports, b, 65535);
		for (int s = 0; s < 2; s++)
			places_begin(sw->pol[s], cand[s], sw->pos[s], &any[s]);
		if (!sh.on) {
			for (size_t k = first; k < first + n; k++)
				sweep_run(sw, dir, proto, family, k, lo, hi, cand, any);
		} else {
			/* The classes a rule of the run writes, each alone; the others once. */
			shared_run(sw, &sh, cand, b);
			for (size_t i = 0; i < sh.now.n; i++)
				sweep_run(sw, dir, proto, family, sh.now.v[i], lo, hi, cand, any);
			struct cells all = sw->all;
			sw->all = sh.generic;
			sweep_run(sw, dir, proto, family, sh.rep, lo, hi, cand, any);
			sh.generic = sw->all;
			sw->all = all;
		}
		for (int s = 0; s < 2; s++)
			places_end(cand[s], sw->pos[s]);
	}
	if (sh.on)
		shared_end(sw, &sh, ports);
	for (int s = 0; s < 2; s++)
		ilist_release(&any[s]);
	ilists_free(lists[0], ports->n);
	ilists_free(lists[1], ports->n);
}

/* The rules of p in `dir` with a match of `proto`, of those near the area. */
static void near_rules(const struct pc_policy *p, enum pc_direction dir, enum pc_proto proto,
		const struct areas *near, int family, struct ilist *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		if (r->direction == dir && has_proto(r, proto) && area_near(near, r, family))
			ilist_add(out, i, 0);
	}
}

/* The matches of `proto` rule r has. */
static double matches_of(const struct pc_rule *r, enum pc_proto proto)
{
	double nm = 0;

	for (size_t k = 0; k < r->nmatches; k++)
		nm += r->matches[k].proto == proto;
	return nm;
}

/*
 * What the sweep with one side's addresses first (`dst`: the destinations)
 * would cost, in steps: in each span of that side's cuts `b`, the runs of
 * ports of the rules that hold it (each of their matches) times the cuts
 * across it: two for each of those rules that names addresses on the other
 * side, at most the cuts `other` of all of them there.  Each rule adds
 * itself to the spans its prefixes hold (a difference array, then its
 * running sums), or to every span when it takes every address.
 */
static double first_cost(const struct sweep *sw, enum pc_proto proto, int family,
		const struct bounds *b, const struct bounds *other, bool dst,
		const struct ilist rel[2])
{
	double *runs = xcalloc(b->n + 1, sizeof(*runs)),
	       *across = xcalloc(b->n + 1, sizeof(*across));
	double all_runs = 0, all_across = 0, cost = 0;

	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < rel[s].n; i++) {
			const struct pc_rule *r = &sw->pol[s]->rules[rel[s].v[i]];
			const struct pc_prefix *v, *u;
			size_t n, nu;
			double nm = matches_of(r, proto);
			double names = side_of(r, !dst, family, &u, &nu) ? 1 : 0;
			if (!side_of(r, dst, family, &v, &n)) {
				all_runs += nm;
				all_across += names;
				continue;
			}
			for (size_t j = 0; j < n; j++) {
				pc_addr128 lo = pc_addr128_from(family, v[j].bytes);
				size_t from = interval_of(b, lo);
				size_t to = interval_of(b, span_end(family, lo, v[j].len)) + 1;
				runs[from] += nm;
				runs[to] -= nm;
				across[from] += names;
				across[to] -= names;
			}
		}
	double w = all_runs, o = all_across;
	for (size_t a = 0; a < b->n; a++) {
		w += runs[a];
		o += across[a];
		cost += w * (1 + (2 * o < (double)other->n ? 2 * o : (double)other->n));
	}
	free(runs);
	free(across);
	return cost;
}

/*
 * What each order would cost, in steps: by ports, each run of ports a match
 * holds meets each span of sources its rule's prefixes hold, and each of
 * destinations (a rule that takes every address of a side, once); by
 * sources or destinations, first_cost().  `src`, `dst`: the cuts of the
 * sources and destinations of the rules in `rel`.
 */
static void order_costs(const struct sweep *sw, enum pc_proto proto, int family,
		const struct bounds *ports, const struct bounds *src, const struct bounds *dst,
		const struct ilist rel[2], double cost[3])
{
	cost[PC_COMPARE_ORDER_PORTS] = 0;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < rel[s].n; i++) {
			const struct pc_rule *r = &sw->pol[s]->rules[rel[s].v[i]];
			double runs = 0, spans = 1;
			for (size_t k = 0; k < r->nmatches; k++) {
				const struct pc_match *m = &r->matches[k];
				if (m->proto == proto)
					runs += (double)(interval_of(ports, m->hi) -
							 interval_of(ports, m->lo ? m->lo : 1) + 1);
			}
			for (int side = 0; side < 2; side++) {
				const struct bounds *b = side ? dst : src;
				const struct pc_prefix *v;
				size_t n;
				double held = 0;
				if (!side_of(r, side, family, &v, &n))
					continue;
				for (size_t j = 0; j < n; j++) {
					pc_addr128 lo = pc_addr128_from(family, v[j].bytes);
					held += (double)(interval_of(b, span_end(family, lo,
											v[j].len)) -
							 interval_of(b, lo) + 1);
				}
				spans *= held;
			}
			cost[PC_COMPARE_ORDER_PORTS] += runs * spans;
		}
	cost[PC_COMPARE_ORDER_SOURCES] = first_cost(sw, proto, family, src, dst, false, rel);
	cost[PC_COMPARE_ORDER_DESTINATIONS] = first_cost(sw, proto, family, dst, src, true, rel);
}

/*
 * s: the rules of part `from` that hold port `port` of `proto` (those `h`
 * says hold on `side`, walked by their bits: not every rule of the part), each with the
 * one match that counts there (the first that holds it), as sub_fill()
 * makes them for a run of ports; none after the first that decides every
 * packet of the cell (with `src`, where the part's rules hold its
 * destinations and its sources are cut: decides_all()).
 */
static void sub_port(struct sub *s, const struct sub *from, enum pc_proto proto, uint16_t port,
		const struct holding *h, int side, bool src)
{
	size_t n = from->p.nrules;

	s->p.nrules = 0;
	for (size_t i = holding_next(h, side, 0, n); i < n; i = holding_next(h, side, i + 1, n)) {
		const struct pc_rule *r = &from->p.rules[i];
		size_t k = 0;
		while (k < r->nmatches &&
				(r->matches[k].proto != proto ||
						port < (r->matches[k].lo ? r->matches[k].lo : 1) ||
						port > r->matches[k].hi))
			k++;
		if (k == r->nmatches)
			continue; /* not reached: a rule is on while a match holds */
		s->rules[s->p.nrules] = *r;
		s->rules[s->p.nrules].matches = &r->matches[k];
		s->rules[s->p.nrules].nmatches = 1;
		s->mbase[s->p.nrules] = from->mbase[i] + k;
		s->map[s->p.nrules++] = from->map[i];
		if (decides_all(r, src))
			return;
	}
}

/*
 * The cells of span `a` of sources `src` on interface class `iface` (pkt's
 * interface set), by the sweep's parts, with the sources first: the runs
 * of ports of the rules that hold the span, each with the rules that hold
 * it (kept from run to run as matches start and end: a run costs the rules
 * that can decide it, not every rule of the span), then their
 * destinations.  With `by_dst` destinations first: `src` holds the spans
 * of destinations, and the sources are cut in each run.  `dst` is room to
 * work in.
 */
static void sweep_span(struct sweep *sw, struct pc_packet *pkt, size_t iface,
		const struct bounds *src, size_t a, struct bounds *dst, bool by_dst)
{
	enum pc_proto proto = pkt->proto;
	struct holding *h = &sw->by_port;

	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sw->part[s].p.nrules; i++) {
			const struct pc_rule *r = &sw->part[s].p.rules[i];
			for (size_t k = 0; k < r->nmatches; k++) {
				const struct pc_match *m = &r->matches[k];
				uint32_t lo = m->lo ? m->lo : 1;
				if (m->proto == proto && m->hi >= lo)
					edges_add(h, lo, m->hi, 65535, i, s, 0);
			}
		}
	edges_sort(h);
	sw->run.n = 0;
	for (uint32_t lo = 1; lo <= 65535;) {
		edges_apply(h, lo);
		uint32_t next = edges_next(h, 65536);
		for (int s = 0; s < 2; s++)
			sub_port(&sw->one[s], &sw->part[s], proto, (uint16_t)lo, h, s, by_dst);
		sub_bounds(dst, sw->one, pkt->family, !by_dst);
		pkt->port = (uint16_t)lo;
		cells_across(sw, sw->one, pkt, iface, (uint16_t)lo, (uint16_t)(next - 1), src, a,
				dst, by_dst);
		lo = next;
	}
	edges_clear(h, sw->part);
	keep_run(sw, by_dst ? DIM_SRC : DIM_DST, DIM_PORT);
}

/*
 * The sweep with the sources first, in one family: each span of sources
 * (cut at the sources of the rules near the area), then in it the runs of
 * ports of the rules that hold it, then their destinations; one packet of
 * each cell evaluated.  With `by_dst` the destinations first, the mirror:
 * `src` holds the cuts of their destinations.  The same packets change as
 * sweep_family() finds, in cells cut the other way (so merged into other
 * regions).
 */
static void sweep_family_src(struct sweep *sw, enum pc_direction dir, enum pc_proto proto,
		int family, const struct bounds *src, const struct ilist rel[2], bool by_dst)
{
	struct bounds dst = {NULL, 0, 0};
	struct pc_packet pkt;
	struct ilist any[2] = {{0}};
	size_t first = sw->c->class_first[dir];

	packet_init(&pkt, dir, proto, family);
	for (int s = 0; s < 2; s++)
		places_begin(sw->pol[s], &rel[s], sw->pos[s], &any[s]);
	for (size_t iface = first; iface < first + sw->c->nclasses[dir]; iface++) {
		const char *name = sw->c->ifaces[iface].sample;
		struct ilist every[2] = {{0}}, held[2] = {{0}};
		for (int s = 0; s < 2; s++)
			sub_fill(&sw->sub[s], sw->pol[s], &rel[s], &any[s], sw->pos[s],
					&sw->named[s][iface], name, true);
		if (!sub_differs(sw, sw->sub))
			continue;
		spans_begin(&sw->by_span, sw->sub, family, src, by_dst, every);
		snprintf(pkt.iface, sizeof(pkt.iface), "%s", name);
		for (size_t a = 0; a < src->n; a++) {
			spans_next(&sw->by_span, sw->sub, a, held);
			for (int s = 0; s < 2; s++)
				sub_part(&sw->part[s], &sw->sub[s], &every[s], &held[s], family,
						false, by_dst);
			if (sub_differs(sw, sw->part))
				sweep_span(sw, &pkt, iface, src, a, &dst, by_dst);
		}
		spans_end(&sw->by_span, sw->sub, every, held);
	}
	for (int s = 0; s < 2; s++) {
		places_end(&rel[s], sw->pos[s]);
		ilist_release(&any[s]);
	}
	free(dst.v);
}

/*
 * Every packet of `proto` in `dir`, in one family, that can change (those
 * the area holds): by runs of ports first, or by spans of sources where
 * that is far cheaper.  Below this many steps the order stays the ports'.
 */
#define ORDER_SOURCES_MIN 100000.0
#define ORDER_SOURCES_GAIN 8.0

static void sweep_area(struct sweep *sw, enum pc_direction dir, enum pc_proto proto, int family,
		const struct areas *near)
{
	struct ilist rel[2];
	struct bounds src = {NULL, 0, 0}, dst = {NULL, 0, 0}, ports = {NULL, 0, 0};
	enum pc_compare_order order = sw->order;

	for (int s = 0; s < 2; s++) {
		near_rules(sw->pol[s], dir, proto, near, family, &rel[s]);
		for (size_t i = 0; i < rel[s].n; i++) {
			const struct pc_rule *r = &sw->pol[s]->rules[rel[s].v[i]];
			addr_bounds(&src, &r->src, r->nfrom, family);
			addr_bounds(&dst, &r->dst, r->nto, family);
		}
	}
	bounds_add(&src, 0);
	bounds_sort(&src);
	bounds_add(&dst, 0);
	bounds_sort(&dst);
	port_bounds(sw->pol, rel, proto, &ports);
	if (order == PC_COMPARE_ORDER_AUTO) {
		double cost[3];
		order_costs(sw, proto, family, &ports, &src, &dst, rel, cost);
		/* The cheaper address first, the sources where they cost the same. */
		order = cost[PC_COMPARE_ORDER_DESTINATIONS] < cost[PC_COMPARE_ORDER_SOURCES]
					? PC_COMPARE_ORDER_DESTINATIONS
					: PC_COMPARE_ORDER_SOURCES;
		if (cost[PC_COMPARE_ORDER_PORTS] < ORDER_SOURCES_MIN ||
				cost[PC_COMPARE_ORDER_PORTS] <= ORDER_SOURCES_GAIN * cost[order])
			order = PC_COMPARE_ORDER_PORTS;
	}
	if (order == PC_COMPARE_ORDER_PORTS)
		sweep_family(sw, dir, proto, family, &ports, near);
	else
		sweep_family_src(sw, dir, proto, family,
				order == PC_COMPARE_ORDER_SOURCES ? &src : &dst, rel,
				order == PC_COMPARE_ORDER_DESTINATIONS);
	for (int s = 0; s < 2; s++)
		ilist_release(&rel[s]);
	free(src.v);
	free(dst.v);
	free(ports.v);
}

static bool defaults_same(const struct pc_defaults *a, const struct pc_defaults *b)
{
	return a->input == b->input && a->output == b->output && a->forward == b->forward &&
	       a->established == b->established && a->loopback == b->loopback &&
	       a->icmp == b->icmp && a->neighbour_discovery == b->neighbour_discovery;
}

static void pair_rules(const struct pc_policy *old, const struct pc_policy *new, size_t *pair);
static void keep_order(const size_t *pair, size_t n, bool *keep);

/* sw->differs: the rules of either policy left when the equal ones kept in order are paired. */
static void mark_differing(struct sweep *sw)
{
	const struct pc_policy *old = sw->pol[0], *new = sw->pol[1];
	size_t *pair = xcalloc(new->nrules + 1, sizeof(*pair));
	bool *keep = xcalloc(new->nrules + 1, sizeof(*keep));

	for (int s = 0; s < 2; s++) {
		sw->differs[s] = xcalloc(sw->pol[s]->nrules + 1, sizeof(*sw->differs[s]));
		memset(sw->differs[s], 1, sw->pol[s]->nrules * sizeof(*sw->differs[s]));
	}
	pair_rules(old, new, pair);
	keep_order(pair, new->nrules, keep);
	for (size_t j = 0; j < new->nrules; j++)
		if (keep[j]) {
			sw->differs[1][j] = false;
			sw->differs[0][pair[j]] = false;
		}
	sw->everywhere = !defaults_same(&old->defaults, &new->defaults);
	free(pair);
	free(keep);
}

/*
 * Each rule of `dir` that names its interfaces (no `not:`) in sw->named of
 * every class they hold: a name's own, and those of the names a wildcard's
 * stem begins (`names` sorted, class_of[] each one's class).  A name lies
 * within a wildcard of each of its at most 15 stems, so the lists hold at
 * most 15 entries per name a rule writes, however many classes there are.
 * Those classes of every rule that writes interfaces (with `not:`, those it
 * leaves out) in sw->rule_classes.
 */
static void index_named(struct sweep *sw, enum pc_direction dir, const struct names *names,
		const size_t *class_of)
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sw->pol[s]->nrules; i++) {
			const struct pc_rule *r = &sw->pol[s]->rules[i];
			struct ilist *mine = &sw->rule_classes[s][i];
			if (r->direction != dir || !r->interface.n)
				continue;
			for (size_t k = 0; k < r->interface.n; k++) {
				const char *x = r->interface.names[k];
				size_t from, to;
				if (pc_ifname_wild(x)) {
					names_within(names, x, &from, &to);
				} else {
					from = names_from(names, x, strlen(x));
					to = from + names_is(names, from, x, strlen(x));
				}
				for (size_t j = from; j < to; j++)
					if (class_of[j] != SIZE_MAX)
						ilist_add(mine, class_of[j], 0);
			}
			for (size_t k = 0; names_ifaces(r) && k < mine->n; k++) {
				struct ilist *l = &sw->named[s][mine->v[k]];
				if (!l->n || l->v[l->n - 1] != i)
					ilist_add(l, i, 0);
			}
		}
}

/* ---- regions from cells -------------------------------------------------------- */

static int cmp_but_iface(const struct cell *a, const struct cell *b)
{
	struct cell x = *a;

	x.iface = b->iface;
	return cmp_along(&x, b, DIM_COUNT);
}

static int cmp_iface_last(const void *pa, const void *pb)
{
	const struct cell *a = pa, *b = pb;
	int d = cmp_but_iface(a, b);

	if (d)
		return d;
	CMP(a->iface, b->iface);
	return 0;
}

static bool whole_family(const struct pc_compare_region *r)
{
	pc_addr128 max = pc_addr128_max(r->family);

	return !r->srcs && !r->dsts && r->src_lo == 0 && r->src_hi == max && r->dst_lo == 0 &&
	       r->dst_hi == max;
}

static int cmp_ifaces(const struct pc_compare_region *a, const struct pc_compare_region *b)
{
	CMP(a->ifaces != NULL, b->ifaces != NULL);
	CMP(a->nifaces, b->nifaces);
	for (size_t i = 0; i < a->nifaces; i++)
		CMP(a->ifaces[i], b->ifaces[i]);
	return 0;
}

static int cmp_spans(const struct pc_compare_span *a, size_t na, const struct pc_compare_span *b,
		size_t nb)
{
	CMP(a != NULL, b != NULL);
	CMP(na, nb);
	for (size_t i = 0; i < na; i++) {
		CMP(a[i].lo, b[i].lo);
		CMP(a[i].hi, b[i].hi);
	}
	return 0;
}

/*
 * Regions by their interfaces, service and what each side decides: all
 * cmp_region() orders by after their addresses, and what a v4 region over
 * every address and its v6 twin share.
 */
static int cmp_twin(const struct pc_compare_region *a, const struct pc_compare_region *b)
{
	int d;

	if ((d = cmp_ifaces(a, b)))
		return d;
	if ((d = cmp_name(a->service, b->service)))
		return d;
	if ((d = cmp_side(&a->old, &b->old)))
		return d;
	return cmp_side(&a->new, &b->new);
}

/* The canonical order of the regions printed. */
static int cmp_region(const void *pa, const void *pb)
{
	const struct pc_compare_region *a = pa, *b = pb;
	int d;

	CMP(a->direction, b->direction);
	CMP(a->proto, b->proto);
	CMP(a->lo, b->lo);
	CMP(a->hi, b->hi);
	CMP(a->family, b->family);
	CMP(a->src_lo, b->src_lo);
	CMP(a->src_hi, b->src_hi);
	CMP(a->dst_lo, b->dst_lo);
	CMP(a->dst_hi, b->dst_hi);
	if ((d = cmp_twin(a, b)))
		return d;
	if ((d = cmp_spans(a->srcs, a->nsrcs, b->srcs, b->nsrcs)))
		return d;
	return cmp_spans(a->dsts, a->ndsts, b->dsts, b->ndsts);
}

/* Orders regions by all but their sources (or destinations), then by where those start. */
static int cmp_except(
		const struct pc_compare_region *a, const struct pc_compare_region *b, bool dst)
{
	struct pc_compare_region x = *a;

	if (dst) {
		x.dst_lo = b->dst_lo;
		x.dst_hi = b->dst_hi;
	} else {
		x.src_lo = b->src_lo;
		x.src_hi = b->src_hi;
	}
	return cmp_region(&x, b);
}

static int cmp_but_src(const void *pa, const void *pb)
{
	const struct pc_compare_region *a = pa, *b = pb;
	int d = cmp_except(a, b, false);

	if (d)
		return d;
	CMP(a->src_lo, b->src_lo);
	return 0;
}

static int cmp_but_dst(const void *pa, const void *pb)
{
	const struct pc_compare_region *a = pa, *b = pb;
	int d = cmp_except(a, b, true);

	if (d)
		return d;
	CMP(a->dst_lo, b->dst_lo);
	return 0;
}

/*
 * The same change over several spans of destinations (dst) or sources: one
 * region, its spans listed, its hull from the first one's start to the last
 * one's end.
 */
static void group_spans(struct pc_compare *c, bool dst)
{
	size_t w = 0;

	qsort(c->regions, c->nregions, sizeof(*c->regions), dst ? cmp_but_dst : cmp_but_src);
	for (size_t i = 0; i < c->nregions;) {
		size_t k = i + 1;
		while (k < c->nregions && !cmp_except(&c->regions[i], &c->regions[k], dst))
			k++;
		struct pc_compare_region r = c->regions[i];
		if (k - i > 1) {
			struct pc_compare_span *v = xcalloc(k - i, sizeof(*v));
			for (size_t j = i; j < k; j++) {
				const struct pc_compare_region *x = &c->regions[j];
				v[j - i] = dst ? (struct pc_compare_span){x->dst_lo, x->dst_hi}
					       : (struct pc_compare_span){x->src_lo, x->src_hi};
				if (j > i) {
					free(x->ifaces);
					if (!dst)
						free(x->dsts);
				}
			}
			if (dst) {
				r.dsts = v;
				r.ndsts = k - i;
				r.dst_hi = c->regions[k - 1].dst_hi;
			} else {
				r.srcs = v;
				r.nsrcs = k - i;
				r.src_hi = c->regions[k - 1].src_hi;
			}
		}
		c->regions[w++] = r;
		i = k;
	}
	c->nregions = w;
}

/* The next region of family `fam` over every address at or after i, before end. */
static size_t next_whole(const struct pc_compare *c, size_t i, size_t end, unsigned fam)
{
	while (i < end && !(c->regions[i].family == fam && whole_family(&c->regions[i])))
		i++;
	return i;
}

/*
 * A v4 region over every address and its v6 twin (among the same ports)
 * become one.  In cmp_region()'s order each family's whole regions of a run
 * of the same ports are sorted by cmp_twin(), so the twins are found by one
 * merge of the two, not a walk of the run for each region (which was
 * quadratic in the rules of one port).
 */
static void pair_families(struct pc_compare *c, bool *gone)
{
	for (size_t i = 0, end; i < c->nregions; i = end) {
		const struct pc_compare_region *g = &c->regions[i];
		for (end = i + 1; end < c->nregions && c->regions[end].direction == g->direction &&
				  c->regions[end].proto == g->proto &&
				  c->regions[end].lo == g->lo && c->regions[end].hi == g->hi;
				end++)
			;
		size_t p = next_whole(c, i, end, 4), q = next_whole(c, i, end, 6);
		while (p < end && q < end) {
			int d = cmp_twin(&c->regions[p], &c->regions[q]);
			if (d == 0) {
				struct pc_compare_region *r = &c->regions[p];
				gone[q] = true;
				r->family = 0;
				r->src_hi = r->dst_hi = pc_addr128_max(6);
			}
			if (d <= 0)
				p = next_whole(c, p + 1, end, 4);
			if (d >= 0)
				q = next_whole(c, q + 1, end, 6);
		}
	}
}

static void make_regions(struct pc_compare *c, struct cells *cs)
{
	if (cs->n)
		qsort(cs->v, cs->n, sizeof(*cs->v), cmp_iface_last);
	c->regions = xcalloc(cs->n + 1, sizeof(*c->regions));
	for (size_t i = 0; i < cs->n;) {
		size_t k = i + 1;
		while (k < cs->n && !cmp_but_iface(&cs->v[i], &cs->v[k]))
			k++;
		struct pc_compare_region *r = &c->regions[c->nregions++];
		*r = cs->v[i].r;
		if (k - i < c->nclasses[r->direction]) {
			r->nifaces = k - i;
			r->ifaces = xcalloc(r->nifaces, sizeof(*r->ifaces));
			for (size_t j = i; j < k; j++)
				r->ifaces[j - i] = cs->v[j].iface;
		}
		i = k;
	}
	group_spans(c, true);
	group_spans(c, false);
	qsort(c->regions, c->nregions, sizeof(*c->regions), cmp_region);
	bool *gone = xcalloc(c->nregions + 1, sizeof(*gone));
	pair_families(c, gone);
	size_t w = 0;
	for (size_t i = 0; i < c->nregions; i++) {
		if (gone[i]) {
			free(c->regions[i].ifaces);
			free(c->regions[i].srcs);
			free(c->regions[i].dsts);
		} else {
			c->regions[w++] = c->regions[i];
		}
	}
	c->nregions = w;
	free(gone);
	qsort(c->regions, c->nregions, sizeof(*c->regions), cmp_region);
}

int pc_compare_policies(
		const struct pc_policy *old, const struct pc_policy *new, struct pc_compare *out)
{
	return pc_compare_policies_in(old, new, PC_COMPARE_ORDER_AUTO, out);
}

int pc_compare_policies_in(const struct pc_policy *old, const struct pc_policy *new,
		enum pc_compare_order order, struct pc_compare *out)
{
	struct sweep sw;

	memset(out, 0, sizeof(*out));
	memset(&sw, 0, sizeof(sw));
	sw.order = order;
	sw.pol[0] = old;
	sw.pol[1] = new;
	sw.c = out;
	sub_init(&sw.sub[0], old);
	sub_init(&sw.sub[1], new);
	sub_init(&sw.part[0], old);
	sub_init(&sw.part[1], new);
	sub_init(&sw.one[0], old);
	sub_init(&sw.one[1], new);
	sub_init(&sw.cell[0], old);
	sub_init(&sw.cell[1], new);
	holding_init(&sw.by_span, sw.pol);
	holding_init(&sw.by_port, sw.pol);
	holding_init(&sw.by_across, sw.pol);
	mark_differing(&sw);
	struct names names[3];
	size_t *class_of[3];
	for (int d = PC_DIR_INPUT; d <= PC_DIR_FORWARD; d++)
		make_classes(out, sw.pol, (enum pc_direction)d, &names[d], &class_of[d]);
	for (int s = 0; s < 2; s++) {
		sw.named[s] = ilists(out->nifaces);
		sw.rule_classes[s] = ilists(sw.pol[s]->nrules);
		sw.pos[s] = xcalloc(sw.pol[s]->nrules + 1, sizeof(*sw.pos[s]));
	}
	for (int d = PC_DIR_INPUT; d <= PC_DIR_FORWARD; d++) {
		index_named(&sw, (enum pc_direction)d, &names[d], class_of[d]);
		free(names[d].v);
		free(class_of[d]);
	}
	for (int d = PC_DIR_INPUT; d <= PC_DIR_FORWARD; d++)
		for (int proto = PC_PROTO_TCP; proto < PC_PROTO_COUNT; proto++) {
			enum pc_direction dir = (enum pc_direction)d;
			size_t first = sw.all.n;
			for (int family = 4; family <= 6; family += 2) {
				struct areas near;
				area_make(&sw, dir, (enum pc_proto)proto, family, false, &near.src);
				area_make(&sw, dir, (enum pc_proto)proto, family, true, &near.dst);
				if ((near.src.all || near.src.n) && (near.dst.all || near.dst.n))
					sweep_area(&sw, dir, (enum pc_proto)proto, family, &near);
				free(near.src.v);
				free(near.dst.v);
			}
			static const enum dim dims[] = {DIM_PORT, DIM_DST, DIM_SRC};
			if (sw.all.n > first) /* none yet: no array to offset */
				sw.all.n = first + merge_all(sw.all.v + first, sw.all.n - first,
								   dims, PC_ARRAY_SIZE(dims));
		}
	make_regions(out, &sw.all);
	free(sw.all.v);
	free(sw.run.v);
	sub_finish(&sw.sub[0]);
	sub_finish(&sw.sub[1]);
	sub_finish(&sw.part[0]);
	sub_finish(&sw.part[1]);
	sub_finish(&sw.one[0]);
	sub_finish(&sw.one[1]);
	sub_finish(&sw.cell[0]);
	sub_finish(&sw.cell[1]);
	holding_finish(&sw.by_span);
	holding_finish(&sw.by_port);
	holding_finish(&sw.by_across);
	for (int s = 0; s < 2; s++) {
		free(sw.differs[s]);
		ilists_free(sw.named[s], out->nifaces);
		ilists_free(sw.rule_classes[s], sw.pol[s]->nrules);
		ilist_release(&sw.across_every[s]);
		ilist_release(&sw.across_held[s]);
		free(sw.pos[s]);
	}
	return 0;
}

void pc_compare_finish(struct pc_compare *c)
{
	for (size_t i = 0; i < c->nregions; i++) {
		free(c->regions[i].ifaces);
		free(c->regions[i].srcs);
		free(c->regions[i].dsts);
	}
	free(c->regions);
	for (size_t i = 0; i < c->nifaces; i++)
		free(c->ifaces[i].except);
	free(c->ifaces);
	memset(c, 0, sizeof(*c));
}

/* ---- the textual change ------------------------------------------------------------ */

static int cmp_span(const void *pa, const void *pb)
{
	const struct pc_compare_span *a = pa, *b = pb;

	return a->lo < b->lo ? -1 : a->lo > b->lo ? 1 : 0;
}

/* The addresses of prefixes v[0..n) as the fewest spans, in order, into out (n entries). */
static size_t spans_of_prefixes(
		int family, const struct pc_prefix *v, size_t n, struct pc_compare_span *out)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		out[i].lo = pc_addr128_from(family, v[i].bytes);
		out[i].hi = span_end(family, out[i].lo, v[i].len);
	}
	if (n)
		qsort(out, n, sizeof(*out), cmp_span);
	for (size_t i = 0; i < n; i++) {
		/* Overlapping or adjacent: one span. */
		if (w && (out[w - 1].hi == pc_addr128_max(family) ||
					 out[i].lo <= out[w - 1].hi + 1)) {
			if (out[i].hi > out[w - 1].hi)
				out[w - 1].hi = out[i].hi;
			continue;
		}
		out[w++] = out[i];
	}
	return w;
}

/* Whether two lists of prefixes cover the same addresses, however they are written. */
static bool prefixes_equal(int family, const struct pc_prefix *a, size_t na,
		const struct pc_prefix *b, size_t nb)
{
	struct pc_compare_span *x = xcalloc(na + 1, sizeof(*x)), *y = xcalloc(nb + 1, sizeof(*y));
	size_t nx = spans_of_prefixes(family, a, na, x), ny = spans_of_prefixes(family, b, nb, y);
	bool same = nx == ny;

	for (size_t i = 0; same && i < nx; i++)
		same = x[i].lo == y[i].lo && x[i].hi == y[i].hi;
	free(x);
	free(y);
	return same;
}

static bool sets_equal(
		const struct pc_addrset *a, size_t npa, const struct pc_addrset *b, size_t npb)
{
	bool any_a = !npa || a->any, any_b = !npb || b->any;

	if (any_a || any_b)
		return any_a == any_b;
	return prefixes_equal(4, a->v4, a->nv4, b->v4, b->nv4) &&
	       prefixes_equal(6, a->v6, a->nv6, b->v6, b->nv6);
}

static bool ifaces_equal(const struct pc_ifaces *a, const struct pc_ifaces *b)
{
	if (a->n != b->n || a->negate != b->negate)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->names[i], b->names[i]))
			return false;
	return true;
}

/* Whether two rules resolve to the same thing, their comments and places aside. */
static bool rules_equal(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->direction != b->direction || a->action != b->action || a->flags != b->flags ||
			a->limit_rate != b->limit_rate || a->nmatches != b->nmatches ||
			cmp_name(a->limit_unit, b->limit_unit) ||
			!ifaces_equal(&a->interface, &b->interface) ||
			!sets_equal(&a->src, a->nfrom, &b->src, b->nfrom) ||
			!sets_equal(&a->dst, a->nto, &b->dst, b->nto))
		return false;
	for (size_t k = 0; k < a->nmatches; k++) {
		const struct pc_match *x = &a->matches[k], *y = &b->matches[k];
		if (x->proto != y->proto || x->lo != y->lo || x->hi != y->hi)
			return false;
	}
	return true;
}

static uint32_t mix(uint32_t h, uint32_t v)
{
	return (h ^ v) * 16777619u;
}

static uint32_t set_hash(uint32_t h, const struct pc_addrset *s, size_t npeers)
{
	if (!npeers || s->any)
		return mix(h, 1);
	/* The addresses covered, as prefixes_equal() compares them, not as written. */
	for (int family = 4; family <= 6; family += 2) {
		const struct pc_prefix *v = family == 4 ? s->v4 : s->v6;
		size_t n = family == 4 ? s->nv4 : s->nv6;
		struct pc_compare_span *x = xcalloc(n + 1, sizeof(*x));
		size_t nx = spans_of_prefixes(family, v, n, x);
		h = mix(h, (uint32_t)nx * 2 + (family == 6));
		for (size_t i = 0; i < nx; i++)
			h = mix(mix(h, (uint32_t)x[i].lo), (uint32_t)x[i].hi);
		free(x);
	}
	return h;
}

static uint32_t rule_hash(const struct pc_rule *r)
{
	uint32_t h = 2166136261u;

	h = mix(h, (uint32_t)r->direction * 7 + (uint32_t)r->action);
	for (size_t k = 0; k < r->nmatches; k++)
		h = mix(h, ((uint32_t)r->matches[k].proto << 24) ^
						((uint32_t)r->matches[k].lo << 8) ^
						r->matches[k].hi);
	h = set_hash(h, &r->src, r->nfrom);
	return set_hash(h, &r->dst, r->nto);
}

struct keyed {
	uint32_t hash;
	size_t index;
};

static int cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;

	CMP(a->hash, b->hash);
	CMP(a->index, b->index);
	return 0;
}

/* The first of the n sorted by cmp_keyed() whose hash is at least `hash`. */
static size_t keyed_first(const struct keyed *k, size_t n, uint32_t hash)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void push(size_t **v, size_t *n, size_t x)
{
	*v = pc_grow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = x;
}

/*
 * Pairs each rule of new with the first unpaired equal rule of old
 * (pair[j], or SIZE_MAX), through the old rules sorted by hash.
 */
static void pair_rules(const struct pc_policy *old, const struct pc_policy *new, size_t *pair)
{
	struct keyed *k = xcalloc(old->nrules + 1, sizeof(*k));
	bool *used = xcalloc(old->nrules + 1, sizeof(*used));

	for (size_t i = 0; i < old->nrules; i++)
		k[i] = (struct keyed){rule_hash(&old->rules[i]), i};
	qsort(k, old->nrules, sizeof(*k), cmp_keyed);
	for (size_t j = 0; j < new->nrules; j++) {
		uint32_t hash = rule_hash(&new->rules[j]);
		pair[j] = SIZE_MAX;
		for (size_t lo = keyed_first(k, old->nrules, hash);
				lo < old->nrules && k[lo].hash == hash; lo++)
			if (!used[k[lo].index] &&
					rules_equal(&old->rules[k[lo].index], &new->rules[j])) {
				used[k[lo].index] = true;
				pair[j] = k[lo].index;
				break;
			}
	}
	free(k);
	free(used);
}

/*
 * The paired rules that keep their order (a longest increasing run of old
 * indexes, in new's order) get keep[j]; the others moved.
 */
static void keep_order(const size_t *pair, size_t n, bool *keep)
{
	size_t *tail = xcalloc(n + 1, sizeof(*tail)), *prev = xcalloc(n + 1, sizeof(*prev));
	size_t len = 0;

	for (size_t j = 0; j < n; j++) {
		if (pair[j] == SIZE_MAX)
			continue;
		size_t lo = 0, hi = len;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (pair[tail[mid]] < pair[j])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[j] = lo ? tail[lo - 1] : SIZE_MAX;
		tail[lo] = j;
		if (lo == len)
			len++;
	}
	for (size_t j = len ? tail[len - 1] : SIZE_MAX; j != SIZE_MAX; j = prev[j])
		keep[j] = true;
	free(tail);
	free(prev);
}

/* A policy's networks by name: their indexes, sorted by name (names are unique). */
struct netnames {
	const struct pc_policy *p;
	size_t *v;
};

static const struct pc_policy *netnames_sorting; /* qsort() passes no argument */

static int cmp_named(const void *pa, const void *pb)
{
	const struct pc_network *n = netnames_sorting->networks;

	return strcmp(n[*(const size_t *)pa].name, n[*(const size_t *)pb].name);
}

static void netnames_init(struct netnames *x, const struct pc_policy *p)
{
	x->p = p;
	x->v = xcalloc(p->nnetworks + 1, sizeof(*x->v));
	for (size_t i = 0; i < p->nnetworks; i++)
		x->v[i] = i;
	netnames_sorting = p;
	qsort(x->v, p->nnetworks, sizeof(*x->v), cmp_named);
	netnames_sorting = NULL;
}

/* The network of that name, or NULL. */
static const struct pc_network *network_named(const struct netnames *x, const char *name)
{
	size_t lo = 0, hi = x->p->nnetworks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(x->p->networks[x->v[mid]].name, name);
		if (!d)
			return &x->p->networks[x->v[mid]];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A network's members as written, one at a time: its run's items, then the others. */
struct written {
	const struct pc_network *net;
	struct pc_yrun_it it;
	size_t i;
};

static void written_begin(struct written *w, const struct pc_network *net)
{
	w->net = net;
	w->i = 0;
	if (net->run)
		pc_yrun_begin(&w->it, net->run);
}

static bool written_next(struct written *w, const char **s, size_t *len)
{
	struct pc_yitem x;

	if (w->net->run && pc_yrun_next(&w->it, &x)) {
		*s = x.s;
		*len = x.len;
		return true;
	}
	if (w->i == w->net->nmembers)
		return false;
	*s = w->net->members[w->i].text;
	*len = strlen(*s);
	w->i++;
	return true;
}

/* Whether two networks are written alike: the same members, in the same order. */
static bool written_same(const struct pc_network *a, const struct pc_network *b)
{
	struct written x, y;
	const char *s, *t;
	size_t m, n;

	written_begin(&x, a);
	written_begin(&y, b);
	while (written_next(&x, &s, &m))
		if (!written_next(&y, &t, &n) || m != n || memcmp(s, t, m))
			return false;
	return !written_next(&y, &t, &n);
}

static void compare_networks(
		const struct pc_policy *old, const struct pc_policy *new, struct pc_compare_text *t)
{
	bool *renamed = xcalloc(new->nnetworks + 1, sizeof(*renamed));
	bool *fresh = xcalloc(new->nnetworks + 1, sizeof(*fresh)); /* a name old lacks */
	struct keyed *by_set = xcalloc(new->nnetworks + 1, sizeof(*by_set));
	struct netnames in_old, in_new;
	size_t nfresh = 0;

	netnames_init(&in_old, old);
	netnames_init(&in_new, new);
	for (size_t i = 0; i < new->nnetworks; i++) {
		const struct pc_network *o = network_named(&in_old, new->networks[i].name);
		const struct pc_addrset *y = &new->networks[i].set;
		if (!o) {
			fresh[i] = true;
			by_set[nfresh++] = (struct keyed){set_hash(0, y, 1), i};
		} else if (!sets_equal(&o->set, 1, y, 1)) {
			push(&t->net_changed, &t->nnet_changed, i);
		} else if (!written_same(o, &new->networks[i])) {
			push(&t->net_rewritten, &t->nnet_rewritten, i);
		}
	}
	/* A new name holding what an old one gone held: the first such, in the new order. */
	qsort(by_set, nfresh, sizeof(*by_set), cmp_keyed);
	for (size_t i = 0; i < old->nnetworks; i++) {
		const struct pc_network *o = &old->networks[i];
		if (network_named(&in_new, o->name))
			continue;
		uint32_t hash = set_hash(0, &o->set, 1);
		size_t k = new->nnetworks;
		for (size_t lo = keyed_first(by_set, nfresh, hash);
				lo < nfresh && by_set[lo].hash == hash; lo++)
			if (!renamed[by_set[lo].index] &&
					sets_equal(&o->set, 1, &new->networks[by_set[lo].index].set,
							1)) {
				k = by_set[lo].index;
				break;
			}
		if (k == new->nnetworks) {
			push(&t->net_removed, &t->nnet_removed, i);
			continue;
		}
		renamed[k] = true;
		t->net_renamed = pc_grow(t->net_renamed, t->nnet_renamed, sizeof(*t->net_renamed));
		t->net_renamed[t->nnet_renamed][0] = i;
		t->net_renamed[t->nnet_renamed++][1] = k;
	}
	for (size_t i = 0; i < new->nnetworks; i++)
		if (!renamed[i] && fresh[i])
			push(&t->net_added, &t->nnet_added, i);
	free(in_old.v);
	free(in_new.v);
	free(by_set);
	free(fresh);
	free(renamed);
}

/*
 * A new rule without an equal old one, where an old rule of the same
 * direction without an equal new one stands between the same rules that
 * kept their place, changed: the two are paired (pair[j] is then the old
 * index plus old->nrules, so that the caller tells them apart).
 */
static void changed_rules(const struct pc_policy *old, const struct pc_policy *new, size_t *pair,
		const bool *keep, bool *paired, struct pc_compare_text *t)
{
	size_t *next = xcalloc(new->nrules + 1, sizeof(*next)), lo = 0;

	next[new->nrules] = old->nrules;
	for (size_t j = new->nrules; j-- > 0;)
		next[j] = keep[j] ? pair[j] : next[j + 1];
	for (size_t j = 0; j < new->nrules; j++) {
		if (keep[j]) {
			lo = pair[j] + 1;
			continue;
		}
		if (pair[j] != SIZE_MAX)
			continue;
		for (size_t i = lo; i < next[j]; i++) {
			if (paired[i] || old->rules[i].direction != new->rules[j].direction)
				continue;
			paired[i] = true;
			pair[j] = i + old->nrules;
			t->changed = pc_grow(t->changed, t->nchanged, sizeof(*t->changed));
			t->changed[t->nchanged][0] = i;
			t->changed[t->nchanged++][1] = j;
			lo = i + 1;
			break;
		}
	}
	free(next);
}

void pc_compare_text(
		const struct pc_policy *old, const struct pc_policy *new, struct pc_compare_text *t)
{
	size_t *pair = xcalloc(new->nrules + 1, sizeof(*pair));
	bool *keep = xcalloc(new->nrules + 1, sizeof(*keep));
	bool *paired = xcalloc(old->nrules + 1, sizeof(*paired));
	const struct pc_defaults *a = &old->defaults, *b = &new->defaults;

	memset(t, 0, sizeof(*t));
	pair_rules(old, new, pair);
	keep_order(pair, new->nrules, keep);
	for (size_t j = 0; j < new->nrules; j++)
		if (pair[j] != SIZE_MAX)
			paired[pair[j]] = true;
	changed_rules(old, new, pair, keep, paired, t);
	for (size_t j = 0; j < new->nrules; j++) {
		if (pair[j] == SIZE_MAX) {
			push(&t->added, &t->nadded, j);
			continue;
		}
		if (pair[j] >= old->nrules)
			continue; /* changed */
		paired[pair[j]] = true;
		if (!keep[j])
			push(&t->moved, &t->nmoved, j);
		if (cmp_name(old->rules[pair[j]].comment, new->rules[j].comment))
			push(&t->comments, &t->ncomments, j);
	}
	for (size_t i = 0; i < old->nrules; i++)
		if (!paired[i])
			push(&t->removed, &t->nremoved, i);
	for (size_t j = 0; j < new->nrules; j++)
		if (pair[j] != SIZE_MAX && pair[j] >= old->nrules)
			pair[j] -= old->nrules;
	compare_networks(old, new, t);
	t->defaults = !defaults_same(a, b);
	free(pair);
	free(keep);
	free(paired);
}

void pc_compare_text_finish(struct pc_compare_text *t)
{
	free(t->added);
	free(t->removed);
	free(t->moved);
	free(t->comments);
	free(t->net_added);
	free(t->net_removed);
	free(t->net_changed);
	free(t->net_rewritten);
	free(t->net_renamed);
	free(t->changed);
	memset(t, 0, sizeof(*t));
}
