/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The evaluator: what the resolved policy does with one packet, first match
 * wins as in an nft chain.  It is the oracle the kernel tests compare against.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portcullis/policy.h"
#include "util.h"

static bool prefix_has(const struct pc_prefix *x, const uint8_t *addr)
{
	for (unsigned bit = 0; bit < x->len; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if ((x->bytes[bit / 8] ^ addr[bit / 8]) & m)
			return false;
	}
	return true;
}

const struct pc_prefix *pc_addrset_find(
		const struct pc_addrset *set, int family, const uint8_t *addr)
{
	const struct pc_prefix *v = family == 4 ? set->v4 : set->v6;
	size_t n = family == 4 ? set->nv4 : set->nv6;

	for (size_t i = 0; i < n; i++)
		if (prefix_has(&v[i], addr))
			return &v[i];
	return NULL;
}

/* Whether one side of a rule lets the packet through: 1, 0, or -1 when the packet gives no address
 * there. */
static int set_has(const struct pc_addrset *set, size_t npeers, const struct pc_packet *pkt,
		bool given, const uint8_t *addr)
{
	if (npeers == 0 || set->any)
		return 1;
	if (!given)
		return -1;
	return pc_addrset_find(set, pkt->family, addr) != NULL;
}

/* Whether the packet is on the rule's interfaces: 1, 0, or -1 when its interface is unknown. */
static int on_interface(const struct pc_rule *r, const struct pc_packet *pkt)
{
	if (!r->interface.n)
		return 1;
	if (!pkt->iface[0])
		return -1;
	return pc_ifaces_match(&r->interface, pkt->iface);
}

static void mask_to(uint8_t *out, const uint8_t *in, unsigned len)
{
	memset(out, 0, 16);
	memcpy(out, in, len / 8);
	if (len % 8)
		out[len / 8] = in[len / 8] & (uint8_t)(0xffu << (8 - len % 8));
}

/* Whether rule `r` decides the packet (out filled), or passes it over (counted when it must). */
static bool rule_decides(const struct pc_rule *r, size_t i, const struct pc_packet *pkt,
		struct pc_decision *out)
{
	if (r->direction != pkt->direction || (pkt->over_limit && (r->flags & PC_RULE_F_LIMIT)))
		return false;
	int src = set_has(&r->src, r->nfrom, pkt, pkt->has_src, pkt->src);
	int dst = set_has(&r->dst, r->nto, pkt, pkt->has_dst, pkt->dst);
	if (src == 0 || dst == 0)
		return false;
	for (size_t k = 0; k < r->nmatches; k++) {
		const struct pc_match *m = &r->matches[k];
		if (m->proto != pkt->proto || pkt->port < m->lo || pkt->port > m->hi)
			continue;
		int on = on_interface(r, pkt);
		if (on < 0)
			out->skipped_interface++;
		if (on <= 0)
			return false;
		if (src < 0 || dst < 0) {
			out->skipped_destination++;
			return false;
		}
		out->by_rule = true;
		out->rule = i;
		out->match = k;
		out->action = r->action;
		out->verdict = r->action == PC_ACTION_ALLOW ? PC_VERDICT_ACCEPT : PC_VERDICT_DROP;
		return true;
	}
	return false;
}

static bool on_loopback(const struct pc_policy *p, const struct pc_packet *pkt)
{
	return pkt->iface[0] && pkt->direction != PC_DIR_FORWARD && p->defaults.loopback &&
	       !strcmp(pkt->iface, "lo");
}

static enum pc_verdict default_of(const struct pc_policy *p, enum pc_direction dir)
{
	return dir == PC_DIR_INPUT    ? p->defaults.input
	       : dir == PC_DIR_OUTPUT ? p->defaults.output
				      : p->defaults.forward;
}

void pc_policy_evaluate(
		const struct pc_policy *p, const struct pc_packet *pkt, struct pc_decision *out)
{
	memset(out, 0, sizeof(*out));
	if (on_loopback(p, pkt)) {
		out->by_loopback = true;
		out->verdict = PC_VERDICT_ACCEPT;
		return;
	}
	for (size_t i = 0; i < p->nrules; i++)
		if (rule_decides(&p->rules[i], i, pkt, out))
			return;
	out->verdict = default_of(p, pkt->direction);
}

