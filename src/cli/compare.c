/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis compare OLD NEW: what a change of policy does to packets, the
 * regions whose verdict changed, with the rules that decide on both sides;
 * or, when no verdict moved, what changed in the text.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "portcullis/compare.h"
#include "portcullis/nft.h"
#include "portcullis/policy.h"
#include "util.h"

static const char *dir_name(enum pc_direction d)
{
	return pc_nft_hook_name(pc_nft_hook_of(d));
}

/* "accept", "drop", "reject", as explain says them, and what makes one of no use. */
static const char *outcome_name(const struct pc_compare_side *s)
{
	return s->reject ? "reject" : s->verdict == PC_VERDICT_ACCEPT ? "accept" : "drop";
}

/* What a side does beyond the rate of its limit, as a side of its own. */
static struct pc_compare_side beyond_of(const struct pc_compare_side *s)
{
	struct pc_compare_side b;

	memset(&b, 0, sizeof(b));
	b.verdict = s->over.verdict;
	b.reject = s->over.reject;
	b.unusable = s->over.unusable;
	b.by_rule = s->over.by_rule;
	b.by_loopback = s->over.by_loopback;
	b.rule = s->over.rule;
	b.match = s->over.match;
	return b;
}

static void print_one_outcome(FILE *f, const struct pc_compare_side *s)
{
	fputs(outcome_name(s), f);
	if (s->unusable != PC_USABLE)
		fprintf(f, "%s [%s]",
				s->verdict == PC_VERDICT_ACCEPT ? ", but unusable"
								: ", but its answer is dropped",
				pc_unusable_code(s->unusable));
}

/* "accept", or with a limit "accept (up to 10/minute; beyond: drop)". */
static void print_outcome(FILE *f, const struct pc_compare_side *s)
{
	print_one_outcome(f, s);
	if (s->limited) {
		struct pc_compare_side b = beyond_of(s);
		fprintf(f, " (up to %u/%s; beyond: ", s->limit_rate, s->limit_unit);
		print_one_outcome(f, &b);
		fputc(')', f);
	}
}

static void print_loc(FILE *f, const struct pc_loc *loc)
{
	pc_fputs_escaped(loc->file ? loc->file : "", f);
	fprintf(f, ":%u:%u", loc->line, loc->col);
}

/* Who decides on one side: a rule, the loopback default, or the direction's default. */
static void print_one_who(FILE *f, const struct pc_policy *p, const struct pc_compare_side *s,
		enum pc_direction dir)
{
	if (s->by_rule) {
		fprintf(f, "rule %zu at ", s->rule + 1);
		print_loc(f, &p->rules[s->rule].loc);
	} else if (s->by_loopback) {
		fputs("loopback: accept (defaults.loopback)", f);
	} else {
		fprintf(f, "the default (defaults.%s)", dir_name(dir));
	}
}

/* "rule 1 at a.yaml:4:5", and with a limit who decides beyond its rate. */
static void print_who(FILE *f, const struct pc_policy *p, const struct pc_compare_side *s,
		enum pc_direction dir)
{
	print_one_who(f, p, s, dir);
	if (s->limited) {
		struct pc_compare_side b = beyond_of(s);
		fputs(" (beyond: ", f);
		print_one_who(f, p, &b, dir);
		fputc(')', f);
	}
}

/*
 * A policy's networks found by their addresses in each family (a hash of
 * them, sorted, and the networks in policy order where hashes are equal)
 * and by name: a line of the answer names the network of its addresses
 * without walking every network.
 */
struct net_key {
	uint64_t hash;
	size_t net;
};

struct net_index {
	const struct pc_policy *p;
	struct net_key *by_addr[2]; /* IPv4, IPv6 */
	size_t *by_name;
};

struct pair {
	const struct pc_policy *pol[2];
	struct net_index idx[2];
};

static uint64_t prefixes_hash(const struct pc_prefix *v, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t k = 0; k < n; k++) {
		h = (h ^ v[k].len) * 0x100000001b3u;
		for (int b = 0; b < 16; b++)
			h = (h ^ v[k].bytes[b]) * 0x100000001b3u;
	}
	return h;
}

static const struct pc_prefix *family_of(const struct pc_addrset *s, int family, size_t *n)
{
	*n = family == 4 ? s->nv4 : s->nv6;
	return family == 4 ? s->v4 : s->v6;
}

static int cmp_net_key(const void *pa, const void *pb)
{
	const struct net_key *a = pa, *b = pb;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return (a->net > b->net) - (a->net < b->net);
}

