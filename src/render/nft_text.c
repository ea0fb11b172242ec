/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nft model as an nft script.  Everything printed comes from the model:
 * names were checked when it was built, comments made safe, so no text from
 * a policy or a registry can change the structure of the script.
 */
#include "portcullis/nft.h"

static const char *const verdicts[] = {"accept", "drop"};

void pc_nft_print_prefix(FILE *out, const struct pc_prefix *x)
{
	char a[PC_ADDR_TEXT_MAX + 4];

	pc_prefix_text(a, x);
	fputs(a, out);
}

void pc_nft_print_ports(FILE *out, const struct pc_nft_port_range *r, char sep)
{
	if (r->lo == r->hi)
		fprintf(out, "%u", r->lo);
	else
		fprintf(out, "%u%c%u", r->lo, sep, r->hi);
}

static void print_set(FILE *out, const struct pc_nft_set *s)
{
	static const char *const types[] = {"ipv4_addr", "ipv6_addr", "inet_service"};

	fprintf(out, "\tset %s {\n\t\ttype %s\n%s\t\tsize %zu\n", s->name, types[s->type],
			s->interval ? "\t\tflags interval\n" : "", s->size);
	if (s->comment[0])
		fprintf(out, "\t\tcomment \"%s\"\n", s->comment);
	fputs("\t\telements = { ", out);
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			fputs(i % 8 ? ", " : ",\n\t\t\t     ", out);
		if (s->type == PC_NFT_SET_SERVICE) {
			pc_nft_print_ports(out, &s->ports[i], '-');
		} else {
			pc_nft_print_prefix(out, &s->prefixes[i]);
		}
	}
	fputs(" }\n\t}\n", out);
}

/*
 * "meta l4proto icmp icmp type { destination-unreachable, ... } accept", a
 * line per family that has types.
 */
static void print_icmp_rules(FILE *out, const struct pc_nft_rule *r)
{
	const char *sep = "";

	for (int family = 4; family <= 6; family += 2) {
		size_t n;
		const struct pc_nft_icmp_type *v = pc_nft_icmp_types(r->kind, family, &n);
		if (!n)
			continue;
		fprintf(out, "%smeta l4proto %s { ", sep,
				family == 4 ? "icmp icmp type" : "ipv6-icmp icmpv6 type");
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s%s", i ? ", " : "", v[i].nft);
		fprintf(out, " } %s", verdicts[r->verdict == PC_NFT_DROP]);
		sep = "\n\t\t";
	}
}

