/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nft model as iptables-restore input.  iptables has no sets, so a rule
 * naming several prefixes becomes one iptables rule per prefix, and a port
 * list becomes multiport matches of at most 15 ports (a range counts two);
 * a logged rule becomes a LOG rule followed by the verdict rule, with the
 * same matches.  Lines come out as iptables-save prints them, so a listing
 * of the kernel's rules can be compared with the file line for line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portcullis/targets.h"

#define MULTIPORT_SLOTS 15

static const char *const builtin[PC_NFT_HOOK_COUNT] = {
		[PC_NFT_HOOK_INPUT] = "INPUT",
		[PC_NFT_HOOK_FORWARD] = "FORWARD",
		[PC_NFT_HOOK_OUTPUT] = "OUTPUT",
};

/* The rule's interfaces, when it names some: -i for input and forward, -o for output. */
static const struct pc_ifaces *ifaces_of(const struct pc_nft_rule *r)
{
	return r->iifname ? r->iifname : r->oifname;
}

/*
 * iptables matches one interface a rule, or every one but one (`! -i`): a
 * list is a rule per name, and every interface but several is not one rule.
 */
static bool ifaces_unsaid(const struct pc_nft_rule *r)
{
	const struct pc_ifaces *s = ifaces_of(r);

	return s && s->negate && s->n > 1;
}

/* The number of iptables rules one model rule becomes in the file of `family`. */
static size_t expansion(const struct pc_nft_rule *r, int family)
{
	if (r->family && r->family != family)
		return 0;
	const struct pc_ifaces *ifs = ifaces_of(r);
	size_t per_iface = ifs && !ifs->negate ? ifs->n : 1;
	size_t chunks = 0, slots = MULTIPORT_SLOTS;
	for (size_t i = 0; i < r->dport->n; i++) {
		size_t need = r->dport->ports[i].lo == r->dport->ports[i].hi ? 1 : 2;
		if (slots + need > MULTIPORT_SLOTS)
			chunks++, slots = 0;
		slots += need;
	}
	size_t n = chunks * (r->saddr ? r->saddr->n : 1) * (r->daddr ? r->daddr->n : 1) * per_iface;
	return r->log ? 2 * n : n;
}

/* A warning at each policy rule on every interface but several: it is left out. */
static void ifaces_check(
		const struct pc_nft_table *t, const struct pc_policy *p, struct pc_diags *diags)
{
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		size_t last = SIZE_MAX;
		for (size_t i = 0; i < t->chains[k].n; i++) {
			const struct pc_nft_rule *r = &t->chains[k].rules[i];
			if (r->kind != PC_NFT_POLICY_RULE || !ifaces_unsaid(r) ||
					r->policy_rule == last)
				continue;
			const struct pc_rule *pr = &p->rules[r->policy_rule];
			last = r->policy_rule;
			pc_diag_hint(pc_diag_add(diags, PC_SEV_WARNING, "ipt-interface",
						     pr->loc.file, pr->loc.line, pr->loc.col,
						     "iptables matches every interface but one, not but "
						     "several: this rule is left out of the iptables "
						     "rendering"),
					"write a rule per interface it is not on, with the opposite "
					"verdict, above one on every interface");
		}
	}
}

int pc_ipt_check(const struct pc_nft_table *t, const struct pc_policy *p, int family,
		struct pc_diags *diags)
{
	if (strlen(t->name) + strlen("-forward") > PC_IPT_CHAIN_MAX) {
		pc_diag_add(diags, PC_SEV_ERROR, "ipt-name", NULL, 0, 0,
				"iptables chain names hold at most %d characters: '%s-forward' is "
				"too long; choose a table name of at most %d",
				PC_IPT_CHAIN_MAX, t->name,
				PC_IPT_CHAIN_MAX - (int)strlen("-forward"));
		return -1;
	}
	ifaces_check(t, p, diags);
	size_t expanded = 0, into = 0, other = 0;
	const struct pc_rule *first_expanded = NULL, *first_other = NULL;
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		const struct pc_nft_chain *c = &t->chains[k];
		for (size_t i = 0; i < c->n; i++) {
			const struct pc_nft_rule *r = &c->rules[i];
			if (r->kind != PC_NFT_POLICY_RULE)
				continue;
			size_t n = expansion(r, family);
			if (ifaces_unsaid(r))
				continue;
			if (n == 0) {
				other++;
				if (!first_other)
					first_other = &p->rules[r->policy_rule];
			} else if (n > (r->log ? 2u : 1u)) {
				expanded++;
				into += n;
				if (!first_expanded)
					first_expanded = &p->rules[r->policy_rule];
			}
		}
	}
	if (expanded)
		pc_diag_hint(pc_diag_add(diags, PC_SEV_NOTE, "ipt-expanded",
					     first_expanded->loc.file, first_expanded->loc.line,
					     first_expanded->loc.col,
					     "iptables has no sets: %zu nft rule%s (this one first) became "
					     "%zu iptables rules, one per prefix and per 15 ports",
					     expanded, expanded == 1 ? "" : "s", into),
				"the nft target keeps each network in one set, looked up at once");
	if (other)
		pc_diag_add(diags, PC_SEV_NOTE, "ipt-family", first_other->loc.file,
				first_other->loc.line, first_other->loc.col,
				"%zu nft rule%s (this one first) match%s IPv%d only: see the %s rendering "
				"(--family %s)",
				other, other == 1 ? "" : "s", other == 1 ? "es" : "",
				family == 4 ? 6 : 4, family == 4 ? "ip6tables" : "iptables",
				family == 4 ? "ipv6" : "ipv4");
	return 0;
}