static int cmp_net_name(const void *pa, const void *pb, void *arg)
{
	const struct pc_policy *p = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = strcmp(p->networks[a].name, p->networks[b].name);

	return c ? c : (a > b) - (a < b);
}

static void net_index_init(struct net_index *x, const struct pc_policy *p)
{
	x->p = p;
	for (int f = 0; f < 2; f++) {
		x->by_addr[f] = xcalloc(p->nnetworks + 1, sizeof(*x->by_addr[f]));
		for (size_t i = 0; i < p->nnetworks; i++) {
			size_t n;
			const struct pc_prefix *v = family_of(&p->networks[i].set, f ? 6 : 4, &n);
			x->by_addr[f][i] = (struct net_key){prefixes_hash(v, n), i};
		}
		qsort(x->by_addr[f], p->nnetworks, sizeof(*x->by_addr[f]), cmp_net_key);
	}
	x->by_name = xcalloc(p->nnetworks + 1, sizeof(*x->by_name));
	for (size_t i = 0; i < p->nnetworks; i++)
		x->by_name[i] = i;
	qsort_r(x->by_name, p->nnetworks, sizeof(*x->by_name), cmp_net_name, (void *)p);
}

static void net_index_finish(struct net_index *x)
{
	free(x->by_addr[0]);
	free(x->by_addr[1]);
	free(x->by_name);
}

