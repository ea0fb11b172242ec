/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Findings about resolved rules that no single name or address shows: a
 * sensitive port open to a whole address family, a rule no packet can match,
 * "anywhere" on one family of a dual-stack policy, a rule the default makes
 * redundant, definitions nothing uses.
 * Every finding is a warning at the policy line it is about.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

static PC_PRINTF(5, 6) struct pc_diag *ldiag(struct pc_diags *diags, enum pc_severity sev,
		const char *code, const struct pc_loc *at, const char *fmt, ...)
{
	va_list ap;
	struct pc_diag *d;

	va_start(ap, fmt);
	d = pc_diag_addv(diags, sev, code, at->file, at->line, at->col, fmt, ap);
	va_end(ap);
	return d;
}

/*
 * The ports an administrator must never open to everybody, each with the
 * names it goes by (the first is the one messages use).  A rule is judged by
 * its ports, so a number, a range or another name for the port counts too,
 * and by its names, so a definition moving one of them elsewhere does as well.
 */
static const struct sensitive {
	uint16_t port;
	const char *names[5];
} sensitive[] = {
		{22, {"ssh", NULL}},
		{749, {"kerberos-adm", NULL}},
		{751, {"kerberos-master", "kerberos_master", NULL}},
		{754, {"krb5_prop", "krb_prop", "krb-prop", "hprop", NULL}},
		{2121, {"iprop", NULL}},
};

static bool sensitive_named(const struct sensitive *s, const char *name)
{
	for (int i = 0; name && s->names[i]; i++)
		if (pc_streq_fold(name, s->names[i]))
			return true;
	return false;
}

/*
 * Whether a normalised list of prefixes of one family (sorted, none inside
 * another) covers every address of it: each prefix must start where the one
 * before it ended, and the last must end at the top of the space.
 */
