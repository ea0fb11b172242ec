/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compare, with the evaluator as the oracle.  Pairs of policies are made by
 * mutating the shipped ones (a port added, a network widened or narrowed, a
 * rule moved, a deny inserted, a rule removed, an interface named, a default
 * changed); for every pair, every packet at the bounds of every region
 * reported gets the outcomes reported, from both policies, and random
 * packets (drawn near the policies' boundaries) outside every region get
 * the same outcome from both.  Seeds are fixed: the same pairs each run.
 */
#include "testutil.h"

#include "portcullis/compare.h"
#include "portcullis/policy.h"

#include <unistd.h>

static const char *const shipped[] = {
		"policies/kdc-primary.yaml",
		"policies/kdc-replica.yaml",
		"policies/kdc-iprop.yaml",
		"policies/heimdal-kdc.yaml",
		"examples/kdc-with-metrics.yaml",
		"tests/render/features.yaml",
		"tests/render/probe-interfaces.yaml",
		"tests/render/probe-replies.yaml",
};

#define MUTANTS 100 /* per policy */
#define RANDOM_PACKETS 1500 /* per pair */

/* ---- a small deterministic generator (xorshift64*) ---------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* ---- policies and what a mutant allocates --------------------------------- */

struct loaded {
	struct pc_policy p;
	struct pc_registry *reg;
};

static void load(struct loaded *l, const char *rel)
{
	struct pc_diags d;

	pc_diags_init(&d);
	pc_policy_init(&l->p);
	l->reg = pc_registry_create();
	assert_int_equal(
			pc_policy_load(&l->p, rel[0] == '/' ? rel : src_path(rel), &d), PC_LOAD_OK);
	pc_policy_resolve(&l->p, l->reg, &d);
	if (d.nerrors)
		fail_msg("%s does not resolve", rel);
	pc_diags_finish(&d);
}

static void unload(struct loaded *l)
{
	pc_policy_finish(&l->p);
	pc_registry_destroy(l->reg);
}

/* A policy made from another: a shallow copy whose changed parts it owns. */
struct mutant {
	struct pc_policy p;
	void **owned;
	size_t nowned;
	const char *what;
};

static void *own(struct mutant *m, size_t n)
{
	void *x = xcalloc(1, n ? n : 1);

	m->owned = xreallocarray(m->owned, m->nowned + 1, sizeof(*m->owned));
	m->owned[m->nowned++] = x;
	return x;
}

static void mutant_init(struct mutant *m, const struct pc_policy *from)
{
	memset(m, 0, sizeof(*m));
	m->p = *from;
	m->p.rules = own(m, (from->nrules + 4) * sizeof(*m->p.rules)); /* room for inserts */
	if (from->nrules)
		memcpy(m->p.rules, from->rules, from->nrules * sizeof(*m->p.rules));
}

static void mutant_finish(struct mutant *m)
{
	for (size_t i = 0; i < m->nowned; i++)
		free(m->owned[i]);
	free(m->owned);
}

/* A rule's source (or destination) prefixes of a family, copied so that they can be changed. */
static struct pc_prefix *own_side(struct mutant *m, struct pc_addrset *set, int family, size_t *n)
{
	struct pc_prefix **v = family == 4 ? &set->v4 : &set->v6;
	size_t *nv = family == 4 ? &set->nv4 : &set->nv6;
	struct pc_prefix *copy = own(m, (*nv + 1) * sizeof(*copy));

	if (*nv)
		memcpy(copy, *v, *nv * sizeof(*copy));
	*v = copy;
	*n = *nv;
	return copy;
}

static void clear_host_bits(struct pc_prefix *x)
{
	for (unsigned bit = x->len; bit < 128; bit++)
		x->bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

/* Names and wildcards within one another: classes of names a wildcard leaves to others. */
static const char *const iface_names[] = {"eth0", "eth1", "eth*", "eth1*", "eth10", "wlan0", "lo",
		"br-*", "br-a*", "br-ab", "v*"};

/* One random change of m; returns false when the policy offers none of that kind. */
static bool mutate(struct mutant *m)
{
	struct pc_policy *p = &m->p;
	size_t i = below(p->nrules);
	struct pc_rule *r = p->nrules ? &p->rules[i] : NULL;

	switch (below(9)) {
	case 0: /* a port added */
		if (!r || !r->nmatches)
			return false;
		{
			struct pc_match *v = own(m, (r->nmatches + 1) * sizeof(*v));
			memcpy(v, r->matches, r->nmatches * sizeof(*v));
			v[r->nmatches] = r->matches[below(r->nmatches)];
			v[r->nmatches].lo = v[r->nmatches].hi = (uint16_t)(1 + below(2000));
			v[r->nmatches].service = NULL;
			r->matches = v;
			r->nmatches++;
		}
		m->what = "a port added";
		return true;
	case 1: /* a network (of sources or destinations) widened or narrowed */
		if (!r)
			return false;
		{
			bool dst = below(2);
			struct pc_addrset *set = dst ? &r->dst : &r->src;
			if (!(dst ? r->nto : r->nfrom) || set->any)
				return false;
			int family = set->nv4 && (!set->nv6 || below(2)) ? 4 : 6;
			size_t n;
			struct pc_prefix *v = own_side(m, set, family, &n);
			if (!n)
				return false;
			struct pc_prefix *x = &v[below(n)];
			if (below(2) && x->len > 0) {
				x->len--;
				clear_host_bits(x);
				m->what = "a network widened";
			} else if (x->len < (family == 4 ? 32 : 128)) {
				if (below(2))
					x->bytes[x->len / 8] |= (uint8_t)(0x80u >> (x->len % 8));
				x->len++;
				m->what = "a network narrowed";
			} else {
				return false;
			}
		}
		return true;
	case 2: /* a rule moved */
		if (p->nrules < 2)
			return false;
		{
			size_t to = below(p->nrules);
			struct pc_rule x = p->rules[i];
			if (to < i)
				memmove(&p->rules[to + 1], &p->rules[to], (i - to) * sizeof(x));
			else
				memmove(&p->rules[i], &p->rules[i + 1], (to - i) * sizeof(x));
			p->rules[to] = x;
		}
		m->what = "a rule moved";
		return true;
	case 3: /* a deny (or reject) inserted, from a narrower network */
		if (!r)
			return false;
		{
			size_t at = below(p->nrules + 1);
			struct pc_rule x = *r;
			x.action = below(2) ? PC_ACTION_DENY : PC_ACTION_REJECT;
			if (below(2)) {
				struct pc_prefix *v = own(m, sizeof(*v));
				v->family = 4;
				v->len = (uint8_t)(8 + below(25));
				v->bytes[0] = (uint8_t)(below(2) ? 192 : 198);
				v->bytes[1] = (uint8_t)(below(2) ? 0 : 51);
				v->bytes[2] = (uint8_t)below(256);
				v->bytes[3] = (uint8_t)below(256);
				clear_host_bits(v);
				x.src = (struct pc_addrset){v, NULL, 1, 0, false};
				x.nfrom = 1;
			}
			memmove(&p->rules[at + 1], &p->rules[at], (p->nrules - at) * sizeof(x));
			p->rules[at] = x;
			p->nrules++;
		}
		m->what = "a deny inserted";
		return true;
	case 4: /* a rule removed */
		if (!r)
			return false;
		memmove(&p->rules[i], &p->rules[i + 1], (p->nrules - i - 1) * sizeof(*r));
		p->nrules--;
		m->what = "a rule removed";
		return true;
	case 5: /* an interface named */
		if (!r)
			return false;
		{
			/* One to three names, none twice. */
			const char **names = own(m, 4 * sizeof(*names));
			size_t n = 1 + below(3), k = 0;
			for (size_t t = 0; t < n; t++) {
				const char *x = iface_names[below(PC_ARRAY_SIZE(iface_names))];
				bool seen = false;
				for (size_t j = 0; j < k; j++)
					seen |= !strcmp(names[j], x);
				if (!seen)
					names[k++] = x;
			}
			r->interface.names = names;
			r->interface.n = k;
			r->interface.negate = below(3) == 0;
		}
		m->what = "an interface named";
		return true;
	case 6: /* a default changed */
		switch (below(6)) {
		case 5:
		case 0:
			p->defaults.input = !p->defaults.input;
			break;
		case 1:
			p->defaults.output = !p->defaults.output;
			break;
		case 2:
			p->defaults.forward = !p->defaults.forward;
			break;
		case 3:
			p->defaults.established = !p->defaults.established;
			break;
		default:
			p->defaults.loopback = !p->defaults.loopback;
			break;
		}
		m->what = "a default changed";
		return true;
	case 8: /* a limit added or removed */
		if (!r)
			return false;
		if (r->flags & PC_RULE_F_LIMIT) {
			r->flags &= ~(unsigned)PC_RULE_F_LIMIT;
			r->limit_rate = 0;
			r->limit_unit = NULL;
			m->what = "a limit removed";
		} else {
			r->flags |= PC_RULE_F_LIMIT;
			r->limit_rate = (unsigned)(1 + below(20));
			r->limit_unit = below(2) ? "minute" : "second";
			m->what = "a limit added";
		}
		return true;
	default: /* a rule's direction changed */
		if (!r)
			return false;
		r->direction = (enum pc_direction)((r->direction + 1 + below(2)) % 3);
		m->what = "a rule's direction changed";
		return true;
	}
}

/* ---- the oracle ----------------------------------------------------------------- */

static bool same_side(const struct pc_compare_side *a, const struct pc_compare_side *b)
{
	return pc_compare_side_same(a, b) && a->by_rule == b->by_rule &&
	       a->by_loopback == b->by_loopback && (!a->by_rule || a->rule == b->rule) &&
	       a->limited == b->limited && a->over.by_rule == b->over.by_rule &&
	       (!a->over.by_rule || a->over.rule == b->over.rule);
}

/*
 * The evaluator itself on the packet within the rate and beyond it (every
 * rule with a limit passed over), against what a side says of both.
 */
static bool oracle_agrees(const struct pc_policy *p, const struct pc_packet *pkt,
		const struct pc_compare_side *s)
{
	struct pc_packet over = *pkt;
	struct pc_decision in, out;

	over.over_limit = true;
	pc_policy_evaluate(p, pkt, &in);
	pc_policy_evaluate(p, &over, &out);
	bool limited = in.by_rule && (p->rules[in.rule].flags & PC_RULE_F_LIMIT);
	return in.verdict == s->verdict && limited == s->limited &&
	       out.verdict == s->over.verdict && (limited || out.verdict == in.verdict) &&
	       out.by_rule == s->over.by_rule && (!out.by_rule || out.rule == s->over.rule);
}

/* One outcome as the evaluator gives it: verdict, a reject, of use or not, and the limit. */
struct outcome {
	enum pc_verdict verdict;
	bool reject;
	enum pc_unusable unusable;
	unsigned rate;
	const char *unit;
};

static void evaluate(const struct pc_policy *p, const struct pc_packet *pkt, struct outcome *o)
{
	struct pc_decision d;
	enum pc_direction reply;

	pc_policy_evaluate(p, pkt, &d);
	o->verdict = d.verdict;
	o->reject = d.by_rule && d.action == PC_ACTION_REJECT;
	o->unusable = pc_decision_unusable(p, pkt, &d, &reply);
	bool limited = d.by_rule && (p->rules[d.rule].flags & PC_RULE_F_LIMIT);
	o->rate = limited ? p->rules[d.rule].limit_rate : 0;
	o->unit = limited ? p->rules[d.rule].limit_unit : "";
}

/*
 * Whether both policies give the packet the same outcome, by the evaluator
 * alone: within the rate, beyond the rate of every limit, and where those
 * differ, at the same rate.
 */
static bool oracle_same(const struct pc_policy *old, const struct pc_policy *new,
		const struct pc_packet *pkt)
{
	struct pc_packet over = *pkt;
	struct outcome a, b, ao, bo;

	over.over_limit = true;
	evaluate(old, pkt, &a);
	evaluate(new, pkt, &b);
	evaluate(old, &over, &ao);
	evaluate(new, &over, &bo);
	if (a.verdict != b.verdict || a.reject != b.reject || a.unusable != b.unusable ||
			ao.verdict != bo.verdict || ao.reject != bo.reject ||
			ao.unusable != bo.unusable)
		return false;
	if (a.verdict == ao.verdict && a.reject == ao.reject && a.unusable == ao.unusable)
		return true;
	return a.rate == b.rate && !strcmp(a.unit, b.unit);
}

static void packet(struct pc_packet *pkt, enum pc_direction dir, enum pc_proto proto, int family,
		uint16_t port, pc_addr128 src, pc_addr128 dst, const char *iface)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->direction = dir;
	pkt->proto = proto;
	pkt->family = (uint8_t)family;
	pkt->has_src = pkt->has_dst = true;
	pkt->port = port;
	pc_addr128_bytes(family, src, pkt->src);
	pc_addr128_bytes(family, dst, pkt->dst);
	snprintf(pkt->iface, sizeof(pkt->iface), "%s", iface);
}

static const char *what_now;

/* The packet gets the region's outcomes from both policies. */
static void check_in(const struct pc_policy *old, const struct pc_policy *new,
		const struct pc_compare_region *r, const struct pc_packet *pkt)
{
	struct pc_compare_side a, b;

	pc_compare_packet(old, pkt, &a);
	pc_compare_packet(new, pkt, &b);
	if (!oracle_agrees(old, pkt, &r->old) || !oracle_agrees(new, pkt, &r->new) ||
			oracle_same(old, new, pkt))
		fail_msg("%s: port %u on %s: a region's outcome is not the evaluator's", what_now,
				pkt->port, pkt->iface);
	if (!same_side(&a, &r->old) || !same_side(&b, &r->new))
		fail_msg("%s: port %u on %s: a packet of a region gets another outcome", what_now,
				pkt->port, pkt->iface);
}

static void region_bounds(const struct pc_compare *c, const struct pc_policy *old,
		const struct pc_policy *new, const struct pc_compare_region *r)
{
	struct pc_compare_span one = {r->src_lo, r->src_hi};
	const struct pc_compare_span *srcs = r->srcs ? r->srcs : &one;
	size_t nsrcs = r->srcs ? r->nsrcs : 1;
	uint16_t ports[2] = {r->lo, r->hi};

	for (int family = 4; family <= 6; family += 2) {
		if (r->family && r->family != family)
			continue;
		pc_addr128 max = pc_addr128_max(family);
		struct pc_compare_span whole = {0, max}, dst_one = {r->dst_lo, r->dst_hi};
		const struct pc_compare_span *dsts = !r->family ? &whole
						     : r->dsts	? r->dsts
								: &dst_one;
		size_t ndsts = r->dsts ? r->ndsts : 1;
		for (size_t k = 0; k < c->nifaces; k++) {
			bool in = !r->ifaces && c->ifaces[k].direction == r->direction;
			for (size_t j = 0; r->ifaces && j < r->nifaces; j++)
				in |= r->ifaces[j] == k;
			if (!in)
				continue;
			for (size_t s = 0; s < nsrcs; s++)
				for (int e = 0; e < 2; e++)
					for (size_t t = 0; t < 2 * ndsts; t++)
						for (int q = 0; q < 2; q++) {
							struct pc_packet pkt;
							pc_addr128 src =
									r->family ? (e ? srcs[s].hi
										       : srcs[s].lo)
										  : (e ? max : 0);
							packet(&pkt, r->direction, r->proto, family,
									ports[q], src,
									t % 2 ? dsts[t / 2].hi
									      : dsts[t / 2].lo,
									c->ifaces[k].sample);
							check_in(old, new, r, &pkt);
						}
		}
	}
}

static bool contains(const struct pc_compare *c, const struct pc_compare_region *r,
		const struct pc_packet *pkt)
{
	if (r->direction != pkt->direction || r->proto != pkt->proto || pkt->port < r->lo ||
			pkt->port > r->hi || (r->family && r->family != pkt->family))
		return false;
	if (r->ifaces) {
		size_t cls = pc_compare_iface_class(c, pkt->direction, pkt->iface);
		bool in = false;
		for (size_t j = 0; j < r->nifaces; j++)
			in |= r->ifaces[j] == cls;
		if (!in)
			return false;
	}
	if (!r->family)
		return true;
	pc_addr128 src = pc_addr128_from(pkt->family, pkt->src);
	pc_addr128 dst = pc_addr128_from(pkt->family, pkt->dst);
	bool dst_in = !r->dsts && dst >= r->dst_lo && dst <= r->dst_hi;
	for (size_t s = 0; r->dsts && s < r->ndsts; s++)
		dst_in |= dst >= r->dsts[s].lo && dst <= r->dsts[s].hi;
	if (!dst_in)
		return false;
	if (!r->srcs)
		return src >= r->src_lo && src <= r->src_hi;
	for (size_t s = 0; s < r->nsrcs; s++)
		if (src >= r->srcs[s].lo && src <= r->srcs[s].hi)
			return true;
	return false;
}

/* An address near a boundary either policy writes, or anywhere. */
static pc_addr128 some_addr(const struct pc_policy *const pol[2], int family)
{
	const struct pc_policy *p = pol[below(2)];
	pc_addr128 max = pc_addr128_max(family);

	if (p->nrules && below(4)) {
		const struct pc_rule *r = &p->rules[below(p->nrules)];
		const struct pc_addrset *s = below(2) ? &r->src : &r->dst;
		const struct pc_prefix *v = family == 4 ? s->v4 : s->v6;
		size_t n = family == 4 ? s->nv4 : s->nv6;
		if (n) {
			struct pc_prefix x = v[below(n)];
			pc_addr128 lo = pc_addr128_from(family, x.bytes);
			pc_addr128 size =
					x.len == 0 ? max
						   : (((pc_addr128)1 << ((family == 4 ? 32 : 128) -
									 x.len)) -
								     1);
			pc_addr128 at = below(2) ? lo : lo + size;
			int step = (int)below(3) - 1;
			if (step < 0 && at > 0)
				at--;
			else if (step > 0 && at < max)
				at++;
			return at;
		}
	}
	pc_addr128 a = ((pc_addr128)rnd() << 64) | rnd();
	return a & max;
}

static uint16_t some_port(const struct pc_policy *const pol[2])
{
	const struct pc_policy *p = pol[below(2)];

	if (p->nrules && below(4)) {
		const struct pc_rule *r = &p->rules[below(p->nrules)];
		if (r->nmatches) {
			const struct pc_match *m = &r->matches[below(r->nmatches)];
			int at = (below(2) ? m->lo : m->hi) + (int)below(3) - 1;
			return (uint16_t)(at < 1 ? 1 : at > 65535 ? 65535 : at);
		}
	}
	return (uint16_t)(1 + below(65535));
}

/* The packet gets its region's outcomes, or, outside every region, the same from both. */
static void check_packet(const struct pc_compare *c, const struct pc_policy *old,
		const struct pc_policy *new, const struct pc_packet *pkt)
{
	const struct pc_compare_region *in = NULL;

	for (size_t i = 0; i < c->nregions && !in; i++)
		if (contains(c, &c->regions[i], pkt))
			in = &c->regions[i];
	if (in) {
		check_in(old, new, in, pkt);
		return;
	}
	struct pc_compare_side a, b;
	pc_compare_packet(old, pkt, &a);
	pc_compare_packet(new, pkt, &b);
	if (!oracle_agrees(old, pkt, &a) || !oracle_agrees(new, pkt, &b))
		fail_msg("%s: port %u on %s: an outcome is not the evaluator's", what_now,
				pkt->port, pkt->iface);
	if (!pc_compare_side_same(&a, &b) || !oracle_same(old, new, pkt))
		fail_msg("%s: %s %s port %u on %s: changed, outside every region", what_now,
				pkt->direction == PC_DIR_INPUT	  ? "input"
				: pkt->direction == PC_DIR_OUTPUT ? "output"
								  : "forward",
				pc_proto_name(pkt->proto), pkt->port, pkt->iface);
}

static void random_packets(const struct pc_compare *c, const struct pc_policy *old,
		const struct pc_policy *new)
{
	const struct pc_policy *const pol[2] = {old, new};
	static const char *const more[] = {"eth0", "eth1", "eth9", "eth10", "eth11", "lo", "wlan0",
			"br-x", "br-ab", "br-abc", "br-b", "v0", "x"};

	for (int n = 0; n < RANDOM_PACKETS; n++) {
		struct pc_packet pkt;
		enum pc_direction dir = (enum pc_direction)below(3);
		int family = below(2) ? 4 : 6;
		const char *iface = more[below(PC_ARRAY_SIZE(more))];
		if (below(2) && c->nifaces) {
			const struct pc_compare_iface *x = &c->ifaces[below(c->nifaces)];
			dir = x->direction;
			iface = x->sample;
		}
		packet(&pkt, dir, (enum pc_proto)(1 + below(PC_PROTO_COUNT - 1)), family,
				some_port(pol), some_addr(pol, family), some_addr(pol, family),
				iface);
		check_packet(c, old, new, &pkt);
	}
}

/*
 * The pair compared with the sweep by runs of ports first (as the default
 * takes for policies this small), and with `both` by spans of sources first
 * and of destinations first too: each order's regions hold the packets that
 * change, and no others.
 */
static void check_pair(const struct pc_policy *old, const struct pc_policy *new, size_t *regions,
		bool both)
{
	static const enum pc_compare_order orders[] = {PC_COMPARE_ORDER_AUTO,
			PC_COMPARE_ORDER_SOURCES, PC_COMPARE_ORDER_DESTINATIONS};

	for (size_t k = 0; k < (both ? PC_ARRAY_SIZE(orders) : 1); k++) {
		struct pc_compare c;
		assert_int_equal(pc_compare_policies_in(old, new, orders[k], &c), 0);
		for (size_t i = 0; i < c.nregions; i++)
			region_bounds(&c, old, new, &c.regions[i]);
		random_packets(&c, old, new);
		*regions += c.nregions;
		pc_compare_finish(&c);
	}
}

static void test_mutants(void **state)
{
	(void)state;
	size_t pairs = 0, regions = 0;

	for (size_t f = 0; f < PC_ARRAY_SIZE(shipped); f++) {
		struct loaded l;
		load(&l, shipped[f]);
		rng_state = 0x9e3779b97f4a7c15ull ^ (f + 1);
		for (int k = 0; k < MUTANTS; k++) {
			struct mutant m;
			char what[256];
			mutant_init(&m, &l.p);
			int changes = 1 + (int)below(2), done = 0;
			for (int tries = 0; done < changes && tries < 20; tries++)
				done += mutate(&m);
			snprintf(what, sizeof(what), "%s, mutant %d (%s%s)", shipped[f], k,
					m.what ? m.what : "none", done > 1 ? " and more" : "");
			what_now = what;
			/* The sources first too for one mutant in four (the suite runs under
			 * valgrind too). */
			check_pair(&l.p, &m.p, &regions, k % 4 == 0);
			check_pair(&m.p, &l.p, &regions, k % 4 == 0);
			pairs += 2;
			mutant_finish(&m);
		}
		unload(&l);
	}
	print_message("%zu pairs compared, %zu regions checked\n", pairs, regions);
	assert_true(regions > 0);
}

/*
 * A policy file made from template `path` (mkstemp), open for its rules:
 * its name, the input and loopback defaults, and `rules:` written.
 */
static FILE *policy_file(char *path, const char *name, const char *input, const char *loopback)
{
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	assert_non_null(f);
	fprintf(f,
			"version: 1\npolicy: %s\ndefaults:\n  input: %s\n  icmp: none\n"
			"  loopback: %s\n  established: accept\nrules:\n",
			name, input, loopback);
	return f;
}

/*
 * n rules on overlapping ranges of ports, each from its own host (rule i:
 * ports 1+i to 3000+i), into a file of its own: with `input: accept`, or
 * with rule n/2 from every source (no `from:`).  With `nested`, rule i
 * of i % 10 == 5 is from 10.0.0.0/8 (every 20th of those with a limit),
 * and of i % 10 == 0 from 10.0.0.0/16 to 192.0.2.0/24: sources that hold
 * one another, and rules that hold a cell's sources and ports but do not
 * decide every packet of it.  With `to` the mirror: each `from:` a `to:`,
 * and the other way round.
 */
static void write_ranges(char *path, size_t n, bool accept, bool any, bool nested, bool to)
{
	const char *from = to ? "to" : "from", *dest = to ? "from" : "to";
	FILE *f = policy_file(path, "ranges", accept ? "accept" : "drop", "none");

	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  - allow: %zu-%zu/tcp\n", 1 + i, 3000 + i);
		if (any && i == n / 2)
			continue;
		if (nested && i % 10 == 5)
			fprintf(f, "    %s: 10.0.0.0/8\n%s", from,
					i % 20 == 15 ? "    limit: 5/second\n" : "");
		else if (nested && i % 10 == 0)
			fprintf(f, "    %s: 10.0.0.0/16\n    %s: 192.0.2.0/24\n", from, dest);
		else
			fprintf(f, "    %s: 10.0.%zu.%zu\n", from, (i + 1) >> 8, (i + 1) & 255);
	}
	assert_int_equal(fclose(f), 0);
}