/* The first network of x's policy whose addresses in `family` are exactly `v`, or NULL. */
static const char *network_of(
		const struct net_index *x, int family, const struct pc_prefix *v, size_t n)
{
	const struct pc_policy *p = x->p;
	const struct net_key *keys = x->by_addr[family == 6];
	uint64_t h = prefixes_hash(v, n);
	size_t lo = 0, hi = p->nnetworks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (keys[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < p->nnetworks && keys[lo].hash == h; lo++) {
		size_t m;
		const struct pc_prefix *w = family_of(&p->networks[keys[lo].net].set, family, &m);
		bool same = m == n;
		for (size_t k = 0; same && k < n; k++)
			same = w[k].len == v[k].len && !memcmp(w[k].bytes, v[k].bytes, 16);
		if (same)
			return p->networks[keys[lo].net].name;
	}
	return NULL;
}

/* Whether x's policy has a network called `name` whose addresses in `family` are not `v`. */
static bool names_other(const struct net_index *x, const char *name, int family,
		const struct pc_prefix *v, size_t n)
{
	const struct pc_policy *p = x->p;
	size_t lo = 0, hi = p->nnetworks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->networks[x->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->nnetworks || strcmp(p->networks[x->by_name[lo]].name, name))
		return false;
	return network_of(x, family, v, n) != p->networks[x->by_name[lo]].name;
}

/*
 * The name of a network that is exactly these addresses: the new policy's,
 * else the old one's; *side says whose (1 new, 0 old), *ambiguous whether
 * the other policy gives that name to other addresses.
 */
static const char *network_label(const struct pair *pr, int family, const struct pc_prefix *v,
		size_t n, int *side, bool *ambiguous)
{
	for (*side = 1; *side >= 0; (*side)--) {
		const char *name = network_of(&pr->idx[*side], family, v, n);
		if (name) {
			*ambiguous = names_other(&pr->idx[!*side], name, family, v, n);
			return name;
		}
	}
	*ambiguous = false;
	return NULL;
}

/* Addresses written as prefixes, the fewest, and the network they make up, if one does. */
struct span_text {
	struct pc_prefix *v;
	size_t n;
	bool except; /* the prefixes are what is left out of `within` */
	struct pc_prefix within;
	const char *network; /* the new policy's name for them, else the old one's */
	int side; /* whose network: 1 new, 0 old */
	bool ambiguous; /* the other policy's network of that name is other addresses */
};

/* The prefixes of spans v[0..n), appended to out->v. */
static void prefixes_of(
		int family, const struct pc_compare_span *v, size_t n, struct span_text *out)
{
	struct pc_prefix one[256];

	for (size_t i = 0; i < n; i++) {
		size_t k = pc_addr128_prefixes(family, v[i].lo, v[i].hi, one);
		out->v = xreallocarray(out->v, out->n + k, sizeof(*out->v));
		memcpy(out->v + out->n, one, k * sizeof(*one));
		out->n += k;
	}
}

/* The smallest prefix that holds lo..hi, as its first and last address. */
static void covering(int family, pc_addr128 lo, pc_addr128 hi, struct pc_compare_span *out)
{
	pc_addr128 mask = 0;

	/* The bits above the highest one where lo and hi differ are the prefix. */
	for (pc_addr128 diff = lo ^ hi; diff; diff >>= 1)
		mask = (mask << 1) | 1;
	out->lo = lo & ~mask;
	out->hi = (lo | mask) & pc_addr128_max(family);
}

/*
 * The sources (or destinations) of a region as prefixes, or, when that is
 * shorter, as the smallest prefix holding them except some.
 */
static void span_of(const struct pair *pr, int family, const struct pc_compare_span *v, size_t n,
		struct span_text *out)
{
	struct pc_compare_span *gaps = xcalloc(n + 1, sizeof(*gaps)), all;
	struct span_text rest = {NULL, 0, true, {0}, NULL, 0, false};
	size_t ngaps = 0;

	memset(out, 0, sizeof(*out));
	prefixes_of(family, v, n, out);
	covering(family, v[0].lo, v[n - 1].hi, &all);
	pc_addr128 at = all.lo;
	bool open_end = true;
	for (size_t i = 0; i < n; i++) {
		if (v[i].lo > at)
			gaps[ngaps++] = (struct pc_compare_span){at, v[i].lo - 1};
		if (v[i].hi == all.hi)
			open_end = false;
		else
			at = v[i].hi + 1;
	}
	if (open_end)
		gaps[ngaps++] = (struct pc_compare_span){at, all.hi};
	prefixes_of(family, gaps, ngaps, &rest);
	free(gaps);
	if (ngaps && rest.n + 1 < out->n) {
		pc_addr128_prefixes(family, all.lo, all.hi, &rest.within);
		free(out->v);
		*out = rest;
	} else {
		free(rest.v);
	}
	out->network = network_label(pr, family, out->v, out->n, &out->side, &out->ambiguous);
}

static void span_finish(struct span_text *s)
{
	free(s->v);
}

/* The sources (or destinations) of a region as spans: its list, or its one span. */
static const struct pc_compare_span *spans_of(
		const struct pc_compare_region *r, bool dst, struct pc_compare_span *one, size_t *n)
{
	if (dst ? r->dsts : r->srcs) {
		*n = dst ? r->ndsts : r->nsrcs;
		return dst ? r->dsts : r->srcs;
	}
	*one = dst ? (struct pc_compare_span){r->dst_lo, r->dst_hi}
		   : (struct pc_compare_span){r->src_lo, r->src_hi};
	*n = 1;
	return one;
}

static void print_span(FILE *f, const char *before, int family, const struct span_text *s)
{
	char text[PC_ADDR_TEXT_MAX + 4];

	fputs(before, f);
	if (s->except) {
		pc_prefix_text(text, &s->within);
		fprintf(f, "%s except ", text);
	}
	for (size_t i = 0; i < s->n; i++) {
		pc_prefix_text(text, &s->v[i]);
		fprintf(f, "%s%s", i ? ", " : "", text);
	}
	if (s->network) {
		fputs(" (", f);
		pc_fputs_escaped(s->network, f);
		/* One name, two meanings in one report: say whose. */
		if (s->ambiguous)
			fputs(s->side ? " in new" : " in old", f);
		fputc(')', f);
	}
}

static void iface_text(FILE *f, const struct pc_compare_iface *x)
{
	if (!x->name) {
		fputs("other interfaces", f);
		return;
	}
	fputs(x->name, f);
	/* A wildcard's others: "eth* except eth0", "eth* except {eth0, eth1}". */
	if (x->others && x->nexcept) {
		fprintf(f, " except %s", x->nexcept > 1 ? "{" : "");
		for (size_t i = 0; i < x->nexcept; i++)
			fprintf(f, "%s%s", i ? ", " : "", x->except[i]);
		fputs(x->nexcept > 1 ? "}" : "", f);
	}
}

/*
 * A region's interfaces: the classes listed, or, when it holds most of
 * them, the policy's own "not {...}" with the others.
 */
static void print_ifaces(FILE *f, const struct pc_compare *c, const struct pc_compare_region *r)
{
	size_t first = c->class_first[r->direction], all = c->nclasses[r->direction];
	bool negate = 2 * r->nifaces >= all;

	/* "not" is said only of names: never "not other interfaces". */
	for (size_t i = first, k = 0; negate && i < first + all; i++) {
		bool in = k < r->nifaces && r->ifaces[k] == i;
		k += in;
		if (!in && !c->ifaces[i].name)
			negate = false;
	}
	fputs(r->direction == PC_DIR_OUTPUT ? " out " : " in ", f);
	fputs(negate ? "not " : "", f);
	/* Those left out (at most half the direction's classes), or the region's own. */
	size_t shown = negate ? all - r->nifaces : r->nifaces;
	fputs(shown > 1 ? "{" : "", f);
	if (negate) {
		for (size_t i = first, k = 0, n = 0; i < first + all; i++) {
			bool in = k < r->nifaces && r->ifaces[k] == i;
			k += in;
			if (!in) {
				fputs(n++ ? ", " : "", f);
				iface_text(f, &c->ifaces[i]);
			}
		}
	} else {
		for (size_t k = 0; k < r->nifaces; k++) {
			fputs(k ? ", " : "", f);
			iface_text(f, &c->ifaces[r->ifaces[k]]);
		}
	}
	fputs(shown > 1 ? "}" : "", f);
}

/* Whether a region's sources and destinations are written: not when they are every address. */
static bool shows_src(const struct pc_compare_region *r)
{
	pc_addr128 max = pc_addr128_max(r->family);
	bool src_all = !r->srcs && r->src_lo == 0 && r->src_hi == max;
	bool dst_all = !r->dsts && r->dst_lo == 0 && r->dst_hi == max;

	/*
	 * One family over every address still says which: "from 0.0.0.0/0";
	 * on output, where the source is this host, "to ::/0".
	 */
	return r->family && (!src_all || (dst_all && r->direction != PC_DIR_OUTPUT));
}

static bool shows_dst(const struct pc_compare_region *r)
{
	pc_addr128 max = pc_addr128_max(r->family);
	bool src_all = !r->srcs && r->src_lo == 0 && r->src_hi == max;
	bool dst_all = !r->dsts && r->dst_lo == 0 && r->dst_hi == max;

	return r->family && (!dst_all || (src_all && r->direction == PC_DIR_OUTPUT));
}

static void print_region(FILE *f, const char *indent, const struct pair *pr,
		const struct pc_compare *c, const struct pc_compare_region *r)
{
	const struct pc_policy *const *pol = pr->pol;
	struct span_text span;

	fprintf(f, "%s%s %s %u", indent, dir_name(r->direction), pc_proto_name(r->proto), r->lo);
	if (r->hi != r->lo)
		fprintf(f, "-%u", r->hi);
	if (r->service) {
		fputs(" (", f);
		pc_fputs_escaped(r->service, f);
		fputc(')', f);
	}
	if (shows_src(r)) {
		struct pc_compare_span one;
		size_t n;
		const struct pc_compare_span *v = spans_of(r, false, &one, &n);
		span_of(pr, r->family, v, n, &span);
		print_span(f, " from ", r->family, &span);
		span_finish(&span);
	}
	if (shows_dst(r)) {
		struct pc_compare_span one;
		size_t n;
		const struct pc_compare_span *v = spans_of(r, true, &one, &n);
		span_of(pr, r->family, v, n, &span);
		print_span(f, " to ", r->family, &span);
		span_finish(&span);
	}
	if (r->ifaces)
		print_ifaces(f, c, r);
	fputs(": ", f);
	print_outcome(f, &r->old);
	fputs(" -> ", f);
	print_outcome(f, &r->new);
	fputs("   was ", f);
	print_who(f, pol[0], &r->old, r->direction);
	fputs(", now ", f);
	print_who(f, pol[1], &r->new, r->direction);
	fputc('\n', f);
}

static void fold_reason(struct pc_compare_side *s)
{
	if (s->unusable != PC_USABLE)
		s->unusable = PC_UNUSABLE_REPLIES;
	if (s->over.unusable != PC_USABLE)
		s->over.unusable = PC_UNUSABLE_REPLIES;
}

/*
 * Whether only the reason the packets are of no use changed (`accept, but
 * unusable [replies-dropped] -> accept, but unusable [nd-dropped]`): of no
 * use before and after, no verdict moved.
 */
static bool reason_only(const struct pc_compare_region *r)
{
	struct pc_compare_side a = r->old, b = r->new;

	fold_reason(&a);
	fold_reason(&b);
	return pc_compare_side_same(&a, &b);
}

/* --only: what opens (accept), what closes (drop), or everything (NULL). */
static bool kept(const char *only, const struct pc_compare_region *r)
{
	bool accept = only && !strcmp(only, "accept");

	if (!only)
		return true;
	/* Within the rate of a limit or beyond it. */
	for (int beyond = 0; beyond < 2; beyond++) {
		bool was = pc_compare_side_open(&r->old, beyond);
		bool is = pc_compare_side_open(&r->new, beyond);
		if (accept ? !was && is : was && !is)
			return true;
	}
	return false;
}

/*
 * "2 added (new.yaml:30:5, new.yaml:34:5)": a count and the rules' places,
 * or with `nets` the networks' names.
 */
static void print_list(FILE *f, const char *what, const struct pc_policy *p, bool nets,
		const size_t *v, size_t n, bool *first)
{
	if (!n)
		return;
	fprintf(f, "%s%zu %s (", *first ? "" : ", ", n, what);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		if (nets)
			pc_fputs_escaped(p->networks[v[i]].name, f);
		else
			print_loc(f, &p->rules[v[i]].loc);
	}
	fputc(')', f);
	*first = false;
}

