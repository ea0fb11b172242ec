/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nft model as an OpenBSD pf.conf fragment, for an anchor.  pf.conf(5)
 * orders statements as macros, tables, options, then rules; an anchor takes
 * no options, so the fragment is: a macro per port list, a const table per
 * network and family, then the rules.  pf decides by the last matching rule
 * unless a rule says `quick`; every rule here says it, so the first match
 * decides, as in the policy and in nft.  Connection state is pf's own: with
 * `established` in the policy, pass rules keep state (replies match the
 * state, not the rules); without it, they say `no state`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portcullis/targets.h"
#include "util.h"

#define PF_TABLE_NAME_MAX 31

static const char *const dir_words[PC_NFT_HOOK_COUNT] = {
		[PC_NFT_HOOK_INPUT] = "in",
		[PC_NFT_HOOK_OUTPUT] = "out",
};

/* OpenBSD's pfctl: "port only applies to tcp/udp". */
static bool pf_has_ports(enum pc_proto proto)
{
	return proto == PC_PROTO_TCP || proto == PC_PROTO_UDP;
}

/*
 * pf matches an interface, a list of them, or every one but one; a name of
 * pf is an interface or a group of them, never a prefix, and `! { a b }`
 * would be a rule per name, each passing the other.
 */
static const char *ifaces_unsaid(const struct pc_nft_rule *r)
{
	const struct pc_ifaces *s = r->iifname ? r->iifname : r->oifname;

	if (!s)
		return NULL;
	if (s->negate && s->n > 1)
		return "pf matches every interface but one, not but several";
	for (size_t i = 0; i < s->n; i++)
		if (pc_ifname_wild(s->names[i]))
			return "pf has no interface wildcards (an interface group is another thing)";
	return NULL;
}

/* A warning at each policy rule whose interfaces pf cannot say: it is left out. */
static size_t ifaces_check(
		const struct pc_nft_table *t, const struct pc_policy *p, struct pc_diags *diags)
{
	size_t n = 0;

	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		size_t last = SIZE_MAX;
		for (size_t i = 0; dir_words[k] && i < t->chains[k].n; i++) {
			const struct pc_nft_rule *r = &t->chains[k].rules[i];
			const char *why = r->kind == PC_NFT_POLICY_RULE ? ifaces_unsaid(r) : NULL;
			if (!why || r->policy_rule == last)
				continue;
			const struct pc_rule *pr = &p->rules[r->policy_rule];
			last = r->policy_rule;
			pc_diag_add(diags, PC_SEV_WARNING, "pf-interface", pr->loc.file,
					pr->loc.line, pr->loc.col,
					"%s: this rule is left out of the pf rendering", why);
			n++;
		}
	}
	return n;
}

size_t pc_pf_check(const struct pc_nft_table *t, const struct pc_policy *p, struct pc_diags *diags)
{
	const struct pc_nft_chain *c = &t->chains[PC_NFT_HOOK_FORWARD];
	size_t n = 0, last = (size_t)-1;
	/* Per policy rule, the protocols already said (a rule has one nft rule per family). */
	unsigned *said = xcalloc(p->nrules ? p->nrules : 1, sizeof(*said));

	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		for (size_t i = 0; dir_words[k] && i < t->chains[k].n; i++) {
			const struct pc_nft_rule *r = &t->chains[k].rules[i];
			if (r->kind != PC_NFT_POLICY_RULE || pf_has_ports(r->proto) ||
					(said[r->policy_rule] & (1u << r->proto)))
				continue;
			const struct pc_rule *pr = &p->rules[r->policy_rule];
			said[r->policy_rule] |= 1u << r->proto;
			pc_diag_hint(pc_diag_add(diags, PC_SEV_WARNING, "pf-proto", pr->loc.file,
						     pr->loc.line, pr->loc.col,
						     "OpenBSD pf matches ports of tcp and udp only: this "
						     "rule's %s ports are left out of the pf rendering",
						     pc_proto_name(r->proto)),
					"narrow the rule with 'protocol: [tcp, udp]' if %s is not used",
					pc_proto_name(r->proto));
			n++;
		}
	free(said);
	n += ifaces_check(t, p, diags);

	for (size_t i = 0; i < c->n; i++) {
		const struct pc_nft_rule *r = &c->rules[i];
		if (r->kind != PC_NFT_POLICY_RULE || r->policy_rule == last)
			continue;
		const struct pc_rule *pr = &p->rules[r->policy_rule];
		last = r->policy_rule;
		pc_diag_add(diags, PC_SEV_WARNING, "pf-forward", pr->loc.file, pr->loc.line,
				pr->loc.col,
				"pf has no forward hook (it filters a forwarded packet as it enters "
				"and as it leaves an interface): this forward rule is left out of "
				"the pf rendering");
		n++;
	}
	if (c->policy == PC_VERDICT_DROP) {
		pc_diag_add(diags, PC_SEV_NOTE, "pf-forward", p->loc.file, p->loc.line, p->loc.col,
				"pf has no forward hook: the forward default (drop) is left out of "
				"the pf rendering; block forwarding with net.inet.ip.forwarding=0 or "
				"with in/out rules of your own");
		n++;
	}
	return n;
}