/*
 * The three policies of write_ranges() loaded: as written, with the
 * input default changed, with rule n/2 from every source.
 */
struct ranges3 {
	char path[3][32];
	struct loaded l[3];
};

static void ranges_load(struct ranges3 *r, size_t n, bool nested, bool to)
{
	for (int k = 0; k < 3; k++) {
		snprintf(r->path[k], sizeof(r->path[k]), "/tmp/pc-compare-XXXXXX");
		write_ranges(r->path[k], n, k == 1, k == 2, nested, to);
		load(&r->l[k], r->path[k]);
	}
}

static void ranges_unload(struct ranges3 *r)
{
	for (int k = 0; k < 3; k++) {
		unload(&r->l[k]);
		unlink(r->path[k]);
	}
}

/*
 * Where every packet may change (a default changed, a rule changed to take
 * every source) among rules on overlapping ranges of ports, each from its
 * own host: the sweep takes the sources first, a few cells a rule (by runs
 * of ports, each run held every rule's host: n * n), and its regions hold
 * exactly the packets that change.
 */
static void test_ranges_everywhere(void **state)
{
	enum {
		N = 300
	};
	struct ranges3 r;
	struct loaded *l = r.l;

	(void)state;
	ranges_load(&r, N, false, false);
	for (int k = 1; k < 3; k++) {
		struct pc_compare c;
		what_now = k == 1 ? "ranges, the input default changed"
				  : "ranges, a rule from anywhere";
		assert_int_equal(pc_compare_policies(&l[0].p, &l[k].p, &c), 0);
		print_message("%s: %zu regions, %zu cells\n", what_now, c.nregions, c.cells);
		assert_true(c.nregions >= N);
		assert_true(c.cells < 40 * N);
		/* Every third region's bounds (each packet meets 300 rules twice). */
		for (size_t i = 0; i < c.nregions; i += 3)
			region_bounds(&c, &l[0].p, &l[k].p, &c.regions[i]);
		random_packets(&c, &l[0].p, &l[k].p);
		pc_compare_finish(&c);
	}
	ranges_unload(&r);
}

