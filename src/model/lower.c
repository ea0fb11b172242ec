/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lowering a resolved policy into the nft model: one inet table, a base
 * chain per hook with the defaults, address sets shared by the rules that
 * name one network, a port set per rule and protocol, and one model rule per
 * policy rule, address family and protocol, in policy order.  The packet
 * path over those rules (paths.c) is compiled last.
 */
#include "portcullis/model.h"

#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "util.h"

bool pc_nft_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PC_NFT_NAME_MAX || !((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') &&
				c != '_' && c != '-')
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

size_t pc_model_declared_size(size_t n)
{
	size_t s = 16;

	while (s < 2 * n)
		s *= 2;
	return s;
}

bool pc_model_set_interval(const struct pc_prefix *v, size_t n)
{
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		if (v[i].len != (v[i].family == 4 ? 32 : 128))
			return true;
	return false;
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

static struct pc_nft_set *new_set(
		struct pc_nft_table *t, const char *name, enum pc_nft_set_type type)
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
		s->interval = pc_model_set_interval(v, n);
		s->size = pc_model_declared_size(n);
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
static size_t port_set(
		struct pc_nft_table *t, const struct pc_rule *r, size_t rule, enum pc_proto proto)
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
			s->ports[s->n++] = (struct pc_nft_port_range){
					r->matches[k].lo, r->matches[k].hi};
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
	s->interval = true;
	s->size = pc_model_declared_size(w);
	/* No comment: nft holds the ports in its verdict maps, iptables and pf in their rules. */
	return (size_t)(s - t->sets) + 1;
}

/* "; from admins,lan; to dmz": the networks by the names the policy gives them. */
void pc_model_add_peers(struct pc_buf *b, const struct pc_rule *r)
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
			pc_buf_adds(&b, pc_layer_def(m->layer)->cited);
			pc_buf_add(&b, ":", 1);
			add_uint(&b, m->src_line);
			if (m->iana) {
				/* Where practice and IANA disagree: "krb5_prop 754/tcp practice:22
				 * (IANA: tell)" */
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
	pc_model_add_peers(&b, r);
	if (r->comment) {
		pc_buf_adds(&b, "; ");
		pc_buf_adds(&b, r->comment);
	}
	pc_nft_comment(out, b.data);
	pc_buf_finish(&b);
}

/*
 * Neighbour discovery is IPv6's ARP: without it no IPv6 packet reaches a
 * neighbour.  It is link-local (never forwarded), so it concerns input and
 * output only: accepted there under `icmp: none` too, dropped ahead of the
 * ICMP defaults when the policy says `neighbour-discovery: drop`.
 */
static void lower_neighbour_discovery(const struct pc_policy *p, struct pc_nft_chain *c)
{
	if (c->hook == PC_NFT_HOOK_FORWARD)
		return;
	if (!p->defaults.neighbour_discovery)
		add_rule(c, PC_NFT_ICMP_ND)->verdict = PC_NFT_DROP;
	else if (p->defaults.icmp == PC_ICMP_NONE)
		add_rule(c, PC_NFT_ICMP_ND);
}

static void lower_defaults(const struct pc_policy *p, struct pc_nft_table *t)
{
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		struct pc_nft_chain *c = &t->chains[k];
		c->hook = (enum pc_nft_hook)k;
		c->policy = k == PC_NFT_HOOK_INPUT     ? p->defaults.input
			    : k == PC_NFT_HOOK_FORWARD ? p->defaults.forward
						       : p->defaults.output;
		if (p->defaults.established) {
			add_rule(c, PC_NFT_ESTABLISHED);
			add_rule(c, PC_NFT_INVALID)->verdict = PC_NFT_DROP;
		}
		if (p->defaults.loopback && k != PC_NFT_HOOK_FORWARD)
			add_rule(c, PC_NFT_LOOPBACK);
		lower_neighbour_discovery(p, c);
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
	enum {
		NREFS = PC_PROTO_COUNT + 4
	};
	size_t *refs = xcalloc(p->nrules ? p->nrules * NREFS : 1, sizeof(*refs));
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		size_t *ref = &refs[i * NREFS];
		for (int fam = 4; fam <= 6; fam += 2) {
			if (r->nfrom && !r->src.any)
				ref[PC_PROTO_COUNT + fam / 6] = addr_set(
						t, r->from, r->nfrom, &r->src, fam, i, "src");
			if (r->nto && !r->dst.any)
				ref[PC_PROTO_COUNT + 2 + fam / 6] =
						addr_set(t, r->to, r->nto, &r->dst, fam, i, "dst");
		}
		for (int proto = PC_PROTO_TCP; proto < PC_PROTO_COUNT; proto++)
			ref[proto] = port_set(t, r, i, (enum pc_proto)proto);
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		struct pc_nft_chain *c = &t->chains[pc_nft_hook_of(r->direction)];
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
		if (nfam == 0)
			continue; /* it matches no packet: resolution said so (rule-no-match) */
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
				if (r->interface.n) {
					if (r->direction == PC_DIR_OUTPUT)
						nr->oifname = &r->interface;
					else
						nr->iifname = &r->interface;
				}
				if (r->flags & PC_RULE_F_LIMIT) {
					nr->limit_rate = r->limit_rate;
					nr->limit_unit = r->limit_unit;
				}
				nr->log = r->flags & PC_RULE_F_LOG ? i + 1 : 0;
				nr->counter = r->flags & PC_RULE_F_COUNTER;
				nr->verdict = r->action == PC_ACTION_ALLOW  ? PC_NFT_ACCEPT
					      : r->action == PC_ACTION_DENY ? PC_NFT_DROP
									    : PC_NFT_REJECT;
				rule_comment(nr->comment, r, i, (enum pc_proto)proto);
			}
		}
	}
	free(refs);

	pc_model_compile_paths(t, p);
	return 0;
}

void pc_nft_table_finish(struct pc_nft_table *t)
{
	for (size_t i = 0; i < t->nsets; i++)
		free(t->sets[i].ports);
	free(t->sets);
	free(t->set_index);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
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
