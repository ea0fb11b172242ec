/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lowering a resolved policy into the nft model: one inet table, a base
 * chain per direction with the defaults, named sets for networks and ports
 * (never anonymous sets: the kernel loads those in quadratic time), and one
 * rule per policy rule, address family and protocol, in policy order, so the
 * first match still decides.
 */
#include "portcullis/nft.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const chain_names[3] = {"input", "forward", "output"};

bool pc_nft_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PC_NFT_NAME_MAX || !((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && c != '_' &&
				c != '-')
			return false;
	}
	return true;
}

void pc_nft_comment(char out[PC_NFT_COMMENT_MAX + 1], const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), w = 0;

	while (n) {
		unsigned char c = *p;
		/* Printable ASCII but for the quote and backslash: as it is. */
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && w < PC_NFT_COMMENT_MAX) {
			out[w++] = (char)c;
			p++;
			n--;
			continue;
		}
		bool unsafe;
		size_t len = pc_text_char(p, n, &unsafe);
		char repl = 0;

		if (unsafe)
			repl = ' '; /* controls, invalid UTF-8, separators and bidi controls */
		else if (c == '"')
			repl = '\'';
		else if (c == '\\')
			repl = '/';
		size_t add = repl ? 1 : len;
		if (w + add > PC_NFT_COMMENT_MAX) {
			/* Cut on a character boundary, with a marker. */
			while (w > PC_NFT_COMMENT_MAX - 3)
				do
					w--;
				while (w && ((unsigned char)out[w] & 0xc0) == 0x80);
			memcpy(out + w, "...", 3);
			w += 3;
			break;
		}
		if (repl)
			out[w++] = repl;
		else
			memcpy(out + w, p, len), w += len;
		p += len;
		n -= len;
	}
	out[w] = '\0';
}

static size_t declared_size(size_t n)
{
	size_t s = 16;

	while (s < 2 * n)
		s *= 2;
	return s;
}

/* The slot of `name` in the set index: where it is, or the empty slot it would take. */
static size_t set_slot(const struct pc_nft_table *t, const char *name)
{
	size_t mask = t->set_index_cap - 1, i = pc_name_hash(name) & mask;

	while (t->set_index[i] && strcmp(t->sets[t->set_index[i] - 1].name, name))
		i = (i + 1) & mask;
	return i;
}

static struct pc_nft_set *find_set(struct pc_nft_table *t, const char *name)
{
	if (!t->nsets)
		return NULL;
	uint32_t k = t->set_index[set_slot(t, name)];
	return k ? &t->sets[k - 1] : NULL;
}

static struct pc_nft_set *new_set(struct pc_nft_table *t, const char *name,
		enum pc_nft_set_type type)
{
	if (t->nsets == t->setcap) {
		t->setcap = t->setcap ? t->setcap * 2 : 16;
		/* Rules point at sets: every set exists before the first rule is made. */
		t->sets = xreallocarray(t->sets, t->setcap, sizeof(*t->sets));
		free(t->set_index);
		t->set_index_cap = 2 * t->setcap;
		t->set_index = xcalloc(t->set_index_cap, sizeof(*t->set_index));
		for (size_t i = 0; i < t->nsets; i++)
			t->set_index[set_slot(t, t->sets[i].name)] = (uint32_t)i + 1;
	}
	struct pc_nft_set *s = &t->sets[t->nsets++];
	memset(s, 0, sizeof(*s));
	size_t n = strlen(name); /* callers build names that fit; never cut a name silently */
	if (n > PC_NFT_NAME_MAX)
		abort();
	memcpy(s->name, name, n + 1);
	s->type = type;
	t->set_index[set_slot(t, s->name)] = (uint32_t)t->nsets;
	return s;
}

/*
 * The address set for one side of a rule and one family: shared and named
 * after the network when the rule names exactly one, else the rule's own.
 */
