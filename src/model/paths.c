/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The packet path of the nft model (see portcullis/model.h): per base chain
 * and protocol a verdict map on the destination port, found by a sweep over
 * the ends of the rules' port ranges; jump chains shared by policy rules that
 * differ only in their ports; and jump chains of source-only rules turned
 * into source-address verdict maps.
 */
#include "portcullis/model.h"

#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "util.h"

bool pc_nft_match_same(const struct pc_nft_match *a, const struct pc_nft_match *b)
{
	return !memcmp(a, b, sizeof(*a));
}

uint32_t pc_nft_match_hash(const struct pc_nft_match *m, uint32_t h)
{
	const unsigned char *b = (const unsigned char *)m;

	for (size_t i = 0; i < sizeof(*m); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/*
 * Whether a rule's match is a plain one: its protocol and verdict (accept or
 * drop) and, when `by_saddr`, its family and source set, and nothing else.
 * A map element can then carry its verdict (keyed by port, or by source in a
 * source-address map); any other option keeps the rule in a chain.
 */
static bool plain(const struct pc_nft_rule *r, bool by_saddr)
{
	struct pc_nft_match m;

	memset(&m, 0, sizeof(m));
	m.proto = r->proto;
	m.verdict = r->verdict;
	if (by_saddr) {
		m.family = r->family;
		m.saddr = r->saddr;
	}
	return r->verdict != PC_NFT_REJECT && pc_nft_match_same(&r->match, &m);
}

struct port_event {
	uint32_t at; /* the first port of a range, or one past its last */
	size_t rule; /* index into the chain's rules */
	bool start;
};

static int cmp_event(const void *a, const void *b)
{
	const struct port_event *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

/* Jump chains by content, while lowering: open addressing on the rules' matches. */
struct share_key {
	struct pc_nft_match *matches;
	size_t n;
	uint32_t hash;
};

struct share_index {
	struct share_key *keys;
	size_t *subs;
	size_t cap, n;
	uint64_t *users; /* (jump chain, policy rule) + 1 pairs of shared chains, 0 empty */
	size_t ucap, nusers;
};

/*
 * What makes the rules of one policy rule (one per family) a chain another
 * policy rule can share: their matches, everything but the ports and the
 * comment.  A logged rule names its policy rule in the log prefix, so it
 * shares with no other.
 */
static struct share_key content_key(const struct pc_nft_chain *c, const size_t *rules, size_t n)
{
	struct share_key k = {xcalloc(n, sizeof(struct pc_nft_match)), n, 2166136261u};

	for (size_t i = 0; i < n; i++) {
		/* Copied byte for byte: an assignment need not copy the padding. */
		memcpy(&k.matches[i], &c->rules[rules[i]].match, sizeof(k.matches[i]));
		k.hash = pc_nft_match_hash(&k.matches[i], k.hash);
	}
	return k;
}

static bool same_key(const struct share_key *a, const struct share_key *b)
{
	if (a->hash != b->hash || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!pc_nft_match_same(&a->matches[i], &b->matches[i]))
			return false;
	return true;
}

static size_t share_slot(const struct share_index *x, const struct share_key *k)
{
	size_t mask = x->cap - 1, i = k->hash & mask;

	while (x->keys[i].matches && !same_key(&x->keys[i], k))
		i = (i + 1) & mask;
	return i;
}

static void share_grow(struct share_index *x)
{
	struct share_index old = *x;

	x->cap = old.cap ? 2 * old.cap : 64;
	x->keys = xcalloc(x->cap, sizeof(*x->keys));
	x->subs = xcalloc(x->cap, sizeof(*x->subs));
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.keys[i].matches)
			continue;
		size_t slot = share_slot(x, &old.keys[i]);
		x->keys[slot] = old.keys[i];
		x->subs[slot] = old.subs[i];
	}
	free(old.keys);
	free(old.subs);
}

static void share_finish(struct share_index *x)
{
	for (size_t i = 0; i < x->cap; i++)
		free(x->keys[i].matches);
	free(x->keys);
	free(x->subs);
	free(x->users);
}

static size_t user_slot(const uint64_t *v, size_t cap, uint64_t key)
{
	size_t mask = cap - 1, i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;

	while (v[i] && v[i] != key)
		i = (i + 1) & mask;
	return i;
}

/* Whether `rule` was new to jump chain `sub` (a chain shared by content); it is not any more. */
static bool user_first_time(struct share_index *x, size_t sub, size_t rule)
{
	uint64_t key = ((uint64_t)sub << 32 | (uint64_t)rule) + 1;

	if (2 * (x->nusers + 1) > x->ucap) {
		size_t cap = x->ucap ? 2 * x->ucap : 64;
		uint64_t *v = xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < x->ucap; i++)
			if (x->users[i])
				v[user_slot(v, cap, x->users[i])] = x->users[i];
		free(x->users);
		x->users = v;
		x->ucap = cap;
	}
	size_t i = user_slot(x->users, x->ucap, key);
	if (x->users[i])
		return false;
	x->users[i] = key;
	x->nusers++;
	return true;
}

