/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resolution: service names to ports through the registry, network names to
 * address prefixes, and the checks that need both (shadowed rules, sensitive
 * services open to anywhere).  Every diagnostic points at the policy.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

struct resolver {
	struct pc_policy *p;
	struct pc_registry *reg;
	struct pc_diags *diags;
	uint32_t *networks; /* open addressing on network names: index + 1, 0 empty */
	size_t nslots; /* a power of two, more than twice the networks */
	struct match_slot *mslots; /* the current rule's matches by (protocol, ports) */
	size_t nmslots; /* a power of two, more than twice its matches */
	uint32_t mgen; /* the current rule's mark: slots of other rules are empty */
	struct hint_entry *hints; /* the hints given to unknown names, by kind and name */
	size_t nhints, hcap;
	struct peer_union *unions; /* rules' address sets by their list of peers */
	size_t nunions, ucap;
	size_t overlaps; /* network-overlap warnings given so far */
	const char *group; /* the group a rule names, while its members are resolved */
	const struct pc_loc *member; /* then: where the member being resolved is written */
	struct pc_about *about; /* what each diagnostic is about, by index; NULL: nothing */
	size_t nabout;
	uint32_t *defs; /* open addressing on definition names: index + 1, 0 empty */
	size_t ndslots; /* a power of two, more than twice the definitions */
	size_t expanded; /* group members resolved so far, the whole policy together */
	size_t copied; /* addresses copied from networks into sets (PC_NETWORK_MAX_COPIED) */
	bool *erred; /* per rule: its own resolution gave an error (NULL: none did) */
	size_t where_doc; /* the policy file the last address was written in (set_where) */
	const struct pc_network *netstart; /* the network whose resolution the others are in */
	size_t netdepth; /* networks being resolved, one in another */
};

/* A union of peers naming networks, resolved once and shared by the rules that write it. */
struct peer_union {
	const struct pc_peer *peers; /* NULL: empty slot */
	size_t n;
	uint32_t hash;
	struct pc_addrset set;
};

/* The hint for an unknown name, once per distinct name (a suggestion search is costly). */
struct hint_entry {
	const char *name; /* NULL: empty slot */
	const char *hint;
	int kind;
};

struct match_slot {
	uint32_t gen, index; /* a match of the rule marked `gen`: its index */
};

static PC_PRINTF(5, 6) struct pc_diag *rdiag(struct resolver *r, enum pc_severity sev,
		const char *code, const struct pc_loc *at, const char *fmt, ...)
{
	va_list ap;
	struct pc_diag *d;

	va_start(ap, fmt);
	d = pc_diag_addv(r->diags, sev, code, at->file, at->line, at->col, fmt, ap);
	va_end(ap);
	return d;
}

static void *ralloc(struct resolver *r, size_t n)
{
	return pc_arena_alloc(&r->p->state->arena, n ? n : 1);
}

enum {
	HINT_SERVICE,
	HINT_NETWORK
};

static struct hint_entry *hint_slot(struct hint_entry *v, size_t cap, int kind, const char *name)
{
	size_t mask = cap - 1, i = (pc_name_hash(name) + (size_t)kind) & mask;

	while (v[i].name && (v[i].kind != kind || strcmp(v[i].name, name)))
		i = (i + 1) & mask;
	return &v[i];
}

/* The cached hint for an unknown name: its slot, with `name` NULL when there is none yet. */
static struct hint_entry *hint_find(struct resolver *r, int kind, const char *name)
{
	if (2 * (r->nhints + 1) > r->hcap) {
		size_t cap = r->hcap ? 2 * r->hcap : 64;
		struct hint_entry *v = xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < r->hcap; i++)
			if (r->hints[i].name)
				*hint_slot(v, cap, r->hints[i].kind, r->hints[i].name) =
						r->hints[i];
		free(r->hints);
		r->hints = v;
		r->hcap = cap;
	}
	return hint_slot(r->hints, r->hcap, kind, name);
}

static void hint_keep(struct resolver *r, struct hint_entry *e, int kind, const char *name,
		const char *hint)
{
	e->name = name;
	e->kind = kind;
	e->hint = hint;
	r->nhints++;
}

/* ---- addresses -------------------------------------------------------- */

static bool looks_like_address(const char *s)
{
	return strchr(s, ':') || (s[0] >= '0' && s[0] <= '9');
}

bool pc_prefix_addr(char buf[PC_ADDR_TEXT_MAX], const struct pc_prefix *x)
{
	if (x->family == 4) {
		/* Dotted quad by hand: renderings print one per address of large networks. */
		char *w = buf;
		for (int i = 0; i < 4; i++) {
			unsigned b = x->bytes[i];
			if (i)
				*w++ = '.';
			if (b >= 100)
				*w++ = (char)('0' + b / 100);
			if (b >= 10)
				*w++ = (char)('0' + b / 10 % 10);
			*w++ = (char)('0' + b % 10);
		}
		*w = '\0';
	} else {
		inet_ntop(AF_INET6, x->bytes, buf, PC_ADDR_TEXT_MAX);
	}
	return x->len == (x->family == 4 ? 32 : 128);
}

void pc_prefix_text(char buf[PC_ADDR_TEXT_MAX + 4], const struct pc_prefix *x)
{
	if (!pc_prefix_addr(buf, x))
		snprintf(buf + strlen(buf), 5, "/%u", x->len);
}

/* Diagnostics always show the length: "192.0.2.1/32". */
static void format_prefix(char *buf, size_t n, const struct pc_prefix *x)
{
	char a[PC_ADDR_TEXT_MAX];

	pc_prefix_addr(a, x);
	snprintf(buf, n, "%s/%u", a, x->len);
}

/*
 * A prefix's `where` and `col` for a peer written in the policy: its file's
 * index and its line, or in a file with a value past the column `col` holds
 * (pc_ydoc.wide), its offset; or where that does not fit, its location kept by
 * index (`loc` must then outlive the policy).  Returns the file's index, or
 * SIZE_MAX.
 */
static size_t doc_index(struct resolver *r, const char *file)
{
	struct pc_policy_state *st = r->p->state;
	size_t d = r->where_doc;

	if (d >= st->ndocs || st->docs[d]->file != file)
		for (d = 0; d < st->ndocs && st->docs[d]->file != file; d++)
			;
	if (d == st->ndocs || PC_WHERE_DOCS + d >= (PC_WHERE_LINE >> PC_WHERE_FILE_SHIFT))
		return SIZE_MAX;
	r->where_doc = d;
	return d;
}

static void set_where_offset(struct pc_prefix *x, size_t d, size_t offset)
{
	x->where = PC_WHERE_LINE | (uint32_t)(PC_WHERE_DOCS + d) << PC_WHERE_FILE_SHIFT |
		   (uint32_t)offset;
	x->col = 0;
}

/* The line and column, in a file that is not wide, when they fit; false when they do not. */
static bool set_where_line(struct pc_prefix *x, size_t d, unsigned line, unsigned col)
{
	if (line > PC_WHERE_LINE_MASK || col > UINT16_MAX)
		return false;
	x->where = PC_WHERE_LINE | (uint32_t)(PC_WHERE_DOCS + d) << PC_WHERE_FILE_SHIFT | line;
	x->col = (uint16_t)col;
	return true;
}

static void set_where(struct resolver *r, struct pc_prefix *x, const struct pc_loc *loc)
{
	struct pc_policy_state *st = r->p->state;
	size_t d = loc->file ? doc_index(r, loc->file) : SIZE_MAX;

	if (d != SIZE_MAX && st->docs[d]->wide) {
		set_where_offset(x, d, pc_ydoc_offset(st->docs[d], loc->line, loc->col));
		return;
	}
	if (d != SIZE_MAX && set_where_line(x, d, loc->line, loc->col))
		return;
	if ((st->nwheres & (st->nwheres - 1)) == 0)
		st->wheres = xreallocarray(
				st->wheres, st->nwheres ? 2 * st->nwheres : 1, sizeof(*st->wheres));
	st->wheres[st->nwheres++] = loc;
	x->where = (uint32_t)st->nwheres;
}

/* Parses an address or prefix literal, strictly (pc_prefix_parse: no 010.0.0.1, no 10.1). */
static int parse_prefix(struct resolver *r, const struct pc_peer *peer, struct pc_prefix *out)
{
	const char *s = peer->text;
	struct pc_diag *d;

	switch (pc_prefix_parse(s, strlen(s), out)) {
	case PC_ADDR_OK:
		return 0;
	case PC_ADDR_HOST_BITS: {
		/* Said, and cleared (nft and iptables clear them silently). */
		char norm[64];
		format_prefix(norm, sizeof(norm), out);
		d = rdiag(r, PC_SEV_WARNING, "address-host-bits", &peer->loc,
				"'%s' has host bits set; it means %s", s, norm);
		pc_diag_hint(d, "write %s", norm);
		return 0;
	}
	case PC_ADDR_ZONE:
		rdiag(r, PC_SEV_ERROR, "address-syntax", &peer->loc,
				"'%s' is not an address: zone indexes (%%eth0) are not allowed", s);
		return -1;
	case PC_ADDR_MAPPED:
		d = rdiag(r, PC_SEV_ERROR, "address-mapped", &peer->loc,
				"'%s' is an IPv4-mapped IPv6 address", s);
		pc_diag_hint(d, "write the IPv4 address itself: %u.%u.%u.%u", out->bytes[12],
				out->bytes[13], out->bytes[14], out->bytes[15]);
		return -1;
	case PC_ADDR_PREFIX:
		rdiag(r, PC_SEV_ERROR, "address-prefix", &peer->loc,
				"'%s': the prefix length must be 0 to %u for IPv%u", s,
				out->family == 4 ? 32 : 128, out->family);
		return -1;
	case PC_ADDR_SYNTAX:
		break;
	}
	d = rdiag(r, PC_SEV_ERROR, "address-syntax", &peer->loc,
			"'%s' is not an IPv4 or IPv6 address", s);
	pc_diag_hint(d, "IPv4 in dotted decimal without leading zeros (192.0.2.1), IPv6 as in "
			"RFC 4291 (2001:db8::1), each with an optional /prefix");
	return -1;
}

/* Bytes 8k to 8k+7 of an address as a number: comparing two compares the bytes in order. */
static uint64_t addr_word(const struct pc_prefix *x, int k)
{
	uint64_t v;

	memcpy(&v, x->bytes + 8 * k, sizeof(v));
	return be64toh(v);
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct pc_prefix *x = a, *y = b;

	for (int k = 0; k < 2; k++) {
		uint64_t u = addr_word(x, k), v = addr_word(y, k);
		if (u != v)
			return u < v ? -1 : 1;
	}
	return (int)x->len - (int)y->len;
}

static bool prefix_covers(const struct pc_prefix *outer, const struct pc_prefix *inner)
{
	unsigned len = outer->len;

	if (outer->family != inner->family || len > inner->len)
		return false;
	/* The first `len` bits, in the two words. */
	for (int k = 0; k < 2 && len > 64u * (unsigned)k; k++) {
		unsigned bits = len - 64u * (unsigned)k;
		uint64_t mask = bits >= 64 ? ~(uint64_t)0 : ~(~(uint64_t)0 >> bits);
		if ((addr_word(outer, k) ^ addr_word(inner, k)) & mask)
			return false;
	}
	return true;
}

/*
 * The order a set's prefixes are sorted in: by address and length, then where
 * they are written (files in the order read, then line and column), so that
 * of two equal ones the one written first is kept and the other named.
 */
static int cmp_prefix_at(const struct pc_prefix *x, const struct pc_prefix *y)
{
	int c = cmp_prefix(x, y);

	if (c)
		return c;
	if (x->where != y->where)
		return x->where < y->where ? -1 : 1;
	return (int)x->col - (int)y->col;
}

static void swap_prefix(struct pc_prefix *a, struct pc_prefix *b)
{
	struct pc_prefix t = *a;

	*a = *b;
	*b = t;
}

static void sift_prefix(struct pc_prefix *v, size_t i, size_t n)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && cmp_prefix_at(&v[c], &v[c + 1]) < 0)
			c++;
		if (cmp_prefix_at(&v[i], &v[c]) >= 0)
			return;
		swap_prefix(&v[i], &v[c]);
	}
}

/*
 * Sorts v in place (introsort: quicksort, heapsort past a depth, insertion
 * sort for short runs).  qsort() would take a copy of the array for its merge
 * sort: 4.8 MB more at the peak for 200 000 addresses listed out of order.
 */