/* `iifname "eth0"`, `iifname "eth*"`, `iifname != { "eth0", "eth1" }`; nothing for any. */
static void print_ifnames(FILE *out, const char *key, const struct pc_ifaces *s)
{
	if (!s)
		return;
	fprintf(out, "%s %s%s", key, s->negate ? "!= " : "", s->n > 1 ? "{ " : "");
	for (size_t i = 0; i < s->n; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", s->names[i]);
	fputs(s->n > 1 ? " } " : " ", out);
}

static void print_rule(FILE *out, const struct pc_nft_chain *c, const struct pc_nft_rule *r,
		const char *comment)
{
	fputs("\t\t", out);
	pc_nft_print_rule_as(c, r, comment, out);
	fputc('\n', out);
}

void pc_nft_print_rule(const struct pc_nft_chain *c, const struct pc_nft_rule *r, FILE *out)
{
	pc_nft_print_rule_as(c, r, r->comment, out);
}

/* A rule; `port`, for a policy rule: the port range it matches first (NULL: the map's). */
static void print_rule_body(const struct pc_nft_chain *c, const struct pc_nft_rule *r,
		const char *comment, const struct pc_nft_port_range *port, FILE *out)
{
	bool output = c->hook == PC_NFT_HOOK_OUTPUT;

	switch (r->kind) {
	case PC_NFT_ESTABLISHED:
		fputs("ct state established,related accept", out);
		return;
	case PC_NFT_INVALID:
		fputs("ct state invalid drop", out);
		return;
	case PC_NFT_LOOPBACK:
		fprintf(out, "%s \"lo\" accept", output ? "oif" : "iif");
		return;
	case PC_NFT_ICMP_ESSENTIAL:
	case PC_NFT_ICMP_ND:
		print_icmp_rules(out, r);
		return;
	case PC_NFT_ICMP_ECHO:
		fprintf(out,
				"icmp type %s limit rate %u/second accept\n"
				"\t\ticmpv6 type %s limit rate %u/second accept",
				pc_nft_icmp_echo(4)->nft, PC_NFT_ICMP_ECHO_PER_SECOND,
				pc_nft_icmp_echo(6)->nft, PC_NFT_ICMP_ECHO_PER_SECOND);
		return;
	case PC_NFT_ICMP_ALL:
		fputs("meta l4proto { icmp, ipv6-icmp } accept", out);
		return;
	case PC_NFT_POLICY_RULE:
		break;
	}
	const char *fam = r->family == 4 ? "ip" : "ip6";
	if (port) {
		fprintf(out, "%s dport ", pc_proto_name(r->proto));
		pc_nft_print_ports(out, port, '-');
		fputc(' ', out);
	}
	print_ifnames(out, "iifname", r->iifname);
	print_ifnames(out, "oifname", r->oifname);
	for (int side = 0; side < 2; side++) {
		const struct pc_nft_set *s = side ? r->daddr : r->saddr;
		if (!s)
			continue;
		fprintf(out, "%s %s ", fam, side ? "daddr" : "saddr");
		if (s->literal)
			pc_nft_print_prefix(out, &s->prefixes[0]);
		else
			fprintf(out, "@%s", s->name);
		fputc(' ', out);
	}
	if (r->family && !r->saddr && !r->daddr)
		fprintf(out, "meta nfproto %s ", r->family == 4 ? "ipv4" : "ipv6");
	/* The verdict map (or the port match) matched protocol and port; a TCP reset names its
	 * protocol. */
	if (r->verdict == PC_NFT_REJECT && r->proto == PC_PROTO_TCP && !port)
		fputs("meta l4proto tcp ", out);
	if (r->limit_rate)
		fprintf(out, "limit rate %u/%s ", r->limit_rate, r->limit_unit);
	if (r->log)
		fprintf(out, "log prefix \"portcullis r%zu \" ", r->policy_rule + 1);
	if (r->counter)
		fputs("counter ", out);
	if (r->verdict == PC_NFT_REJECT)
		fputs(r->proto == PC_PROTO_TCP ? "reject with tcp reset" : "reject", out);
	else
		fputs(r->verdict == PC_NFT_ACCEPT ? "accept" : "drop", out);
	fprintf(out, " comment \"%s\"", comment);
}

void pc_nft_print_rule_as(const struct pc_nft_chain *c, const struct pc_nft_rule *r,
		const char *comment, FILE *out)
{
	print_rule_body(c, r, comment, NULL, out);
}

void pc_nft_print_rule_port(const struct pc_nft_chain *c, const struct pc_nft_rule *r,
		const struct pc_nft_port_range *port, FILE *out)
{
	print_rule_body(c, r, r->comment, port, out);
}

void pc_nft_print_element(const struct pc_nft_table *t, const struct pc_nft_segment *s, FILE *out)
{
	struct pc_nft_port_range r = {s->lo, s->hi};

	pc_nft_print_ports(out, &r, '-');
	if (s->rule)
		fprintf(out, " comment \"%s\"", s->rule->comment);
	if (s->direct)
		fprintf(out, " : %s", verdicts[s->rule->verdict == PC_NFT_DROP]);
	else
		fprintf(out, " : jump %s", t->subs[s->sub].name);
}

void pc_nft_print_addr_element(const struct pc_nft_addr_elem *e, FILE *out)
{
	struct pc_prefix x;

	if (pc_nft_addr_elem_prefix(e, &x)) {
		pc_nft_print_prefix(out, &x);
	} else {
		char lo[PC_ADDR_TEXT_MAX], hi[PC_ADDR_TEXT_MAX];
		pc_nft_addr_elem_ends(e, lo, hi);
		fprintf(out, "%s-%s", lo, hi);
	}
	fprintf(out, " comment \"%s\" : %s", e->rule->comment,
			verdicts[e->rule->verdict == PC_NFT_DROP]);
}

static void print_addr_map(FILE *out, const struct pc_nft_addr_map *m, int family)
{
	fprintf(out,
			"\tmap %s {\n\t\ttype %s : verdict\n\t\tflags interval\n"
			"\t\tsize %zu\n\t\telements = {",
			m->name, family == 4 ? "ipv4_addr" : "ipv6_addr", m->size);
	for (size_t i = 0; i < m->n; i++) {
		fputs(i ? ",\n\t\t\t     " : " ", out);
		pc_nft_print_addr_element(&m->elems[i], out);
	}
	fputs(" }\n\t}\n", out);
}

static void print_map(FILE *out, const struct pc_nft_table *t, const struct pc_nft_map *m)
{
	fprintf(out,
			"\tmap %s {\n\t\ttype inet_service : verdict\n\t\tflags interval\n"
			"\t\tsize %zu\n\t\telements = {",
			m->name, m->size);
	for (size_t i = 0; i < m->n; i++) {
		fputs(i ? ",\n\t\t\t     " : " ", out);
		pc_nft_print_element(t, &m->segs[i], out);
	}
	fputs(" }\n\t}\n", out);
}

/* The policy rules of a protocol without its map, in order, with their ports: one rule per range.
 */
static void print_inline(FILE *out, const struct pc_nft_chain *c, enum pc_proto proto)
{
	const struct pc_nft_rule *r;
	const struct pc_nft_port_range *port;

	for (size_t i = 0, q = 0; pc_nft_inline_next(c, proto, &i, &q, &r, &port);) {
		fputs("\t\t", out);
		pc_nft_print_rule_port(c, r, port, out);
		fputc('\n', out);
	}
}

void pc_nft_print(
		const struct pc_nft_table *t, const char *const *header, size_t nheader, FILE *out)
{
	for (size_t i = 0; i < nheader; i++)
		fprintf(out, "# %s\n", header[i]);
	/* One transaction: declare (so the delete cannot fail), delete, create. */
	fprintf(out, "table inet %s\ndelete table inet %s\ntable inet %s {\n", t->name, t->name,
			t->name);
	fprintf(out, "\tcomment \"%s\"\n", t->comment);
	/* Port sets are not declared: the verdict maps hold the ports. */
	for (size_t i = 0; i < t->nsets; i++) {
		if (t->sets[i].literal || t->sets[i].type == PC_NFT_SET_SERVICE)
			continue;
		fputc('\n', out);
		print_set(out, &t->sets[i]);
	}
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		for (int p = 0; p < PC_PROTO_COUNT; p++)
			if (t->chains[k].maps[p].n) {
				fputc('\n', out);
				print_map(out, t, &t->chains[k].maps[p]);
			}
	for (size_t i = 0; i < t->nsubs; i++)
		for (int f = 0; f < 2; f++)
			if (t->subs[i].mapped && t->subs[i].by_saddr[f].n) {
				fputc('\n', out);
				print_addr_map(out, &t->subs[i].by_saddr[f], f ? 6 : 4);
			}
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		const struct pc_nft_chain *c = &t->chains[k];
		const char *hook = pc_nft_hook_name(c->hook);
		fprintf(out, "\n\tchain %s {\n\t\ttype filter hook %s priority filter; policy %s;\n",
				hook, hook, verdicts[c->policy]);
		for (size_t i = 0; i < c->n; i++)
			if (c->rules[i].kind != PC_NFT_POLICY_RULE)
				print_rule(out, c, &c->rules[i], NULL);
		for (int p = 0; p < PC_PROTO_COUNT; p++)
			if (c->maps[p].n)
				fprintf(out, "\t\t%s dport vmap @%s\n",
						pc_proto_name((enum pc_proto)p), c->maps[p].name);
			else if (c->inline_rules[p])
				print_inline(out, c, (enum pc_proto)p);
		fputs("\t}\n", out);
	}
	for (size_t i = 0; i < t->nsubs; i++) {
		const struct pc_nft_subchain *sc = &t->subs[i];
		const struct pc_nft_chain *c = &t->chains[sc->base];
		fprintf(out, "\n\tchain %s {\n", sc->name);
		for (int f = 0; sc->mapped && f < 2; f++)
			if (sc->by_saddr[f].n)
				fprintf(out, "\t\t%s saddr vmap @%s\n", f ? "ip6" : "ip",
						sc->by_saddr[f].name);
		for (size_t k = 0; !sc->mapped && k < sc->n; k++) {
			const struct pc_nft_rule *r = &c->rules[sc->rules[k]];
			print_rule(out, c, r, sc->shared ? sc->comment : r->comment);
		}
		fputs("\t}\n", out);
	}
	fputs("}\n", out);
}