/*
 * The nested ranges of write_ranges() (with `to` their mirror), each change
 * compared in each order: the ports first, the sources first and the
 * destinations first (the one chosen is one of them), every region checked.
 */
static void ranges_orders(bool to)
{
	static const enum pc_compare_order orders[] = {PC_COMPARE_ORDER_PORTS,
			PC_COMPARE_ORDER_SOURCES, PC_COMPARE_ORDER_DESTINATIONS};
	struct ranges3 r;
	struct loaded *l = r.l;

	ranges_load(&r, 150, true, to);
	for (int k = 1; k < 3; k++) {
		size_t fewest = SIZE_MAX;
		struct pc_compare c;
		for (size_t o = 0; o < PC_ARRAY_SIZE(orders); o++) {
			what_now = k == 1 ? "nested ranges, the input default changed"
					  : "nested ranges, a rule from anywhere";
			assert_int_equal(
					pc_compare_policies_in(&l[0].p, &l[k].p, orders[o], &c), 0);
			print_message("%s%s, order %zu: %zu regions, %zu cells\n", what_now,
					to ? " (to)" : "", o, c.nregions, c.cells);
			assert_true(c.nregions > 0);
			for (size_t i = 0; i < c.nregions; i++)
				region_bounds(&c, &l[0].p, &l[k].p, &c.regions[i]);
			random_packets(&c, &l[0].p, &l[k].p);
			fewest = c.cells < fewest ? c.cells : fewest;
			pc_compare_finish(&c);
		}
		/* The order chosen (for each protocol and family) costs no more cells. */
		assert_int_equal(pc_compare_policies(&l[0].p, &l[k].p, &c), 0);
		assert_true(c.cells <= fewest);
		pc_compare_finish(&c);
	}
	ranges_unload(&r);
}

