/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nft model in the libnftables JSON schema (`nft -j -f`): the same
 * commands as the text script, in the same order (declare the table, delete
 * it, create it with its sets and chains, then the rules), one transaction.
 * Every string goes through the JSON writer, so no text from a policy or a
 * registry can change the structure of the document.
 */
#include <string.h>

#include "json.h"
#include "portcullis/nft.h"

static void key_string(struct pc_json *j, const char *key, const char *value)
{
	pc_json_key(j, key);
	pc_json_string(j, value);
}

/* {"family": "inet", "table": T} opening a set, chain or rule object. */
static void begin_object_in(struct pc_json *j, const char *kind, const struct pc_nft_table *t)
{
	pc_json_begin_object(j);
	pc_json_key(j, kind);
	pc_json_begin_object(j);
	key_string(j, "family", "inet");
	key_string(j, "table", t->name);
}

static void end_object_in(struct pc_json *j)
{
	pc_json_end_object(j);
	pc_json_end_object(j);
}

static void table_command(struct pc_json *j, const char *command, const struct pc_nft_table *t,
		bool with_comment)
{
	pc_json_begin_object(j);
	if (command) {
		pc_json_key(j, command);
		pc_json_begin_object(j);
	}
	pc_json_key(j, "table");
	pc_json_begin_object(j);
	key_string(j, "family", "inet");
	key_string(j, "name", t->name);
	if (with_comment)
		key_string(j, "comment", t->comment);
	pc_json_end_object(j);
	if (command)
		pc_json_end_object(j);
	pc_json_end_object(j);
}

static void prefix_value(struct pc_json *j, const struct pc_prefix *x)
{
	char a[PC_ADDR_TEXT_MAX];

	if (pc_prefix_addr(a, x)) {
		pc_json_string(j, a);
		return;
	}
	pc_json_begin_object(j);
	pc_json_key(j, "prefix");
	pc_json_begin_object(j);
	key_string(j, "addr", a);
	pc_json_key(j, "len");
	pc_json_uint(j, x->len);
	pc_json_end_object(j);
	pc_json_end_object(j);
}

static void ports_value(struct pc_json *j, const struct pc_nft_port_range *r)
{
	if (r->lo == r->hi) {
		pc_json_uint(j, r->lo);
		return;
	}
	pc_json_begin_object(j);
	pc_json_key(j, "range");
	pc_json_begin_array(j);
	pc_json_uint(j, r->lo);
	pc_json_uint(j, r->hi);
	pc_json_end_array(j);
	pc_json_end_object(j);
}

static void set_command(struct pc_json *j, const struct pc_nft_table *t, const struct pc_nft_set *s)
{
	static const char *const types[] = {"ipv4_addr", "ipv6_addr", "inet_service"};

	begin_object_in(j, "set", t);
	key_string(j, "name", s->name);
	key_string(j, "type", types[s->type]);
	if (s->interval) {
		pc_json_key(j, "flags");
		pc_json_begin_array(j);
		pc_json_string(j, "interval");
		pc_json_end_array(j);
	}
	pc_json_key(j, "size");
	pc_json_uint(j, s->size);
	if (s->comment[0])
		key_string(j, "comment", s->comment);
	pc_json_key(j, "elem");
	pc_json_begin_array(j);
	for (size_t i = 0; i < s->n; i++) {
		if (s->type != PC_NFT_SET_SERVICE)
			prefix_value(j, &s->prefixes[i]);
		else
			ports_value(j, &s->ports[i]);
	}
	pc_json_end_array(j);
	end_object_in(j);
}

/* The left side of a match: {"meta": {"key": K}} or {"payload": {...}} or {"ct": ...}. */
enum left_kind {
	META,
	PAYLOAD,
	CT
};

static void begin_match(struct pc_json *j, const char *op, enum left_kind kind, const char *a,
		const char *b)
{
	pc_json_begin_object(j);
	pc_json_key(j, "match");
	pc_json_begin_object(j);
	key_string(j, "op", op);
	pc_json_key(j, "left");
	pc_json_begin_object(j);
	pc_json_key(j, kind == META ? "meta" : kind == CT ? "ct" : "payload");
	pc_json_begin_object(j);
	if (kind == PAYLOAD) {
		key_string(j, "protocol", a);
		key_string(j, "field", b);
	} else {
		key_string(j, "key", a);
	}
	pc_json_end_object(j);
	pc_json_end_object(j);
	pc_json_key(j, "right");
}