static bool family_covered(const struct pc_prefix *v, size_t n, unsigned bits)
{
	uint8_t next[16] = {0};

	for (size_t i = 0; i < n; i++) {
		if (memcmp(v[i].bytes, next, 16))
			return false;
		/* next = the prefix's last address + 1 */
		memcpy(next, v[i].bytes, 16);
		for (unsigned b = v[i].len; b < bits; b++)
			next[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		int k = (int)bits / 8 - 1;
		while (k >= 0 && next[k] == 0xff)
			next[k--] = 0;
		if (k < 0)
			return true; /* carried out of the space: it ends at the top */
		next[k]++;
	}
	return false;
}

/* Bit 0: every IPv4 address; bit 1: every IPv6 address. */
static unsigned families_covered(const struct pc_addrset *set, size_t npeers)
{
	if (npeers == 0 || set->any)
		return 3;
	return (unsigned)family_covered(set->v4, set->nv4, 32) |
	       (unsigned)family_covered(set->v6, set->nv6, 128) << 1;
}

/* Bit 0: the side holds IPv4 addresses; bit 1: IPv6 ones. */
static unsigned families_held(const struct pc_addrset *set, size_t npeers)
{
	if (npeers == 0 || set->any)
		return 3;
	return (set->nv4 ? 1u : 0u) | (set->nv6 ? 2u : 0u);
}

static const char *const family_words[] = {"", "every IPv4 address", "every IPv6 address",
		"anywhere (every IPv4 and IPv6 address)"};

/* Once per service as written: the sensitive ports `mask` (bits of sensitive[]) it opens. */
static void report_open(struct pc_diags *diags, const struct pc_loc *at, const char *text,
		unsigned mask, unsigned fams)
{
	char ports[160] = "";
	size_t w = 0;

	for (size_t k = 0; k < PC_ARRAY_SIZE(sensitive); k++)
		if ((mask & (1u << k)) && !sensitive_named(&sensitive[k], text) &&
				w < sizeof(ports))
			w += (size_t)snprintf(ports + w, sizeof(ports) - w, "%s%u is %s",
					w ? ", " : ": port ", sensitive[k].port,
					sensitive[k].names[0]);
	struct pc_diag *d = ldiag(diags, PC_SEV_WARNING, "open-to-anywhere", at,
			"'%s' is open to %s%s", text, family_words[fams], ports);
	pc_diag_hint(d, "name the hosts that need it with `from:`");
}

/*
 * The service of a rule written at `at`, or NULL.  Matches come in the order
 * of the services that made them, so the search goes on from `*from`: one
 * walk over the services for the whole rule.
 */
static const struct pc_rule_service *written_at(
		const struct pc_rule *rule, const struct pc_loc *at, size_t *from)
{
	for (size_t i = *from; i < rule->nservices; i++) {
		const struct pc_loc *l = &rule->services[i].loc;
		if (l->line == at->line && l->col == at->col && l->file == at->file) {
			*from = i + 1;
			return &rule->services[i];
		}
	}
	return NULL;
}

/*
 * An allow rule whose sources cover a whole family opens its sensitive
 * ports to it: said once per service as written, and per sensitive port.
 * A service's matches are consecutive (resolution adds them together).
 */
static void check_open(struct pc_diags *diags, const struct pc_rule *rule)
{
	/* A destination of one family leaves the other out: no packet of it matches. */
	unsigned fams = families_covered(&rule->src, rule->nfrom) &
			families_held(&rule->dst, rule->nto);
	unsigned mask = 0;
	const struct pc_loc *cur = NULL;
	const char *name = NULL;
	size_t next = 0;

	if (rule->action != PC_ACTION_ALLOW || rule->direction == PC_DIR_OUTPUT || !fams)
		return;
	for (size_t i = 0; i <= rule->nmatches; i++) {
		const struct pc_match *m = i < rule->nmatches ? &rule->matches[i] : NULL;
		if (cur && (!m || cur->line != m->loc.line || cur->col != m->loc.col ||
					   cur->file != m->loc.file)) {
			const struct pc_rule_service *written = written_at(rule, cur, &next);
			if (mask)
				report_open(diags, cur, written ? written->text : name, mask, fams);
			mask = 0;
		}
		if (!m)
			break;
		cur = &m->loc;
		name = m->service;
		for (size_t k = 0; k < PC_ARRAY_SIZE(sensitive); k++)
			if (sensitive_named(&sensitive[k], m->service) ||
					(sensitive[k].port >= m->lo && sensitive[k].port <= m->hi))
				mask |= 1u << k;
	}
}

static const char *const held_words[] = {"no", "IPv4", "IPv6", "IPv4 and IPv6"};

/* Sources of one family and destinations of the other: no packet has both. */
static void check_no_match(struct pc_diags *diags, const struct pc_rule *rule)
{
	unsigned src = families_held(&rule->src, rule->nfrom);
	unsigned dst = families_held(&rule->dst, rule->nto);

	if (!src || !dst || (src & dst))
		return;
	struct pc_diag *d = ldiag(diags, PC_SEV_WARNING, "rule-no-match", &rule->loc,
			"this rule matches no packet: its sources are %s only and its destinations "
			"%s only",
			held_words[src], held_words[dst]);
	pc_diag_hint(d, "give `from:` and `to:` addresses of the same family, or remove the "
			"rule");
}

/* ---- a rule the default makes redundant ------------------------------- */

static bool ranges_meet(const struct pc_rule *a, const struct pc_rule *b, size_t *cost)
{
	*cost += a->nmatches * b->nmatches;
	for (size_t i = 0; i < a->nmatches; i++)
		for (size_t k = 0; k < b->nmatches; k++)
			if (a->matches[i].proto == b->matches[k].proto &&
					a->matches[i].lo <= b->matches[k].hi &&
					b->matches[k].lo <= a->matches[i].hi)
				return true;
	return false;
}

static bool prefixes_meet(const struct pc_prefix *a, size_t na, const struct pc_prefix *b,
		size_t nb, size_t *cost)
{
	*cost += na * nb;
	for (size_t i = 0; i < na; i++)
		for (size_t k = 0; k < nb; k++) {
			unsigned len = a[i].len < b[k].len ? a[i].len : b[k].len;
			bool same = true;
			for (unsigned bit = 0; bit < len && same; bit++) {
				uint8_t m = (uint8_t)(0x80u >> (bit % 8));
				same = !((a[i].bytes[bit / 8] ^ b[k].bytes[bit / 8]) & m);
			}
			if (same)
				return true;
		}
	return false;
}

static bool sets_meet(const struct pc_addrset *a, size_t npa, const struct pc_addrset *b,
		size_t npb, size_t *cost)
{
	if (npa == 0 || a->any || npb == 0 || b->any)
		return true;
	return prefixes_meet(a->v4, a->nv4, b->v4, b->nv4, cost) ||
	       prefixes_meet(a->v6, a->nv6, b->v6, b->nv6, cost);
}

/*
 * Whether some packet could match both rules.  Interfaces are not looked at:
 * two rules on different interfaces count as meeting, so a rule is never
 * called redundant for a reason the interfaces could undo.
 */
static bool rules_meet(const struct pc_rule *a, const struct pc_rule *b, size_t *cost)
{
	if (a->direction != b->direction)
		return false;
	return ranges_meet(a, b, cost) && sets_meet(&a->src, a->nfrom, &b->src, b->nfrom, cost) &&
	       sets_meet(&a->dst, a->nto, &b->dst, b->nto, cost);
}

static const char *const direction_words[] = {"input", "output", "forward"};

/* Comparisons spent on the redundancy lint at most: past it, no more rules are judged. */
#define REDUNDANT_BUDGET (1u << 22)

/* The rules of one direction and one action, in policy order. */
struct rule_ids {
	size_t *v, n, cap, start;
};

/*
 * A rule that does what its direction's default does (an allow under accept,
 * a deny under drop), with nothing of its own (no log, counter or limit):
 * removing it changes no verdict, unless a later rule of the direction that
 * does something else could match its packets.  Only those rules are
 * compared with it, and the comparisons are bounded (REDUNDANT_BUDGET):
 * past it, no more rules are judged, so no finding is ever wrong.
 */
static void check_redundant(struct pc_diags *diags, const struct pc_policy *p)
{
	struct rule_ids ids[3][3];
	size_t cost = 0;

	memset(ids, 0, sizeof(ids));
	for (size_t i = 0; i < p->nrules; i++) {
		struct rule_ids *l = &ids[p->rules[i].direction][p->rules[i].action];
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 16;
			l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		}
		l->v[l->n++] = i;
	}
	for (size_t i = 0; i < p->nrules && cost < REDUNDANT_BUDGET; i++) {
		const struct pc_rule *a = &p->rules[i];
		enum pc_verdict def = a->direction == PC_DIR_INPUT    ? p->defaults.input
				      : a->direction == PC_DIR_OUTPUT ? p->defaults.output
								      : p->defaults.forward;
		bool same = (a->action == PC_ACTION_ALLOW && def == PC_VERDICT_ACCEPT) ||
			    (a->action == PC_ACTION_DENY && def == PC_VERDICT_DROP);
		if (!same || a->flags || !a->nmatches)
			continue;
		bool needed = false;
		for (int act = 0; act < 3 && !needed; act++) {
			struct rule_ids *l = &ids[a->direction][act];
			if (act == (int)a->action)
				continue;
			while (l->start < l->n && l->v[l->start] <= i)
				l->start++;
			for (size_t k = l->start; k < l->n && !needed && cost < REDUNDANT_BUDGET;
					k++) {
				cost++;
				needed = rules_meet(a, &p->rules[l->v[k]], &cost);
			}
		}
		if (needed || cost >= REDUNDANT_BUDGET)
			continue;
		struct pc_diag *d = ldiag(diags, PC_SEV_WARNING, "rule-redundant", &a->loc,
				"this rule does what the %s default does (%s): removing it changes "
				"no verdict",
				direction_words[a->direction],
				def == PC_VERDICT_ACCEPT ? "accept" : "drop");
		pc_diag_hint(d, "remove it, or change the default");
	}
	for (int d = 0; d < 3; d++)
		for (int act = 0; act < 3; act++)
			free(ids[d][act].v);
}