static size_t addr_set(struct pc_nft_table *t, const struct pc_peer *peers, size_t npeers,
		const struct pc_addrset *set, int family, size_t rule, const char *side)
{
	const struct pc_prefix *v = family == 4 ? set->v4 : set->v6;
	size_t n = family == 4 ? set->nv4 : set->nv6;
	char name[PC_NFT_NAME_MAX + 16];

	if (n == 0)
		return 0;
	size_t len = strlen(peers[0].text);
	if (npeers == 1 && len + 5 <= PC_NFT_NAME_MAX && pc_nft_name_ok(peers[0].text)) {
		/* The common case, for every rule that names a network: no printf. */
		memcpy(name, "n_", 2);
		memcpy(name + 2, peers[0].text, len);
		memcpy(name + 2 + len, family == 4 ? "_v4" : "_v6", 4);
	} else
		snprintf(name, sizeof(name), "r%zu_%s%d", rule + 1, side, family);
	struct pc_nft_set *s = find_set(t, name);
	if (!s) {
		s = new_set(t, name, family == 4 ? PC_NFT_SET_IPV4 : PC_NFT_SET_IPV6);
		s->prefixes = v;
		s->n = n;
		s->literal = n == 1;
		s->size = declared_size(n);
		char text[256];
		if (name[0] == 'n')
			snprintf(text, sizeof(text), "network %s, IPv%d", peers[0].text, family);
		else
			snprintf(text, sizeof(text), "rule %zu %s, IPv%d", rule + 1,
					side[0] == 's' ? "sources" : "destinations", family);
		pc_nft_comment(s->comment, text);
	}
	return (size_t)(s - t->sets) + 1;
}

static int cmp_range(const void *a, const void *b)
{
	const struct pc_nft_port_range *x = a, *y = b;

	return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : (x->hi > y->hi) - (x->hi < y->hi);
}

/* The port set of one rule and one protocol: sorted, overlaps and neighbours merged. */
static size_t port_set(struct pc_nft_table *t, const struct pc_rule *r, size_t rule,
		enum pc_proto proto)
{
	char name[PC_NFT_NAME_MAX + 16];
	size_t n = 0;

	for (size_t k = 0; k < r->nmatches; k++)
		n += r->matches[k].proto == proto;
	if (!n)
		return 0;
	snprintf(name, sizeof(name), "r%zu_%s", rule + 1, pc_proto_name(proto));
	struct pc_nft_set *s = new_set(t, name, PC_NFT_SET_SERVICE);
	s->ports = xcalloc(n, sizeof(*s->ports));
	for (size_t k = 0; k < r->nmatches; k++)
		if (r->matches[k].proto == proto)
			s->ports[s->n++] = (struct pc_nft_port_range){r->matches[k].lo, r->matches[k].hi};
	if (s->n > 1)
		qsort(s->ports, s->n, sizeof(*s->ports), cmp_range);
	size_t w = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (w && s->ports[i].lo <= (uint32_t)s->ports[w - 1].hi + 1) {
			if (s->ports[i].hi > s->ports[w - 1].hi)
				s->ports[w - 1].hi = s->ports[i].hi;
			continue;
		}
		s->ports[w++] = s->ports[i];
	}
	s->n = w;
	s->literal = w == 1;
	s->size = declared_size(w);
	/* No comment: nft holds the ports in its verdict maps, iptables and pf in their rules. */
	return (size_t)(s - t->sets) + 1;
}

/* Whether a policy rule matches every packet of its protocol and ports. */
static bool matches_all(const struct pc_nft_rule *r)
{
	return !r->family && !r->saddr && !r->daddr && !r->iifname && !r->oifname &&
			!r->limit_rate;
}

struct port_event {
	uint32_t at;	/* the first port of a range, or one past its last */
	size_t rule;	/* index into the chain's rules */
	bool start;
};