/*
 * The same where sources hold one another: rules from a /8 (some with a
 * limit) and from a /16 to some destinations among the hosts' rules.  Each
 * span of sources is held by a tenth of the rules, and a cell's ports by
 * most of those: the sweep meets, per cell, only the rules up to the first
 * that decides all of it.  Each order (the ports first, the sources first,
 * the destinations first) finds exactly the packets that change, and the
 * one chosen costs no more cells than the cheapest.
 */
static void test_ranges_nested(void **state)
{
	(void)state;
	ranges_orders(false);
}

/*
 * The mirror, each rule to its own host (and the wide ones to a /8 and a
 * /16 from a /24): every order finds exactly the packets that change, and
 * the one chosen for 300 rules each to its own host, the destinations
 * first, evaluates about one cell per rule and run (the ports first met
 * each run's hosts with each run's rules: n^3).
 */
static void test_ranges_to(void **state)
{
	struct ranges3 r;
	struct pc_compare c;

	(void)state;
	ranges_orders(true);
	ranges_load(&r, 300, false, true);
	what_now = "ranges to hosts, the input default changed";
	assert_int_equal(pc_compare_policies(&r.l[0].p, &r.l[1].p, &c), 0);
	print_message("%s: %zu regions, %zu cells\n", what_now, c.nregions, c.cells);
	assert_true(c.nregions >= 300);
	assert_true(c.cells < 40 * 300);
	for (size_t i = 0; i < c.nregions; i += 3)
		region_bounds(&c, &r.l[0].p, &r.l[1].p, &c.regions[i]);
	random_packets(&c, &r.l[0].p, &r.l[1].p);
	pc_compare_finish(&c);
	ranges_unload(&r);
}