/* Appends a user; the callers see to it that it is not there yet. */
static void add_user(struct pc_nft_subchain *sc, size_t rule)
{
	if (sc->nusers == sc->usercap) {
		sc->usercap = sc->usercap ? 2 * sc->usercap : 4;
		sc->users = xreallocarray(sc->users, sc->usercap, sizeof(*sc->users));
	}
	sc->users[sc->nusers++] = rule;
}

/* The jump chain holding `rules`: an existing one of the same content, or a new one. */
static size_t subchain(struct pc_nft_table *t, int base, enum pc_proto proto, const size_t *rules,
		size_t n, const struct pc_nft_segment *seg, struct share_index *share)
{
	const struct pc_nft_chain *c = &t->chains[base];
	bool one = true;
	struct share_key key = {NULL, 0, 0};
	size_t slot = 0;

	for (size_t i = 1; i < n; i++)
		one &= c->rules[rules[i]].policy_rule == c->rules[rules[0]].policy_rule;
	if (one) {
		if (2 * (share->n + 1) > share->cap)
			share_grow(share);
		key = content_key(c, rules, n);
		slot = share_slot(share, &key);
		if (share->keys[slot].matches) {
			free(key.matches);
			struct pc_nft_subchain *sc = &t->subs[share->subs[slot]];
			size_t user = c->rules[rules[0]].policy_rule;
			if (user_first_time(share, share->subs[slot], user))
				add_user(sc, user);
			sc->shared = sc->nusers > 1;
			return share->subs[slot];
		}
	}
	if (t->nsubs == t->subcap) {
		t->subcap = t->subcap ? 2 * t->subcap : 16;
		t->subs = xreallocarray(t->subs, t->subcap, sizeof(*t->subs));
	}
	struct pc_nft_subchain *sc = &t->subs[t->nsubs];
	memset(sc, 0, sizeof(*sc));
	sc->base = base;
	sc->rules = xreallocarray(NULL, n, sizeof(*rules));
	memcpy(sc->rules, rules, n * sizeof(*rules));
	sc->n = n;
	/* The rules are in policy order: a policy rule's are together. */
	for (size_t i = 0; i < n; i++)
		if (!sc->nusers || sc->users[sc->nusers - 1] != c->rules[rules[i]].policy_rule)
			add_user(sc, c->rules[rules[i]].policy_rule);
	if (one) {
		user_first_time(share, t->nsubs, c->rules[rules[0]].policy_rule);
		snprintf(sc->name, sizeof(sc->name), "r%zu_%s", c->rules[rules[0]].policy_rule + 1,
				pc_proto_name(proto));
		share->keys[slot] = key;
		share->subs[slot] = t->nsubs;
		share->n++;
	} else if (seg->lo == seg->hi) {
		snprintf(sc->name, sizeof(sc->name), "%s_%s_%u", pc_nft_hook_name(c->hook),
				pc_proto_name(proto), seg->lo);
	} else {
		snprintf(sc->name, sizeof(sc->name), "%s_%s_%u_%u", pc_nft_hook_name(c->hook),
				pc_proto_name(proto), seg->lo, seg->hi);
	}
	return t->nsubs++;
}

/*
 * The comment of a shared chain's rules: the policy rules it serves and the
 * networks they name, "r7 r17 r27; from net7", cut at the comment's length.
 */
static void shared_comment(struct pc_nft_subchain *sc, const struct pc_policy *p)
{
	const struct pc_rule *r = &p->rules[sc->users[0]];
	struct pc_buf b;

	pc_buf_init(&b);
	pc_model_add_peers(&b, r);
	struct pc_buf c;
	pc_buf_init(&c);
	for (size_t i = 0; i < sc->nusers; i++) {
		char num[32];
		int len = snprintf(num, sizeof(num), "%sr%zu", i ? " " : "", sc->users[i] + 1);
		if (c.len + (size_t)len + b.len + 4 > PC_NFT_COMMENT_MAX) {
			pc_buf_adds(&c, " ...");
			break;
		}
		pc_buf_add(&c, num, (size_t)len);
	}
	pc_buf_add(&c, b.data ? b.data : "", b.len);
	pc_nft_comment(sc->comment, c.data);
	pc_buf_finish(&b);
	pc_buf_finish(&c);
}