/* "  defaults: icmp essential -> none, ...": each default that changed, old and new. */
static void print_defaults(FILE *f, const struct pc_defaults *a, const struct pc_defaults *b)
{
	static const char *const verdicts[] = {"accept", "drop"};
	static const char *const icmp[] = {"essential", "all", "none"};
	static const char *const conntrack[] = {"none", "accept"};
	const struct {
		const char *name;
		unsigned old, new;
		const char *const *words;
	} v[] = {
			{"input", a->input, b->input, verdicts},
			{"output", a->output, b->output, verdicts},
			{"forward", a->forward, b->forward, verdicts},
			{"established", a->established, b->established, conntrack},
			{"loopback", a->loopback, b->loopback, conntrack},
			{"icmp", a->icmp, b->icmp, icmp},
			{"neighbour-discovery", !a->neighbour_discovery, !b->neighbour_discovery,
					verdicts},
	};
	bool first = true;

	fputs("  defaults: ", f);
	for (size_t i = 0; i < PC_ARRAY_SIZE(v); i++) {
		if (v[i].old == v[i].new)
			continue;
		fprintf(f, "%s%s %s -> %s", first ? "" : ", ", v[i].name, v[i].words[v[i].old],
				v[i].words[v[i].new]);
		first = false;
	}
	fputc('\n', f);
}