static int cmp_event(const void *a, const void *b)
{
	const struct port_event *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

/* "; from admins,lan; to dmz": the networks by the names the policy gives them. */
static void add_peers(struct pc_buf *b, const struct pc_rule *r)
{
	for (int side = 0; side < 2; side++) {
		const struct pc_peer *peers = side ? r->to : r->from;
		size_t n = side ? r->nto : r->nfrom;
		if (!n || (side ? r->dst.any : r->src.any))
			continue;
		pc_buf_adds(b, side ? "; to " : "; from ");
		for (size_t k = 0; k < n; k++) {
			if (k)
				pc_buf_add(b, ",", 1);
			pc_buf_adds(b, peers[k].text);
		}
	}
}

/* Jump chains by content, while lowering: open addressing on the key bytes. */
struct share_key {
	unsigned char *bytes;
	size_t len;
	uint32_t hash;
};

struct share_index {
	struct share_key *keys;
	size_t *subs;
	size_t cap, n;
	uint64_t *users;	/* (jump chain, policy rule) + 1 pairs of shared chains, 0 empty */
	size_t ucap, nusers;
};

/* One rule's part of a key: zeroed first, so padding compares equal. */
struct rule_key {
	const void *saddr, *daddr;
	const char *iifname, *oifname, *limit_unit;
	size_t log_rule;
	unsigned limit_rate;
	int family, verdict, proto, counter;
};

/*
 * What makes the rules of one policy rule (one per family) a chain another
 * policy rule can share: everything but the ports and the comment.  A logged
 * rule names its policy rule in the log prefix, so it shares with no other.
 */
static struct share_key content_key(const struct pc_nft_chain *c, const size_t *rules, size_t n)
{
	struct share_key k = {xcalloc(n, sizeof(struct rule_key)), n * sizeof(struct rule_key),
		2166136261u};

	for (size_t i = 0; i < n; i++) {
		const struct pc_nft_rule *r = &c->rules[rules[i]];
		struct rule_key *x = (struct rule_key *)k.bytes + i;
		x->saddr = r->saddr;
		x->daddr = r->daddr;
		x->iifname = r->iifname;
		x->oifname = r->oifname;
		x->limit_unit = r->limit_unit;
		x->log_rule = r->log ? r->policy_rule + 1 : 0;
		x->limit_rate = r->limit_rate;
		x->family = r->family;
		x->verdict = (int)r->verdict;
		x->proto = (int)r->proto;
		x->counter = r->counter;
	}
	for (size_t i = 0; i < k.len; i++)
		k.hash = (k.hash ^ k.bytes[i]) * 16777619u;
	return k;
}

static size_t share_slot(const struct share_index *x, const struct share_key *k)
{
	size_t mask = x->cap - 1, i = k->hash & mask;

	while (x->keys[i].bytes && (x->keys[i].hash != k->hash || x->keys[i].len != k->len ||
					   memcmp(x->keys[i].bytes, k->bytes, k->len)))
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
		if (!old.keys[i].bytes)
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
		free(x->keys[i].bytes);
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
		if (share->keys[slot].bytes) {
			free(key.bytes);
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
		snprintf(sc->name, sizeof(sc->name), "%s_%s_%u", c->name, pc_proto_name(proto),
				seg->lo);
	} else {
		snprintf(sc->name, sizeof(sc->name), "%s_%s_%u_%u", c->name, pc_proto_name(proto),
				seg->lo, seg->hi);
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
	add_peers(&b, r);
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
 * The verdict map of one base chain and protocol: the elementary port ranges
 * of its rules, found by a sweep over the ranges' ends, each with the rules
 * covering it in policy order.
 */
static void compile_map(struct pc_nft_table *t, int base, enum pc_proto proto,
		struct share_index *share)
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
			ev[nev++] = (struct port_event){(uint32_t)r->dport->ports[k].hi + 1, i, false};
		}
	}
	if (!nev)
		return;
	qsort(ev, nev, sizeof(*ev), cmp_event);
	snprintf(m->name, sizeof(m->name), "%s_%s", c->name, pc_proto_name(proto));

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
		seg->direct = nactive == 1 && matches_all(first) && !first->log && !first->counter &&
				first->verdict != PC_NFT_REJECT;
		seg->sub = 0;
		if (!seg->direct)
			seg->sub = subchain(t, base, proto, active, nactive, seg, share);
	}
	m->size = declared_size(m->n);
	free(active);
	free(next);
	free(ev);
}

/*
 * Source-address maps (see nft.h): the ranges each rule decides first, found
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
		if (r->daddr || r->iifname || r->oifname || r->limit_rate || r->log || r->counter ||
				r->verdict == PC_NFT_REJECT)
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
			m->size = declared_size(m->n);
		}
	}
	sc->mapped = true;
}

static struct pc_nft_rule *add_rule(struct pc_nft_chain *c, enum pc_nft_rule_kind kind)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->rules = xreallocarray(c->rules, c->cap, sizeof(*c->rules));
	}
	struct pc_nft_rule *r = &c->rules[c->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->verdict = PC_NFT_ACCEPT;
	return r;
}

/* Appends a decimal number: the comments are built for every rule, without printf. */
static void add_uint(struct pc_buf *b, size_t v)
{
	char d[24];
	size_t n = sizeof(d);

	do
		d[--n] = (char)('0' + v % 10);
	while (v /= 10);
	pc_buf_add(b, d + n, sizeof(d) - n);
}

static void add_ports(struct pc_buf *b, const struct pc_match *m)
{
	add_uint(b, m->lo);
	if (m->hi != m->lo) {
		pc_buf_add(b, "-", 1);
		add_uint(b, m->hi);
	}
	pc_buf_add(b, "/", 1);
	pc_buf_adds(b, pc_proto_name(m->proto));
}