static void end_match(struct pc_json *j)
{
	pc_json_end_object(j);
	pc_json_end_object(j);
}

static void match_string(struct pc_json *j, enum left_kind kind, const char *a, const char *b,
		const char *right)
{
	begin_match(j, "==", kind, a, b);
	pc_json_string(j, right);
	end_match(j);
}

static void match_set(struct pc_json *j, const char *op, enum left_kind kind, const char *a,
		const char *b, const char *const *right, size_t n)
{
	begin_match(j, op, kind, a, b);
	pc_json_begin_object(j);
	pc_json_key(j, "set");
	pc_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		pc_json_string(j, right[i]);
	pc_json_end_array(j);
	pc_json_end_object(j);
	end_match(j);
}

static void match_list(struct pc_json *j, enum left_kind kind, const char *a, const char *b,
		const char *const *right, size_t n)
{
	match_set(j, "==", kind, a, b, right, n);
}

/* An interface match: a name or wildcard, or a set of names; `!=` when negated. */
static void match_ifnames(struct pc_json *j, const char *key, const struct pc_ifaces *s)
{
	const char *op = s && s->negate ? "!=" : "==";

	if (!s)
		return;
	if (s->n > 1) {
		match_set(j, op, META, key, NULL, s->names, s->n);
		return;
	}
	begin_match(j, op, META, key, NULL);
	pc_json_string(j, s->names[0]);
	end_match(j);
}

static void statement(struct pc_json *j, const char *name)
{
	pc_json_begin_object(j);
	pc_json_key(j, name);
	pc_json_null(j);
	pc_json_end_object(j);
}

static void limit(struct pc_json *j, unsigned rate, const char *per)
{
	pc_json_begin_object(j);
	pc_json_key(j, "limit");
	pc_json_begin_object(j);
	pc_json_key(j, "rate");
	pc_json_uint(j, rate);
	key_string(j, "per", per);
	pc_json_end_object(j);
	pc_json_end_object(j);
}

static void begin_rule(struct pc_json *j, const struct pc_nft_table *t, const char *chain,
		const char *comment)
{
	begin_object_in(j, "rule", t);
	key_string(j, "chain", chain);
	if (comment)
		key_string(j, "comment", comment);
	pc_json_key(j, "expr");
	pc_json_begin_array(j);
}

static void end_rule(struct pc_json *j)
{
	pc_json_end_array(j);
	end_object_in(j);
}

static void icmp_rules(struct pc_json *j, const struct pc_nft_table *t,
		const struct pc_nft_chain *c, const struct pc_nft_rule *r)
{
	static const char *const both[] = {"icmp", "ipv6-icmp"};
	enum pc_nft_rule_kind kind = r->kind;

	if (kind == PC_NFT_ICMP_ALL) {
		begin_rule(j, t, pc_nft_hook_name(c->hook), NULL);
		match_list(j, META, "l4proto", NULL, both, 2);
		statement(j, "accept");
		end_rule(j);
		return;
	}
	for (int v6 = 0; v6 < 2; v6++) {
		const char *proto = v6 ? "icmpv6" : "icmp";
		size_t n = 0;
		const struct pc_nft_icmp_type *v = NULL;
		if (kind != PC_NFT_ICMP_ECHO && !(v = pc_nft_icmp_types(kind, v6 ? 6 : 4, &n), n))
			continue;
		begin_rule(j, t, pc_nft_hook_name(c->hook), NULL);
		if (v) {
			const char *names[PC_NFT_ICMP_ESSENTIAL_MAX];
			for (size_t i = 0; i < n; i++)
				names[i] = v[i].nft;
			match_string(j, META, "l4proto", NULL, both[v6]);
			match_list(j, PAYLOAD, proto, "type", names, n);
		} else {
			match_string(j, PAYLOAD, proto, "type", pc_nft_icmp_echo(v6 ? 6 : 4)->nft);
			limit(j, PC_NFT_ICMP_ECHO_PER_SECOND, "second");
		}
		statement(j, r->verdict == PC_NFT_DROP ? "drop" : "accept");
		end_rule(j);
	}
}