/* ---- definitions nobody uses ------------------------------------------ */

/* Names sorted for a binary search: networks by name, services ASCII case folded. */
struct name_ref {
	const char *name;
	size_t at;
};

struct name_index {
	struct name_ref *v;
	size_t n;
	bool fold;
};

static int cmp_fold(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = (unsigned char)*a, y = (unsigned char)*b;
		x = x >= 'A' && x <= 'Z' ? x + 32 : x;
		y = y >= 'A' && y <= 'Z' ? y + 32 : y;
		if (x != y || !x)
			return x - y;
	}
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

static int cmp_ref_fold(const void *a, const void *b)
{
	return cmp_fold(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

/* The index of `name`, or SIZE_MAX. */
static size_t index_find(const struct name_index *x, const char *name)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = x->fold ? cmp_fold(x->v[mid].name, name) : strcmp(x->v[mid].name, name);
		if (!c)
			return x->v[mid].at;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

static void index_make(struct name_index *x, size_t n, bool fold,
		const char *(*name_of)(const struct pc_policy *, size_t), const struct pc_policy *p)
{
	x->v = xcalloc(n + 1, sizeof(*x->v));
	x->n = n;
	x->fold = fold;
	for (size_t i = 0; i < n; i++)
		x->v[i] = (struct name_ref){name_of(p, i), i};
	if (n > 1)
		qsort(x->v, n, sizeof(*x->v), fold ? cmp_ref_fold : cmp_ref);
}

static const char *network_name(const struct pc_policy *p, size_t i)
{
	return p->networks[i].name;
}

static const char *service_name(const struct pc_policy *p, size_t i)
{
	return p->services[i].name;
}

/* The names a network (its members) or a service group (its services) holds. */
struct holder {
	size_t (*count)(const struct pc_policy *p, size_t i);
	const char *(*member)(const struct pc_policy *p, size_t i, size_t m);
};

static size_t network_count(const struct pc_policy *p, size_t i)
{
	return p->networks[i].nmembers;
}

static const char *network_member(const struct pc_policy *p, size_t i, size_t m)
{
	return p->networks[i].members[m].text;
}

static size_t group_count(const struct pc_policy *p, size_t i)
{
	return p->services[i].nmembers;
}

static const char *group_member(const struct pc_policy *p, size_t i, size_t m)
{
	return p->services[i].members[m].text;
}

static const struct holder networks_hold = {network_count, network_member};
static const struct holder groups_hold = {group_count, group_member};

/*
 * Marks `name` used, and what it holds (the networks a network names, the
 * services of a group), through a stack: no depth limit.
 */
static void mark_used(const struct name_index *x, const struct holder *h, const struct pc_policy *p,
		const char *name, bool *used, size_t *stack)
{
	size_t top = 0, k = index_find(x, name);

	if (k == SIZE_MAX || used[k])
		return;
	used[k] = true;
	stack[top++] = k;
	while (top) {
		size_t i = stack[--top];
		for (size_t m = 0, n = h->count(p, i); m < n; m++) {
			size_t j = index_find(x, h->member(p, i, m));
			if (j != SIZE_MAX && !used[j]) {
				used[j] = true;
				stack[top++] = j;
			}
		}
	}
}

/*
 * Networks and services the policy file itself defines and nothing uses (a
 * network is used by a rule, or by a network that is; a service by a rule,
 * or by a group that is).  Those of included
 * files are left alone: such a file serves several policies.
 */
static void check_unused(struct pc_diags *diags, const struct pc_policy *p)
{
	bool *used = xcalloc(p->nnetworks + p->nservices + 1, sizeof(*used));
	size_t *stack = xcalloc(p->nnetworks + p->nservices + 1, sizeof(*stack));
	const char *self = p->loc.file;
	struct name_index nets, svcs;

	index_make(&nets, p->nnetworks, false, network_name, p);
	index_make(&svcs, p->nservices, true, service_name, p);
	bool *sused = used + p->nnetworks;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		for (size_t k = 0; k < r->nfrom; k++)
			mark_used(&nets, &networks_hold, p, r->from[k].text, used, stack);
		for (size_t k = 0; k < r->nto; k++)
			mark_used(&nets, &networks_hold, p, r->to[k].text, used, stack);
		for (size_t k = 0; k < r->nservices; k++)
			mark_used(&svcs, &groups_hold, p, r->services[k].text, sused, stack);
	}
	for (size_t i = 0; self && i < p->nnetworks; i++) {
		const struct pc_network *n = &p->networks[i];
		if (used[i] || !n->loc.file || strcmp(n->loc.file, self))
			continue;
		struct pc_diag *d = ldiag(diags, PC_SEV_WARNING, "network-unused", &n->loc,
				"network '%s' is defined but no rule uses it", n->name);
		pc_diag_hint(d, "remove it, or name it in a rule's `from:` or `to:`");
	}
	for (size_t i = 0; self && i < p->nservices; i++) {
		const struct pc_service_def *s = &p->services[i];
		if (sused[i] || !s->loc.file || strcmp(s->loc.file, self))
			continue;
		struct pc_diag *d = ldiag(diags, PC_SEV_WARNING, "service-unused", &s->loc,
				"service '%s' is defined but no rule uses it", s->name);
		pc_diag_hint(d, "remove it, or name it in a rule");
	}
	free(nets.v);
	free(svcs.v);
	free(stack);
	free(used);
}

/* ---- anywhere on one family of a dual-stack policy --------------------- */

/* Where the policy first writes an address of `family`: false when nowhere. */
static bool family_used(const struct pc_policy *p, uint8_t family, struct pc_loc *at)
{
	for (size_t i = 0; i < p->nnetworks; i++) {
		const struct pc_addrset *s = &p->networks[i].set;
		if (family == 4 ? s->nv4 : s->nv6)
			return pc_policy_prefix_loc(p, family == 4 ? s->v4 : s->v6, at);
	}
	for (size_t i = 0; i < p->nrules; i++)
		for (int side = 0; side < 2; side++) {
			const struct pc_addrset *s = side ? &p->rules[i].dst : &p->rules[i].src;
			size_t n = side ? p->rules[i].nto : p->rules[i].nfrom;
			if (n && !s->any && (family == 4 ? s->nv4 : s->nv6))
				return pc_policy_prefix_loc(p, family == 4 ? s->v4 : s->v6, at);
		}
	return false;
}

/*
 * `from: 0.0.0.0/0` alone on a policy that has IPv6 addresses elsewhere (or
 * `"::/0"` alone on one with IPv4): "anywhere" that forgot a family.
 */
static void check_one_family(struct pc_diags *diags, const struct pc_policy *p)
{
	struct pc_loc v4, v6;

	if (!family_used(p, 4, &v4) || !family_used(p, 6, &v6))
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		unsigned fams = families_covered(&r->src, r->nfrom);
		unsigned held = families_held(&r->src, r->nfrom);
		if (fams != held || (fams != 1 && fams != 2))
			continue;
		const struct pc_loc *other = fams == 1 ? &v6 : &v4;
		struct pc_diag *d = ldiag(diags, PC_SEV_WARNING, "anywhere-one-family",
				&r->from[0].loc,
				"`from:` covers every %s address and no %s one, but this policy "
				"uses %s (%s:%u:%u)",
				fams == 1 ? "IPv4" : "IPv6", fams == 1 ? "IPv6" : "IPv4",
				fams == 1 ? "IPv6" : "IPv4", other->file, other->line, other->col);
		pc_diag_hint(d, "add %s for anywhere on both, or leave `from:` out",
				fams == 1 ? "\"::/0\"" : "0.0.0.0/0");
	}
}

void pol_lint(struct pc_policy *p, struct pc_diags *diags, bool resolved)
{
	for (size_t i = 0; i < p->nrules; i++) {
		check_open(diags, &p->rules[i]);
		if (resolved)
			check_no_match(diags, &p->rules[i]);
	}
	if (!resolved)
		return;
	check_one_family(diags, p);
	check_redundant(diags, p);
	check_unused(diags, p);
}