/*
 * Many classes of interfaces (past the 16 where the classes no rule of a
 * run writes share one sweep of it): rules each on their own port, on a
 * name, a wildcard, a name and a wildcard, or every interface but one
 * (`not:`), some from a host, some on `lo`; in a file of its own, with
 * `input: accept` when `accept`, or with rule 7 on another port when `moved`.
 */
static void write_classes(char *path, bool accept, bool moved)
{
	FILE *f = policy_file(
			path, "classes", accept ? "accept" : "drop", accept ? "accept" : "none");

	for (unsigned i = 0; i < 60; i++) {
		fprintf(f, "  - %s: %u/tcp\n", i % 7 == 3 ? "deny" : "allow",
				moved && i == 7 ? 4000u : 1000 + i / 2);
		if (i % 5 == 0)
			fprintf(f, "    from: 10.0.0.%u\n", i + 1);
		switch (i % 6) {
		case 0:
			fprintf(f, "    interface: e%u\n", i);
			break;
		case 1:
			fprintf(f, "    interface: w%u*\n", i);
			break;
		case 2:
			fprintf(f, "    interface: [e%u, w%u*]\n", i, i - 1);
			break;
		case 3:
			fprintf(f, "    interface: {not: [e%u]}\n", i - 3);
			break;
		case 4:
			fprintf(f, "    interface: lo\n");
			break;
		default:
			break;
		}
	}
	assert_int_equal(fclose(f), 0);
}