/* The table's name in pf: the set's, or s<index> when it is longer than pf allows. */
static void table_name(char out[PC_NFT_NAME_MAX + 1], const struct pc_nft_table *t,
		const struct pc_nft_set *s)
{
	if (strlen(s->name) <= PF_TABLE_NAME_MAX)
		memcpy(out, s->name, strlen(s->name) + 1);
	else
		snprintf(out, PC_NFT_NAME_MAX + 1, "s%zu", (size_t)(s - t->sets) + 1);
}

static void print_host(FILE *out, const struct pc_nft_table *t, const struct pc_nft_set *s)
{
	char name[PC_NFT_NAME_MAX + 1];

	if (!s) {
		fputs("any", out);
	} else if (s->literal) {
		pc_nft_print_prefix(out, &s->prefixes[0]);
	} else {
		table_name(name, t, s);
		fprintf(out, "<%s>", name);
	}
}

/* An interface name that does not start with a letter, digit or '_' must be quoted. */
static void print_ifname(FILE *out, const char *name)
{
	char c = name[0];
	bool plain = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '_';

	fprintf(out, plain ? "%s" : "\"%s\"", name);
}

/* ` on em0`, ` on ! em0`, ` on { em0 em1 }`. */
static void print_ifnames(FILE *out, const struct pc_ifaces *s)
{
	fprintf(out, " on %s%s", s->negate ? "! " : "", s->n > 1 ? "{ " : "");
	for (size_t i = 0; i < s->n; i++) {
		print_ifname(out, s->names[i]);
		if (s->n > 1)
			fputc(' ', out);
	}
	if (s->n > 1)
		fputc('}', out);
}

static void print_policy_rule(FILE *out, const struct pc_nft_table *t, const char *dir,
		const struct pc_nft_rule *r, const char *state)
{
	fprintf(out, "# %s\n", r->comment);
	if (ifaces_unsaid(r)) {
		fputs("# (left out: pf cannot say these interfaces)\n", out);
		return;
	}
	if (!pf_has_ports(r->proto)) {
		fputs("# (left out: OpenBSD pf matches ports of tcp and udp only)\n", out);
		return;
	}
	if (r->verdict == PC_NFT_ACCEPT)
		fputs("pass", out);
	else
		fputs(r->verdict == PC_NFT_DROP ? "block drop" : "block return", out);
	fprintf(out, " %s%s quick", dir, r->log ? " log" : "");
	if (r->iifname || r->oifname)
		print_ifnames(out, r->iifname ? r->iifname : r->oifname);
	if (r->family)
		fputs(r->family == 4 ? " inet" : " inet6", out);
	fprintf(out, " proto %s from ", pc_proto_name(r->proto));
	print_host(out, t, r->saddr);
	fputs(" to ", out);
	print_host(out, t, r->daddr);
	fputs(" port ", out);
	if (r->dport->literal)
		pc_nft_print_ports(out, &r->dport->ports[0], ':');
	else
		fprintf(out, "$%s", r->dport->name);
	if (r->verdict == PC_NFT_ACCEPT)
		fprintf(out, " %s", state);
	if (r->limit_rate)
		fprintf(out, " max-pkt-rate %u/%u", r->limit_rate, pc_limit_seconds(r->limit_unit));
	fprintf(out, " label \"r%zu\"\n", r->policy_rule + 1);
}

static void print_rule(FILE *out, const struct pc_nft_table *t, const char *dir,
		const struct pc_nft_rule *r, const char *state)
{
	switch (r->kind) {
	case PC_NFT_ESTABLISHED:
	case PC_NFT_INVALID:
		/* pf's state table: replies match their state, out-of-window packets are blocked.
		 */
		break;
	case PC_NFT_LOOPBACK:
		/* `lo` is the interface group of every loopback interface. */
		fprintf(out, "pass %s quick on lo all %s\n", dir, state);
		break;
	case PC_NFT_ICMP_ESSENTIAL:
	case PC_NFT_ICMP_ND:
		for (int f = 4; f <= 6; f += 2) {
			size_t n;
			const struct pc_nft_icmp_type *v = pc_nft_icmp_types(r->kind, f, &n);
			if (!n)
				continue;
			fprintf(out, "%s %s quick %s {",
					r->verdict == PC_NFT_DROP ? "block" : "pass", dir,
					f == 4 ? "inet proto icmp icmp-type"
					       : "inet6 proto icmp6 icmp6-type");
			for (size_t i = 0; i < n; i++)
				fprintf(out, "%s %s", i ? "," : "", v[i].pf);
			if (r->verdict == PC_NFT_DROP)
				fputs(" }\n", out);
			else
				fprintf(out, " } %s\n", state);
		}
		break;
	case PC_NFT_ICMP_ECHO:
		fprintf(out, "pass %s quick inet proto icmp icmp-type %s %s max-pkt-rate %u/1\n",
				dir, pc_nft_icmp_echo(4)->pf, state, PC_NFT_ICMP_ECHO_PER_SECOND);
		fprintf(out, "pass %s quick inet6 proto icmp6 icmp6-type %s %s max-pkt-rate %u/1\n",
				dir, pc_nft_icmp_echo(6)->pf, state, PC_NFT_ICMP_ECHO_PER_SECOND);
		break;
	case PC_NFT_ICMP_ALL:
		fprintf(out, "pass %s quick inet proto icmp all %s\n", dir, state);
		fprintf(out, "pass %s quick inet6 proto icmp6 all %s\n", dir, state);
		break;
	case PC_NFT_POLICY_RULE:
		print_policy_rule(out, t, dir, r, state);
		break;
	}
}