/* " -s ADDR/LEN": once per line of a large network, so without printf. */
static void print_prefix(FILE *out, const char *flag, const struct pc_prefix *x)
{
	char a[PC_ADDR_TEXT_MAX + 8];
	char len[4] = {0};
	int n = 0;

	pc_prefix_addr(a, x);
	if (x->len >= 100)
		len[n++] = (char)('0' + x->len / 100);
	if (x->len >= 10)
		len[n++] = (char)('0' + x->len / 10 % 10);
	len[n++] = (char)('0' + x->len % 10);
	fputc(' ', out);
	fputs(flag, out);
	fputc(' ', out);
	fputs(a, out);
	fputc('/', out);
	fputs(len, out);
}

/*
 * The comment is already free of double quotes, backslashes and controls
 * (pc_nft_comment); a single quote is written \' as iptables-save does.
 */
static void print_comment(FILE *out, const char *comment)
{
	fputs(" -m comment --comment \"", out);
	for (const char *p = comment, *q; *p; p = q) {
		q = p + strcspn(p, "'");
		fwrite(p, 1, (size_t)(q - p), out);
		if (*q == '\'')
			fputs("\\'", out), q++;
	}
	fputc('"', out);
}

/* " -i eth0", " ! -i eth0", " -i eth+" (a wildcard ends in '+' in iptables). */
static void print_iface(FILE *out, const char *flag, const struct pc_ifaces *s, size_t i)
{
	const char *name = s->names[i];
	int stem = (int)strlen(name) - pc_ifname_wild(name);

	fprintf(out, "%s %s %.*s%s", s->negate ? " !" : "", flag, stem, name,
			pc_ifname_wild(name) ? "+" : "");
}

/* iptables-save's words for the limit units. */
static const char *limit_unit(const char *unit)
{
	return !strcmp(unit, "second") ? "sec" : !strcmp(unit, "minute") ? "min" : unit;
}

static void print_target(FILE *out, const struct pc_nft_rule *r, int family, bool log)
{
	if (log)
		fprintf(out, " -j LOG --log-prefix \"portcullis r%zu \"\n", r->policy_rule + 1);
	else if (r->verdict == PC_NFT_ACCEPT)
		fputs(" -j ACCEPT\n", out);
	else if (r->verdict == PC_NFT_DROP)
		fputs(" -j DROP\n", out);
	else if (r->proto == PC_PROTO_TCP)
		fputs(" -j REJECT --reject-with tcp-reset\n", out);
	else
		fprintf(out, " -j REJECT --reject-with %s\n",
				family == 4 ? "icmp-port-unreachable" : "icmp6-port-unreachable");
}

/*
 * One model rule: a line per source prefix, destination prefix, multiport
 * chunk (and LOG line).  Everything after the source is the same for every
 * source, so those tails are built once and the lines are put together from
 * them: a network of 100 000 addresses is 100 000 lines per rule.
 */