static void sort_prefixes(struct pc_prefix *v, size_t n, unsigned depth)
{
	while (n > 16) {
		if (depth-- == 0) {
			for (size_t i = n / 2; i-- > 0;)
				sift_prefix(v, i, n);
			for (size_t i = n; i-- > 1;) {
				swap_prefix(&v[0], &v[i]);
				sift_prefix(v, 0, i);
			}
			return;
		}
		size_t m = n / 2;
		if (cmp_prefix_at(&v[m], &v[0]) < 0)
			swap_prefix(&v[m], &v[0]);
		if (cmp_prefix_at(&v[n - 1], &v[0]) < 0)
			swap_prefix(&v[n - 1], &v[0]);
		if (cmp_prefix_at(&v[n - 1], &v[m]) < 0)
			swap_prefix(&v[n - 1], &v[m]);
		/* Hoare's partition around the median of three: [0, j] then (j, n). */
		struct pc_prefix pivot = v[m];
		size_t i = 0, j = n - 1;
		for (;;) {
			while (cmp_prefix_at(&v[i], &pivot) < 0)
				i++;
			while (cmp_prefix_at(&pivot, &v[j]) < 0)
				j--;
			if (i >= j)
				break;
			swap_prefix(&v[i++], &v[j--]);
		}
		/* The shorter side recursively, the longer in this loop. */
		if (j + 1 < n - j - 1) {
			sort_prefixes(v, j + 1, depth);
			v += j + 1;
			n -= j + 1;
		} else {
			sort_prefixes(v + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && cmp_prefix_at(&v[k], &v[k - 1]) < 0; k--)
			swap_prefix(&v[k], &v[k - 1]);
}

static void sort_all(struct pc_prefix *v, size_t n)
{
	unsigned depth = 0;

	for (size_t k = n; k; k >>= 1)
		depth += 2;
	sort_prefixes(v, n, depth);
}

/*
 * Sorts v, sorted up to `sorted`, when few prefixes are out of order (a list
 * kept in order, an address added at its start, middle or end): those few are
 * taken aside (at most n / 32), the rest closed up in order, and the two
 * merged from the end, in linear time.  Past that many it gives up and sorts
 * the whole array.
 */
static void sort_nearly(struct pc_prefix *v, size_t n, size_t sorted)
{
	size_t cap = n / 32 > 16 ? n / 32 : 16, s = 0, m = sorted - 1;
	struct pc_prefix *side = xcalloc(cap, sizeof(*side));

	/* v[0, m) is kept; v[m] is out of order with v[m + 1]. */
	for (size_t i = m; i < n; i++) {
		if ((m == 0 || cmp_prefix_at(&v[m - 1], &v[i]) <= 0) &&
				(i + 1 == n || cmp_prefix_at(&v[i], &v[i + 1]) <= 0)) {
			v[m++] = v[i];
			continue;
		}
		if (s == cap) {
			memcpy(v + m, side, s * sizeof(*side)); /* into v[m, i) */
			free(side);
			sort_all(v, n);
			return;
		}
		side[s++] = v[i];
	}
	sort_all(side, s);
	for (size_t w = n; s > 0; w--) {
		if (m > 0 && cmp_prefix_at(&v[m - 1], &side[s - 1]) > 0)
			v[w - 1] = v[--m];
		else
			v[w - 1] = side[--s];
	}
	free(side);
}

/* Sorts, drops duplicates and prefixes inside others (with a warning naming both). */
static void normalise(struct resolver *r, struct pc_prefix *v, size_t *n, const char *what)
{
	size_t w = 0, sorted = 1;

	while (sorted < *n && cmp_prefix_at(&v[sorted - 1], &v[sorted]) <= 0)
		sorted++;
	/* Lists are often written in order: then no sort, or a merge of the few out of it. */
	if (sorted < *n)
		sort_nearly(v, *n, sorted);
	for (size_t i = 0; i < *n; i++) {
		if (w && prefix_covers(&v[w - 1], &v[i])) {
			char a[64], b[64];
			format_prefix(a, sizeof(a), &v[i]);
			format_prefix(b, sizeof(b), &v[w - 1]);
			struct pc_loc at, in;
			if (pc_policy_prefix_loc(r->p, &v[i], &at) &&
					pc_policy_prefix_loc(r->p, &v[w - 1], &in) &&
					(at.file != in.file || at.line != in.line ||
							at.col != in.col)) {
				struct pc_diag *d = rdiag(r, PC_SEV_WARNING, "network-overlap", &at,
						"%s is already inside %s (%s:%u:%u) in %s", a, b,
						in.file, in.line, in.col, what);
				pc_diag_hint(d, "remove the narrower entry");
				r->overlaps++;
			}
			continue;
		}
		v[w++] = v[i];
	}
	*n = w;
}

/*
 * The next prefix of a set being built, to be written in place (every member
 * of a network, of a rule's peers, goes in through here): the arrays grow on
 * the heap, doubling at each power of two, until set_done() sorts them and
 * gives them their final size.
 */
static struct pc_prefix *grow_prefix(struct pc_prefix **v, size_t *n, size_t *cap)
{
	size_t at = *n * sizeof(**v), room;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1;
		*v = xreallocarray(*v, *cap, sizeof(**v));
		if (at >= PC_HUGE_MIN)
			pc_pages_huge((char *)*v + at, PC_HUGE_PAGE * 2);
	}
	room = *cap * sizeof(**v);
	/*
	 * Its first PC_HUGE_MIN bytes are made present a step at a time, not a
	 * fault a page; past them, the pages it is about to be written into are
	 * huge ones (one fault in 2 MiB), asked for a huge page ahead: only
	 * large arrays take them, and only where they are written.
	 */
	if (at >= PC_POPULATE_STEP && at < PC_HUGE_MIN)
		pc_pages_ahead(*v, at, at + sizeof(**v), room < PC_HUGE_MIN ? room : PC_HUGE_MIN);
	else if (at >= PC_HUGE_MIN && at % PC_HUGE_PAGE < sizeof(**v))
		pc_pages_huge((char *)*v + at,
				room - at < 2 * PC_HUGE_PAGE ? room - at : 2 * PC_HUGE_PAGE);
	return &(*v)[(*n)++];
}

/* The room of an array of n prefixes grown by next_prefix(): the power of two from n up. */
static size_t room_of(size_t n)
{
	if ((n & (n - 1)) == 0)
		return n;
	return (size_t)2 << (63 - __builtin_clzll((unsigned long long)n));
}

static struct pc_prefix *next_prefix(struct pc_addrset *set, unsigned family)
{
	struct pc_prefix **v = family == 4 ? &set->v4 : &set->v6;
	size_t *n = family == 4 ? &set->nv4 : &set->nv6;
	size_t cap = room_of(*n);

	return grow_prefix(v, n, &cap);
}

/* Adds a prefix to a set being built. */
static void add_prefix(struct pc_addrset *set, const struct pc_prefix *x)
{
	*next_prefix(set, x->family) = *x;
}

/*
 * One array of a set made final: a small one moves into the policy's arena,
 * a large one is cut to its size where it is (no copy) and kept by the
 * policy, so that no prefix is ever held twice.
 */
static struct pc_prefix *array_done(struct resolver *r, struct pc_prefix *v, size_t n)
{
	struct pc_policy_state *st = r->p->state;

	if (n == 0) {
		free(v);
		return NULL;
	}
	if (n * sizeof(*v) <= PC_POLICY_BLOCK_MIN) {
		struct pc_prefix *a = ralloc(r, n * sizeof(*v));
		memcpy(a, v, n * sizeof(*v));
		free(v);
		return a;
	}
	st->blocks = pc_grow(st->blocks, st->nblocks, sizeof(*st->blocks));
	st->blocks[st->nblocks++] = v = xreallocarray(v, n, sizeof(*v));
	return v;
}

/* A set's prefixes sorted, merged (with the warnings) and given their final size. */
static void set_done(struct resolver *r, struct pc_addrset *set, const char *what)
{
	normalise(r, set->v4, &set->nv4, what);
	normalise(r, set->v6, &set->nv6, what);
	set->v4 = array_done(r, set->v4, set->nv4);
	set->v6 = array_done(r, set->v6, set->nv6);
	set->any = set->nv4 && set->v4[0].len == 0 && set->nv6 && set->v6[0].len == 0;
}

static void add_set(struct pc_addrset *to, const struct pc_addrset *from)
{
	for (size_t i = 0; i < from->nv4; i++)
		add_prefix(to, &from->v4[i]);
	for (size_t i = 0; i < from->nv6; i++)
		add_prefix(to, &from->v6[i]);
}

/* The slot of `name` in the network index: where it is, or the empty slot it would take. */
static size_t network_slot(const struct resolver *r, const char *name)
{
	size_t mask = r->nslots - 1, i = pc_name_hash(name) & mask;

	while (r->networks[i] && strcmp(r->p->networks[r->networks[i] - 1].name, name))
		i = (i + 1) & mask;
	return i;
}

static void index_networks(struct resolver *r)
{
	r->nslots = 16;
	while (r->nslots <= 2 * r->p->nnetworks)
		r->nslots *= 2;
	r->networks = ralloc(r, r->nslots * sizeof(*r->networks));
	memset(r->networks, 0, r->nslots * sizeof(*r->networks));
	/* Names are unique: the parser refuses a second definition. */
	for (size_t i = 0; i < r->p->nnetworks; i++) {
		size_t k = network_slot(r, r->p->networks[i].name);
		if (!r->networks[k])
			r->networks[k] = (uint32_t)i + 1;
	}
}

static struct pc_network *find_network(struct resolver *r, const char *name)
{
	uint32_t k = r->networks[network_slot(r, name)];

	return k ? &r->p->networks[k - 1] : NULL;
}

static void unknown_network(struct resolver *r, const struct pc_peer *peer)
{
	bool want = pc_diags_want_hint(r->diags);
	struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "network-unknown", &peer->loc,
			"no network is named '%s'", peer->text);
	const char *best = NULL;
	unsigned bestd = 3;

	if (!d || !want)
		return; /* never shown: no search over the networks */
	struct hint_entry *e = hint_find(r, HINT_NETWORK, peer->text);
	if (e->name) {
		if (e->hint)
			pc_diag_hint(d, "did you mean '%s'?", e->hint);
		else if (strchr(peer->text, '.'))
			pc_diag_hint(d, "addresses must be literal: portcullis never resolves host "
					"names");
		else
			pc_diag_hint(d, "define it under `networks:`");
		return;
	}
	for (size_t i = 0; i < r->p->nnetworks; i++) {
		unsigned dist = pc_edit_distance(peer->text, r->p->networks[i].name, 2);
		if (dist < bestd) {
			bestd = dist;
			best = r->p->networks[i].name;
		}
	}
	hint_keep(r, e, HINT_NETWORK, peer->text, best);
	if (best)
		pc_diag_hint(d, "did you mean '%s'?", best);
	else if (strchr(peer->text, '.'))
		pc_diag_hint(d, "addresses must be literal: portcullis never resolves host names");
	else
		pc_diag_hint(d, "define it under `networks:`");
}

static void resolve_network(struct resolver *r, struct pc_network *net);

/* A list of members (addresses and group names) into a set. */
static void add_peers(struct resolver *r, const struct pc_peer *peers, size_t n,
		struct pc_addrset *set, const char *what);

static void resolve_peers(struct resolver *r, const struct pc_peer *peers, size_t n,
		struct pc_addrset *set, const char *what)
{
	add_peers(r, peers, n, set, what);
	set_done(r, set, what);
}

/* The members into a set still being built (its arrays on the heap). */
static void add_peers(struct resolver *r, const struct pc_peer *peers, size_t n,
		struct pc_addrset *set, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		const struct pc_peer *m = &peers[i];
		struct pc_prefix x;

		if (looks_like_address(m->text)) {
			if (parse_prefix(r, m, &x) == 0) {
				set_where(r, &x, &m->loc);
				add_prefix(set, &x);
			}
			continue;
		}
		struct pc_network *net = find_network(r, m->text);
		if (!net) {
			unknown_network(r, m);
			continue;
		}
		if (net->state == 1) {
			rdiag(r, PC_SEV_ERROR, "network-cycle", &m->loc,
					"network '%s' includes itself through '%s'", net->name,
					what);
			continue;
		}
		resolve_network(r, net);
		size_t more = net->set.nv4 + net->set.nv6;
		if (r->copied <= PC_NETWORK_MAX_COPIED &&
				more > PC_NETWORK_MAX_COPIED - r->copied) {
			struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "network-limit", &m->loc,
					"'%s' would copy %zu more addresses into '%s': the "
					"networks named by other networks and by rules among other "
					"peers hold at most %d addresses in all",
					net->name, more, what, PC_NETWORK_MAX_COPIED);
			pc_diag_hint(d, "name a large network alone in a rule (its set is "
					"shared, not copied), or write the addresses into one "
					"network or list file");
		}
		r->copied += more;
		if (r->copied > PC_NETWORK_MAX_COPIED)
			continue; /* said once; nothing more is copied */
		add_set(set, &net->set);
	}
}

/* A run of the YAML (only addresses: yaml.h), as add_peers() would read its items. */
static void add_run(struct resolver *r, const struct pc_yrun *run, struct pc_addrset *set,
		const char *what)
{
	struct pc_policy_state *st = r->p->state;
	size_t d = doc_index(r, run->file);
	struct pc_yrun_it it;
	struct pc_yitem x;
	char text[PC_YAML_RUN_ITEM + 1];

	bool wide = d != SIZE_MAX && st->docs[d]->wide;
	/* With release_texts, the items' pages are given back as it goes, a step at a time. */
	struct pc_ydoc *doc = r->p->release_texts && d != SIZE_MAX ? st->docs[d] : NULL;
	const char *given = run->text;

	pc_yrun_begin(&it, run);
	while (pc_yrun_next(&it, &x)) {
		if (doc && (size_t)(x.s - given) >= PC_RELEASE_STEP)
			given = pol_text_release(
					doc, run, given, x.s - x.quoted, x.s - x.quoted, x.line);
		struct pc_prefix *p, y;
		if (x.quad) {
			/* As pc_prefix_parse() reads it (PC_ADDR_OK, a /32), written where it is
			 * kept. */
			p = next_prefix(set, 4);
			memset(p, 0, sizeof(*p));
			p->family = 4;
			p->len = 32;
			memcpy(p->bytes, x.v4, sizeof(x.v4));
		} else {
			/* What is not an address as written goes where add_peers() sends it, to be
			 * said. */
			if (pc_prefix_parse(x.s, x.len, &y) != PC_ADDR_OK) {
				struct pc_peer peer = {text, {run->file, x.line, x.col}};
				memcpy(text, x.s, x.len);
				text[x.len] = '\0';
				if (parse_prefix(r, &peer, &y) < 0)
					continue;
			}
			p = next_prefix(set, y.family);
			*p = y;
		}
		if (wide) {
			set_where_offset(p, d, (size_t)(x.s - x.quoted - st->docs[d]->text));
		} else if (d == SIZE_MAX || !set_where_line(p, d, x.line, x.col)) {
			struct pc_loc *loc = ralloc(r, sizeof(*loc));
			*loc = (struct pc_loc){run->file, x.line, x.col};
			set_where(r, p, loc);
		}
	}
	if (doc && (size_t)(run->text + run->len - given) >= PC_RELEASE_STEP)
		pol_text_release(doc, run, given, run->text + run->len, run->text + run->len,
				run->end_line);
}