/*
 * Whether the jump chains of a map would hold more rules than its budget
 * (portcullis/model.h): the rules covering each segment covered by several,
 * summed, counted from the sorted events alone.  A rule with a limit and
 * several ranges keeps the map: written once per range, it would get a
 * limit per range.
 */
static bool over_budget(const struct pc_nft_chain *c, enum pc_proto proto,
		const struct port_event *ev, size_t nev)
{
	size_t rules = 0, cost = 0, active = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct pc_nft_rule *r = &c->rules[i];
		if (r->kind != PC_NFT_POLICY_RULE || r->proto != proto)
			continue;
		if (r->limit_rate && r->dport->n > 1)
			return false;
		rules++;
	}
	size_t budget = PC_NFT_MAP_BUDGET_PER_RULE * rules + PC_NFT_MAP_BUDGET_BASE;
	for (size_t e = 0; e < nev;) {
		uint32_t at = ev[e].at;
		for (; e < nev && ev[e].at == at; e++)
			active += ev[e].start ? 1 : (size_t)-1;
		if (active > 1 && e < nev && (cost += active) > budget)
			return true;
	}
	return false;
}

/*
 * The verdict map of one base chain and protocol: the elementary port ranges
 * of its rules, found by a sweep over the ranges' ends, each with the rules
 * covering it in policy order.
 */
static void compile_map(
		struct pc_nft_table *t, int base, enum pc_proto proto, struct share_index *share)
{
	struct pc_nft_chain *c = &t->chains[base];
	struct pc_nft_map *m = &c->maps[proto];
	struct port_event *ev = NULL;
	size_t nev = 0, cap = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct pc_nft_rule *r = &c->rules[i];
		if (r->kind != PC_NFT_POLICY_RULE || r->proto != proto)
			continue;
		for (size_t k = 0; k < r->dport->n; k++) {
			if (nev + 2 > cap) {
				cap = cap ? 2 * cap : 64;
				ev = xreallocarray(ev, cap, sizeof(*ev));
			}
			ev[nev++] = (struct port_event){r->dport->ports[k].lo, i, true};
			ev[nev++] = (struct port_event){
					(uint32_t)r->dport->ports[k].hi + 1, i, false};
		}
	}
	if (!nev)
		return;
	qsort(ev, nev, sizeof(*ev), cmp_event);
	if (over_budget(c, proto, ev, nev)) {
		c->inline_rules[proto] = true;
		free(ev);
		return;
	}
	snprintf(m->name, sizeof(m->name), "%s_%s", pc_nft_hook_name(c->hook),
			pc_proto_name(proto));

	/*
	 * The active rules, kept sorted by index: policy order.  The events at
	 * one port are sorted by rule too, and a rule's ranges neither overlap nor
	 * touch (port_set merged them): the rules ending there leave and those
	 * starting there join in one merge, linear in the active rules, never one
	 * shift of the array per event.
	 */
	size_t *active = xcalloc(nev, sizeof(*active)), *next = xcalloc(nev, sizeof(*next));
	size_t nactive = 0, segcap = 0;
	for (size_t e = 0; e < nev;) {
		uint32_t at = ev[e].at;
		size_t w = 0, a = 0;
		for (; e < nev && ev[e].at == at; e++) {
			while (a < nactive && active[a] < ev[e].rule)
				next[w++] = active[a++];
			if (ev[e].start)
				next[w++] = ev[e].rule;
			else if (a < nactive && active[a] == ev[e].rule)
				a++;
		}
		while (a < nactive)
			next[w++] = active[a++];
		size_t *swap = active;
		active = next;
		next = swap;
		nactive = w;
		if (!nactive || e == nev)
			continue;
		if (m->n == segcap) {
			segcap = segcap ? 2 * segcap : 16;
			m->segs = xreallocarray(m->segs, segcap, sizeof(*m->segs));
		}
		struct pc_nft_segment *seg = &m->segs[m->n++];
		seg->lo = (uint16_t)at;
		seg->hi = (uint16_t)(ev[e].at - 1);
		const struct pc_nft_rule *first = &c->rules[active[0]];
		bool one = true;
		for (size_t i = 1; i < nactive; i++)
			one &= c->rules[active[i]].policy_rule == first->policy_rule;
		seg->rule = one ? first : NULL;
		seg->direct = nactive == 1 && plain(first, false);
		seg->sub = 0;
		if (!seg->direct)
			seg->sub = subchain(t, base, proto, active, nactive, seg, share);
	}
	m->size = pc_model_declared_size(m->n);
	free(active);
	free(next);
	free(ev);
}