static void print_policy_rule(FILE *out, const char *chain, const struct pc_nft_rule *r, int family)
{
	size_t ns = r->saddr ? r->saddr->n : 1, nd = r->daddr ? r->daddr->n : 1;
	const char *proto = pc_proto_name(r->proto);
	const struct pc_ifaces *ifs = ifaces_of(r);
	size_t nif = ifs && !ifs->negate ? ifs->n : 1;

	if (ifaces_unsaid(r))
		return;
	char *tails = NULL;
	size_t tails_len = 0, ntails = 0;
	FILE *m = open_memstream(&tails, &tails_len);
	for (size_t d = 0; d < nd; d++)
		for (size_t f = 0; f < nif; f++)
			for (size_t first = 0; first < r->dport->n;) {
				/* One multiport chunk: at most 15 slots, a range taking two. */
				size_t last = first, slots = 0;
				while (last < r->dport->n) {
					const struct pc_nft_port_range *pr = &r->dport->ports[last];
					size_t need = pr->lo == pr->hi ? 1 : 2;
					if (slots + need > MULTIPORT_SLOTS)
						break;
					slots += need;
					last++;
				}
				for (int pass = r->log ? 0 : 1; pass < 2; pass++) {
					if (r->daddr)
						print_prefix(m, "-d", &r->daddr->prefixes[d]);
					if (ifs)
						print_iface(m, r->iifname ? "-i" : "-o", ifs, f);
					if (last - first == 1) {
						fprintf(m, " -p %s -m %s --dport ", proto, proto);
						pc_nft_print_ports(m, &r->dport->ports[first], ':');
					} else {
						fprintf(m, " -p %s -m multiport --dports ", proto);
						for (size_t i = first; i < last; i++) {
							if (i > first)
								fputc(',', m);
							pc_nft_print_ports(m, &r->dport->ports[i],
									':');
						}
					}
					if (r->limit_rate)
						fprintf(m, " -m limit --limit %u/%s", r->limit_rate,
								limit_unit(r->limit_unit));
					print_comment(m, r->comment);
					print_target(m, r, family, pass == 0);
					fputc('\0', m);
					ntails++;
				}
				first = last;
			}
	fclose(m);
	for (size_t s = 0; s < ns; s++) {
		const char *tail = tails;
		for (size_t k = 0; k < ntails; k++) {
			fputs("-A ", out);
			fputs(chain, out);
			if (r->saddr)
				print_prefix(out, "-s", &r->saddr->prefixes[s]);
			size_t len = strlen(tail);
			fwrite(tail, 1, len, out);
			tail += len + 1;
		}
	}
	free(tails);
}

static void print_rule(
		FILE *out, const char *chain, bool output, const struct pc_nft_rule *r, int family)
{
	const char *icmp = family == 4 ? "-p icmp -m icmp --icmp-type"
				       : "-p ipv6-icmp -m icmp6 --icmpv6-type";
	const struct pc_nft_icmp_type *essential;
	size_t n;

	switch (r->kind) {
	case PC_NFT_ESTABLISHED:
		fprintf(out, "-A %s -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n", chain);
		break;
	case PC_NFT_INVALID:
		fprintf(out, "-A %s -m conntrack --ctstate INVALID -j DROP\n", chain);
		break;
	case PC_NFT_LOOPBACK:
		fprintf(out, "-A %s %s lo -j ACCEPT\n", chain, output ? "-o" : "-i");
		break;
	case PC_NFT_ICMP_ESSENTIAL:
	case PC_NFT_ICMP_ND:
		essential = pc_nft_icmp_types(r->kind, family, &n);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "-A %s %s %u -j %s\n", chain, icmp, essential[i].type,
					r->verdict == PC_NFT_DROP ? "DROP" : "ACCEPT");
		break;
	case PC_NFT_ICMP_ECHO:
		fprintf(out, "-A %s %s %u -m limit --limit %u/sec -j ACCEPT\n", chain, icmp,
				pc_nft_icmp_echo(family)->type, PC_NFT_ICMP_ECHO_PER_SECOND);
		break;
	case PC_NFT_ICMP_ALL:
		fprintf(out, "-A %s -p %s -j ACCEPT\n", chain, family == 4 ? "icmp" : "ipv6-icmp");
		break;
	case PC_NFT_POLICY_RULE:
		if (!r->family || r->family == family)
			print_policy_rule(out, chain, r, family);
		break;
	}
}

void pc_ipt_print(const struct pc_nft_table *t, int family, bool jumps, const char *const *header,
		size_t nheader, FILE *out)
{
	char chains[PC_NFT_HOOK_COUNT][PC_NFT_NAME_MAX + 16];

	for (size_t i = 0; i < nheader; i++)
		fprintf(out, "# %s\n", header[i]);
	fputs("*filter\n", out);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		snprintf(chains[k], sizeof(chains[k]), "%s-%s", t->name,
				pc_nft_hook_name(t->chains[k].hook));
		fprintf(out, ":%s - [0:0]\n", chains[k]);
	}
	if (jumps)
		for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
			fprintf(out, "-I %s 1 -j %s\n", builtin[k], chains[k]);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		const struct pc_nft_chain *c = &t->chains[k];
		for (size_t i = 0; i < c->n; i++)
			print_rule(out, chains[k], c->hook == PC_NFT_HOOK_OUTPUT, &c->rules[i],
					family);
		/*
		 * The default: a drop is final, as the policy of an nft base chain
		 * is; an accept returns to the built-in chain, so the host's own
		 * rules still have their say, as other nft tables would.
		 */
		fprintf(out, "-A %s -j %s\n", chains[k],
				c->policy == PC_VERDICT_DROP ? "DROP" : "RETURN");
	}
	fputs("COMMIT\n", out);
}