/*
 * One rule; a policy rule in a jump chain leaves its ports to the map, one
 * in its base chain (`port`, see pc_nft_chain.inline_rules) matches them.
 */
static void rule_command(struct pc_json *j, const struct pc_nft_table *t,
		const struct pc_nft_chain *c, const char *chain, const struct pc_nft_rule *r,
		const char *comment, const struct pc_nft_port_range *port)
{
	bool output = c->hook == PC_NFT_HOOK_OUTPUT;
	char setref[PC_NFT_NAME_MAX + 2];

	switch (r->kind) {
	case PC_NFT_ESTABLISHED:
	case PC_NFT_INVALID:
		begin_rule(j, t, pc_nft_hook_name(c->hook), NULL);
		begin_match(j, "in", CT, "state", NULL);
		if (r->kind == PC_NFT_INVALID) {
			pc_json_string(j, "invalid");
		} else {
			pc_json_begin_array(j);
			pc_json_string(j, "established");
			pc_json_string(j, "related");
			pc_json_end_array(j);
		}
		end_match(j);
		statement(j, r->kind == PC_NFT_INVALID ? "drop" : "accept");
		end_rule(j);
		return;
	case PC_NFT_LOOPBACK:
		begin_rule(j, t, pc_nft_hook_name(c->hook), NULL);
		match_string(j, META, output ? "oif" : "iif", NULL, "lo");
		statement(j, "accept");
		end_rule(j);
		return;
	case PC_NFT_ICMP_ESSENTIAL:
	case PC_NFT_ICMP_ECHO:
	case PC_NFT_ICMP_ALL:
	case PC_NFT_ICMP_ND:
		icmp_rules(j, t, c, r);
		return;
	case PC_NFT_POLICY_RULE:
		break;
	}

	const char *fam = r->family == 4 ? "ip" : "ip6";
	begin_rule(j, t, chain, comment);
	if (port) {
		begin_match(j, "==", PAYLOAD, pc_proto_name(r->proto), "dport");
		ports_value(j, port);
		end_match(j);
	}
	match_ifnames(j, "iifname", r->iifname);
	match_ifnames(j, "oifname", r->oifname);
	for (int side = 0; side < 2; side++) {
		const struct pc_nft_set *s = side ? r->daddr : r->saddr;
		if (!s)
			continue;
		if (s->literal) {
			begin_match(j, "==", PAYLOAD, fam, side ? "daddr" : "saddr");
			prefix_value(j, &s->prefixes[0]);
			end_match(j);
		} else {
			snprintf(setref, sizeof(setref), "@%s", s->name);
			match_string(j, PAYLOAD, fam, side ? "daddr" : "saddr", setref);
		}
	}
	if (r->family && !r->saddr && !r->daddr)
		match_string(j, META, "nfproto", NULL, r->family == 4 ? "ipv4" : "ipv6");
	/* The verdict map matched protocol and port; a TCP reset names its protocol. */
	if (r->verdict == PC_NFT_REJECT && r->proto == PC_PROTO_TCP && !port)
		match_string(j, META, "l4proto", NULL, "tcp");
	if (r->limit_rate)
		limit(j, r->limit_rate, r->limit_unit);
	if (r->log) {
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "portcullis r%zu ", r->policy_rule + 1);
		pc_json_begin_object(j);
		pc_json_key(j, "log");
		pc_json_begin_object(j);
		key_string(j, "prefix", prefix);
		pc_json_end_object(j);
		pc_json_end_object(j);
	}
	if (r->counter)
		statement(j, "counter");
	if (r->verdict == PC_NFT_REJECT && r->proto == PC_PROTO_TCP) {
		pc_json_begin_object(j);
		pc_json_key(j, "reject");
		pc_json_begin_object(j);
		key_string(j, "type", "tcp reset");
		pc_json_end_object(j);
		pc_json_end_object(j);
	} else {
		statement(j, r->verdict == PC_NFT_REJECT      ? "reject"
				: r->verdict == PC_NFT_ACCEPT ? "accept"
							      : "drop");
	}
	end_rule(j);
}