/*
 * A list file's address, into the network being resolved (struct list_sink).
 * Its IPv4 array is made as large as the file could hold (a line of an IPv4
 * address takes 8 bytes at least) before it is read: an array that doubles
 * is moved each time (mremap()), and each page moved is mapped again when
 * it is next touched, which costs as much as its first write in a virtual
 * machine.  What is never written costs address space, not memory.
 */
struct list_sink {
	struct pc_addrset *set;
	uint32_t list; /* the file's index, as pc_prefix.where holds it */
	size_t cap[2]; /* the room of the set's IPv4 and IPv6 arrays */
};

static void list_add(void *arg, const struct pc_prefix *x)
{
	struct list_sink *k = arg;
	bool v6 = x->family == 6;
	struct pc_prefix *y = grow_prefix(v6 ? &k->set->v6 : &k->set->v4,
			v6 ? &k->set->nv6 : &k->set->nv4, &k->cap[v6]);

	*y = *x;
	/* The line it is on (the reader gives it in `where`): explain and the diagnostics name it.
	 */
	y->where = PC_WHERE_LINE | k->list | (x->where & PC_WHERE_LINE_MASK);
}

/* A list file of `size` bytes about to be read into k's set, empty. */
static void list_sink_reserve(struct list_sink *k, size_t size)
{
	size_t most = size / 8 + 1;

	if (most > PC_LIST_MAX_LINES)
		most = PC_LIST_MAX_LINES;
	/* Small lists grow as any set does. */
	if (most * sizeof(struct pc_prefix) < PC_POPULATE_STEP || k->set->nv4 || k->set->v4)
		return;
	k->set->v4 = xreallocarray(NULL, most, sizeof(struct pc_prefix));
	k->cap[0] = most;
}

/* The set's arrays given the room next_prefix() expects of them, when the file is read. */
static void list_sink_done(struct list_sink *k)
{
	struct pc_prefix **v[2] = {&k->set->v4, &k->set->v6};
	size_t n[2] = {k->set->nv4, k->set->nv6};

	for (int f = 0; f < 2; f++) {
		if (!n[f]) {
			free(*v[f]);
			*v[f] = NULL;
		} else if (room_of(n[f]) != k->cap[f]) {
			*v[f] = xreallocarray(*v[f], room_of(n[f]), sizeof(**v[f]));
		}
	}
}

static void resolve_network(struct resolver *r, struct pc_network *net)
{
	if (net->state == 2)
		return;
	if (r->netdepth == PC_NETWORK_MAX_DEPTH) {
		/* Each level holds every address below it: a long chain is quadratic, and deep. */
		rdiag(r, PC_SEV_ERROR, "network-limit", &net->loc,
				"networks nest at most %d deep: '%s' is the %dth of a chain that "
				"starts at '%s'",
				PC_NETWORK_MAX_DEPTH, net->name, PC_NETWORK_MAX_DEPTH + 1,
				r->netstart->name);
		net->state = 2;
		return;
	}
	net->state = 1;
	if (r->netdepth++ == 0)
		r->netstart = net;
	struct list_sink sink = {&net->set,
			(uint32_t)(net->list ? net->list - 1 : 0) << PC_WHERE_FILE_SHIFT,
			{room_of(net->set.nv4), room_of(net->set.nv6)}};
	size_t before = r->diags->nerrors;
	bool listed = false;
	if (net->list) {
		list_sink_reserve(&sink, pol_list_size(r->p, net->list - 1));
		listed = pol_list_read(r->p, net->list - 1, list_add, &sink, r->diags) == 0;
		list_sink_done(&sink);
	}
	if (net->run)
		add_run(r, net->run, &net->set, net->name);
	add_peers(r, net->members, net->nmembers, &net->set, net->name);
	set_done(r, &net->set, net->name);
	if (listed && r->diags->nerrors == before && !net->set.nv4 && !net->set.nv6) {
		char hex[65];
		const char *file = pc_policy_list(r->p, net->list - 1, hex);
		struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "list-empty", &net->loc,
				"network '%s' has no address: '%s' holds none", net->name, file);
		pc_diag_hint(d, "a rule from or to no address would match nothing; remove the "
				"rule, or keep one address in the list");
	}
	r->netdepth--;
	net->state = 2;
}

/*
 * A rule's sources or destinations.  One network: the rule shares the
 * network's set.  Several peers of which one at least is a network: the union
 * is built once per distinct list of peers (by text) and shared; a later rule
 * writing the same list only parses its own literals again, for their
 * diagnostics at its own locations.  A union whose merge warned is not kept,
 * so each rule gives its warnings as before.  Peers of literals alone are
 * built per rule: they cost what the rule's text does.
 */
static uint32_t peers_hash(const struct pc_peer *peers, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		for (const unsigned char *c = (const unsigned char *)peers[i].text;; c++) {
			h = (h ^ *c) * 16777619u;
			if (!*c)
				break;
		}
	return h;
}

static struct peer_union *union_slot(struct peer_union *v, size_t cap, const struct pc_peer *peers,
		size_t n, uint32_t hash)
{
	size_t mask = cap - 1, i = hash & mask;

	for (; v[i].peers; i = (i + 1) & mask) {
		if (v[i].hash != hash || v[i].n != n)
			continue;
		size_t k = 0;
		while (k < n && !strcmp(v[i].peers[k].text, peers[k].text))
			k++;
		if (k == n)
			break;
	}
	return &v[i];
}

static void resolve_rule_peers(struct resolver *r, const struct pc_peer *peers, size_t n,
		struct pc_addrset *set, const char *what)
{
	size_t nnets = 0;

	for (size_t i = 0; i < n; i++)
		nnets += !looks_like_address(peers[i].text);
	if (nnets == 0) {
		resolve_peers(r, peers, n, set, what);
		return;
	}
	if (n == 1) {
		struct pc_network *net = find_network(r, peers[0].text);
		if (net && net->state == 2) {
			*set = net->set;
			return;
		}
		resolve_peers(r, peers, n, set, what);
		return;
	}
	uint32_t hash = peers_hash(peers, n);
	struct peer_union *u = r->ucap ? union_slot(r->unions, r->ucap, peers, n, hash) : NULL;
	if (u && u->peers) {
		for (size_t i = 0; i < n; i++) {
			struct pc_prefix x;
			if (looks_like_address(peers[i].text))
				parse_prefix(r, &peers[i], &x);
			else if (!find_network(r, peers[i].text))
				unknown_network(r, &peers[i]);
		}
		*set = u->set;
		return;
	}
	size_t overlaps = r->overlaps;
	resolve_peers(r, peers, n, set, what);
	if (r->overlaps != overlaps)
		return;
	if (2 * (r->nunions + 1) > r->ucap) {
		size_t cap = r->ucap ? 2 * r->ucap : 64;
		struct peer_union *v = xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < r->ucap; i++)
			if (r->unions[i].peers)
				*union_slot(v, cap, r->unions[i].peers, r->unions[i].n,
						r->unions[i].hash) = r->unions[i];
		free(r->unions);
		r->unions = v;
		r->ucap = cap;
	}
	u = union_slot(r->unions, r->ucap, peers, n, hash);
	*u = (struct peer_union){peers, n, hash, *set};
	r->nunions++;
}

/* ---- services --------------------------------------------------------- */

static size_t match_hash(const struct pc_match *m)
{
	return ((size_t)m->proto * 65537u + m->lo) * 2654435761u ^ (size_t)m->hi * 40503u;
}

/* The slot of the current rule's match like `m`: where it is, or the empty slot it would take. */
static struct match_slot *match_slot(
		struct resolver *r, const struct pc_rule *rule, const struct pc_match *m)
{
	size_t mask = r->nmslots - 1, i = match_hash(m) & mask;

	for (;; i = (i + 1) & mask) {
		struct match_slot *x = &r->mslots[i];
		if (x->gen != r->mgen)
			return x;
		const struct pc_match *o = &rule->matches[x->index];
		if (o->proto == m->proto && o->lo == m->lo && o->hi == m->hi)
			return x;
	}
}

/*
 * Appends a match to a rule, once.  Capacity doubles at each power of two (the
 * arena keeps the old copy: twice the final size at most), and the rule's
 * matches are found again through a hash: a rule of many ports stays linear.
 */
static void add_match(struct resolver *r, struct pc_rule *rule, const struct pc_match *m)
{
	size_t n = rule->nmatches;

	if (2 * (n + 1) > r->nmslots) {
		size_t cap = r->nmslots ? 2 * r->nmslots : 64;
		free(r->mslots);
		r->mslots = xcalloc(cap, sizeof(*r->mslots));
		r->nmslots = cap;
		r->mgen = 1;
		for (size_t i = 0; i < n; i++)
			*match_slot(r, rule, &rule->matches[i]) =
					(struct match_slot){1, (uint32_t)i};
	}
	struct match_slot *x = match_slot(r, rule, m);
	if (x->gen == r->mgen) {
		const struct pc_match *o = &rule->matches[x->index];
		rdiag(r, PC_SEV_WARNING, "duplicate-service", &m->loc,
				"%u/%s is already in this rule (from '%s')", m->lo,
				pc_proto_name(m->proto), o->service ? o->service : "a port");
		return;
	}
	if ((n & (n - 1)) == 0) {
		struct pc_match *grown = ralloc(r, (n ? 2 * n : 1) * sizeof(*grown));
		if (n)
			memcpy(grown, rule->matches, n * sizeof(*grown));
		rule->matches = grown;
	}
	rule->matches[n] = *m;
	rule->matches[n].group = r->group;
	*x = (struct match_slot){r->mgen, (uint32_t)n};
	rule->nmatches = n + 1;
}

static void proto_list(char *buf, size_t n, unsigned mask)
{
	size_t w = 0;

	buf[0] = '\0';
	for (int p = PC_PROTO_TCP; p < PC_PROTO_COUNT; p++)
		if (mask & (1u << p))
			w += (size_t)snprintf(buf + w, n > w ? n - w : 0, "%s%s", w ? ", " : "",
					pc_proto_name((enum pc_proto)p));
}

/* A range wider than this is not looked up port by port (`lookup` lists it). */
#define RAW_PORT_LOOKUP_MAX 16

/* Ports of one state, listed as runs: "250-255/tcp, 258/tcp". */
struct port_runs {
	char text[128];
	int32_t first, last; /* the open run; -1: none */
};

static void runs_flush(struct port_runs *x, enum pc_proto proto)
{
	size_t w = strlen(x->text);
	char p[32];

	if (x->first < 0)
		return;
	if (x->first == x->last)
		snprintf(p, sizeof(p), "%d/%s", x->first, pc_proto_name(proto));
	else
		snprintf(p, sizeof(p), "%d-%d/%s", x->first, x->last, pc_proto_name(proto));
	if (w + strlen(p) + 3 < sizeof(x->text))
		snprintf(x->text + w, sizeof(x->text) - w, "%s%s", w ? ", " : "", p);
	x->first = x->last = -1;
}

static void runs_add(struct port_runs *x, int32_t port, enum pc_proto proto)
{
	if (x->first >= 0 && x->last + 1 != port)
		runs_flush(x, proto);
	if (x->first < 0)
		x->first = port;
	x->last = port;
}

/* A range wider than this is not looked up port by port (`lookup` lists it). */
#define RAW_PORT_LOOKUP_MAX 16

/* IANA's state of a port: its unnamed row's (Reserved, Unassigned), unless a named row has it. */
static enum pc_state iana_state(const struct pc_records *rows)
{
	enum pc_state state = PC_STATE_ASSIGNED;

	for (size_t k = 0; k < rows->n; k++) {
		const struct pc_record *row = &rows->v[k];
		if (row->layer != PC_LAYER_IANA)
			continue;
		if (*row->name)
			return PC_STATE_ASSIGNED;
		state = row->state;
	}
	return state;
}

/*
 * What the registry says about ports written as numbers: IANA's Reserved and
 * Unassigned blocks, its unauthorized-use notes, and layers that give the
 * port to different services (port-conflict) - the findings a name gets.
 */