/*
 * Source-address maps (see portcullis/model.h): the ranges each rule decides first, found
 * by taking from each rule's ranges what earlier rules took already.
 * Addresses are big-endian byte strings of 4 or 16 bytes.
 */
static int addr_cmp(const uint8_t *a, const uint8_t *b, size_t w)
{
	return memcmp(a, b, w);
}

/* a += 1; returns whether it wrapped past the top. */
static bool addr_inc(uint8_t *a, size_t w)
{
	for (size_t i = w; i-- > 0;)
		if (++a[i])
			return false;
	return true;
}

static void addr_dec(uint8_t *a, size_t w)
{
	for (size_t i = w; i-- > 0;)
		if (a[i]--)
			return;
}

bool pc_nft_addr_elem_prefix(const struct pc_nft_addr_elem *e, struct pc_prefix *x)
{
	unsigned bits = e->family == 4 ? 32 : 128, len = 0;
#define BIT(a, b) (((a)[(b) / 8] >> (7 - (b) % 8)) & 1)
	while (len < bits && BIT(e->lo, len) == BIT(e->hi, len))
		len++;
	for (unsigned b = len; b < bits; b++)
		if (BIT(e->lo, b) || !BIT(e->hi, b))
			return false;
#undef BIT
	memset(x, 0, sizeof(*x));
	x->family = e->family;
	x->len = (uint8_t)len;
	memcpy(x->bytes, e->lo, 16);
	return true;
}

void pc_nft_prefix_last(const struct pc_prefix *x, uint8_t last[16])
{
	unsigned bits = x->family == 4 ? 32 : 128;

	memcpy(last, x->bytes, 16);
	for (unsigned b = x->len; b < bits; b++)
		last[b / 8] |= (uint8_t)(0x80u >> (b % 8));
}

void pc_nft_addr_elem_ends(const struct pc_nft_addr_elem *e, char lo[PC_ADDR_TEXT_MAX],
		char hi[PC_ADDR_TEXT_MAX])
{
	struct pc_prefix x;

	memset(&x, 0, sizeof(x));
	x.family = e->family;
	x.len = e->family == 4 ? 32 : 128;
	memcpy(x.bytes, e->lo, 16);
	pc_prefix_addr(lo, &x);
	memcpy(x.bytes, e->hi, 16);
	pc_prefix_addr(hi, &x);
}

/* One address range of a rule, in the sweep: `order` is the rule's place in the chain. */
struct addr_range {
	uint8_t lo[16], hi[16];
	size_t order;
	const struct pc_nft_rule *rule;
};

static int cmp_addr_range(const void *a, const void *b)
{
	const struct addr_range *x = a, *y = b;
	int c = memcmp(x->lo, y->lo, 16);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* A min-heap of ranges by order: the first rule among those holding an address. */
static void heap_push(struct addr_range **h, size_t *n, struct addr_range *x)
{
	size_t i = (*n)++;

	while (i && h[(i - 1) / 2]->order > x->order) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

static void heap_pop(struct addr_range **h, size_t *n)
{
	struct addr_range *x = h[--*n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1]->order < h[c]->order)
			c++;
		if (h[c]->order >= x->order)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = x;
}

static void add_piece(struct pc_nft_addr_map *m, size_t *cap, int family, const uint8_t lo[16],
		const uint8_t hi[16], const struct pc_nft_rule *r)
{
	if (m->n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		m->elems = xreallocarray(m->elems, *cap, sizeof(*m->elems));
	}
	struct pc_nft_addr_elem *e = &m->elems[m->n++];
	memset(e, 0, sizeof(*e));
	e->family = (uint8_t)family;
	memcpy(e->lo, lo, 16);
	memcpy(e->hi, hi, 16);
	e->rule = r;
}

/*
 * The ranges of one family cut into the pieces each rule decides first: a
 * sweep over the ranges sorted by their first address, with the ranges that
 * hold the current address in a heap by rule order.  Neighbouring pieces of
 * one rule become one element.
 */
static void sweep_ranges(struct addr_range *v, size_t n, int family, struct pc_nft_addr_map *m)
{
	size_t w = family == 4 ? 4 : 16, next = 0, nheap = 0, cap = 0;
	struct addr_range **heap = xcalloc(n ? n : 1, sizeof(*heap));
	uint8_t cur[16];

	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_addr_range);
	if (n)
		memcpy(cur, v[0].lo, 16);
	while (next < n || nheap) {
		while (next < n && addr_cmp(v[next].lo, cur, w) <= 0)
			heap_push(heap, &nheap, &v[next++]);
		while (nheap && addr_cmp(heap[0]->hi, cur, w) < 0)
			heap_pop(heap, &nheap);
		if (!nheap) {
			if (next < n)
				memcpy(cur, v[next].lo, 16);
			continue;
		}
		/* The first rule holds cur up to its range's end or the next range's start. */
		const struct addr_range *top = heap[0];
		uint8_t end[16];
		memcpy(end, top->hi, 16);
		if (next < n && addr_cmp(v[next].lo, end, w) <= 0) {
			memcpy(end, v[next].lo, 16);
			addr_dec(end, w);
		}
		struct pc_nft_addr_elem *last = m->n ? &m->elems[m->n - 1] : NULL;
		uint8_t after[16];
		if (last) {
			memcpy(after, last->hi, 16);
			addr_inc(after, w);
		}
		if (last && last->rule == top->rule && !addr_cmp(after, cur, w))
			memcpy(last->hi, end, 16);
		else
			add_piece(m, &cap, family, cur, end, top->rule);
		memcpy(cur, end, 16);
		if (addr_inc(cur, w))
			break; /* the last address of the family */
	}
	free(heap);
}