static void test_many_classes(void **state)
{
	char path[3][32];
	struct loaded l[3];

	(void)state;
	for (int k = 0; k < 3; k++) {
		snprintf(path[k], sizeof(path[k]), "/tmp/pc-compare-XXXXXX");
		write_classes(path[k], k == 1, k == 2);
		load(&l[k], path[k]);
	}
	for (int k = 1; k < 3; k++)
		for (int way = 0; way < 2; way++) {
			const struct pc_policy *a = &l[way ? k : 0].p, *b = &l[way ? 0 : k].p;
			struct pc_compare c;
			what_now = k == 1 ? "many classes, the defaults changed"
					  : "many classes, a rule moved";
			assert_int_equal(pc_compare_policies(a, b, &c), 0);
			print_message("%s: %zu classes, %zu regions, %zu cells\n", what_now,
					c.nifaces, c.nregions, c.cells);
			assert_true(c.nclasses[PC_DIR_INPUT] > 16);
			assert_true(c.nregions > 0);
			for (size_t i = 0; i < c.nregions; i++)
				region_bounds(&c, a, b, &c.regions[i]);
			random_packets(&c, a, b);
			/* Every class on every rule's port, from a rule's host and another. */
			for (size_t x = 0; x < c.nifaces; x++)
				for (unsigned port = 999; port <= 1031; port++)
					for (unsigned h = 0; h < 2; h++) {
						struct pc_packet pkt;
						uint8_t src[16] = {10, 0, 0, (uint8_t)(h ? 99 : 1)};
						packet(&pkt, c.ifaces[x].direction, PC_PROTO_TCP, 4,
								(uint16_t)port,
								pc_addr128_from(4, src), 0,
								c.ifaces[x].sample);
						check_packet(&c, a, b, &pkt);
					}
			pc_compare_finish(&c);
		}
	for (int k = 0; k < 3; k++) {
		unload(&l[k]);
		unlink(path[k]);
	}
}