static void print_set(FILE *out, const struct pc_nft_table *t, const struct pc_nft_set *s)
{
	if (s->type == PC_NFT_SET_SERVICE) {
		fprintf(out, "%s = \"{", s->name);
		for (size_t i = 0; i < s->n; i++) {
			fputs(i ? ", " : " ", out);
			pc_nft_print_ports(out, &s->ports[i], ':');
		}
		fputs(" }\"\n", out);
		return;
	}
	char name[PC_NFT_NAME_MAX + 1];
	table_name(name, t, s);
	fprintf(out, "table <%s> const {", name);
	for (size_t i = 0; i < s->n; i++) {
		fputs(i == 0 ? " " : i % 8 ? ", " : ", \\\n\t", out);
		pc_nft_print_prefix(out, &s->prefixes[i]);
	}
	fputs(" }\n", out);
}

void pc_pf_print(const struct pc_nft_table *t, const char *const *header, size_t nheader, FILE *out)
{
	bool stateful = false;

	for (size_t i = 0; i < nheader; i++)
		fprintf(out, "# %s\n", header[i]);
	const struct pc_nft_chain *in = &t->chains[PC_NFT_HOOK_INPUT];
	for (size_t i = 0; i < in->n && !stateful; i++)
		stateful = in->rules[i].kind == PC_NFT_ESTABLISHED;
	const char *state = stateful ? "keep state" : "no state";

	/* The sets the printed rules use: not those of forward rules or of protocols without ports
	 * in pf. */
	bool *used = xcalloc(t->nsets ? t->nsets : 1, sizeof(*used));
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		for (size_t i = 0; dir_words[k] && i < t->chains[k].n; i++) {
			const struct pc_nft_rule *r = &t->chains[k].rules[i];
			if (r->kind != PC_NFT_POLICY_RULE || !pf_has_ports(r->proto))
				continue;
			used[r->dport - t->sets] = true;
			if (r->saddr)
				used[r->saddr - t->sets] = true;
			if (r->daddr)
				used[r->daddr - t->sets] = true;
		}
	/* Macros (port lists), then tables (networks): pf.conf(5) wants them first. */
	for (int pass = 0; pass < 2; pass++) {
		bool any = false;
		for (size_t i = 0; i < t->nsets; i++) {
			const struct pc_nft_set *s = &t->sets[i];
			if (!used[i] || s->literal ||
					(s->type == PC_NFT_SET_SERVICE) != (pass == 0))
				continue;
			if (!any)
				fputs(pass == 0 ? "\n# ports\n" : "\n# networks\n", out);
			any = true;
			print_set(out, t, s);
		}
	}
	free(used);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		const struct pc_nft_chain *c = &t->chains[k];
		if (!dir_words[k]) {
			size_t last = (size_t)-1;
			bool any = false;
			for (size_t i = 0; i < c->n; i++) {
				const struct pc_nft_rule *r = &c->rules[i];
				if (r->kind != PC_NFT_POLICY_RULE || r->policy_rule == last)
					continue;
				if (!any)
					fputs("\n# forward: pf has no forward hook; left out:\n",
							out);
				any = true;
				last = r->policy_rule;
				fprintf(out, "#   %s\n", r->comment);
			}
			if (c->policy == PC_VERDICT_DROP)
				fputs("\n# forward default (drop) left out: pf has no forward hook\n",
						out);
			continue;
		}
		fprintf(out, "\n# %s\n", pc_nft_hook_name(c->hook));
		for (size_t i = 0; i < c->n; i++)
			print_rule(out, t, dir_words[k], &c->rules[i], state);
		if (c->policy == PC_VERDICT_DROP)
			fprintf(out, "block drop %s quick all\n", dir_words[k]);
		else
			fprintf(out, "# default accept: the main ruleset decides what is left\n");
	}
}