static void report_raw_port(struct resolver *r, const struct pc_rule_service *s, uint16_t lo,
		uint16_t hi, unsigned protos)
{
	struct port_runs reserved = {"", -1, -1}, unassigned = {"", -1, -1};
	struct pc_diags tmp;
	struct pc_records rows;

	if (hi - lo >= RAW_PORT_LOOKUP_MAX)
		return;
	pc_diags_init(&tmp);
	pc_records_init(&rows);
	for (int p = PC_PROTO_TCP; p < PC_PROTO_COUNT; p++) {
		if (!(protos & (1u << p)))
			continue;
		for (int32_t port = lo; port <= hi; port++) {
			pc_registry_port_findings(r->reg, (uint16_t)port, (enum pc_proto)p, &tmp);
			rows.n = 0;
			pc_registry_find_port(r->reg, (uint16_t)port, (enum pc_proto)p, &rows);
			enum pc_state state = iana_state(&rows);
			if (state == PC_STATE_RESERVED)
				runs_add(&reserved, port, (enum pc_proto)p);
			else if (state == PC_STATE_UNASSIGNED)
				runs_add(&unassigned, port, (enum pc_proto)p);
		}
		runs_flush(&reserved, (enum pc_proto)p);
		runs_flush(&unassigned, (enum pc_proto)p);
	}
	if (*reserved.text)
		rdiag(r, PC_SEV_WARNING, "port-reserved", &s->loc,
				"'%s': IANA lists %s as Reserved", s->text, reserved.text);
	if (*unassigned.text)
		rdiag(r, PC_SEV_WARNING, "port-unassigned", &s->loc,
				"'%s': IANA lists %s as Unassigned", s->text, unassigned.text);
	for (size_t i = 0; i < tmp.n; i++) {
		bool again = false;
		for (size_t k = 0; k < i && !again; k++)
			again = !strcmp(tmp.v[k].msg, tmp.v[i].msg);
		if (!again)
			rdiag(r, tmp.v[i].sev, tmp.v[i].code, &s->loc, "%s", tmp.v[i].msg);
	}
	pc_records_finish(&rows);
	pc_diags_finish(&tmp);
}

/* PORT/PROTO or LOW-HIGH/PROTO, written in a rule. */
static void resolve_raw_port(struct resolver *r, struct pc_rule *rule,
		const struct pc_rule_service *s, uint16_t lo, uint16_t hi, enum pc_proto proto)
{
	if (lo == 0) {
		rdiag(r, PC_SEV_ERROR, "port-zero", &s->loc,
				"port 0 is reserved and cannot be matched");
		return;
	}
	if (lo == 1 && hi == 65535)
		rdiag(r, PC_SEV_WARNING, "port-all", &s->loc, "'%s' opens every port", s->text);
	unsigned protos = proto != PC_PROTO_ANY ? 1u << proto : rule->protos;
	if (!protos) {
		struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "port-protocol", &s->loc,
				"'%s' needs a protocol", s->text);
		pc_diag_hint(d, "write %s/tcp or %s/udp, or add `protocol:`", s->text, s->text);
		return;
	}
	if (proto != PC_PROTO_ANY && rule->protos && !(rule->protos & (1u << proto))) {
		if (r->group)
			return; /* a group's member the rule's protocol leaves out */
		rdiag(r, PC_SEV_ERROR, "protocol-conflict", &s->loc,
				"'%s' says %s but the rule's protocol does not include it", s->text,
				pc_proto_name(proto));
		return;
	}
	/* The registry's view of the port, for the reviewer. */
	report_raw_port(r, s, lo, hi, protos);
	for (int p = PC_PROTO_TCP; p < PC_PROTO_COUNT; p++) {
		if (!(protos & (1u << p)))
			continue;
		/* A group's port cites the group's line, as a definition's port does. */
		const struct pc_loc *src = r->group ? r->member : &s->loc;
		struct pc_match m = {(enum pc_proto)p, lo, hi, NULL, PC_LAYER_OVERRIDE, src->file,
				src->line, s->loc, NULL, NULL, NULL};
		add_match(r, rule, &m);
	}
}

/* The registry's findings about a definition itself, not about a rule using it. */
static bool about_definition(const struct pc_diag *f)
{
	return !strcmp(f->code, "definition-replaces") || !strcmp(f->code, "definition-alias");
}

/* Records `first` on are about the service `name`, for acknowledgements on definitions. */
static void note_about(struct resolver *r, size_t first, const char *name)
{
	size_t n = r->diags->n;

	if (first == n)
		return;
	if (n > r->nabout) {
		size_t cap = r->nabout ? r->nabout : 64;
		while (cap < n)
			cap *= 2;
		r->about = xreallocarray(r->about, cap, sizeof(*r->about));
		memset(r->about + r->nabout, 0, (cap - r->nabout) * sizeof(*r->about));
		r->nabout = cap;
	}
	for (size_t i = first; i < n; i++)
		r->about[i] = (struct pc_about){name, r->group};
}

/* An unknown name: an error with the nearest names every layer knows, searched once per name. */
static void unknown_service(struct resolver *r, const struct pc_rule_service *s)
{
	bool want = pc_diags_want_hint(r->diags);
	struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "unknown-service", &s->loc,
			"unknown service '%s' (no registry layer knows it)", s->text);

	if (!d || !want)
		return; /* never shown: no search over the registry */
	struct hint_entry *e = hint_find(r, HINT_SERVICE, s->text);
	if (!e->name) {
		const char *sug[3];
		char hint[512];
		size_t n = pc_registry_suggest(r->reg, s->text, sug, 3);
		if (n == 1)
			snprintf(hint, sizeof(hint), "did you mean '%s'?", sug[0]);
		else if (n == 2)
			snprintf(hint, sizeof(hint), "did you mean '%s' or '%s'?", sug[0], sug[1]);
		else if (n == 3)
			snprintf(hint, sizeof(hint), "did you mean '%s', '%s' or '%s'?", sug[0],
					sug[1], sug[2]);
		else
			snprintf(hint, sizeof(hint),
					"define it under registry.services, or write PORT/PROTO");
		hint_keep(r, e, HINT_SERVICE, s->text,
				pc_arena_strndup(&r->p->state->arena, hint, strlen(hint)));
	}
	pc_diag_hint(d, "%s", e->hint);
}

/* The slot of `name` in the definition index: where it is, or the empty slot it would take. */
static size_t def_slot(const struct resolver *r, const char *name)
{
	size_t mask = r->ndslots - 1, i = pc_name_hash(name) & mask;

	while (r->defs[i] && !pc_streq_fold(r->p->services[r->defs[i] - 1].name, name))
		i = (i + 1) & mask;
	return i;
}

/* The policy's definitions by name (ASCII case folded), the first of each name. */
static void index_defs(struct resolver *r)
{
	r->ndslots = 16;
	while (r->ndslots <= 2 * r->p->nservices)
		r->ndslots *= 2;
	r->defs = xcalloc(r->ndslots, sizeof(*r->defs));
	for (size_t i = 0; i < r->p->nservices; i++) {
		size_t k = def_slot(r, r->p->services[i].name);
		if (!r->defs[k])
			r->defs[k] = (uint32_t)i + 1;
	}
}

/* The policy's own definition of `name` (ASCII case folded), or NULL. */
static struct pc_service_def *find_def(const struct resolver *r, const char *name)
{
	uint32_t k = r->defs[def_slot(r, name)];

	return k ? &r->p->services[k - 1] : NULL;
}

/* Whether the policy's registry.services defines `name`. */
static bool policy_defines(const struct pc_policy *p, const char *name)
{
	for (size_t i = 0; i < p->nservices; i++)
		if (pc_streq_fold(p->services[i].name, name))
			return true;
	return false;
}

/*
 * A definition replaces what the layers below say about its name: the
 * difference, said once at the definition.
 */
static void report_replaced(struct resolver *r, const struct pc_service_def *s)
{
	struct pc_resolution res;

	if (s->members)
		return; /* a group is no row of the registry */
	pc_resolution_init(&res);
	pc_registry_resolve(r->reg, s->name, &res);
	for (size_t i = 0; i < res.findings.n; i++) {
		const struct pc_diag *f = &res.findings.v[i];
		if (about_definition(f))
			rdiag(r, f->sev, f->code, &s->loc, "%s", f->msg);
	}
	pc_resolution_finish(&res);
}

/*
 * A name that opened several protocols, in a rule without `protocol:`, where
 * no layer that knows the daemons (practice) or the author (a definition)
 * vouches for them: the registry lists every protocol a port was ever
 * registered for (`ssh`: 22/tcp, 22/udp, 22/sctp), not what the daemon uses.
 * Said once, with the protocols beyond the first (tcp when there is one).
 */
static void report_implied_protocols(struct resolver *r, const struct pc_rule *rule,
		const struct pc_rule_service *s, const struct pc_resolution *res)
{
	unsigned protos = 0;

	if (rule->protos || (pc_layer_def(res->layer)->flags & PC_LAYER_F_DEFINED))
		return;
	for (size_t i = 0; i < res->rows.n; i++)
		if (res->rows.v[i].layer == PC_LAYER_PRACTICE)
			return;
	for (size_t i = 0; i < res->nports; i++)
		if (res->ports[i].proto != PC_PROTO_ANY)
			protos |= 1u << res->ports[i].proto;
	if (!(protos & (protos - 1)))
		return;
	int first = PC_PROTO_TCP;
	while (!(protos & (1u << first)))
		first++;
	char more[128] = "", main[64] = "";
	size_t w = 0, mw = 0, nmore = 0, k = 0;
	for (size_t i = 0; i < res->nports; i++)
		nmore += (int)res->ports[i].proto != first;
	for (size_t i = 0; i < res->nports; i++) {
		const struct pc_port *pt = &res->ports[i];
		char p[32];
		if (pt->lo == pt->hi)
			snprintf(p, sizeof(p), "%u/%s", pt->lo, pc_proto_name(pt->proto));
		else
			snprintf(p, sizeof(p), "%u-%u/%s", pt->lo, pt->hi,
					pc_proto_name(pt->proto));
		if ((int)pt->proto == first) {
			mw += (size_t)snprintf(main + mw, mw < sizeof(main) ? sizeof(main) - mw : 0,
					"%s%s", mw ? ", " : "", p);
			continue;
		}
		k++;
		w += (size_t)snprintf(more + w, w < sizeof(more) ? sizeof(more) - w : 0, "%s%s",
				k == 1	     ? ""
				: k == nmore ? " and "
					     : ", ",
				p);
	}
	struct pc_diag *d = rdiag(r, PC_SEV_WARNING, "protocol-implied", &s->loc,
			"'%s' opens %s as well as %s: the registry lists those protocols, and no "
			"layer says the daemon uses them",
			s->text, more, main);
	pc_diag_hint(d, "say which protocols the daemon uses, e.g. `protocol: %s`",
			pc_proto_name((enum pc_proto)first));
}

static void resolve_service(
		struct resolver *r, struct pc_rule *rule, const struct pc_rule_service *s);

/*
 * A group the rule names: each member resolved in turn, its findings at the
 * rule, each match marked with the group.  Returns whether `s` names a group.
 */
static bool expand_group(struct resolver *r, struct pc_rule *rule, const struct pc_rule_service *s)
{
	struct pc_service_def *g = find_def(r, s->text);
	const char *outer = r->group;

	if (!g || !g->members)
		return false;
	if (g->state != 2)
		return true; /* its error is said at the definition */
	if (g->mark == r->mgen) {
		/* Once a rule is enough: its members are in already. */
		if (!outer)
			rdiag(r, PC_SEV_WARNING, "duplicate-service", &s->loc,
					"the group '%s' is already in this rule", s->text);
		return true;
	}
	g->mark = r->mgen;
	if (r->expanded > PC_GROUP_MAX_EXPANSION)
		return true;
	r->expanded += g->nmembers;
	if (r->expanded > PC_GROUP_MAX_EXPANSION) {
		rdiag(r, PC_SEV_ERROR, "service-group-limit", &s->loc,
				"the policy's groups expand to more than %d services in its rules",
				PC_GROUP_MAX_EXPANSION);
		return true;
	}
	if (!outer)
		r->group = s->text;
	size_t before = rule->nmatches, errors = r->diags->nerrors;
	for (size_t i = 0; i < g->nmembers; i++) {
		r->member = &g->members[i].loc;
		resolve_service(r, rule, &(struct pc_rule_service){g->members[i].text, s->loc});
	}
	r->group = outer;
	/* `protocol:` takes the members on those protocols; none is an error. */
	if (!outer && rule->protos && rule->nmatches == before && r->diags->nerrors == errors) {
		char want[64];
		proto_list(want, sizeof(want), rule->protos);
		struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "protocol-not-listed", &s->loc,
				"no member of the group '%s' is on %s", s->text, want);
		pc_diag_hint(d, "narrow `protocol:` to what the members use, or name them");
	}
	return true;
}

/* "a -> b -> a": the groups of `chain` from `from` on, then `from` again. */
static void group_chain(struct pc_buf *b, struct pc_service_def **chain, size_t depth,
		const struct pc_service_def *from)
{
	size_t i = 0;

	while (i < depth && chain[i] != from)
		i++;
	for (; i < depth; i++)
		pc_buf_printf(b, "%s -> ", chain[i]->name);
	pc_buf_adds(b, from->name);
}

/*
 * Checks a group once: every member a port, a service some layer knows, or
 * a good group; no group inside itself.  `chain` holds the groups being
 * checked (room for every definition).  Returns whether `g` is good.
 */