static void verdict_object(struct pc_json *j, const char *verdict, const char *target)
{
	pc_json_begin_object(j);
	pc_json_key(j, verdict);
	if (target) {
		pc_json_begin_object(j);
		key_string(j, "target", target);
		pc_json_end_object(j);
	} else {
		pc_json_null(j);
	}
	pc_json_end_object(j);
}

/* A verdict map with interval keys, up to the opening of its element list. */
static void begin_map(struct pc_json *j, const struct pc_nft_table *t, const char *name,
		const char *type, size_t size)
{
	begin_object_in(j, "map", t);
	key_string(j, "name", name);
	key_string(j, "type", type);
	key_string(j, "map", "verdict");
	pc_json_key(j, "flags");
	pc_json_begin_array(j);
	pc_json_string(j, "interval");
	pc_json_end_array(j);
	pc_json_key(j, "size");
	pc_json_uint(j, size);
	pc_json_key(j, "elem");
	pc_json_begin_array(j);
}

static void map_command(struct pc_json *j, const struct pc_nft_table *t, const struct pc_nft_map *m)
{
	begin_map(j, t, m->name, "inet_service", m->size);
	for (size_t i = 0; i < m->n; i++) {
		const struct pc_nft_segment *s = &m->segs[i];
		struct pc_nft_port_range r = {s->lo, s->hi};
		pc_json_begin_array(j);
		if (s->rule) {
			pc_json_begin_object(j);
			pc_json_key(j, "elem");
			pc_json_begin_object(j);
			pc_json_key(j, "val");
			ports_value(j, &r);
			key_string(j, "comment", s->rule->comment);
			pc_json_end_object(j);
			pc_json_end_object(j);
		} else {
			ports_value(j, &r);
		}
		if (s->direct)
			verdict_object(j, s->rule->verdict == PC_NFT_DROP ? "drop" : "accept",
					NULL);
		else
			verdict_object(j, "jump", t->subs[s->sub].name);
		pc_json_end_array(j);
	}
	pc_json_end_array(j);
	end_object_in(j);
}

static void addr_map_command(struct pc_json *j, const struct pc_nft_table *t,
		const struct pc_nft_addr_map *m, int family)
{
	begin_map(j, t, m->name, family == 4 ? "ipv4_addr" : "ipv6_addr", m->size);
	for (size_t i = 0; i < m->n; i++) {
		const struct pc_nft_addr_elem *e = &m->elems[i];
		pc_json_begin_array(j);
		pc_json_begin_object(j);
		pc_json_key(j, "elem");
		pc_json_begin_object(j);
		pc_json_key(j, "val");
		struct pc_prefix x;
		if (pc_nft_addr_elem_prefix(e, &x)) {
			prefix_value(j, &x);
		} else {
			char lo[PC_ADDR_TEXT_MAX], hi[PC_ADDR_TEXT_MAX];
			pc_nft_addr_elem_ends(e, lo, hi);
			pc_json_begin_object(j);
			pc_json_key(j, "range");
			pc_json_begin_array(j);
			pc_json_string(j, lo);
			pc_json_string(j, hi);
			pc_json_end_array(j);
			pc_json_end_object(j);
		}
		key_string(j, "comment", e->rule->comment);
		pc_json_end_object(j);
		pc_json_end_object(j);
		verdict_object(j, e->rule->verdict == PC_NFT_DROP ? "drop" : "accept", NULL);
		pc_json_end_array(j);
	}
	pc_json_end_array(j);
	end_object_in(j);
}

static void vmap_rule(struct pc_json *j, const struct pc_nft_table *t, const char *chain,
		const char *protocol, const char *field, const char *map)
{
	char ref[PC_NFT_NAME_MAX + 2];

	snprintf(ref, sizeof(ref), "@%s", map);
	begin_rule(j, t, chain, NULL);
	pc_json_begin_object(j);
	pc_json_key(j, "vmap");
	pc_json_begin_object(j);
	pc_json_key(j, "key");
	pc_json_begin_object(j);
	pc_json_key(j, "payload");
	pc_json_begin_object(j);
	key_string(j, "protocol", protocol);
	key_string(j, "field", field);
	pc_json_end_object(j);
	pc_json_end_object(j);
	key_string(j, "data", ref);
	pc_json_end_object(j);
	pc_json_end_object(j);
	end_rule(j);
}