/* A policy against itself: nothing changes, and the text is the same. */
static void test_same(void **state)
{
	(void)state;
	for (size_t f = 0; f < PC_ARRAY_SIZE(shipped); f++) {
		struct loaded l;
		struct pc_compare c;
		struct pc_compare_text t;
		load(&l, shipped[f]);
		pc_compare_policies(&l.p, &l.p, &c);
		assert_int_equal(c.nregions, 0);
		pc_compare_text(&l.p, &l.p, &t);
		assert_int_equal(t.nadded + t.nremoved + t.nchanged + t.nmoved + t.ncomments, 0);
		assert_int_equal(
				t.nnet_added + t.nnet_removed + t.nnet_renamed + t.nnet_changed, 0);
		assert_false(t.defaults);
		pc_compare_text_finish(&t);
		pc_compare_finish(&c);
		unload(&l);
	}
}

/* The fewest prefixes of a span of addresses. */
static void test_prefixes(void **state)
{
	struct pc_prefix v[256];
	char text[PC_ADDR_TEXT_MAX + 4];
	uint8_t a[16] = {192, 0, 2, 1}, b[16] = {192, 0, 2, 6};

	(void)state;
	size_t n = pc_addr128_prefixes(4, pc_addr128_from(4, a), pc_addr128_from(4, b), v);
	assert_int_equal(n, 4); /* .1, .2/31, .4/31, .6 */
	pc_prefix_text(text, &v[0]);
	assert_string_equal(text, "192.0.2.1");
	assert_int_equal(pc_addr128_prefixes(4, 0, pc_addr128_max(4), v), 1);
	assert_int_equal(v[0].len, 0);
	assert_int_equal(pc_addr128_prefixes(6, 0, pc_addr128_max(6), v), 1);
	assert_int_equal(v[0].len, 0);
	/* Every address but the first: one prefix per bit. */
	assert_int_equal(pc_addr128_prefixes(6, 1, pc_addr128_max(6), v), 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_prefixes),
			cmocka_unit_test(test_same),
			cmocka_unit_test(test_mutants),
			cmocka_unit_test(test_ranges_everywhere),
			cmocka_unit_test(test_ranges_nested),
			cmocka_unit_test(test_ranges_to),
			cmocka_unit_test(test_many_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