static bool group_ok(struct resolver *r, struct pc_service_def *g, struct pc_service_def **chain,
		size_t depth)
{
	bool ok = true;

	if (g->state != 0)
		return g->state == 2;
	if (depth == PC_GROUP_MAX_DEPTH) {
		rdiag(r, PC_SEV_ERROR, "service-group-limit", &g->loc,
				"groups nest at most %d deep: '%s' is the %dth of a chain that starts "
				"at '%s'",
				PC_GROUP_MAX_DEPTH, g->name, PC_GROUP_MAX_DEPTH + 1,
				chain[0]->name);
		g->state = 3;
		return false;
	}
	g->state = 1;
	chain[depth] = g;
	for (size_t i = 0; i < g->nmembers; i++) {
		const struct pc_rule_service *m = &g->members[i];
		struct pc_service_def *sub = find_def(r, m->text);
		uint16_t lo, hi;
		enum pc_proto proto;
		int q = pc_port_query_parse(m->text, &lo, &hi, &proto);

		if (sub && sub->members && sub->state == 1) {
			struct pc_buf b;
			pc_buf_init(&b);
			group_chain(&b, chain, depth + 1, sub);
			struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "service-cycle", &m->loc,
					"service group '%s' contains itself: %s", sub->name,
					b.data);
			pc_diag_hint(d, "a group lists services and other groups, never one that "
					"lists it");
			pc_buf_finish(&b);
			ok = false;
		} else if (sub && sub->members) {
			ok &= group_ok(r, sub, chain, depth + 1);
		} else if (sub || q == 0) {
			if (q == 0 && proto == PC_PROTO_ANY) {
				struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "port-protocol", &m->loc,
						"'%s' in a group needs a protocol", m->text);
				pc_diag_hint(d, "write %s/tcp or %s/udp", m->text, m->text);
				ok = false;
			} else if (q == 0 && lo == 0) {
				rdiag(r, PC_SEV_ERROR, "port-zero", &m->loc,
						"port 0 is reserved and cannot be matched");
				ok = false;
			}
		} else if (q == -2 || !pc_service_name_ok(m->text)) {
			rdiag(r, PC_SEV_ERROR, q == -2 ? "port-syntax" : "service-name", &m->loc,
					"'%s' is neither a service name nor PORT/PROTO", m->text);
			ok = false;
		} else {
			struct pc_records rows;
			pc_records_init(&rows);
			if (pc_registry_find_name(r->reg, m->text, &rows) == 0) {
				unknown_service(r, m);
				ok = false;
			}
			pc_records_finish(&rows);
		}
	}
	if (g->state == 1)
		g->state = ok ? 2 : 3;
	return ok;
}

static void check_group(struct resolver *r, struct pc_service_def *g)
{
	if (!g->members || g->state != 0)
		return;
	struct pc_service_def *chain[PC_GROUP_MAX_DEPTH];
	group_ok(r, g, chain, 0);
}

/* A definition of ports as the override layer takes it: NAME=P/PROTO[,PROTO][;...]. */
static char *def_spec(const struct pc_service_def *s)
{
	struct pc_buf spec;

	pc_buf_init(&spec);
	pc_buf_printf(&spec, "%s=", s->name);
	for (size_t i = 0; i < s->nports; i++) {
		const struct pc_service_port *pt = &s->ports[i];
		pc_buf_printf(&spec, i ? ";%u" : "%u", pt->lo);
		if (pt->hi != pt->lo)
			pc_buf_printf(&spec, "-%u", pt->hi);
		for (int k = PC_PROTO_TCP, first = 1; k < PC_PROTO_COUNT; k++)
			if (pt->protos & (1u << k)) {
				pc_buf_printf(&spec, "%s%s", first ? "/" : ",",
						pc_proto_name((enum pc_proto)k));
				first = 0;
			}
	}
	return spec.data;
}

/*
 * The policy's definitions of ports join the override layer, every port on
 * its definition's line, all in one build of the layer (one build each made
 * a policy of thousands of definitions take minutes); what is refused is
 * said at each definition, in the order they are written.
 */
static void define_services(struct resolver *r)
{
	const struct pc_policy *p = r->p;
	size_t n = 0, ns = p->nservices ? p->nservices : 1;
	char **specs = xcalloc(ns, sizeof(*specs));
	const char **origins = xcalloc(ns, sizeof(*origins));
	unsigned *lines = xcalloc(ns, sizeof(*lines));
	struct pc_diags *tmp = xcalloc(ns, sizeof(*tmp));
	size_t *spec_of = xcalloc(ns, sizeof(*spec_of)); /* + 1; 0: none */
	const struct pc_service_def **dup = xcalloc(ns, sizeof(*dup));

	for (size_t i = 0; i < p->nservices; i++) {
		const struct pc_service_def *s = &p->services[i];
		/* Two definitions of ports meet in the override layer; a group meets no layer. */
		const struct pc_service_def *o = find_def(r, s->name);
		if (o != s && (o->members || s->members)) {
			dup[i] = o;
			continue;
		}
		if (s->members)
			continue;
		specs[n] = def_spec(s);
		origins[n] = s->loc.file;
		lines[n] = s->loc.line;
		pc_diags_init(&tmp[n]);
		spec_of[i] = ++n;
	}
	pc_registry_add_overrides(r->reg, n, (const char *const *)specs, origins, lines, tmp);
	for (size_t i = 0; i < p->nservices; i++) {
		const struct pc_service_def *s = &p->services[i];
		if (dup[i])
			rdiag(r, PC_SEV_ERROR, "service-duplicate", &s->loc,
					"'%s' is already defined (%s:%u)", s->name,
					dup[i]->loc.file, dup[i]->loc.line);
		for (size_t k = 0; spec_of[i] && k < tmp[spec_of[i] - 1].n; k++)
			rdiag(r, PC_SEV_ERROR, "service-duplicate", &s->loc, "%s",
					tmp[spec_of[i] - 1].v[k].msg);
	}
	for (size_t k = 0; k < n; k++) {
		free(specs[k]);
		pc_diags_finish(&tmp[k]);
	}
	free(specs);
	free(origins);
	free(lines);
	free(tmp);
	free(spec_of);
	free(dup);
}

static void resolve_service(
		struct resolver *r, struct pc_rule *rule, const struct pc_rule_service *s)
{
	size_t first = r->diags->n;
	uint16_t lo, hi;
	enum pc_proto proto;
	struct pc_resolution res;
	struct pc_diag *d;

	int q = pc_port_query_parse(s->text, &lo, &hi, &proto);
	if (q == 0) {
		resolve_raw_port(r, rule, s, lo, hi, proto);
		return;
	}
	if (q == -2) {
		d = rdiag(r, PC_SEV_ERROR, "port-syntax", &s->loc,
				"'%s' is not a port: PORT/PROTO or LOW-HIGH/PROTO with decimal ports "
				"1-65535",
				s->text);
		if (s->text[0] == '0')
			pc_diag_hint(d, "no leading zeros: ports are decimal, never octal");
		return;
	}
	if (!pc_service_name_ok(s->text)) {
		rdiag(r, PC_SEV_ERROR, "service-name", &s->loc, "'%s' is not a service name",
				s->text);
		return;
	}
	if (expand_group(r, rule, s))
		return;
	pc_resolution_init(&res);
	switch (pc_registry_resolve(r->reg, s->text, &res)) {
	case PC_RESOLVE_UNKNOWN:
		unknown_service(r, s);
		goto out;
	case PC_RESOLVE_CONTESTED:
	case PC_RESOLVE_AMBIGUOUS:
	case PC_RESOLVE_NO_PORT:
		/* The registry's own error, at the rule. */
		for (size_t i = 0; i < res.findings.n; i++) {
			const struct pc_diag *f = &res.findings.v[i];
			if (f->sev != PC_SEV_ERROR)
				continue;
			d = rdiag(r, PC_SEV_ERROR, f->code, &s->loc, "%s", f->msg);
			if (f->hint)
				pc_diag_hint(d, "%s", f->hint);
		}
		goto out;
	case PC_RESOLVE_OK:
		break;
	}

	unsigned listed = 0, anyproto = 0;
	for (size_t i = 0; i < res.nports; i++) {
		if (res.ports[i].proto == PC_PROTO_ANY)
			anyproto = 1;
		else
			listed |= 1u << res.ports[i].proto;
	}
	if (r->group && rule->protos && !anyproto && !(rule->protos & listed))
		goto out; /* a group's member the rule's protocol leaves out */
	if (rule->protos && !anyproto && (rule->protos & ~listed) && !r->group) {
		char want[64], have[64];
		proto_list(want, sizeof(want), rule->protos & ~listed);
		proto_list(have, sizeof(have), listed);
		d = rdiag(r, PC_SEV_ERROR, "protocol-not-listed", &s->loc,
				"'%s' is not registered over %s (the registry lists %s)", s->text,
				want, have);
		pc_diag_hint(d, "narrow `protocol:` to what the service uses, or write PORT/PROTO");
		goto out;
	}
	if (anyproto && !rule->protos) {
		d = rdiag(r, PC_SEV_ERROR, "protocol-unknown", &s->loc,
				"the registry lists '%s' without a protocol", s->text);
		pc_diag_hint(d, "say which with `protocol:`");
		goto out;
	}
	for (size_t i = 0; i < res.nports; i++) {
		const struct pc_port *pt = &res.ports[i];
		for (int p = PC_PROTO_TCP; p < PC_PROTO_COUNT; p++) {
			bool on = pt->proto == PC_PROTO_ANY
						  ? (rule->protos & (1u << p)) != 0
						  : pt->proto == (enum pc_proto)p &&
								    (!rule->protos ||
										    (rule->protos & (1u << p)));
			if (!on)
				continue;
			struct pc_match m = {(enum pc_proto)p, pt->lo, pt->hi, s->text,
					pt->src.layer, pt->src.file, pt->src.line, s->loc, pt->iana,
					NULL, pt->src.layer == PC_LAYER_KDC ? pt->src.notes : NULL};
			add_match(r, rule, &m);
		}
	}
	/*
	 * The registry's warnings, said at the rule that uses the name.  Layers
	 * that put the name on different ports make it ambiguous: the user picks,
	 * unless the policy defined the name itself (then it has picked).
	 */
	for (size_t i = 0; i < res.findings.n; i++) {
		const struct pc_diag *f = &res.findings.v[i];
		if (about_definition(f) && policy_defines(r->p, s->text))
			continue; /* said once, at the definition */
		if (!strcmp(f->code, "practice-only") && rule->protos)
			continue; /* the rule says its protocols itself */
		if (!strcmp(f->code, "name-conflict") &&
				!(pc_layer_def(res.layer)->flags &
						(PC_LAYER_F_DEFINED | PC_LAYER_F_CONFIG))) {
			d = rdiag(r, PC_SEV_ERROR, "ambiguous-service", &s->loc,
					"'%s' is ambiguous: %s", s->text, f->msg);
			pc_diag_hint(d,
					"pick the port: write PORT/PROTO, or define '%s' under "
					"registry.services",
					s->text);
			continue;
		}
		d = rdiag(r, f->sev, f->code, &s->loc, "%s", f->msg);
		if (f->hint)
			pc_diag_hint(d, "%s", f->hint);
	}
	report_implied_protocols(r, rule, s, &res);
out:
	note_about(r, first, s->text);
	pc_resolution_finish(&res);
}

/* ---- rules against each other ----------------------------------------- */

/*
 * Whether every prefix of `inner` lies inside one prefix of `outer`.  Both
 * are normalised (sorted, disjoint): the only outer prefix that can hold an
 * inner one is the last that starts at or before it, so one merge-walk does.
 */
static bool set_covers(const struct pc_addrset *outer, size_t nouter_peers,
		const struct pc_addrset *inner, size_t ninner_peers)
{
	if (nouter_peers == 0 || outer->any)
		return true;
	if (ninner_peers == 0 || inner->any)
		return false;
	for (int fam = 0; fam < 2; fam++) {
		const struct pc_prefix *iv = fam ? inner->v6 : inner->v4;
		const struct pc_prefix *ov = fam ? outer->v6 : outer->v4;
		size_t in = fam ? inner->nv6 : inner->nv4, on = fam ? outer->nv6 : outer->nv4;
		size_t j = 0;
		for (size_t i = 0; i < in; i++) {
			while (j + 1 < on && memcmp(ov[j + 1].bytes, iv[i].bytes, 16) <= 0)
				j++;
			if (!on || !prefix_covers(&ov[j], &iv[i]))
				return false;
		}
	}
	return true;
}

/*
 * A rule's matches sorted by (protocol, first port), each with the highest
 * last port among those of its protocol up to it: whether the rule holds a
 * port range is then one binary search.  Made for rules of many matches only.
 */
struct sorted_matches {
	struct port_span {
		uint32_t key; /* protocol << 16 | first port */
		uint16_t hi, maxhi;
	} * v;
	size_t n;
};

#define SORTED_MATCHES_MIN 16

static int cmp_span(const void *a, const void *b)
{
	const struct port_span *x = a, *y = b;

	return x->key != y->key ? (x->key < y->key ? -1 : 1) : (x->hi > y->hi) - (x->hi < y->hi);
}

static void sorted_matches_make(struct sorted_matches *s, const struct pc_rule *a)
{
	s->n = a->nmatches;
	s->v = xcalloc(s->n, sizeof(*s->v));
	for (size_t i = 0; i < s->n; i++)
		s->v[i] = (struct port_span){(uint32_t)a->matches[i].proto << 16 | a->matches[i].lo,
				a->matches[i].hi, 0};
	qsort(s->v, s->n, sizeof(*s->v), cmp_span);
	for (size_t i = 0; i < s->n; i++) {
		bool same = i && s->v[i - 1].key >> 16 == s->v[i].key >> 16;
		uint16_t before = same ? s->v[i - 1].maxhi : 0;
		s->v[i].maxhi = before > s->v[i].hi ? before : s->v[i].hi;
	}
}

static bool sorted_matches_hold(const struct sorted_matches *s, const struct pc_match *m)
{
	uint32_t key = (uint32_t)m->proto << 16 | m->lo;
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->v[mid].key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && s->v[lo - 1].key >> 16 == (uint32_t)m->proto && s->v[lo - 1].maxhi >= m->hi;
}

/* Whether rule a's matches hold every match of rule b; `sa` is a's sorted matches, or NULL. */
static bool matches_cover(
		const struct pc_rule *a, const struct sorted_matches *sa, const struct pc_rule *b)
{
	for (size_t i = 0; i < b->nmatches; i++) {
		bool covered = false;
		if (sa)
			covered = sorted_matches_hold(sa, &b->matches[i]);
		for (size_t j = 0; !sa && j < a->nmatches && !covered; j++)
			covered = a->matches[j].proto == b->matches[i].proto &&
				  a->matches[j].lo <= b->matches[i].lo &&
				  a->matches[j].hi >= b->matches[i].hi;
		if (!covered)
			return false;
	}
	return b->nmatches > 0;
}