static void print_text_change(
		FILE *f, const struct pc_policy *const pol[2], const struct pc_compare_text *t)
{
	bool first = true, any = false;

	if (t->nadded || t->nremoved || t->nmoved || t->nchanged) {
		fputs("  rules: ", f);
		print_list(f, "added", pol[1], false, t->added, t->nadded, &first);
		print_list(f, "removed", pol[0], false, t->removed, t->nremoved, &first);
		if (t->nchanged) {
			fprintf(f, "%s%zu changed (", first ? "" : ", ", t->nchanged);
			for (size_t i = 0; i < t->nchanged; i++) {
				fputs(i ? ", " : "", f);
				print_loc(f, &pol[0]->rules[t->changed[i][0]].loc);
				fputs(" -> ", f);
				print_loc(f, &pol[1]->rules[t->changed[i][1]].loc);
			}
			fputc(')', f);
			first = false;
		}
		print_list(f, "moved", pol[1], false, t->moved, t->nmoved, &first);
		fputc('\n', f);
		any = true;
	}
	if (t->ncomments) {
		first = true;
		fputs("  comments: ", f);
		print_list(f, "changed", pol[1], false, t->comments, t->ncomments, &first);
		fputc('\n', f);
		any = true;
	}
	if (t->nnet_added || t->nnet_removed || t->nnet_renamed || t->nnet_changed ||
			t->nnet_rewritten) {
		first = true;
		fputs("  networks: ", f);
		print_list(f, "added", pol[1], true, t->net_added, t->nnet_added, &first);
		print_list(f, "removed", pol[0], true, t->net_removed, t->nnet_removed, &first);
		if (t->nnet_renamed) {
			fprintf(f, "%s%zu renamed (", first ? "" : ", ", t->nnet_renamed);
			for (size_t i = 0; i < t->nnet_renamed; i++) {
				fputs(i ? ", " : "", f);
				pc_fputs_escaped(pol[0]->networks[t->net_renamed[i][0]].name, f);
				fputs(" -> ", f);
				pc_fputs_escaped(pol[1]->networks[t->net_renamed[i][1]].name, f);
			}
			fputc(')', f);
			first = false;
		}
		print_list(f, "changed", pol[1], true, t->net_changed, t->nnet_changed, &first);
		print_list(f, "rewritten, same addresses", pol[1], true, t->net_rewritten,
				t->nnet_rewritten, &first);
		fputc('\n', f);
		any = true;
	}
	if (t->defaults) {
		print_defaults(f, &pol[0]->defaults, &pol[1]->defaults);
		any = true;
	}
	if (!any)
		fputs("  rules, networks and defaults: the same\n", f);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_loc(struct pc_json *j, const struct pc_loc *loc)
{
	pc_json_key(j, "file");
	pc_json_string(j, loc->file ? loc->file : "");
	pc_json_key(j, "line");
	pc_json_uint(j, loc->line);
	pc_json_key(j, "col");
	pc_json_uint(j, loc->col);
}

static void json_one_side(struct pc_json *j, const struct pc_policy *p,
		const struct pc_compare_side *s, enum pc_direction dir)
{
	pc_json_key(j, "verdict");
	pc_json_string(j, outcome_name(s));
	pc_json_key(j, "unusable");
	pc_json_string_or_null(j, pc_unusable_code(s->unusable));
	pc_json_key(j, "by");
	pc_json_string(j, s->by_rule ? "rule" : s->by_loopback ? "loopback" : "default");
	pc_json_key(j, "rule");
	if (s->by_rule) {
		pc_json_begin_object(j);
		pc_json_key(j, "number");
		pc_json_uint(j, s->rule + 1);
		json_loc(j, &p->rules[s->rule].loc);
		pc_json_end_object(j);
	} else {
		pc_json_null(j);
	}
	pc_json_key(j, "default");
	if (s->by_rule)
		pc_json_null(j);
	else if (s->by_loopback)
		pc_json_string(j, "defaults.loopback");
	else {
		char key[32];
		snprintf(key, sizeof(key), "defaults.%s", dir_name(dir));
		pc_json_string(j, key);
	}
}

/*
 * A side: its outcome, and "limit" ({"rate", "unit"}, or null) with
 * "beyond", the outcome beyond that rate (null without a limit).
 */
static void json_side(struct pc_json *j, const struct pc_policy *p, const struct pc_compare_side *s,
		enum pc_direction dir)
{
	pc_json_begin_object(j);
	json_one_side(j, p, s, dir);
	pc_json_key(j, "limit");
	if (s->limited) {
		pc_json_begin_object(j);
		pc_json_key(j, "rate");
		pc_json_uint(j, s->limit_rate);
		pc_json_key(j, "unit");
		pc_json_string(j, s->limit_unit);
		pc_json_end_object(j);
	} else {
		pc_json_null(j);
	}
	pc_json_key(j, "beyond");
	if (s->limited) {
		struct pc_compare_side b = beyond_of(s);
		pc_json_begin_object(j);
		json_one_side(j, p, &b, dir);
		pc_json_end_object(j);
	} else {
		pc_json_null(j);
	}
	pc_json_end_object(j);
}

static void json_span(struct pc_json *j, const char *key, const char *net_key,
		const struct pair *pr, const struct pc_compare_region *r, bool src)
{
	struct span_text span;
	struct pc_compare_span one;
	size_t n;
	const struct pc_compare_span *v;
	char text[PC_ADDR_TEXT_MAX + 4];

	pc_json_key(j, key);
	if (!r->family) {
		char in_key[32];
		pc_json_null(j);
		pc_json_key(j, net_key);
		pc_json_null(j);
		snprintf(in_key, sizeof(in_key), "%s_in", net_key);
		pc_json_key(j, in_key);
		pc_json_null(j);
		return;
	}
	v = spans_of(r, !src, &one, &n);
	/* Always the prefixes themselves: a program needs no "except". */
	memset(&span, 0, sizeof(span));
	prefixes_of(r->family, v, n, &span);
	pc_json_begin_array(j);
	for (size_t i = 0; i < span.n; i++) {
		char full[PC_ADDR_TEXT_MAX + 8];
		pc_prefix_addr(text, &span.v[i]);
		snprintf(full, sizeof(full), "%s/%u", text, span.v[i].len);
		pc_json_string(j, full);
	}
	pc_json_end_array(j);
	int side;
	bool ambiguous;
	const char *net = network_label(pr, r->family, span.v, span.n, &side, &ambiguous);
	char in_key[32];
	pc_json_key(j, net_key);
	pc_json_string_or_null(j, net);
	/* "from_network_in": whose network that is, "old" or "new" (null: none). */
	snprintf(in_key, sizeof(in_key), "%s_in", net_key);
	pc_json_key(j, in_key);
	pc_json_string_or_null(j, !net ? NULL : side ? "new" : "old");
	span_finish(&span);
}

static void json_region(struct pc_json *j, const struct pair *pr, const struct pc_compare *c,
		const struct pc_compare_region *r, bool verdict)
{
	const struct pc_policy *const *pol = pr->pol;
	pc_json_begin_object(j);
	pc_json_key(j, "verdict_changed");
	pc_json_bool(j, verdict);
	pc_json_key(j, "direction");
	pc_json_string(j, dir_name(r->direction));
	pc_json_key(j, "protocol");
	pc_json_string(j, pc_proto_name(r->proto));
	pc_json_key(j, "port_low");
	pc_json_uint(j, r->lo);
	pc_json_key(j, "port_high");
	pc_json_uint(j, r->hi);
	pc_json_key(j, "service");
	pc_json_string_or_null(j, r->service);
	pc_json_key(j, "family");
	if (r->family)
		pc_json_uint(j, r->family);
	else
		pc_json_null(j);
	json_span(j, "from", "from_network", pr, r, true);
	json_span(j, "to", "to_network", pr, r, false);
	pc_json_key(j, "interfaces");
	if (r->ifaces) {
		pc_json_begin_array(j);
		for (size_t i = 0; i < r->nifaces; i++) {
			const struct pc_compare_iface *x = &c->ifaces[r->ifaces[i]];
			pc_json_begin_object(j);
			pc_json_key(j, "name");
			pc_json_string_or_null(j, x->name);
			pc_json_key(j, "others");
			pc_json_bool(j, x->others);
			pc_json_key(j, "except");
			pc_json_begin_array(j);
			for (size_t k = 0; k < x->nexcept; k++)
				pc_json_string(j, x->except[k]);
			pc_json_end_array(j);
			pc_json_end_object(j);
		}
		pc_json_end_array(j);
	} else {
		pc_json_null(j);
	}
	pc_json_key(j, "old");
	json_side(j, pol[0], &r->old, r->direction);
	pc_json_key(j, "new");
	json_side(j, pol[1], &r->new, r->direction);
	pc_json_end_object(j);
}

static void json_rules(struct pc_json *j, const char *key, const struct pc_policy *p,
		const size_t *v, size_t n)
{
	pc_json_key(j, key);
	pc_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		pc_json_begin_object(j);
		pc_json_key(j, "number");
		pc_json_uint(j, v[i] + 1);
		json_loc(j, &p->rules[v[i]].loc);
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
}

static void json_networks(struct pc_json *j, const char *key, const struct pc_policy *p,
		const size_t *v, size_t n)
{
	pc_json_key(j, key);
	pc_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		pc_json_string(j, p->networks[v[i]].name);
	pc_json_end_array(j);
}

static void json_text(struct pc_json *j, const struct pc_policy *const pol[2],
		const struct pc_compare_text *t)
{
	pc_json_begin_object(j);
	json_rules(j, "rules_added", pol[1], t->added, t->nadded);
	json_rules(j, "rules_removed", pol[0], t->removed, t->nremoved);
	pc_json_key(j, "rules_changed");
	pc_json_begin_array(j);
	for (size_t i = 0; i < t->nchanged; i++) {
		pc_json_begin_object(j);
		for (int s = 0; s < 2; s++) {
			size_t r = t->changed[i][s];
			pc_json_key(j, s ? "new" : "old");
			pc_json_begin_object(j);
			pc_json_key(j, "number");
			pc_json_uint(j, r + 1);
			json_loc(j, &pol[s]->rules[r].loc);
			pc_json_end_object(j);
		}
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
	json_rules(j, "rules_moved", pol[1], t->moved, t->nmoved);
	json_rules(j, "comments_changed", pol[1], t->comments, t->ncomments);
	json_networks(j, "networks_added", pol[1], t->net_added, t->nnet_added);
	json_networks(j, "networks_removed", pol[0], t->net_removed, t->nnet_removed);
	pc_json_key(j, "networks_renamed");
	pc_json_begin_array(j);
	for (size_t i = 0; i < t->nnet_renamed; i++) {
		pc_json_begin_object(j);
		pc_json_key(j, "old");
		pc_json_string(j, pol[0]->networks[t->net_renamed[i][0]].name);
		pc_json_key(j, "new");
		pc_json_string(j, pol[1]->networks[t->net_renamed[i][1]].name);
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
	json_networks(j, "networks_changed", pol[1], t->net_changed, t->nnet_changed);
	json_networks(j, "networks_rewritten", pol[1], t->net_rewritten, t->nnet_rewritten);
	pc_json_key(j, "defaults_changed");
	pc_json_bool(j, t->defaults);
	pc_json_end_object(j);
}

/* ---- the command ----------------------------------------------------------------- */

static int report(struct cli_ctx *ctx, const struct pc_policy *const pol[2], const char *names[2])
{
	struct pc_compare c;
	struct pc_compare_text t;
	struct pair pr = {{pol[0], pol[1]}, {{0}, {0}}};
	size_t shown = 0;

	net_index_init(&pr.idx[0], pol[0]);
	net_index_init(&pr.idx[1], pol[1]);
	pc_compare_policies(pol[0], pol[1], &c);
	pc_compare_text(pol[0], pol[1], &t);
	size_t notes = 0;
	for (size_t i = 0; i < c.nregions; i++) {
		bool note = reason_only(&c.regions[i]);
		shown += kept(ctx->only, &c.regions[i]) && !note;
		notes += !ctx->only && note;
	}
	if (ctx->json) {
		struct pc_json j;
		pc_json_init(&j, ctx->out);
		pc_json_begin_object(&j);
		pc_json_key(&j, "old");
		pc_json_string(&j, names[0]);
		pc_json_key(&j, "new");
		pc_json_string(&j, names[1]);
		pc_json_key(&j, "only");
		pc_json_string_or_null(&j, ctx->only);
		pc_json_key(&j, "changed");
		pc_json_bool(&j, shown != 0);
		pc_json_key(&j, "changes");
		pc_json_begin_array(&j);
		for (size_t i = 0; i < c.nregions; i++)
			if (kept(ctx->only, &c.regions[i]))
				json_region(&j, &pr, &c, &c.regions[i],
						!reason_only(&c.regions[i]));
		pc_json_end_array(&j);
		pc_json_key(&j, "text");
		json_text(&j, pol, &t);
		pc_json_end_object(&j);
		pc_json_finish(&j);
	} else {
		if (shown) {
			for (size_t i = 0; i < c.nregions; i++)
				if (kept(ctx->only, &c.regions[i]) && !reason_only(&c.regions[i]))
					print_region(ctx->out, "", &pr, &c, &c.regions[i]);
		} else {
			fprintf(ctx->out, "no change in verdicts%s\n",
					!ctx->only		       ? ""
					: !strcmp(ctx->only, "accept") ? " that opens"
								       : " that closes");
			print_text_change(ctx->out, pol, &t);
		}
		if (notes)
			fputs("of no use before and after, only the reason changed (no verdict "
			      "change):\n",
					ctx->out);
		for (size_t i = 0; notes && i < c.nregions; i++)
			if (reason_only(&c.regions[i]))
				print_region(ctx->out, "  ", &pr, &c, &c.regions[i]);
	}
	pc_compare_text_finish(&t);
	pc_compare_finish(&c);
	net_index_finish(&pr.idx[0]);
	net_index_finish(&pr.idx[1]);
	return shown ? PC_EXIT_INVALID : PC_EXIT_OK;
}

int cmd_compare(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pc_policy pol[2];
	const struct pc_policy *const cpol[2] = {&pol[0], &pol[1]};
	struct pc_registry *old_reg = NULL;
	struct cli_git git = {NULL, NULL, NULL, NULL};
	const char *names[2];
	int ret;

	if (ctx->only && strcmp(ctx->only, "accept") && strcmp(ctx->only, "drop")) {
		fprintf(ctx->err,
				"%s compare: --only takes 'accept' (what opens) or 'drop' (what "
				"closes), not '",
				ctx->prog);
		pc_fputs_escaped(ctx->only, ctx->err);
		fputs("'\n", ctx->err);
		return PC_EXIT_USAGE;
	}
	if (argc != (ctx->git ? 1 : 2)) {
		if (ctx->git)
			fprintf(ctx->err,
					"%s compare: --git REV takes one policy, compared as REV "
					"holds it with the file as it is now, e.g. '%s compare "
					"--git main policies/kdc-primary.yaml'\n",
					ctx->prog, ctx->prog);
		else
			fprintf(ctx->err,
					"%s compare: name the old policy and the new one, e.g. '%s "
					"compare old.yaml policies/kdc-primary.yaml'\n",
					ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	names[0] = argv[0];
	names[1] = argv[ctx->git ? 0 : 1];
	if (ctx->git) {
		ret = cli_git_open(ctx, ctx->git, argv[0], &git);
		if (ret != PC_EXIT_OK)
			return ret;
		names[0] = git.path;
	}
	ret = cli_load_policy(ctx, names[0], &pol[0], NULL);
	ctx->reader = NULL;
	/* The old policy keeps its registry: its rules point into it. */
	old_reg = ctx->reg;
	ctx->reg = NULL;
	if (ret == PC_EXIT_OK) {
		ret = cli_load_policy(ctx, names[1], &pol[1], NULL);
		if (ret == PC_EXIT_OK)
			ret = report(ctx, cpol, names);
		pc_policy_finish(&pol[1]);
	}
	pc_policy_finish(&pol[0]);
	pc_registry_destroy(old_reg);
	cli_git_close(&git);
	return ret;
}