/* "r2 kerberos-adm 749/tcp iana:1480; from admins; the rule's comment" */
static void rule_comment(char out[PC_NFT_COMMENT_MAX + 1], const struct pc_rule *r, size_t index,
		enum pc_proto proto)
{
	struct pc_buf b;

	pc_buf_init(&b);
	pc_buf_add(&b, "r", 1);
	add_uint(&b, index + 1);
	for (size_t k = 0; k < r->nmatches; k++) {
		const struct pc_match *m = &r->matches[k];
		if (m->proto != proto)
			continue;
		pc_buf_add(&b, " ", 1);
		pc_buf_adds(&b, m->service ? m->service : "port");
		pc_buf_add(&b, " ", 1);
		add_ports(&b, m);
		if (m->service) {
			pc_buf_add(&b, " ", 1);
			pc_buf_adds(&b, m->layer == PC_LAYER_OVERRIDE ? "policy"
								: pc_layer_name(m->layer));
			pc_buf_add(&b, ":", 1);
			add_uint(&b, m->src_line);
			if (m->iana) {
				/* Where practice and IANA disagree: "krb5_prop 754/tcp practice:22 (IANA: tell)" */
				pc_buf_adds(&b, " (IANA: ");
				pc_buf_adds(&b, m->iana);
				pc_buf_add(&b, ")", 1);
			}
		}
		pc_buf_add(&b, ";", 1);
	}
	if (b.data[b.len - 1] == ';')
		b.data[--b.len] = '\0';
	/* A prefix written in the rule has no name: it is the name. */
	add_peers(&b, r);
	if (r->comment) {
		pc_buf_adds(&b, "; ");
		pc_buf_adds(&b, r->comment);
	}
	pc_nft_comment(out, b.data);
	pc_buf_finish(&b);
}

static void lower_defaults(const struct pc_policy *p, struct pc_nft_table *t)
{
	for (int k = 0; k < 3; k++) {
		struct pc_nft_chain *c = &t->chains[k];
		c->name = chain_names[k];
		c->policy = k == 0 ? p->defaults.input : k == 1 ? p->defaults.forward
								 : p->defaults.output;
		if (p->defaults.established) {
			add_rule(c, PC_NFT_ESTABLISHED);
			add_rule(c, PC_NFT_INVALID)->verdict = PC_NFT_DROP;
		}
		if (p->defaults.loopback && k != 1)
			add_rule(c, PC_NFT_LOOPBACK);
		if (p->defaults.icmp == PC_ICMP_ALL) {
			add_rule(c, PC_NFT_ICMP_ALL);
		} else if (p->defaults.icmp == PC_ICMP_ESSENTIAL) {
			add_rule(c, PC_NFT_ICMP_ESSENTIAL);
			add_rule(c, PC_NFT_ICMP_ECHO);
		}
	}
}