/*
 * Which earlier rule first covers each rule (matches every packet of it).
 * Three indexes each give a superset of the candidates, and the smallest is
 * walked in policy order:
 *  - ports: a rule that covers rule b holds b's first match, so an index by
 *    (direction, protocol, port / 64) holds every rule under each bucket its
 *    matches touch; a match wider than 64 buckets goes instead under the
 *    bucket of its first port, each such bucket with the highest last port
 *    of its matches, and b looks at those of its first port's bucket or
 *    below that reach its match's end (overlapping ranges that hold one
 *    another nowhere are not walked each time);
 *  - sources and destinations: a rule that covers b holds b's first address
 *    in one of its prefixes, so an index by (side, direction, prefix) holds
 *    every rule under each of its prefixes, and b looks up each prefix
 *    length in use that holds its first address; rules of any address are on
 *    a list of their own.  A set of more than SHADOW_SET_WIDE prefixes (often
 *    a network many rules share) has its prefixes indexed once, under which
 *    it names the list of rules that use it: the index grows with the
 *    distinct sets, not with rules times prefixes.
 * Many rules on one port, each from its own host, then cost a few lookups
 * each instead of a walk over all the earlier ones.
 */
#define SHADOW_BUCKET_SHIFT 6
#define SHADOW_BUCKETS (65536 >> SHADOW_BUCKET_SHIFT)
#define SHADOW_WIDE 64
#define SHADOW_SET_WIDE 16

/* Rule numbers in order; one is held in place (most prefixes name one rule). */
struct rule_list {
	union {
		uint32_t *v; /* cap > 0 */
		uint32_t one; /* cap == 0, n == 1 */
	} u;
	uint32_t n, cap;
};

static const uint32_t *rule_list_items(const struct rule_list *l)
{
	return l->cap ? l->u.v : &l->u.one;
}

static void rule_list_add(struct rule_list *l, uint32_t rule)
{
	if (l->n && rule_list_items(l)[l->n - 1] == rule)
		return;
	if (l->n == 0 && l->cap == 0) {
		l->u.one = rule;
		l->n = 1;
		return;
	}
	if (l->n >= l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 4;
		uint32_t *v = xreallocarray(l->cap ? l->u.v : NULL, cap, sizeof(*v));
		if (!l->cap)
			v[0] = l->u.one;
		l->u.v = v;
		l->cap = cap;
	}
	l->u.v[l->n++] = rule;
}

static void rule_list_finish(struct rule_list *l)
{
	if (l->cap)
		free(l->u.v);
}

struct prefix_key {
	uint8_t side, direction, family, len;
	uint8_t bytes[16];
};

struct prefix_entry {
	struct prefix_key key;
	bool used;
	struct rule_list rules;
};

/* A prefix of a wide set: the set's id, and its place in the set (IPv4 first). */
struct wide_ref {
	uint32_t id, i;
};

/* A wide set, by its arrays (rules naming one network share them), side and direction. */
struct wide_key {
	const struct pc_prefix *v4, *v6;
	size_t nv4, nv6;
	int side, direction;
};

/* Lists of candidate rules, gathered per side. */
struct list_refs {
	const struct rule_list **v;
	size_t n, cap;
};

struct shadow_index {
	struct rule_list *ports; /* 3 directions x protocols x (buckets, then wide by first port) */
	uint32_t *wide_hi; /* per list of `ports`: the highest last port of its wide matches */
	uint32_t *ports_used; /* the lists of `ports` not empty: only their pages are touched */
	size_t nports_used, ports_used_cap;
	struct prefix_entry *prefixes; /* open addressing on prefix_key */
	size_t nprefixes, cap;
	struct rule_list any[2][3]; /* per side and direction: any address, or many */
	uint64_t lens[2][3][2][3]; /* per side, direction, family: prefix lengths in use */
	struct sorted_matches *sorted; /* per rule, made when first needed */
	struct group_slot *groups; /* rules of the same ports and addresses */
	size_t ngroups, gcap;
	uint32_t *ghash; /* per rule: geometry_hash() */
	struct rule_list *ifrules; /* per group's first rule: members on interfaces not plain */
	struct wide_key *wkeys; /* per wide set */
	struct rule_list *wrules; /* per wide set: the rules that use it */
	size_t nwides, wcap;
	uint32_t *wslots; /* open addressing on wide_key: id + 1, 0 empty */
	size_t nwslots;
	struct wide_ref *wrefs[2][3]; /* per side and direction: every wide set's prefixes,
				       * sorted by family, address and length */
	size_t nwrefs[2][3];
	uint32_t wsolo[2][3]; /* the one wide set of a side and direction, + 1: searched in
			       * its own arrays (IPv4 then IPv6, each sorted), no wrefs */
	struct list_refs refs[3]; /* per side, then the ports' lists; reused */
};

/* The first of the lists of `ports` for a direction and protocol. */
static size_t ports_base(enum pc_direction dir, enum pc_proto proto)
{
	return ((size_t)dir * PC_PROTO_COUNT + proto) * (2 * SHADOW_BUCKETS);
}

static void port_list_add(struct shadow_index *x, size_t i, uint32_t rule)
{
	if (!x->ports[i].n) {
		if (x->nports_used == x->ports_used_cap) {
			x->ports_used_cap = x->ports_used_cap ? 2 * x->ports_used_cap : 16;
			x->ports_used = xreallocarray(
					x->ports_used, x->ports_used_cap, sizeof(*x->ports_used));
		}
		x->ports_used[x->nports_used++] = (uint32_t)i;
	}
	rule_list_add(&x->ports[i], rule);
}

/* Rule i's sorted matches, for a rule of many (NULL for the others). */
static const struct sorted_matches *sorted_of(
		struct shadow_index *x, const struct pc_policy *p, size_t i)
{
	if (p->rules[i].nmatches < SORTED_MATCHES_MIN)
		return NULL;
	if (!x->sorted[i].v)
		sorted_matches_make(&x->sorted[i], &p->rules[i]);
	return &x->sorted[i];
}

static size_t prefix_hash(const struct prefix_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static struct prefix_entry *prefix_slot(
		struct prefix_entry *v, size_t cap, const struct prefix_key *k)
{
	size_t mask = cap - 1, i = prefix_hash(k) & mask;

	while (v[i].used && memcmp(&v[i].key, k, sizeof(*k)))
		i = (i + 1) & mask;
	return &v[i];
}

static void prefix_key_make(struct prefix_key *k, int side, int direction,
		const struct pc_prefix *x, unsigned len)
{
	memset(k, 0, sizeof(*k));
	k->side = (uint8_t)side;
	k->direction = (uint8_t)direction;
	k->family = x->family;
	k->len = (uint8_t)len;
	for (unsigned bit = 0; bit < len; bit += 8) {
		uint8_t m = len - bit >= 8 ? 0xff : (uint8_t)(0xff00u >> (len - bit));
		k->bytes[bit / 8] = x->bytes[bit / 8] & m;
	}
}

static void index_prefix(struct shadow_index *x, int side, int direction, const struct pc_prefix *p,
		uint32_t rule)
{
	struct prefix_key k;

	if (4 * (x->nprefixes + 1) > 3 * x->cap) { /* at most three quarters full */
		size_t cap = x->cap ? 2 * x->cap : 256;
		struct prefix_entry *v = xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < x->cap; i++)
			if (x->prefixes[i].used)
				*prefix_slot(v, cap, &x->prefixes[i].key) = x->prefixes[i];
		free(x->prefixes);
		x->prefixes = v;
		x->cap = cap;
	}
	prefix_key_make(&k, side, direction, p, p->len);
	struct prefix_entry *e = prefix_slot(x->prefixes, x->cap, &k);
	if (!e->used) {
		e->used = true;
		e->key = k;
		x->nprefixes++;
	}
	rule_list_add(&e->rules, rule);
	x->lens[side][direction][p->family == 6][p->len / 64] |= 1ull << (p->len % 64);
}

static size_t wide_hash(const struct wide_key *k)
{
	uintptr_t h = (uintptr_t)k->v4 * 31 + (uintptr_t)k->v6;

	h = h * 31 + k->nv4 * 7 + k->nv6;
	return (size_t)(h ^ h >> 17) * 3 + (size_t)k->side * 5 + (size_t)k->direction;
}

static bool wide_eq(const struct wide_key *a, const struct wide_key *b)
{
	return a->v4 == b->v4 && a->v6 == b->v6 && a->nv4 == b->nv4 && a->nv6 == b->nv6 &&
	       a->side == b->side && a->direction == b->direction;
}

static uint32_t *wide_slot(
		uint32_t *v, size_t cap, const struct wide_key *keys, const struct wide_key *k)
{
	size_t mask = cap - 1, i = wide_hash(k) & mask;

	while (v[i] && !wide_eq(&keys[v[i] - 1], k))
		i = (i + 1) & mask;
	return &v[i];
}

/* The id of a wide set, made the first time it is seen. */
static uint32_t wide_id(
		struct shadow_index *x, int side, int direction, const struct pc_addrset *set)
{
	struct wide_key k = {set->v4, set->v6, set->nv4, set->nv6, side, direction};

	if (2 * (x->nwides + 1) > x->nwslots) {
		size_t cap = x->nwslots ? 2 * x->nwslots : 64;
		uint32_t *v = xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < x->nwides; i++)
			*wide_slot(v, cap, x->wkeys, &x->wkeys[i]) = (uint32_t)i + 1;
		free(x->wslots);
		x->wslots = v;
		x->nwslots = cap;
	}
	uint32_t *slot = wide_slot(x->wslots, x->nwslots, x->wkeys, &k);
	if (*slot)
		return *slot - 1;
	if (x->nwides == x->wcap) {
		x->wcap = x->wcap ? 2 * x->wcap : 16;
		x->wkeys = xreallocarray(x->wkeys, x->wcap, sizeof(*x->wkeys));
	}
	uint32_t id = (uint32_t)x->nwides++;
	x->wkeys[id] = k;
	*slot = id + 1;
	return id;
}

static const struct pc_prefix *wide_prefix(const struct shadow_index *x, const struct wide_ref *w)
{
	const struct wide_key *k = &x->wkeys[w->id];

	return w->i < k->nv4 ? &k->v4[w->i] : &k->v6[w->i - k->nv4];
}

static int cmp_key_prefix(const struct prefix_key *k, const struct pc_prefix *p)
{
	if (k->family != p->family)
		return k->family < p->family ? -1 : 1;
	int c = memcmp(k->bytes, p->bytes, 16);
	return c ? c : (int)k->len - (int)p->len;
}

static int cmp_wide_refs(const void *a, const void *b, void *arg)
{
	const struct pc_prefix *x = wide_prefix(arg, a), *y = wide_prefix(arg, b);
	const struct wide_ref *wa = a, *wb = b;
	int c = x->family != y->family ? (x->family < y->family ? -1 : 1) : cmp_prefix(x, y);

	return c ? c : wa->id != wb->id ? (wa->id < wb->id ? -1 : 1) : 0;
}

/*
 * The wide sets of every rule, known before the walk: their prefixes are
 * held once per set, as a reference into the set's own sorted array, in one
 * sorted array per side and direction (8 bytes a prefix, where a hash entry
 * took about ten times that); a side and direction of one wide set (one large
 * network) needs none, its own arrays are searched.  A set is found by binary
 * search; the rules that use it are listed as the walk indexes them, so a set
 * no earlier rule uses names none.
 */
static void index_wides(struct shadow_index *x, const struct pc_policy *p)
{
	size_t n[2][3] = {{0}}, sets[2][3] = {{0}};

	for (size_t j = 0; j < p->nrules; j++)
		for (int side = 0; side < 2; side++) {
			const struct pc_rule *a = &p->rules[j];
			const struct pc_addrset *set = side ? &a->dst : &a->src;
			size_t npeers = side ? a->nto : a->nfrom;
			if (npeers == 0 || set->any || set->nv4 + set->nv6 <= SHADOW_SET_WIDE)
				continue;
			size_t before = x->nwides;
			wide_id(x, side, a->direction, set);
			if (x->nwides > before) {
				n[side][a->direction] += set->nv4 + set->nv6;
				sets[side][a->direction]++;
			}
		}
	for (int side = 0; side < 2; side++)
		for (int d = 0; d < 3; d++)
			if (sets[side][d] > 1)
				x->wrefs[side][d] = xcalloc(n[side][d], sizeof(struct wide_ref));
	for (uint32_t id = 0; id < x->nwides; id++) {
		const struct wide_key *k = &x->wkeys[id];
		if (sets[k->side][k->direction] == 1)
			x->wsolo[k->side][k->direction] = id + 1;
		for (uint32_t i = 0; i < k->nv4 + k->nv6; i++) {
			const struct pc_prefix *q = i < k->nv4 ? &k->v4[i] : &k->v6[i - k->nv4];
			size_t at = x->nwrefs[k->side][k->direction]++;
			if (x->wrefs[k->side][k->direction])
				x->wrefs[k->side][k->direction][at] = (struct wide_ref){id, i};
			x->lens[k->side][k->direction][q->family == 6][q->len / 64] |=
					1ull << (q->len % 64);
		}
	}
	for (int side = 0; side < 2; side++)
		for (int d = 0; d < 3; d++)
			if (x->wrefs[side][d] && x->nwrefs[side][d] > 1)
				qsort_r(x->wrefs[side][d], x->nwrefs[side][d],
						sizeof(struct wide_ref), cmp_wide_refs, x);
	x->wrules = xcalloc(x->nwides ? x->nwides : 1, sizeof(*x->wrules));
}