/* ---- many packets: the rules each may meet, found by its source ------- */

/* A source prefix of one distinct set of sources (rules naming one network share it). */
struct eval_key {
	uint8_t bytes[16];
	uint8_t family, len;
	uint32_t set;
};

/* A rule's sources, found by their arrays: rules with the same arrays share a set. */
struct eval_user {
	const void *v4, *v6;
	size_t rule;
};

/* A list of rules in order, walked in step with the others: a run of users, or `every`. */
struct eval_run {
	const size_t *v;
	size_t at, n;
};

struct pc_eval_index {
	const struct pc_policy *p;
	size_t *every, nevery; /* the rules that hold every source, in order */
	size_t *users, *set_start; /* set s: its rules users[set_start[s]..set_start[s + 1]) */
	size_t nsets;
	struct eval_key *keys;
	size_t nkeys, keys_cap;
	size_t group[2][130]; /* keys of family 4 (0) or 6 (1) and the g-th length of lens */
	uint8_t lens[2][129];
	size_t nlens[2];
	/* A packet's sets and runs of rules, kept for the next: no allocation a packet. */
	uint32_t *sets;
	struct eval_run *runs;
	size_t sets_cap, runs_cap;
};

static int user_cmp(const void *a, const void *b)
{
	const struct eval_user *x = a, *y = b;

	if (x->v4 != y->v4)
		return (uintptr_t)x->v4 < (uintptr_t)y->v4 ? -1 : 1;
	if (x->v6 != y->v6)
		return (uintptr_t)x->v6 < (uintptr_t)y->v6 ? -1 : 1;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

static int eval_key_cmp(const void *a, const void *b)
{
	const struct eval_key *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	int c = memcmp(x->bytes, y->bytes, 16);
	if (c)
		return c;
	return (x->set > y->set) - (x->set < y->set);
}

/*
 * Array v of *cap elements of `size` bytes with room for `more` past n:
 * doubled when it has not.  Grown by each set's count alone, it was copied
 * whole for each set where the allocator could not extend it in place (under
 * ASan, always): n sets cost n times the keys.
 */
static void *keys_room(void *v, size_t *cap, size_t n, size_t more, size_t size)
{
	if (*cap - n >= more)
		return v;
	size_t c = *cap ? *cap : 64;
	while (c - n < more)
		c *= 2;
	*cap = c;
	return xreallocarray(v, c, size);
}

static void eval_keys_of(struct pc_eval_index *x, const struct pc_addrset *set, uint32_t id)
{
	x->keys = keys_room(
			x->keys, &x->keys_cap, x->nkeys, set->nv4 + set->nv6 + 1, sizeof(*x->keys));
	for (int f = 0; f < 2; f++) {
		const struct pc_prefix *v = f ? set->v6 : set->v4;
		size_t n = f ? set->nv6 : set->nv4;
		for (size_t i = 0; i < n; i++) {
			struct eval_key *k = &x->keys[x->nkeys++];
			mask_to(k->bytes, v[i].bytes, v[i].len);
			k->family = f ? 6 : 4;
			k->len = v[i].len;
			k->set = id;
		}
	}
}

/* The distinct sets of sources, each with its rules in order, and their prefixes as keys. */
static void eval_sets(struct pc_eval_index *x, struct eval_user *u, size_t nu)
{
	const struct pc_policy *p = x->p;

	qsort(u, nu, sizeof(*u), user_cmp);
	x->users = xcalloc(nu + 1, sizeof(*x->users));
	x->set_start = xcalloc(nu + 1, sizeof(*x->set_start));
	for (size_t i = 0; i < nu; i++) {
		if (!i || u[i].v4 != u[i - 1].v4 || u[i].v6 != u[i - 1].v6) {
			x->set_start[x->nsets] = i;
			eval_keys_of(x, &p->rules[u[i].rule].src, (uint32_t)x->nsets++);
		}
		x->users[i] = u[i].rule;
	}
	x->set_start[x->nsets] = nu;
}

static void eval_groups(struct pc_eval_index *x)
{
	if (x->nkeys) /* no prefix at all: no array either */
		qsort(x->keys, x->nkeys, sizeof(*x->keys), eval_key_cmp);
	for (size_t i = 0; i < x->nkeys; i++) {
		const struct eval_key *k = &x->keys[i];
		int f = k->family == 6;
		if (i && x->keys[i - 1].family == k->family && x->keys[i - 1].len == k->len)
			continue;
		x->lens[f][x->nlens[f]] = k->len;
		x->group[f][x->nlens[f]++] = i;
	}
	for (int f = 0; f < 2; f++) {
		/* Each group ends where the next begins; the last of a family where the family
		 * does. */
		size_t end = f ? x->nkeys : (x->nlens[1] ? x->group[1][0] : x->nkeys);
		x->group[f][x->nlens[f]] = end;
	}
}

struct pc_eval_index *pc_eval_index_create(const struct pc_policy *p)
{
	struct pc_eval_index *x = xcalloc(1, sizeof(*x));
	struct eval_user *u = xcalloc(p->nrules + 1, sizeof(*u));
	size_t nu = 0;

	x->p = p;
	x->every = xcalloc(p->nrules + 1, sizeof(*x->every));
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		if (!r->nfrom || r->src.any)
			x->every[x->nevery++] = i;
		else
			u[nu++] = (struct eval_user){r->src.v4, r->src.v6, i};
	}
	eval_sets(x, u, nu);
	free(u);
	eval_groups(x);
	return x;
}