void pc_nft_print_json(
		const struct pc_nft_table *t, const char *const *header, size_t nheader, FILE *out)
{
	static const char *const policies[] = {"accept", "drop"};
	struct pc_json j;

	pc_json_init(&j, out);
	pc_json_begin_object(&j);
	pc_json_key(&j, "nftables");
	pc_json_begin_array(&j);

	/* The schema has no comments: the header rides in the metainfo object. */
	pc_json_begin_object(&j);
	pc_json_key(&j, "metainfo");
	pc_json_begin_object(&j);
	pc_json_key(&j, "json_schema_version");
	pc_json_uint(&j, 1);
	pc_json_key(&j, "portcullis");
	pc_json_begin_array(&j);
	for (size_t i = 0; i < nheader; i++)
		pc_json_string(&j, header[i]);
	pc_json_end_array(&j);
	pc_json_end_object(&j);
	pc_json_end_object(&j);

	/* One transaction: declare (so the delete cannot fail), delete, create. */
	table_command(&j, NULL, t, false);
	table_command(&j, "delete", t, false);
	table_command(&j, NULL, t, true);
	/* Port sets are not declared: the verdict maps hold the ports. */
	for (size_t i = 0; i < t->nsets; i++)
		if (!t->sets[i].literal && t->sets[i].type != PC_NFT_SET_SERVICE)
			set_command(&j, t, &t->sets[i]);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		const struct pc_nft_chain *c = &t->chains[k];
		begin_object_in(&j, "chain", t);
		key_string(&j, "name", pc_nft_hook_name(c->hook));
		key_string(&j, "type", "filter");
		key_string(&j, "hook", pc_nft_hook_name(c->hook));
		pc_json_key(&j, "prio");
		pc_json_uint(&j, 0);
		key_string(&j, "policy", policies[c->policy]);
		end_object_in(&j);
	}
	/* The jump chains exist before the maps that name them, the maps before the rules. */
	for (size_t i = 0; i < t->nsubs; i++) {
		begin_object_in(&j, "chain", t);
		key_string(&j, "name", t->subs[i].name);
		end_object_in(&j);
	}
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		for (int p = 0; p < PC_PROTO_COUNT; p++)
			if (t->chains[k].maps[p].n)
				map_command(&j, t, &t->chains[k].maps[p]);
	for (size_t i = 0; i < t->nsubs; i++)
		for (int f = 0; f < 2; f++)
			if (t->subs[i].mapped && t->subs[i].by_saddr[f].n)
				addr_map_command(&j, t, &t->subs[i].by_saddr[f], f ? 6 : 4);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		const struct pc_nft_chain *c = &t->chains[k];
		const char *chain = pc_nft_hook_name(c->hook);
		const struct pc_nft_rule *r;
		const struct pc_nft_port_range *port;
		for (size_t i = 0; i < c->n; i++)
			if (c->rules[i].kind != PC_NFT_POLICY_RULE)
				rule_command(&j, t, c, chain, &c->rules[i], NULL, NULL);
		for (int p = 0; p < PC_PROTO_COUNT; p++)
			if (c->maps[p].n)
				vmap_rule(&j, t, chain, pc_proto_name((enum pc_proto)p), "dport",
						c->maps[p].name);
			else
				for (size_t i = 0, q = 0; pc_nft_inline_next(
						     c, (enum pc_proto)p, &i, &q, &r, &port);)
					rule_command(&j, t, c, chain, r, r->comment, port);
	}
	for (size_t i = 0; i < t->nsubs; i++) {
		const struct pc_nft_subchain *sc = &t->subs[i];
		const struct pc_nft_chain *c = &t->chains[sc->base];
		for (int f = 0; sc->mapped && f < 2; f++)
			if (sc->by_saddr[f].n)
				vmap_rule(&j, t, sc->name, f ? "ip6" : "ip", "saddr",
						sc->by_saddr[f].name);
		for (size_t k = 0; !sc->mapped && k < sc->n; k++) {
			const struct pc_nft_rule *r = &c->rules[sc->rules[k]];
			rule_command(&j, t, c, sc->name, r, sc->shared ? sc->comment : r->comment,
					NULL);
		}
	}
	pc_json_end_array(&j);
	pc_json_end_object(&j);
	pc_json_finish(&j);
}