/* The i-th of the wide sets' prefixes of a side and direction, in order. */
static struct wide_ref wide_at(const struct shadow_index *x, int side, int direction, size_t i)
{
	uint32_t solo = x->wsolo[side][direction];

	return solo ? (struct wide_ref){solo - 1, (uint32_t)i} : x->wrefs[side][direction][i];
}

/* The first of the wide sets' prefixes equal to `k` or after it. */
static size_t wide_lower(
		const struct shadow_index *x, int side, int direction, const struct prefix_key *k)
{
	size_t lo = 0, hi = x->nwrefs[side][direction];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct wide_ref w = wide_at(x, side, direction, mid);
		if (cmp_key_prefix(k, wide_prefix(x, &w)) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void index_side(struct shadow_index *x, int side, const struct pc_rule *a, uint32_t rule)
{
	const struct pc_addrset *set = side ? &a->dst : &a->src;
	size_t npeers = side ? a->nto : a->nfrom;

	if (npeers == 0 || set->any) {
		rule_list_add(&x->any[side][a->direction], rule);
		return;
	}
	if (set->nv4 + set->nv6 > SHADOW_SET_WIDE) {
		rule_list_add(&x->wrules[wide_id(x, side, a->direction, set)], rule);
		return;
	}
	for (size_t i = 0; i < set->nv4; i++)
		index_prefix(x, side, a->direction, &set->v4[i], rule);
	for (size_t i = 0; i < set->nv6; i++)
		index_prefix(x, side, a->direction, &set->v6[i], rule);
}

static void refs_add(struct list_refs *r, const struct rule_list *l)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	r->v[r->n++] = l;
}

/*
 * The lists of rules that may cover b's ports: those under the bucket of its
 * first match's first port, and of the wide ones those under that bucket or
 * below that reach the match's end.  Returns how many rules they hold.
 */
static size_t port_candidates(struct shadow_index *x, const struct pc_rule *b)
{
	const struct pc_match *m = &b->matches[0];
	size_t base = ports_base(b->direction, m->proto);
	struct list_refs *out = &x->refs[2];
	size_t total = 0;

	out->n = 0;
	refs_add(out, &x->ports[base + (m->lo >> SHADOW_BUCKET_SHIFT)]);
	total += out->v[0]->n;
	for (unsigned u = 0; u <= (unsigned)m->lo >> SHADOW_BUCKET_SHIFT; u++) {
		size_t i = base + SHADOW_BUCKETS + u;
		if (x->ports[i].n && x->wide_hi[i] >= m->hi) {
			refs_add(out, &x->ports[i]);
			total += x->ports[i].n;
		}
	}
	return total;
}

/*
 * The lists of rules that may cover b's side (sources or destinations): the
 * list of rules of any address, and those under every prefix holding b's
 * first address (directly, or through a wide set).  Returns how many rules
 * they hold, or SIZE_MAX when b's side gives nothing to look up or they hold
 * more than `enough` (another list is shorter: gathering stops there).
 */
static size_t side_candidates(
		struct shadow_index *x, int side, const struct pc_rule *b, size_t enough)
{
	const struct pc_addrset *set = side ? &b->dst : &b->src;
	size_t npeers = side ? b->nto : b->nfrom, total;
	struct list_refs *out = &x->refs[side];

	out->n = 0;
	refs_add(out, &x->any[side][b->direction]);
	total = out->v[0]->n;
	if (npeers == 0 || set->any)
		return total;
	const struct pc_prefix *first = set->nv4 ? &set->v4[0] : set->nv6 ? &set->v6[0] : NULL;
	if (!first || (!x->cap && !x->nwrefs[side][b->direction]))
		return first ? total : SIZE_MAX;
	const uint64_t *lens = x->lens[side][b->direction][first->family == 6];
	for (unsigned len = 0; len <= first->len; len++) {
		if (!(lens[len / 64] >> (len % 64) & 1))
			continue;
		struct prefix_key k;
		prefix_key_make(&k, side, b->direction, first, len);
		const struct prefix_entry *e = x->cap ? prefix_slot(x->prefixes, x->cap, &k) : NULL;
		if (e && e->used && e->rules.n) {
			refs_add(out, &e->rules);
			total += e->rules.n;
		}
		size_t nw = x->nwrefs[side][b->direction];
		for (size_t i = nw ? wide_lower(x, side, b->direction, &k) : 0;
				i < nw && total <= enough; i++) {
			struct wide_ref w = wide_at(x, side, b->direction, i);
			if (cmp_key_prefix(&k, wide_prefix(x, &w)))
				break;
			refs_add(out, &x->wrules[w.id]);
			total += x->wrules[w.id].n;
		}
		if (total > enough)
			return SIZE_MAX;
	}
	return total;
}

/*
 * Whether rule a's ports and addresses hold all of b's.  The options decide
 * the rest (see group_cover): a rule with a limit covers nothing, one on
 * interfaces only rules on interfaces it holds all of (pc_ifaces_cover).
 */
static bool geometry_covers(struct shadow_index *x, const struct pc_policy *p, size_t ai,
		const struct pc_rule *b)
{
	const struct pc_rule *a = &p->rules[ai];

	if (a->direction != b->direction)
		return false;
	return matches_cover(a, sorted_of(x, p, ai), b) &&
	       set_covers(&a->src, a->nfrom, &b->src, b->nfrom) &&
	       set_covers(&a->dst, a->nto, &b->dst, b->nto);
}

/*
 * Rules of one direction with the same matches and the same sources and
 * destinations form a group, indexed once under its first rule: a later
 * rule of the group only changes which of them covers first.  Many rules on
 * one port from one host that differ by interface, limit, log or counter
 * then cost one candidate each, not one per earlier rule.
 */
static uint32_t set_hash(uint32_t h, const struct pc_addrset *set, size_t npeers)
{
	h = (h ^ (npeers == 0 || set->any)) * 16777619u;
	if (npeers == 0 || set->any)
		return h;
	h = (h ^ (uint32_t)set->nv4) * 16777619u;
	h = (h ^ (uint32_t)set->nv6) * 16777619u;
	/* The first prefixes only: a long set is told apart when compared. */
	for (size_t i = 0; i < set->nv4 + set->nv6 && i < 4; i++) {
		const struct pc_prefix *x = i < set->nv4 ? &set->v4[i] : &set->v6[i - set->nv4];
		for (size_t k = 0; k < 16; k++)
			h = (h ^ x->bytes[k]) * 16777619u;
		h = (h ^ x->len) * 16777619u;
	}
	return h;
}

static bool set_same(const struct pc_addrset *a, size_t na, const struct pc_addrset *b, size_t nb)
{
	bool all_a = na == 0 || a->any, all_b = nb == 0 || b->any;

	if (all_a || all_b)
		return all_a == all_b;
	if (a->nv4 != b->nv4 || a->nv6 != b->nv6)
		return false;
	for (size_t i = 0; a->v4 != b->v4 && i < a->nv4; i++)
		if (a->v4[i].len != b->v4[i].len || memcmp(a->v4[i].bytes, b->v4[i].bytes, 16))
			return false;
	for (size_t i = 0; a->v6 != b->v6 && i < a->nv6; i++)
		if (a->v6[i].len != b->v6[i].len || memcmp(a->v6[i].bytes, b->v6[i].bytes, 16))
			return false;
	return true;
}

static uint32_t geometry_hash(const struct pc_rule *r)
{
	uint32_t h = 2166136261u ^ (uint32_t)r->direction;

	h = (h ^ (uint32_t)r->nmatches) * 16777619u;
	for (size_t i = 0; i < r->nmatches; i++)
		h = (h ^ ((uint32_t)r->matches[i].proto << 16 ^ r->matches[i].lo ^
					 (uint32_t)r->matches[i].hi << 8)) *
		    16777619u;
	h = set_hash(h, &r->src, r->nfrom);
	return set_hash(h, &r->dst, r->nto);
}

static bool geometry_same(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->direction != b->direction || a->nmatches != b->nmatches)
		return false;
	for (size_t i = 0; i < a->nmatches; i++)
		if (a->matches[i].proto != b->matches[i].proto ||
				a->matches[i].lo != b->matches[i].lo ||
				a->matches[i].hi != b->matches[i].hi)
			return false;
	return set_same(&a->src, a->nfrom, &b->src, b->nfrom) &&
	       set_same(&a->dst, a->nto, &b->dst, b->nto);
}

/*
 * A rule's one interface when it names one plainly (no list, wildcard or
 * negation): those are indexed by name; the others are compared in full.
 */
static const char *plain_interface(const struct pc_rule *r)
{
	const struct pc_ifaces *s = &r->interface;

	return s->n == 1 && !s->negate && !pc_ifname_wild(s->names[0]) ? s->names[0] : NULL;
}

/* Members compared one by one against a rule on interfaces not plain: past these, unsure. */
#define SHADOW_IFACE_SCAN 64

/* Slots of the group index: a group by its first rule, or a (group, interface) pair. */
struct group_slot {
	uint32_t hash;
	uint32_t group; /* the group's first rule + 1; 0: empty */
	const char *interface; /* NULL: the group itself */
	uint32_t first; /* the group: its first rule without limit or interface, + 1;
			   a pair: its first rule without limit on that interface, + 1 */
};

static struct group_slot *group_slot(struct group_slot *v, size_t cap, const struct pc_policy *p,
		uint32_t hash, const struct pc_rule *rule, uint32_t group, const char *interface)
{
	size_t mask = cap - 1, i = hash & mask;

	for (; v[i].group; i = (i + 1) & mask) {
		if (v[i].hash != hash || !v[i].interface != !interface)
			continue;
		if (interface ? v[i].group == group && !strcmp(v[i].interface, interface)
			      : geometry_same(&p->rules[v[i].group - 1], rule))
			break;
	}
	return &v[i];
}

static void group_grow(struct shadow_index *x, const struct pc_policy *p)
{
	if (2 * (x->ngroups + 1) <= x->gcap)
		return;
	size_t cap = x->gcap ? 2 * x->gcap : 256;
	struct group_slot *v = xcalloc(cap, sizeof(*v));
	for (size_t i = 0; i < x->gcap; i++) {
		const struct group_slot *e = &x->groups[i];
		if (e->group)
			*group_slot(v, cap, p, e->hash, &p->rules[e->group - 1], e->group,
					e->interface) = *e;
	}
	free(x->groups);
	x->groups = v;
	x->gcap = cap;
}

static uint32_t pair_hash(uint32_t group, const char *interface)
{
	return pc_name_hash(interface) ^ group * 2654435761u;
}

/*
 * Rule j's group: found, or made with j first (then `*fresh`).  Rule j is
 * then recorded among the group's members that may cover later rules.
 */
static uint32_t group_join(struct shadow_index *x, const struct pc_policy *p, size_t j, bool *fresh)
{
	const struct pc_rule *b = &p->rules[j];
	uint32_t hash = x->ghash[j];

	group_grow(x, p);
	struct group_slot *g = group_slot(x->groups, x->gcap, p, hash, b, 0, NULL);
	*fresh = !g->group;
	if (!g->group) {
		*g = (struct group_slot){hash, (uint32_t)j + 1, NULL, 0};
		x->ngroups++;
	}
	uint32_t group = g->group;
	if (b->flags & PC_RULE_F_LIMIT)
		return group;
	if (!b->interface.n) {
		if (!g->first)
			g->first = (uint32_t)j + 1;
		return group;
	}
	const char *plain = plain_interface(b);
	if (!plain) {
		rule_list_add(&x->ifrules[group - 1], (uint32_t)j);
		return group;
	}
	group_grow(x, p);
	uint32_t ph = pair_hash(group, plain);
	struct group_slot *e = group_slot(x->groups, x->gcap, p, ph, b, group, plain);
	if (!e->group) {
		*e = (struct group_slot){ph, group, plain, (uint32_t)j + 1};
		x->ngroups++;
	}
	return group;
}

/*
 * The first member of group `rep` on interfaces not plain whose interfaces
 * hold all of b's, if before `best`; a bounded scan, as not knowing is
 * reported as not shadowed.
 */
static size_t interface_cover(const struct shadow_index *x, const struct pc_policy *p, size_t rep,
		const struct pc_rule *b, size_t best)
{
	const struct rule_list *l = &x->ifrules[rep];
	const uint32_t *v = rule_list_items(l);

	for (size_t i = 0; i < l->n && i < SHADOW_IFACE_SCAN && v[i] < best; i++)
		if (pc_ifaces_cover(&p->rules[v[i]].interface, &b->interface))
			return v[i];
	return best;
}

/* The first rule of the group under rule `rep` (its first) that covers b, or SIZE_MAX. */
static size_t group_cover(struct shadow_index *x, const struct pc_policy *p, size_t rep,
		const struct pc_rule *b)
{
	size_t best = SIZE_MAX;

	if (!geometry_covers(x, p, rep, b))
		return SIZE_MAX;
	const struct pc_rule *a = &p->rules[rep];
	const struct group_slot *g = group_slot(x->groups, x->gcap, p, x->ghash[rep], a, 0, NULL);
	if (g->first)
		best = g->first - 1;
	const char *plain = plain_interface(b);
	if (plain) {
		uint32_t group = (uint32_t)rep + 1;
		const struct group_slot *e = group_slot(
				x->groups, x->gcap, p, pair_hash(group, plain), b, group, plain);
		if (e->group && e->first - 1 < best)
			best = e->first - 1;
	}
	if (b->interface.n)
		best = interface_cover(x, p, rep, b, best);
	return best;
}