static void map_by_saddr(struct pc_nft_subchain *sc, const struct pc_nft_chain *c)
{
	struct addr_range *v[2] = {NULL, NULL};
	size_t n[2] = {0, 0}, cap[2] = {0, 0};

	if (sc->n < PC_NFT_ADDR_MAP_MIN)
		return;
	for (size_t i = 0; i < sc->n; i++) {
		const struct pc_nft_rule *r = &c->rules[sc->rules[i]];
		if (!plain(r, true))
			return;
	}
	for (size_t i = 0; i < sc->n; i++) {
		const struct pc_nft_rule *r = &c->rules[sc->rules[i]];
		size_t k = 0, nr = r->saddr ? r->saddr->n : 2;
		for (; k < nr; k++) {
			struct addr_range x;
			int f;
			memset(&x, 0, sizeof(x));
			if (r->saddr) {
				const struct pc_prefix *pf = &r->saddr->prefixes[k];
				f = pf->family;
				memcpy(x.lo, pf->bytes, 16);
				pc_nft_prefix_last(pf, x.hi);
			} else {
				/* No source named: every address of the rule's families. */
				f = k ? 6 : 4;
				if (r->family && r->family != f)
					continue;
				memset(x.hi, 0xff, f == 4 ? 4 : 16);
			}
			x.order = i;
			x.rule = r;
			int fi = f == 6;
			if (n[fi] == cap[fi]) {
				cap[fi] = cap[fi] ? 2 * cap[fi] : 16;
				v[fi] = xreallocarray(v[fi], cap[fi], sizeof(*v[fi]));
			}
			v[fi][n[fi]++] = x;
		}
	}
	for (int f = 0; f < 2; f++) {
		struct pc_nft_addr_map *m = &sc->by_saddr[f];
		sweep_ranges(v[f], n[f], f ? 6 : 4, m);
		free(v[f]);
		if (m->n) {
			snprintf(m->name, sizeof(m->name), "%.28s_v%d", sc->name, f ? 6 : 4);
			m->size = pc_model_declared_size(m->n);
		}
	}
	sc->mapped = true;
}

void pc_model_compile_paths(struct pc_nft_table *t, const struct pc_policy *p)
{
	struct share_index share = {NULL, NULL, 0, 0, NULL, 0, 0};

	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		for (int proto = PC_PROTO_TCP; proto < PC_PROTO_COUNT; proto++)
			compile_map(t, k, (enum pc_proto)proto, &share);
	share_finish(&share);
	for (size_t i = 0; i < t->nsubs; i++) {
		if (t->subs[i].shared)
			shared_comment(&t->subs[i], p);
		map_by_saddr(&t->subs[i], &t->chains[t->subs[i].base]);
	}
}

bool pc_nft_inline_next(const struct pc_nft_chain *c, enum pc_proto p, size_t *i, size_t *q,
		const struct pc_nft_rule **r, const struct pc_nft_port_range **port)
{
	for (; c->inline_rules[p] && *i < c->n; (*i)++, *q = 0) {
		const struct pc_nft_rule *x = &c->rules[*i];
		if (x->kind != PC_NFT_POLICY_RULE || x->proto != p || *q >= x->dport->n)
			continue;
		*r = x;
		*port = &x->dport->ports[(*q)++];
		return true;
	}
	return false;
}