/* The keys of family f, length group g, equal to `src` masked: [*lo, *hi). */
static void eval_find(const struct pc_eval_index *x, int f, size_t g, const uint8_t *src,
		size_t *from, size_t *to)
{
	uint8_t want[16];
	size_t lo = x->group[f][g], hi = x->group[f][g + 1];

	mask_to(want, src, x->lens[f][g]);
	while (lo < hi) { /* the first key not below */
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(x->keys[mid].bytes, want, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*from = lo;
	hi = x->group[f][g + 1];
	while (lo < hi && !memcmp(x->keys[lo].bytes, want, 16))
		lo++;
	*to = lo;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void pc_eval_index_evaluate(
		struct pc_eval_index *x, const struct pc_packet *pkt, struct pc_decision *out)
{
	const struct pc_policy *p = x->p;
	int f = pkt->family == 6;

	if (!pkt->has_src || on_loopback(p, pkt) || (pkt->family != 4 && pkt->family != 6)) {
		pc_policy_evaluate(p, pkt, out);
		return;
	}
	/* The rules whose sources hold the packet's: those of each set a key of it names, and
	 * those that hold every source; no other rule can match it, nor be counted. */
	size_t nsets = 0;
	for (size_t g = 0; g < x->nlens[f]; g++) {
		size_t from, to;
		eval_find(x, f, g, pkt->src, &from, &to);
		for (size_t k = from; k < to; k++) {
			if (nsets == x->sets_cap) {
				x->sets_cap = x->sets_cap ? 2 * x->sets_cap : 8;
				x->sets = xreallocarray(x->sets, x->sets_cap, sizeof(*x->sets));
			}
			x->sets[nsets++] = x->keys[k].set;
		}
	}
	uint32_t *sets = x->sets;
	/* A set whose prefixes nest names the packet once: each rule is met once. */
	if (nsets)
		qsort(sets, nsets, sizeof(*sets), u32_cmp);
	if (x->runs_cap < nsets + 1) {
		x->runs_cap = nsets + 1 > 2 * x->runs_cap ? nsets + 1 : 2 * x->runs_cap;
		x->runs = xreallocarray(x->runs, x->runs_cap, sizeof(*x->runs));
	}
	struct eval_run *runs = x->runs;
	size_t nruns = 1;
	runs[0] = (struct eval_run){x->every, 0, x->nevery};
	for (size_t k = 0; k < nsets; k++) {
		uint32_t s = sets[k];
		if (k && s == sets[k - 1])
			continue;
		runs[nruns++] = (struct eval_run){x->users + x->set_start[s], 0,
				x->set_start[s + 1] - x->set_start[s]};
	}
	memset(out, 0, sizeof(*out));
	for (;;) {
		size_t best = SIZE_MAX, at = 0;
		for (size_t k = 0; k < nruns; k++)
			if (runs[k].at < runs[k].n && runs[k].v[runs[k].at] < best) {
				best = runs[k].v[runs[k].at];
				at = k;
			}
		if (best == SIZE_MAX)
			break;
		runs[at].at++;
		if (rule_decides(&p->rules[best], best, pkt, out))
			return;
	}
	out->verdict = default_of(p, pkt->direction);
}

void pc_eval_index_destroy(struct pc_eval_index *x)
{
	if (!x)
		return;
	free(x->every);
	free(x->users);
	free(x->set_start);
	free(x->keys);
	free(x->sets);
	free(x->runs);
	free(x);
}

/* ---- many sources, the rest of the packet fixed ---------------------- */

/* A prefix of the sources of a rule that can decide, and the first such rule's place. */
struct src_key {
	uint8_t bytes[16];
	uint8_t len;
	size_t pos;
};

struct pc_source_index {
	const struct pc_policy *p;
	struct pc_packet pkt;
	bool loopback;
	size_t *rules, *match, n; /* the rules that can decide, in order, and their match */
	size_t every; /* the first of them that holds every source (n: none) */
	struct src_key *keys;
	size_t nkeys, keys_cap;
	size_t group[130]; /* keys[group[g]..group[g + 1]) have the g-th length of lens */
	uint8_t lens[129];
	size_t nlens;
};

static int key_cmp(const void *a, const void *b)
{
	const struct src_key *x = a, *y = b;
	int c = memcmp(x->bytes, y->bytes, 16);

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (c)
		return c;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Whether rule `r` matches the packet whatever its source: its match in *k. */
static bool decides_but_source(const struct pc_rule *r, const struct pc_packet *pkt, size_t *k)
{
	if (r->direction != pkt->direction || (pkt->over_limit && (r->flags & PC_RULE_F_LIMIT)))
		return false;
	if (set_has(&r->dst, r->nto, pkt, pkt->has_dst, pkt->dst) != 1)
		return false;
	for (*k = 0; *k < r->nmatches; (*k)++) {
		const struct pc_match *m = &r->matches[*k];
		if (m->proto == pkt->proto && pkt->port >= m->lo && pkt->port <= m->hi)
			return on_interface(r, pkt) == 1;
	}
	return false;
}

static void add_keys(struct pc_source_index *x, const struct pc_addrset *set, size_t pos)
{
	const struct pc_prefix *v = x->pkt.family == 4 ? set->v4 : set->v6;
	size_t n = x->pkt.family == 4 ? set->nv4 : set->nv6;

	x->keys = keys_room(x->keys, &x->keys_cap, x->nkeys, n + 1, sizeof(*x->keys));
	for (size_t i = 0; i < n; i++) {
		struct src_key *key = &x->keys[x->nkeys++];
		mask_to(key->bytes, v[i].bytes, v[i].len);
		key->len = v[i].len;
		key->pos = pos;
	}
}

/* The keys sorted by length, address and place, one per prefix (its first place), grouped. */
static void group_keys(struct pc_source_index *x)
{
	size_t w = 0;

	if (x->nkeys) /* no prefix at all: no array either */
		qsort(x->keys, x->nkeys, sizeof(*x->keys), key_cmp);
	for (size_t i = 0; i < x->nkeys; i++) {
		const struct src_key *k = &x->keys[i];
		if (w && x->keys[w - 1].len == k->len &&
				!memcmp(x->keys[w - 1].bytes, k->bytes, 16))
			continue;
		if (!w || x->keys[w - 1].len != k->len) {
			x->lens[x->nlens] = k->len;
			x->group[x->nlens++] = w;
		}
		x->keys[w++] = *k;
	}
	x->nkeys = w;
	x->group[x->nlens] = w;
}

struct pc_source_index *pc_source_index_create(
		const struct pc_policy *p, const struct pc_packet *pkt)
{
	struct pc_source_index *x = xcalloc(1, sizeof(*x));

	x->p = p;
	x->pkt = *pkt;
	x->pkt.has_src = true;
	x->loopback = on_loopback(p, pkt);
	x->rules = xcalloc(p->nrules + 1, sizeof(*x->rules));
	x->match = xcalloc(p->nrules + 1, sizeof(*x->match));
	for (size_t i = 0; !x->loopback && i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		size_t k;
		if (!decides_but_source(r, &x->pkt, &k))
			continue;
		x->rules[x->n] = i;
		x->match[x->n] = k;
		if (r->nfrom == 0 || r->src.any) {
			x->n++;
			break; /* it decides every source the rules before it leave */
		}
		add_keys(x, &r->src, x->n++);
	}
	x->every = x->n && (!p->rules[x->rules[x->n - 1]].nfrom ||
					   p->rules[x->rules[x->n - 1]].src.any)
				   ? x->n - 1
				   : x->n;
	group_keys(x);
	return x;
}

/* The place of the first rule whose sources hold `src` among the keys of length group g. */
static size_t find_in_group(const struct pc_source_index *x, size_t g, const uint8_t *src)
{
	struct src_key want;
	size_t lo = x->group[g], hi = x->group[g + 1];

	mask_to(want.bytes, src, x->lens[g]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(x->keys[mid].bytes, want.bytes, 16);
		if (!c)
			return x->keys[mid].pos;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return x->n;
}

void pc_source_index_evaluate(
		const struct pc_source_index *x, const uint8_t *src, struct pc_decision *out)
{
	const struct pc_policy *p = x->p;
	size_t best = x->every;

	memset(out, 0, sizeof(*out));
	if (x->loopback) {
		out->by_loopback = true;
		out->verdict = PC_VERDICT_ACCEPT;
		return;
	}
	for (size_t g = 0; g < x->nlens; g++) {
		size_t pos = find_in_group(x, g, src);
		if (pos < best)
			best = pos;
	}
	if (best < x->n) {
		const struct pc_rule *r = &p->rules[x->rules[best]];
		out->by_rule = true;
		out->rule = x->rules[best];
		out->match = x->match[best];
		out->action = r->action;
		out->verdict = r->action == PC_ACTION_ALLOW ? PC_VERDICT_ACCEPT : PC_VERDICT_DROP;
		return;
	}
	out->verdict = default_of(p, x->pkt.direction);
}

void pc_source_index_destroy(struct pc_source_index *x)
{
	if (!x)
		return;
	free(x->rules);
	free(x->match);
	free(x->keys);
	free(x);
}

/* ---- the packet's text ------------------------------------------------ */

#define MAX_WORDS 8

struct words {
	const char *s;
	char buf[256];
	char *w[MAX_WORDS + 1];
	unsigned col[MAX_WORDS + 1];
	int n;
};

__attribute__((format(printf, 3, 4))) static int fail(
		struct pc_packet_error *e, unsigned col, const char *fmt, ...)
{
	va_list ap;

	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* The column of word i, or just past the text when there is none. */
static unsigned col_of(const struct words *w, int i)
{
	return i < w->n ? w->col[i] : (unsigned)strlen(w->s) + 1;
}

static const char *word(const struct words *w, int i)
{
	return i < w->n ? w->w[i] : NULL;
}

static bool word_is(const struct words *w, int i, const char *s)
{
	return i < w->n && !strcmp(w->w[i], s);
}

static int split(struct words *w, const char *s, struct pc_packet_error *e)
{
	size_t len = strlen(s);

	w->s = s;
	w->n = 0;
	if (len >= sizeof(w->buf))
		return fail(e, (unsigned)sizeof(w->buf),
				"the packet is too long to be one (at most 255 characters)");
	memcpy(w->buf, s, len + 1);
	for (size_t k = 0; k < len;) {
		if (w->buf[k] == ' ' || w->buf[k] == '\t') {
			w->buf[k++] = '\0';
			continue;
		}
		if (w->n == MAX_WORDS)
			return fail(e, (unsigned)k + 1, "too many words: '%s' and what follows",
					w->buf + k);
		w->col[w->n] = (unsigned)k + 1;
		w->w[w->n++] = w->buf + k;
		while (k < len && w->buf[k] != ' ' && w->buf[k] != '\t')
			k++;
	}
	return 0;
}

static int parse_addr(const struct words *w, int i, struct pc_packet *pkt, bool dst,
		struct pc_packet_error *e)
{
	const char *s = word(w, i);
	uint8_t *addr = dst ? pkt->dst : pkt->src;
	uint8_t family = 0;

	if (!s)
		return fail(e, col_of(w, i), "expected %s address here",
				dst ? "a destination" : "a source");
	if (inet_pton(AF_INET, s, addr) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, s, addr) == 1)
		family = 6;
	else
		return fail(e, col_of(w, i), "'%s' is not an IPv4 or IPv6 address", s);
	if (pkt->family && pkt->family != family)
		return fail(e, col_of(w, i),
				family == 4 ? "'%s' is IPv4, the source IPv6: a packet has one family"
					    : "'%s' is IPv6, the source IPv4: a packet has one family",
				s);
	pkt->family = family;
	*(dst ? &pkt->has_dst : &pkt->has_src) = true;
	return 0;
}

static int parse_port(
		const struct words *w, int i, struct pc_packet *pkt, struct pc_packet_error *e)
{
	const char *s = word(w, i);
	uint16_t lo, hi;

	if (!s)
		return fail(e, col_of(w, i), "expected a port or a service name here");
	if (strspn(s, "0123456789") == strlen(s)) {
		if (pc_parse_port_range_public(s, &lo, &hi) < 0 || lo == 0)
			return fail(e, col_of(w, i), "'%s' is not a port (1-65535)", s);
		pkt->port = lo;
		return 0;
	}
	if (!pc_service_name_ok(s) || strlen(s) >= sizeof(pkt->service))
		return fail(e, col_of(w, i), "'%s' is neither a port (1-65535) nor a service name",
				s);
	snprintf(pkt->service, sizeof(pkt->service), "%s", s);
	pkt->service_col = col_of(w, i);
	return 0;
}

static int parse_iface(
		const struct words *w, int i, struct pc_packet *pkt, struct pc_packet_error *e)
{
	const char *s = word(w, i);

	if (!s)
		return fail(e, col_of(w, i), "expected an interface name after '%s'",
				word(w, i - 1));
	if (strlen(s) >= sizeof(pkt->iface) ||
			strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
					strlen(s))
		return fail(e, col_of(w, i),
				"'%s' is not an interface name (at most 15 letters, digits, '.', '_' or '-')",
				s);
	memcpy(pkt->iface, s, strlen(s) + 1);
	return 0;
}

int pc_packet_parse(const char *s, struct pc_packet *pkt, struct pc_packet_error *e)
{
	struct words w;
	int i = 0;

	memset(pkt, 0, sizeof(*pkt));
	memset(e, 0, sizeof(*e));
	if (split(&w, s, e) < 0)
		return -1;
	pkt->direction = PC_DIR_INPUT;
	if (word_is(&w, i, "forward")) {
		pkt->direction = PC_DIR_FORWARD;
		i++;
	}
	int proto = word(&w, i) ? pc_proto_parse(word(&w, i)) : -1;
	if (proto < 0)
		return fail(e, col_of(&w, i), "expected a protocol (tcp, udp, sctp or dccp)%s",
				i ? " after 'forward'" : " first");
	pkt->proto = (enum pc_proto)proto;
	i++;
	if (word_is(&w, i, "->")) {
		/* "-> DST PORT": a packet this host sends */
		if (pkt->direction == PC_DIR_FORWARD)
			return fail(e, col_of(&w, i),
					"a forwarded packet names its source first: forward PROTO SOURCE -> [DESTINATION] PORT");
		pkt->direction = PC_DIR_OUTPUT;
		if (parse_addr(&w, i + 1, pkt, true, e) < 0 || parse_port(&w, i + 2, pkt, e) < 0)
			return -1;
		i += 3;
	} else {
		if (parse_addr(&w, i, pkt, false, e) < 0)
			return -1;
		if (!word_is(&w, i + 1, "->"))
			return fail(e, col_of(&w, i + 1), "expected '->' after the source address");
		i += 2;
		/* "-> DST PORT" or "-> PORT": the destination is optional */
		int k = i;
		while (k < w.n && strcmp(w.w[k], "in") && strcmp(w.w[k], "out"))
			k++;
		if (k == i)
			return fail(e, col_of(&w, i),
					"expected a port or a service name after '->'");
		if (k - i == 2) {
			if (parse_addr(&w, i, pkt, true, e) < 0)
				return -1;
			i++;
		} else if (k - i > 2) {
			return fail(e, col_of(&w, i + 2),
					"unexpected '%s': expected [DESTINATION] PORT after '->'",
					word(&w, i + 2));
		}
		if (parse_port(&w, i, pkt, e) < 0)
			return -1;
		i++;
	}
	if (word_is(&w, i, "in") || word_is(&w, i, "out")) {
		bool in = word_is(&w, i, "in");
		if (in != (pkt->direction != PC_DIR_OUTPUT))
			return fail(e, col_of(&w, i),
					in ? "a packet this host sends leaves by an interface: 'out IFACE', not '%s'"
					   : "a packet that arrives comes in on an interface: 'in IFACE', not '%s'",
					word(&w, i));
		if (parse_iface(&w, i + 1, pkt, e) < 0)
			return -1;
		i += 2;
	}
	if (i < w.n)
		return fail(e, col_of(&w, i), "unexpected '%s' after the packet", word(&w, i));
	return 0;
}

int pc_packet_resolve(
		const struct pc_registry *reg, struct pc_packet *pkt, struct pc_packet_error *e)
{
	struct pc_resolution res;
	const struct pc_port *one = NULL;
	size_t n = 0;
	int ret = -1;

	memset(e, 0, sizeof(*e));
	if (!pkt->service[0])
		return 0;
	e->col = pkt->service_col;
	pc_resolution_init(&res);
	switch (pc_registry_resolve(reg, pkt->service, &res)) {
	case PC_RESOLVE_OK:
		break;
	case PC_RESOLVE_UNKNOWN: {
		const char *near[1];
		if (pc_registry_suggest(reg, pkt->service, near, 1))
			snprintf(e->msg, sizeof(e->msg), "unknown service '%s'; did you mean '%s'?",
					pkt->service, near[0]);
		else
			snprintf(e->msg, sizeof(e->msg), "unknown service '%s'", pkt->service);
		goto out;
	}
	default:
		snprintf(e->msg, sizeof(e->msg),
				"'%s' names no one port (`portcullis lookup %s` says why); give the "
				"port",
				pkt->service, pkt->service);
		goto out;
	}
	for (size_t i = 0; i < res.nports; i++) {
		if (res.ports[i].proto != pkt->proto && res.ports[i].proto != PC_PROTO_ANY)
			continue;
		one = &res.ports[i];
		n++;
	}
	if (n == 0) {
		snprintf(e->msg, sizeof(e->msg), "'%s' has no %s port", pkt->service,
				pc_proto_name(pkt->proto));
	} else if (n > 1) {
		snprintf(e->msg, sizeof(e->msg),
				"'%s' has %zu %s ports: a packet goes to one; give it as a number",
				pkt->service, n, pc_proto_name(pkt->proto));
	} else if (one->lo != one->hi) {
		snprintf(e->msg, sizeof(e->msg),
				"'%s' is %u-%u/%s: a packet goes to one port; give it as a number",
				pkt->service, one->lo, one->hi, pc_proto_name(pkt->proto));
	} else {
		pkt->port = one->lo;
		ret = 0;
	}
out:
	pc_resolution_finish(&res);
	return ret;
}