static void report_shadowed(struct resolver *r, struct shadow_index *x, size_t ai, size_t bi)
{
	const struct pc_rule *a = &r->p->rules[ai], *b = &r->p->rules[bi];
	/* What a rule with errors matches is not what its author wrote: nothing to say. */
	if (r->erred && (r->erred[ai] || r->erred[bi]))
		return;
	bool same = a->direction == b->direction && matches_cover(b, sorted_of(x, r->p, bi), a) &&
		    set_covers(&b->src, b->nfrom, &a->src, a->nfrom) &&
		    set_covers(&b->dst, b->nto, &a->dst, a->nto) && a->action == b->action &&
		    pc_ifaces_cover(&b->interface, &a->interface);
	struct pc_diag *d = rdiag(r, PC_SEV_WARNING, same ? "rule-duplicate" : "rule-shadowed",
			&b->loc,
			same ? "this rule repeats the rule at %s:%u:%u"
			     : "this rule never matches: the rule at %s:%u:%u matches "
			       "all of its packets first",
			a->loc.file, a->loc.line, a->loc.col);
	pc_diag_hint(d, same ? "remove one of them" : "move it above, or remove it");
}

static void check_shadowing(struct resolver *r)
{
	struct pc_policy *p = r->p;
	size_t nlists = 3 * PC_PROTO_COUNT * (2 * SHADOW_BUCKETS);
	struct shadow_index x;

	memset(&x, 0, sizeof(x));
	/* 590 KB of lists of which a policy writes a few: only their pages are touched */
	x.ports = pc_zpages(nlists * sizeof(*x.ports));
	x.wide_hi = pc_zpages(nlists * sizeof(*x.wide_hi));
	x.sorted = xcalloc(p->nrules ? p->nrules : 1, sizeof(*x.sorted));
	x.ghash = xcalloc(p->nrules ? p->nrules : 1, sizeof(*x.ghash));
	x.ifrules = xcalloc(p->nrules ? p->nrules : 1, sizeof(*x.ifrules));
	index_wides(&x, p);
	for (size_t j = 0; j < p->nrules; j++) {
		const struct pc_rule *b = &p->rules[j];
		x.ghash[j] = geometry_hash(b);
		if (b->nmatches) {
			size_t best = port_candidates(&x, b);
			size_t ncand = x.refs[2].n;
			const struct rule_list **cand = x.refs[2].v;
			for (int s = 0; s < 2; s++) {
				size_t n = side_candidates(&x, s, b, best);
				if (n < best) {
					best = n;
					ncand = x.refs[s].n;
					cand = x.refs[s].v;
				}
			}
			size_t first = SIZE_MAX;
			for (size_t c = 0; c < ncand; c++) {
				const uint32_t *v = rule_list_items(cand[c]);
				for (size_t k = 0; k < cand[c]->n && v[k] < first; k++) {
					size_t g = group_cover(&x, p, v[k], b);
					if (g < first)
						first = g;
				}
			}
			if (first != SIZE_MAX)
				report_shadowed(r, &x, first, j);
		}
		bool fresh;
		group_join(&x, p, j, &fresh);
		if (!fresh)
			continue;
		for (size_t k = 0; k < b->nmatches; k++) {
			const struct pc_match *m = &b->matches[k];
			size_t base = ports_base(b->direction, m->proto);
			unsigned lo = m->lo >> SHADOW_BUCKET_SHIFT;
			unsigned hi = m->hi >> SHADOW_BUCKET_SHIFT;
			if (hi - lo >= SHADOW_WIDE) {
				size_t w = base + SHADOW_BUCKETS + lo;
				port_list_add(&x, w, (uint32_t)j);
				if (x.wide_hi[w] < m->hi)
					x.wide_hi[w] = m->hi;
				continue;
			}
			for (unsigned u = lo; u <= hi; u++)
				port_list_add(&x, base + u, (uint32_t)j);
		}
		index_side(&x, 0, b, (uint32_t)j);
		index_side(&x, 1, b, (uint32_t)j);
	}
	for (size_t i = 0; i < x.nports_used; i++)
		rule_list_finish(&x.ports[x.ports_used[i]]);
	free(x.ports_used);
	pc_zpages_free(x.ports, nlists * sizeof(*x.ports));
	pc_zpages_free(x.wide_hi, nlists * sizeof(*x.wide_hi));
	for (size_t i = 0; i < x.cap; i++)
		rule_list_finish(&x.prefixes[i].rules);
	for (int s = 0; s < 2; s++)
		for (int d = 0; d < 3; d++)
			free(x.wrefs[s][d]);
	for (size_t i = 0; i < x.nwides; i++)
		rule_list_finish(&x.wrules[i]);
	free(x.wrules);
	free(x.wkeys);
	free(x.wslots);
	for (int s = 0; s < 3; s++)
		free(x.refs[s].v);
	free(x.prefixes);
	for (int s = 0; s < 2; s++)
		for (int d = 0; d < 3; d++) {
			rule_list_finish(&x.any[s][d]);
		}
	for (size_t i = 0; i < p->nrules; i++)
		free(x.sorted[i].v);
	free(x.sorted);
	free(x.groups);
	free(x.ghash);
	for (size_t i = 0; i < p->nrules; i++)
		rule_list_finish(&x.ifrules[i]);
	free(x.ifrules);
}

/* ---- the KDC configuration's listen addresses ----------------------- */

/* Whether the address `x` lies in `set` (the destinations a rule wrote). */
static bool set_holds(const struct pc_addrset *set, const struct pc_prefix *x)
{
	const struct pc_prefix *v = x->family == 4 ? set->v4 : set->v6;
	size_t n = x->family == 4 ? set->nv4 : set->nv6;

	if (set->any)
		return true;
	for (size_t i = 0; i < n; i++)
		if (prefix_covers(&v[i], x))
			return true;
	return false;
}

/* Whether the ", "-separated `list` holds the `len` bytes at `item`. */
static bool list_has(const char *list, const char *item, size_t len)
{
	while (list && *list) {
		size_t n = strcspn(list, ",");
		if (n == len && !memcmp(list, item, len))
			return true;
		list += n;
		list += strspn(list, ", ");
	}
	return false;
}

/*
 * An input rule whose services all come from the kdc-conf layer with the same
 * listen addresses: those addresses become its destinations (as if it had
 * `to:` them), within the `to:` it has.
 */
static void narrow_to_listen(struct resolver *r, struct pc_rule *rule)
{
	const struct pc_match *first = NULL;
	struct pc_buf all;

	if (rule->direction != PC_DIR_INPUT || rule->action != PC_ACTION_ALLOW)
		return;
	for (size_t i = 0; i < rule->nmatches && !first; i++)
		if (rule->matches[i].listen && *rule->matches[i].listen)
			first = &rule->matches[i];
	if (!first)
		return;
	/* The union of what each listens on: every one must name its addresses. */
	pc_buf_init(&all);
	for (size_t i = 0; i < rule->nmatches; i++) {
		const struct pc_match *m = &rule->matches[i];
		if (m->listen && *m->listen) {
			for (const char *c = m->listen; *c;) {
				size_t len = strcspn(c, ",");
				if (!list_has(all.data, c, len))
					pc_buf_printf(&all, "%s%.*s", all.len ? ", " : "", (int)len,
							c);
				c += len;
				c += strspn(c, ", ");
			}
			continue;
		}
		struct pc_diag *d = rdiag(r, PC_SEV_WARNING, "kdc-conf-addresses", &first->loc,
				"'%s' listens on %s only (%s:%u), but '%s' on every address: the "
				"rule is not narrowed to those addresses",
				first->service, first->listen, first->src_file, first->src_line,
				m->service ? m->service : "a port");
		pc_diag_hint(d, "write the services that listen on every address in a rule of "
				"their own");
		pc_buf_finish(&all);
		return;
	}
	size_t n = 1;
	for (const char *c = all.data; *c; c++)
		n += *c == ',';
	struct pc_peer *peers = ralloc(r, n * sizeof(*peers));
	struct pc_buf kept_text;
	size_t kept = 0;
	pc_buf_init(&kept_text);
	for (const char *c = all.data; *c;) {
		size_t len = strcspn(c, ",");
		struct pc_peer peer = {pc_arena_strndup(&r->p->state->arena, c, len), first->loc};
		struct pc_prefix x;
		if (parse_prefix(r, &peer, &x) == 0 && (!rule->nto || set_holds(&rule->dst, &x))) {
			pc_buf_printf(&kept_text, "%s%s", kept ? ", " : "", peer.text);
			peers[kept++] = peer;
		}
		c += len;
		c += strspn(c, ", ");
	}
	if (!kept) {
		struct pc_diag *d = rdiag(r, PC_SEV_ERROR, "kdc-conf-addresses", &rule->to[0].loc,
				"none of this rule's destinations is an address its services listen "
				"on (%s, %s:%u): the rule matches nothing",
				all.data, first->src_file, first->src_line);
		pc_diag_hint(d, "add one of those addresses to `to:`, or leave `to:` out");
	} else {
		rdiag(r, PC_SEV_NOTE, "kdc-conf-addresses", &first->loc,
				"the KDC configuration (%s:%u) says where these services listen: "
				"the rule's destinations are %s%s",
				first->src_file, first->src_line, kept_text.data,
				rule->nto ? ", within its `to:`" : " (as if it had `to:` them)");
		rule->to = peers;
		rule->nto = kept;
		/* The kept addresses replace the destinations: each lies within them. */
		memset(&rule->dst, 0, sizeof(rule->dst));
		resolve_rule_peers(r, rule->to, rule->nto, &rule->dst, "this rule's destinations");
	}
	pc_buf_finish(&kept_text);
	pc_buf_finish(&all);
}

/*
 * iprop_enable = true in the KDC configuration and no rule allowing iprop:
 * the replicas cannot pull the updates.
 */
static void check_iprop(struct resolver *r)
{
	struct pc_records rows;
	const struct pc_record *row = NULL;

	if (!pc_registry_has_layer(r->reg, PC_LAYER_KDC))
		return; /* only a KDC configuration's row is asked: no name table is read */
	pc_records_init(&rows);
	pc_registry_find_name(r->reg, "iprop", &rows);
	for (size_t i = 0; i < rows.n && !row; i++)
		if (rows.v[i].layer == PC_LAYER_KDC && (rows.v[i].flags & PC_ENTRY_F_PORT))
			row = &rows.v[i];
	for (size_t i = 0; row && i < r->p->nrules; i++) {
		const struct pc_rule *rule = &r->p->rules[i];
		if (rule->action != PC_ACTION_ALLOW || rule->direction != PC_DIR_INPUT)
			continue;
		for (size_t k = 0; k < rule->nmatches && row; k++) {
			const struct pc_match *m = &rule->matches[k];
			if (m->proto == row->proto && m->lo <= row->port_lo &&
					row->port_lo <= m->hi)
				row = NULL;
		}
	}
	if (row) {
		struct pc_diag *d = pc_diag_add(r->diags, PC_SEV_WARNING, "kdc-conf-iprop",
				row->file, row->line, 0,
				"incremental propagation is enabled (iprop on %u/%s) but no rule "
				"allows it: the replicas cannot ask for updates",
				row->port_lo, pc_proto_name(row->proto));
		pc_diag_hint(d, "allow: iprop, from: the replicas");
	}
	pc_records_finish(&rows);
}

/* ---- entry point ------------------------------------------------------ */

int pc_policy_resolve(struct pc_policy *p, struct pc_registry *reg, struct pc_diags *diags)
{
	struct resolver r = {.p = p, .reg = reg, .diags = diags};
	size_t before = diags->nerrors;

	if (p->layers_given) {
		for (int k = 0; k < PC_LAYER_COUNT; k++)
			if ((pc_layer_def((enum pc_layer_kind)k)->flags & PC_LAYER_F_EMBEDDED) &&
					!(p->layers & (1u << k)))
				pc_registry_remove_layer(reg, (enum pc_layer_kind)k);
	}
	index_defs(&r);
	define_services(&r);
	for (size_t i = 0; i < p->nservices; i++)
		report_replaced(&r, &p->services[i]);
	for (size_t i = 0; i < p->nservices; i++)
		check_group(&r, &p->services[i]);
	index_networks(&r);
	for (size_t i = 0; i < p->nnetworks; i++)
		resolve_network(&r, &p->networks[i]);
	for (size_t i = 0; i < p->nrules; i++) {
		struct pc_rule *rule = &p->rules[i];
		size_t errors = diags->nerrors;
		resolve_rule_peers(&r, rule->from, rule->nfrom, &rule->src, "this rule's sources");
		resolve_rule_peers(&r, rule->to, rule->nto, &rule->dst, "this rule's destinations");
		/* A new mark empties the match index for this rule. */
		if (++r.mgen == 0 && r.mslots) {
			memset(r.mslots, 0, r.nmslots * sizeof(*r.mslots));
			r.mgen = 1;
		} else if (r.mgen == 0) {
			r.mgen = 1;
		}
		for (size_t k = 0; k < rule->nservices; k++)
			resolve_service(&r, rule, &rule->services[k]);
		narrow_to_listen(&r, rule);
		if (diags->nerrors != errors) {
			if (!r.erred)
				r.erred = xcalloc(p->nrules, sizeof(*r.erred));
			r.erred[i] = true;
		}
	}
	check_iprop(&r);
	free(r.mslots);
	free(r.hints);
	free(r.unions);
	check_shadowing(&r);
	free(r.erred);
	pc_policy_check_replies(p, diags);
	pol_lint(p, diags, diags->nerrors == before);
	pc_policy_acknowledge(p, diags, r.about, r.nabout < diags->n ? r.nabout : diags->n);
	free(r.about);
	free(r.defs);
	return diags->nerrors == before ? 0 : -1;
}