int pc_nft_lower(const struct pc_policy *p, const char *name, struct pc_nft_table *t,
		struct pc_diags *diags)
{
	memset(t, 0, sizeof(*t));
	if (!pc_nft_name_ok(name)) {
		pc_diag_add(diags, PC_SEV_ERROR, "nft-name", NULL, 0, 0,
				"'%s' cannot name an nft table: a letter, then at most 31 letters, "
				"digits, '_' or '-'",
				name);
		return -1;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	char text[256];
	snprintf(text, sizeof(text), "managed by portcullis; policy %s", p->name ? p->name : "");
	pc_nft_comment(t->comment, text);
	lower_defaults(p, t);

	/*
	 * Sets first (rules keep pointers to them, and the array moves while it
	 * grows), then the rules.  refs keeps, per policy rule, the index + 1 of
	 * its port set for each protocol and of its address sets (src v4, src v6,
	 * dst v4, dst v6), 0 for none.
	 */
	enum { NREFS = PC_PROTO_COUNT + 4 };
	size_t *refs = xcalloc(p->nrules ? p->nrules * NREFS : 1, sizeof(*refs));
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		size_t *ref = &refs[i * NREFS];
		for (int fam = 4; fam <= 6; fam += 2) {
			if (r->nfrom && !r->src.any)
				ref[PC_PROTO_COUNT + fam / 6] =
						addr_set(t, r->from, r->nfrom, &r->src, fam, i, "src");
			if (r->nto && !r->dst.any)
				ref[PC_PROTO_COUNT + 2 + fam / 6] =
						addr_set(t, r->to, r->nto, &r->dst, fam, i, "dst");
		}
		for (int proto = PC_PROTO_TCP; proto < PC_PROTO_COUNT; proto++)
			ref[proto] = port_set(t, r, i, (enum pc_proto)proto);
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		struct pc_nft_chain *c = &t->chains[r->direction == PC_DIR_INPUT    ? 0
						     : r->direction == PC_DIR_FORWARD ? 1
										      : 2];
		bool src_any = !r->nfrom || r->src.any, dst_any = !r->nto || r->dst.any;
		int families[2] = {0, 0}, nfam = 0;

		if (src_any && dst_any) {
			families[nfam++] = 0;
		} else {
			for (int fam = 4; fam <= 6; fam += 2) {
				bool s = src_any || (fam == 4 ? r->src.nv4 : r->src.nv6);
				bool d = dst_any || (fam == 4 ? r->dst.nv4 : r->dst.nv6);
				if (s && d)
					families[nfam++] = fam;
			}
		}
		if (nfam == 0) {
			pc_diag_add(diags, PC_SEV_WARNING, "nft-no-family", r->loc.file, r->loc.line,
					r->loc.col,
					"this rule's sources and destinations share no address family; "
					"it can never match and is left out");
			continue;
		}
		for (int f = 0; f < nfam; f++) {
			for (int proto = PC_PROTO_TCP; proto < PC_PROTO_COUNT; proto++) {
				const size_t *ref = &refs[i * NREFS];
				if (!ref[proto])
					continue;
				const struct pc_nft_set *ps = &t->sets[ref[proto] - 1];
				struct pc_nft_rule *nr = add_rule(c, PC_NFT_POLICY_RULE);
				nr->family = (uint8_t)families[f];
				nr->policy_rule = i;
				nr->proto = (enum pc_proto)proto;
				nr->dport = ps;
				if (families[f]) {
					size_t src = ref[PC_PROTO_COUNT + families[f] / 6];
					size_t dst = ref[PC_PROTO_COUNT + 2 + families[f] / 6];
					nr->saddr = src ? &t->sets[src - 1] : NULL;
					nr->daddr = dst ? &t->sets[dst - 1] : NULL;
				}
				if (r->interface) {
					if (r->direction == PC_DIR_OUTPUT)
						nr->oifname = r->interface;
					else
						nr->iifname = r->interface;
				}
				if (r->flags & PC_RULE_F_LIMIT) {
					nr->limit_rate = r->limit_rate;
					nr->limit_unit = r->limit_unit;
				}
				nr->log = r->flags & PC_RULE_F_LOG;
				nr->counter = r->flags & PC_RULE_F_COUNTER;
				nr->verdict = r->action == PC_ACTION_ALLOW ? PC_NFT_ACCEPT
						: r->action == PC_ACTION_DENY ? PC_NFT_DROP
									       : PC_NFT_REJECT;
				rule_comment(nr->comment, r, i, (enum pc_proto)proto);
			}
		}
	}
	free(refs);

	/* The packet path: a verdict map per chain and protocol (see nft.h). */
	struct share_index share = {NULL, NULL, 0, 0, NULL, 0, 0};
	for (int k = 0; k < 3; k++)
		for (int proto = PC_PROTO_TCP; proto < PC_PROTO_COUNT; proto++)
			compile_map(t, k, (enum pc_proto)proto, &share);
	share_finish(&share);
	for (size_t i = 0; i < t->nsubs; i++) {
		if (t->subs[i].shared)
			shared_comment(&t->subs[i], p);
		map_by_saddr(&t->subs[i], &t->chains[t->subs[i].base]);
	}
	return 0;
}

void pc_nft_table_finish(struct pc_nft_table *t)
{
	for (size_t i = 0; i < t->nsets; i++)
		free(t->sets[i].ports);
	free(t->sets);
	free(t->set_index);
	for (int k = 0; k < 3; k++) {
		free(t->chains[k].rules);
		for (int p = 0; p < PC_PROTO_COUNT; p++)
			free(t->chains[k].maps[p].segs);
	}
	for (size_t i = 0; i < t->nsubs; i++) {
		free(t->subs[i].rules);
		free(t->subs[i].users);
		free(t->subs[i].by_saddr[0].elems);
		free(t->subs[i].by_saddr[1].elems);
	}
	free(t->subs);
	memset(t, 0, sizeof(*t));
}
