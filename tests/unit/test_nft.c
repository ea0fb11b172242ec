/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nft model: safe comments and names, and what a policy lowers into. */
#include "testutil.h"

#include <stddef.h>

#include "model/internal.h"
#include "portcullis/nft.h"
#include "portcullis/policy.h"

static void test_comments_cannot_escape(void **state)
{
	char out[PC_NFT_COMMENT_MAX + 1];

	(void)state;
	pc_nft_comment(out, "x\"\n\t\tdrop comment \"y");
	assert_string_equal(out, "x'   drop comment 'y");
	pc_nft_comment(out, "back\\slash \x1b[31m red \x7f");
	assert_string_equal(out, "back/slash  [31m red  ");
	pc_nft_comment(out, "bad \xff utf8 \xc3");
	assert_string_equal(out, "bad   utf8  ");
	pc_nft_comment(out, "bidi \xe2\x80\xae here, nel \xc2\x85");
	assert_string_equal(out, "bidi   here, nel  ");

	/* Long: cut on a character boundary, with a marker, at most 128 bytes. */
	char in[400];
	memset(in, 'a', 126);
	strcpy(in + 126, "\xc3\xa9\xc3\xa9\xc3\xa9 tail");
	pc_nft_comment(out, in);
	assert_true(strlen(out) <= PC_NFT_COMMENT_MAX);
	assert_string_equal(out + strlen(out) - 3, "...");
	for (size_t i = 0; out[i]; i++)
		assert_true((unsigned char)out[i] < 0x80); /* the é was not split */
}

static void test_names(void **state)
{
	(void)state;
	assert_true(pc_nft_name_ok("portcullis"));
	assert_true(pc_nft_name_ok("kdc-primary_2"));
	assert_false(pc_nft_name_ok(""));
	assert_false(pc_nft_name_ok("1abc"));
	assert_false(pc_nft_name_ok("a b"));
	assert_false(pc_nft_name_ok("x;y"));
	assert_false(pc_nft_name_ok("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
}

/* Loads, resolves and lowers a policy's text into table "tbl", each step asserted. */
static void lower_text(struct pc_policy *p, struct pc_diags *d, struct pc_registry *reg,
		struct pc_nft_table *t, const char *text, size_t len)
{
	pc_policy_init(p);
	pc_diags_init(d);
	assert_int_equal(pc_policy_load_mem(p, "t.yaml", text, len, d), 0);
	assert_int_equal(pc_policy_resolve(p, reg, d), 0);
	assert_int_equal(pc_nft_lower(p, "tbl", t, d), 0);
}

/* The nft text of a table, the caller's to free. */
static char *print_table(const struct pc_nft_table *t)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	assert_non_null(mem);
	pc_nft_print(t, NULL, 0, mem);
	fclose(mem);
	return out;
}

static void test_lowering(void **state)
{
	static const char text[] =
			"version: 1\n"
			"policy: t\n"
			"networks:\n"
			"  admins: [198.51.100.0/24, 203.0.113.0/24, \"2001:db8:ad::/48\"]\n"
			"  v6only: [\"2001:db8:1::/64\"]\n"
			"defaults:\n"
			"  icmp: none\n"
			"  loopback: none\n"
			"rules:\n"
			"  - allow: [6000-6010/tcp, 6005-6020/tcp, 6021/tcp, 22/tcp]\n"
			"    from: admins\n"
			"  - allow: ssh\n"
			"    protocol: tcp\n"
			"    from: admins\n"
			"  - reject: 25/tcp\n"
			"    from: v6only\n"
			"  - allow: krb5_prop\n"
			"    direction: output\n"
			"    to: v6only\n"
			"  - allow: 88/udp\n"
			"  - allow: 7000/tcp\n"
			"    from: admins\n";
	struct pc_policy p;
	struct pc_diags d;
	struct pc_registry *reg = pc_registry_create();
	struct pc_nft_table t;

	(void)state;
	lower_text(&p, &d, reg, &t, text, sizeof(text) - 1);

	/* Networks named once, shared by the rules that name them. */
	size_t admins4 = 0;
	for (size_t i = 0; i < t.nsets; i++)
		admins4 += !strcmp(t.sets[i].name, "n_admins_v4");
	assert_int_equal(admins4, 1);

	/* Overlapping and touching ranges merge: 22, 6000-6021. */
	const struct pc_nft_set *r1 = NULL;
	for (size_t i = 0; i < t.nsets; i++)
		if (!strcmp(t.sets[i].name, "r1_tcp"))
			r1 = &t.sets[i];
	assert_non_null(r1);
	assert_int_equal(r1->n, 2);
	assert_int_equal(r1->ports[1].lo, 6000);
	assert_int_equal(r1->ports[1].hi, 6021);
	assert_true(r1->size >= 2 * r1->n);
	assert_false(r1->literal);

	/*
	 * `icmp: none` keeps neighbour discovery, in input and output (after
	 * established and invalid): IPv6 needs it.  It never crosses a router,
	 * so forward has none.
	 */
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		const struct pc_nft_chain *c = &t.chains[k];
		bool nd = c->n > 2 && c->rules[2].kind == PC_NFT_ICMP_ND;
		assert_int_equal(nd, c->hook != PC_NFT_HOOK_FORWARD);
		if (nd)
			assert_int_equal(c->rules[2].verdict, PC_NFT_ACCEPT);
	}

	/* One port is written into the rule, not declared as a set of its own. */
	const struct pc_nft_rule *r3 = &t.chains[0].rules[7];
	assert_int_equal(r3->policy_rule, 2);
	assert_true(r3->dport->literal);
	assert_int_equal(r3->dport->ports[0].lo, 25);
	char *text_out = print_table(&t);
	/*
	 * The packet path: one verdict map per protocol.  Port 22 is named by
	 * rules 1 and 2: a chain of both, in policy order; 6000-6021 by rule 1
	 * alone: its own chain; 88/udp by a rule that matches every packet: the
	 * element carries its verdict.  Port sets are not declared.
	 */
	assert_non_null(strstr(text_out, "tcp dport vmap @input_tcp\n"));
	assert_non_null(strstr(text_out, "udp dport vmap @input_udp\n"));
	assert_non_null(strstr(text_out, "22 : jump input_tcp_22,"));
	assert_non_null(strstr(
			text_out, "25 comment \"r3 port 25/tcp; from v6only\" : jump r3_tcp,"));
	assert_non_null(strstr(text_out, "22 : jump input_tcp_22,"));
	assert_non_null(strstr(text_out,
			"6000-6021 comment \"r1 port 6000-6010/tcp; port 6005-6020/tcp; "
			"port 6021/tcp; port 22/tcp; from admins\" : jump r1_tcp,"));
	/* Rule 6 differs from rule 1 only in its port: it shares rule 1's chain. */
	assert_non_null(strstr(text_out,
			"7000 comment \"r6 port 7000/tcp; from admins\" : jump r1_tcp }"));
	assert_non_null(strstr(
			text_out, "ip saddr @n_admins_v4 accept comment \"r1 r6; from admins\""));
	assert_non_null(strstr(text_out, "88 comment \"r5 port 88/udp\" : accept }"));
	assert_non_null(strstr(text_out,
			"ip6 saddr 2001:db8:1::/64 meta l4proto tcp reject with tcp reset"));
	assert_non_null(strstr(text_out, "ip saddr @n_admins_v4 accept"));
	assert_non_null(strstr(text_out,
			"\t\tmeta l4proto ipv6-icmp icmpv6 type { nd-router-solicit, "
			"nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n"));
	assert_null(strstr(text_out, "icmp type"));
	assert_null(strstr(text_out, "set r1_tcp"));
	assert_null(strstr(text_out, "set r3_tcp"));
	free(text_out);
	const struct pc_nft_map *m = &t.chains[0].maps[PC_PROTO_TCP];
	assert_int_equal(m->n, 4);
	assert_true(t.subs[m->segs[2].sub].shared);
	assert_int_equal(m->segs[2].sub, m->segs[3].sub);
	assert_int_equal(m->segs[0].lo, 22);
	const struct pc_nft_subchain *sc = &t.subs[m->segs[0].sub];
	assert_string_equal(sc->name, "input_tcp_22");
	assert_int_equal(sc->n, 4);
	/* Rules 1 and 2 name the same network: rule 1 decides port 22 for all of it. */
	assert_true(sc->mapped);
	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < sc->by_saddr[f].n; i++)
			assert_int_equal(sc->by_saddr[f].elems[i].rule->policy_rule, 0);
	for (size_t i = 0; i < sc->n; i++)
		assert_int_equal(t.chains[0].rules[sc->rules[i]].policy_rule, i / 2);
	assert_null(m->segs[2].direct);
	assert_int_equal(m->segs[2].lo, 6000);
	assert_int_equal(m->segs[2].hi, 6021);
	assert_non_null(t.chains[0].maps[PC_PROTO_UDP].segs[0].direct);
	assert_int_equal(t.chains[2].maps[PC_PROTO_TCP].n, 1);

	/*
	 * Input: established + invalid + neighbour discovery, rules 1 and 2 per
	 * family, rule 3 (v6 only), 5, 6.
	 */
	const struct pc_nft_chain *in = &t.chains[0];
	assert_int_equal(in->n, 3 + 2 + 2 + 1 + 1 + 2);
	assert_int_equal(in->rules[3].family, 4);
	assert_int_equal(in->rules[4].family, 6);
	assert_int_equal(in->rules[7].verdict, PC_NFT_REJECT);
	assert_int_equal(in->rules[7].family, 6);
	/* Output: neighbour discovery and one rule, IPv6 only. */
	const struct pc_nft_chain *out = &t.chains[2];
	assert_int_equal(out->n, 3 + 1);
	assert_int_equal(out->rules[3].family, 6);
	assert_string_equal(out->rules[3].daddr->name, "n_v6only_v6");
	assert_true(out->rules[3].daddr->literal); /* one prefix: written into the rule */
	assert_non_null(strstr(out->rules[3].comment, "krb5_prop 754/tcp practice:"));
	assert_non_null(strstr(out->rules[3].comment, " (IANA: tell); to v6only"));

	pc_nft_table_finish(&t);
	assert_int_equal(pc_nft_lower(&p, "bad name", &t, &d), -1);
	pc_nft_table_finish(&t);
	pc_policy_finish(&p);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
}

/* Rules on one port that match only sources: one lookup per family, first match kept. */
static void test_source_maps(void **state)
{
	static const char disjoint[] = "version: 1\npolicy: t\nrules:\n"
				       "  - allow: 88/udp\n    from: 10.1.0.0/16\n"
				       "  - deny: 88/udp\n    from: [10.2.0.0/16, 10.3.0.1]\n"
				       "  - allow: 88/udp\n    from: \"2001:db8::/32\"\n"
				       "  - allow: 88/udp\n    from: 10.0.0.0/16\n";
	static const char overlapping[] = "version: 1\npolicy: t\nrules:\n"
					  "  - deny: 88/udp\n    from: 10.1.2.3\n"
					  "  - allow: 88/udp\n    from: 10.1.0.0/16\n"
					  "  - deny: 88/udp\n    from: 10.2.0.0/16\n"
					  "  - allow: 88/udp\n    from: 10.3.0.0/16\n";
	struct pc_registry *reg = pc_registry_create();

	(void)state;
	for (int k = 0; k < 2; k++) {
		const char *text = k ? overlapping : disjoint;
		struct pc_policy p;
		struct pc_diags d;
		struct pc_nft_table t;
		pc_policy_init(&p);
		pc_diags_init(&d);
		assert_int_equal(pc_policy_load_mem(&p, "t.yaml", text, strlen(text), &d), 0);
		assert_int_equal(pc_policy_resolve(&p, reg, &d), 0);
		assert_int_equal(pc_nft_lower(&p, "tbl", &t, &d), 0);
		assert_int_equal(t.nsubs, 1);
		const struct pc_nft_subchain *sc = &t.subs[0];
		if (k) {
			/* 10.1.2.3 meets its deny; the rest of 10.1.0.0/16 the allow after it. */
			assert_true(sc->mapped);
			assert_int_equal(sc->by_saddr[0].n, 5);
			assert_int_equal(sc->by_saddr[1].n, 0);
			char *out = NULL;
			size_t len = 0;
			FILE *mem = open_memstream(&out, &len);
			pc_nft_print(&t, NULL, 0, mem);
			fclose(mem);
			assert_non_null(strstr(out, "{ 10.1.0.0-10.1.2.2 comment \"r2 port 88/udp; "
						    "from 10.1.0.0/16\" : accept,"));
			assert_non_null(strstr(out,
					"10.1.2.3 comment \"r1 port 88/udp; from 10.1.2.3\" "
					": drop,"));
			assert_non_null(strstr(out, "10.1.2.4-10.1.255.255 comment \"r2"));
			assert_non_null(strstr(out, "10.2.0.0/16 comment \"r3"));
			assert_null(strstr(out, "ip6 saddr vmap"));
			free(out);
		} else {
			assert_true(sc->mapped);
			assert_string_equal(sc->by_saddr[0].name, "input_udp_88_v4");
			assert_int_equal(sc->by_saddr[0].n, 4); /* sorted by address */
			assert_int_equal(sc->by_saddr[0].elems[0].lo[1], 0);
			assert_int_equal(sc->by_saddr[0].elems[3].lo[3], 1);
			assert_int_equal(sc->by_saddr[0].elems[3].rule->verdict, PC_NFT_DROP);
			assert_int_equal(sc->by_saddr[1].n, 1);
			char *out = NULL;
			size_t len = 0;
			FILE *mem = open_memstream(&out, &len);
			pc_nft_print(&t, NULL, 0, mem);
			fclose(mem);
			assert_non_null(strstr(out, "\t\tip saddr vmap @input_udp_88_v4\n"
						    "\t\tip6 saddr vmap @input_udp_88_v6\n"));
			assert_non_null(strstr(out, "10.3.0.1 comment \"r2 port 88/udp; from "
						    "10.2.0.0/16,10.3.0.1\" : drop }"));
			free(out);
		}
		pc_nft_table_finish(&t);
		pc_policy_finish(&p);
		pc_diags_finish(&d);
	}
	pc_registry_destroy(reg);
}

/*
 * A policy of n rules allowing overlapping TCP ranges, rule i (1+i)-(100+i)
 * from 10.0.0.(i+1), or 1-100 for every rule when `same`; then 88/udp, and,
 * when `limited`, a rule with a limit and two ranges.
 */
static char *ranges_policy(int n, bool same, bool limited)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fputs("version: 1\npolicy: t\nrules:\n", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "  - allow: %d-%d/tcp\n    from: 10.0.0.%d\n", same ? 1 : 1 + i,
				same ? 100 : 100 + i, i + 1);
	fputs("  - allow: 88/udp\n", f);
	if (limited)
		fputs("  - allow: [5000/tcp, 5002/tcp]\n    limit: 10/second\n", f);
	fclose(f);
	return text;
}

/*
 * Overlapping ranges past the map's budget: the TCP rules are written in
 * order in the base chain, one per range, and UDP keeps its map; the same
 * ranges in every rule (one segment), a few rules, or a rule with a limit
 * and several ranges keep the map.
 */
static void test_map_budget(void **state)
{
	static const struct {
		int n;
		bool same, limited, inlined;
	} cases[] = {{200, false, false, true}, {200, true, false, false},
			{10, false, false, false}, {200, false, true, false}};
	struct pc_registry *reg = pc_registry_create();

	(void)state;
	for (size_t k = 0; k < PC_ARRAY_SIZE(cases); k++) {
		char *text = ranges_policy(cases[k].n, cases[k].same, cases[k].limited);
		struct pc_policy p;
		struct pc_diags d;
		struct pc_nft_table t;
		lower_text(&p, &d, reg, &t, text, strlen(text));
		const struct pc_nft_chain *in = &t.chains[PC_NFT_HOOK_INPUT];
		assert_int_equal(in->inline_rules[PC_PROTO_TCP], cases[k].inlined);
		assert_int_equal(in->maps[PC_PROTO_TCP].n == 0, cases[k].inlined);
		assert_false(in->inline_rules[PC_PROTO_UDP]);
		assert_int_equal(in->maps[PC_PROTO_UDP].n, 1);
		char *out = print_table(&t);
		if (cases[k].inlined) {
			assert_int_equal(t.nsubs, 0);
			assert_null(strstr(out, "tcp dport vmap"));
			assert_non_null(strstr(out,
					"\t\ttcp dport 1-100 ip saddr 10.0.0.1 accept comment "
					"\"r1 port 1-100/tcp; from 10.0.0.1\"\n"
					"\t\ttcp dport 2-101 ip saddr 10.0.0.2 accept"));
			assert_non_null(strstr(out,
					"\t\ttcp dport 200-299 ip saddr 10.0.0.200 "
					"accept comment \"r200 port 200-299/tcp; "
					"from 10.0.0.200\"\n\t\tudp dport vmap @input_udp\n"));
			/* Linear: one line per rule, not one per rule and segment covered. */
			assert_true(strlen(out) < 200 * 120 + 4096);
		} else {
			assert_non_null(strstr(out, "\t\ttcp dport vmap @input_tcp\n"));
		}
		free(out);
		pc_nft_table_finish(&t);
		pc_policy_finish(&p);
		pc_diags_finish(&d);
		free(text);
	}
	pc_registry_destroy(reg);
}

/*
 * A rule's match options, one row each: a new field of struct pc_nft_match
 * is a new row (the sizes below must add up to the struct).
 */
#define OPTION(f)                                                                                  \
	{                                                                                          \
#f, offsetof(struct pc_nft_match, f), sizeof(((struct pc_nft_match *)NULL)->f)     \
	}
static const struct {
	const char *name;
	size_t off, size;
} options[] = {
		OPTION(saddr),
		OPTION(daddr),
		OPTION(iifname),
		OPTION(oifname),
		OPTION(limit_unit),
		OPTION(log),
		OPTION(limit_rate),
		OPTION(proto),
		OPTION(verdict),
		OPTION(family),
		OPTION(counter),
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static struct pc_prefix prefixes[4];
static struct pc_nft_set addrs[4];
static struct pc_nft_port_range port_ranges[2] = {{88, 88}, {89, 89}};
static struct pc_nft_set ports[2];

static void fixtures(void)
{
	for (int i = 0; i < 4; i++) {
		memset(&prefixes[i], 0, sizeof(prefixes[i]));
		prefixes[i].family = 4;
		prefixes[i].len = 16;
		prefixes[i].bytes[0] = 10;
		prefixes[i].bytes[1] = (uint8_t)(i + 1);
		memset(&addrs[i], 0, sizeof(addrs[i]));
		addrs[i].type = PC_NFT_SET_IPV4;
		addrs[i].prefixes = &prefixes[i];
		addrs[i].n = 1;
		addrs[i].literal = true;
	}
	for (int i = 0; i < 2; i++) {
		memset(&ports[i], 0, sizeof(ports[i]));
		ports[i].type = PC_NFT_SET_SERVICE;
		ports[i].ports = &port_ranges[i];
		ports[i].n = 1;
		ports[i].literal = true;
	}
}

static const char *const if_names[] = {"eth1", "eth2"};
static const struct pc_ifaces ifaces[] = {
		{&if_names[0], 1, false, {0}}, {&if_names[1], 1, false, {0}}};

/* A match that differs from base in every option. */
static void other_match(struct pc_nft_match *m)
{
	memset(m, 0, sizeof(*m));
	m->saddr = &addrs[1];
	m->daddr = &addrs[2];
	m->iifname = &ifaces[0];
	m->oifname = &ifaces[1];
	m->limit_unit = "minute";
	m->log = 2;
	m->limit_rate = 5;
	m->proto = PC_PROTO_UDP;
	m->verdict = PC_NFT_DROP;
	m->family = 6;
	m->counter = true;
}

/* The input chain holding one policy rule per match, each on its port set, and its packet path. */
static void compile(struct pc_nft_table *t, const struct pc_nft_match *m,
		const struct pc_nft_set *const *dport, size_t n)
{
	static struct pc_rule rules[4];
	struct pc_policy p;

	memset(t, 0, sizeof(*t));
	memset(&p, 0, sizeof(p));
	memset(rules, 0, sizeof(rules));
	p.rules = rules;
	p.nrules = n;
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		t->chains[k].hook = (enum pc_nft_hook)k;
	struct pc_nft_chain *c = &t->chains[0];
	c->rules = calloc(n, sizeof(*c->rules));
	c->n = c->cap = n;
	for (size_t i = 0; i < n; i++) {
		struct pc_nft_rule *r = &c->rules[i];
		r->kind = PC_NFT_POLICY_RULE;
		memcpy(&r->match, &m[i], sizeof(m[i]));
		r->dport = dport[i];
		r->policy_rule = i;
		snprintf(r->comment, sizeof(r->comment), "r%zu", i + 1);
	}
	pc_model_compile_paths(t, &p);
}

static const struct pc_nft_segment *segment(
		const struct pc_nft_table *t, enum pc_proto proto, uint16_t port)
{
	const struct pc_nft_map *m = &t->chains[0].maps[proto];

	for (size_t i = 0; i < m->n; i++)
		if (m->segs[i].lo <= port && port <= m->segs[i].hi)
			return &m->segs[i];
	fail_msg("no element for port %u", port);
	return NULL;
}

static void test_options_decide(void **state)
{
	struct pc_nft_match other, zero, m[4];
	struct pc_nft_table t;
	size_t sum = 0;

	(void)state;
	fixtures();
	memset(&zero, 0, sizeof(zero));
	other_match(&other);
	for (size_t k = 0; k < NOPTIONS; k++) {
		struct pc_nft_match base;
		memset(&base, 0, sizeof(base));
		sum += options[k].size;
		/* The fixture differs in this option, and the comparison sees it. */
		memcpy((char *)&base + options[k].off, (char *)&other + options[k].off,
				options[k].size);
		assert_false(pc_nft_match_same(&base, &zero));
	}
	size_t align = _Alignof(struct pc_nft_match);
	assert_int_equal((sum + align - 1) / align * align, sizeof(struct pc_nft_match));

	/*
	 * Two policy rules alike but for their ports share one jump chain; differing in any
	 * one option, never.
	 */
	for (size_t k = 0; k <= NOPTIONS; k++) {
		const struct pc_nft_set *dport[2] = {&ports[0], &ports[1]};
		memset(m, 0, sizeof(m));
		m[0].saddr = &addrs[0];
		m[0].family = 4;
		m[0].proto = PC_PROTO_TCP;
		m[0].verdict = PC_NFT_ACCEPT;
		memcpy(&m[1], &m[0], sizeof(m[0]));
		if (k < NOPTIONS)
			memcpy((char *)&m[1] + options[k].off, (char *)&other + options[k].off,
					options[k].size);
		compile(&t, m, dport, 2);
		const struct pc_nft_segment *a = segment(&t, m[0].proto, 88);
		const struct pc_nft_segment *b = segment(&t, m[1].proto, 89);
		if (k == NOPTIONS) {
			assert_false(a->direct || b->direct);
			assert_int_equal(a->sub, b->sub);
			assert_true(t.subs[a->sub].shared);
		} else if (!a->direct && !b->direct && a->sub == b->sub) {
			fail_msg("rules differing in %s share a chain", options[k].name);
		}
		pc_nft_table_finish(&t);
	}

	/*
	 * A rule whose only options are its protocol and verdict is a map element's verdict;
	 * with any other option, it is a jump to a chain.
	 */
	for (size_t k = 0; k <= NOPTIONS; k++) {
		const struct pc_nft_set *dport[1] = {&ports[0]};
		memset(m, 0, sizeof(m));
		m[0].proto = PC_PROTO_TCP;
		m[0].verdict = PC_NFT_ACCEPT;
		if (k < NOPTIONS)
			memcpy((char *)&m[0] + options[k].off, (char *)&other + options[k].off,
					options[k].size);
		compile(&t, m, dport, 1);
		const struct pc_nft_segment *a = segment(&t, m[0].proto, 88);
		bool carried = k == NOPTIONS || !strcmp(options[k].name, "proto") ||
			       !strcmp(options[k].name, "verdict");
		if (a->direct != carried)
			fail_msg("a rule with another %s: direct %d",
					k < NOPTIONS ? options[k].name : "nothing", a->direct);
		pc_nft_table_finish(&t);
	}

	/*
	 * A chain of rules that match sources only is a source-address map; a rule with any
	 * other option keeps it a chain of rules.
	 */
	for (size_t k = 0; k <= NOPTIONS; k++) {
		const struct pc_nft_set *dport[4] = {&ports[0], &ports[0], &ports[0], &ports[0]};
		for (int i = 0; i < 4; i++) {
			memset(&m[i], 0, sizeof(m[i]));
			m[i].saddr = &addrs[i];
			m[i].family = 4;
			m[i].proto = PC_PROTO_TCP;
			m[i].verdict = PC_NFT_ACCEPT;
		}
		if (k < NOPTIONS)
			memcpy((char *)&m[3] + options[k].off, (char *)&other + options[k].off,
					options[k].size);
		if (k < NOPTIONS && !strcmp(options[k].name, "log"))
			m[3].log = 4;
		compile(&t, m, dport, 4);
		const struct pc_nft_segment *a = segment(&t, PC_PROTO_TCP, 88);
		assert_false(a->direct);
		bool keyed = k == NOPTIONS || !strcmp(options[k].name, "saddr") ||
			     !strcmp(options[k].name, "family") ||
			     !strcmp(options[k].name, "verdict");
		if (t.subs[a->sub].mapped != keyed)
			fail_msg("a rule with another %s: mapped %d",
					k < NOPTIONS ? options[k].name : "nothing",
					t.subs[a->sub].mapped);
		pc_nft_table_finish(&t);
	}
}

/* One name per hook, each direction filtered at its own hook, ICMP types listed once per family. */
/*
 * The kernel object by content: single addresses only (/32, /128) make a
 * hash set, any prefix among them an interval set, and the renderings say
 * `flags interval` for those only.
 */
static void test_set_kind(void **state)
{
	static const char text[] =
			"version: 1\n"
			"policy: t\n"
			"networks:\n"
			"  hosts: [192.0.2.1, 192.0.2.9/32, \"2001:db8::1\", \"2001:db8::2/128\"]\n"
			"  nets: [198.51.100.0/24, 203.0.113.0/25, \"2001:db8:1::/64\", \"2001:db8:2::/64\"]\n"
			"  mixed: [192.0.2.77, 203.0.113.128/25, \"2001:db8::7\", \"2001:db8:3::/127\"]\n"
			"rules:\n"
			"  - allow: 22/tcp\n"
			"    from: hosts\n"
			"  - allow: 22/tcp\n"
			"    from: nets\n"
			"  - allow: 22/tcp\n"
			"    from: mixed\n";
	static const struct {
		const char *name;
		bool interval;
	} want[] = {{"n_hosts_v4", false}, {"n_hosts_v6", false}, {"n_nets_v4", true},
			{"n_nets_v6", true}, {"n_mixed_v4", true}, {"n_mixed_v6", true}};
	struct pc_policy p;
	struct pc_diags d;
	struct pc_registry *reg = pc_registry_create();
	struct pc_nft_table t;

	(void)state;
	lower_text(&p, &d, reg, &t, text, sizeof(text) - 1);
	for (size_t k = 0; k < PC_ARRAY_SIZE(want); k++) {
		const struct pc_nft_set *s = NULL;
		for (size_t i = 0; i < t.nsets; i++)
			if (!strcmp(t.sets[i].name, want[k].name))
				s = &t.sets[i];
		assert_non_null(s);
		assert_int_equal(s->n, 2);
		assert_int_equal(s->interval, want[k].interval);
		assert_true(s->size >= 2 * s->n);
	}
	assert_false(pc_model_set_interval(t.sets[0].prefixes, t.sets[0].n));
	assert_true(pc_model_set_interval(NULL, 0));

	char *out = print_table(&t);
	assert_non_null(strstr(out, "set n_hosts_v4 {\n\t\ttype ipv4_addr\n\t\tsize 16\n"));
	assert_non_null(strstr(out, "set n_nets_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"));
	assert_non_null(strstr(out, "set n_mixed_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n"));
	free(out);
	pc_nft_table_finish(&t);
	pc_policy_finish(&p);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
}

static void test_hooks_and_icmp(void **state)
{
	size_t n4, n6;
	const struct pc_nft_icmp_type *v4 = pc_nft_icmp_essential(4, &n4);
	const struct pc_nft_icmp_type *v6 = pc_nft_icmp_essential(6, &n6);

	(void)state;
	assert_string_equal(pc_nft_hook_name(PC_NFT_HOOK_INPUT), "input");
	assert_string_equal(pc_nft_hook_name(PC_NFT_HOOK_FORWARD), "forward");
	assert_string_equal(pc_nft_hook_name(PC_NFT_HOOK_OUTPUT), "output");
	assert_int_equal(pc_nft_hook_of(PC_DIR_INPUT), PC_NFT_HOOK_INPUT);
	assert_int_equal(pc_nft_hook_of(PC_DIR_FORWARD), PC_NFT_HOOK_FORWARD);
	assert_int_equal(pc_nft_hook_of(PC_DIR_OUTPUT), PC_NFT_HOOK_OUTPUT);
	assert_int_equal(n4, 3);
	assert_int_equal(n6, 8);
	assert_true(n4 <= PC_NFT_ICMP_ESSENTIAL_MAX && n6 <= PC_NFT_ICMP_ESSENTIAL_MAX);
	assert_int_equal(v4[0].type, 3);
	assert_string_equal(v6[1].nft, "packet-too-big");
	assert_string_equal(v6[1].pf, "toobig");
	assert_int_equal(pc_nft_icmp_echo(4)->type, 8);
	assert_int_equal(pc_nft_icmp_echo(6)->type, 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_comments_cannot_escape),
			cmocka_unit_test(test_names),
			cmocka_unit_test(test_lowering),
			cmocka_unit_test(test_source_maps),
			cmocka_unit_test(test_map_budget),
			cmocka_unit_test(test_options_decide),
			cmocka_unit_test(test_set_kind),
			cmocka_unit_test(test_hooks_and_icmp),
	};

	return cmocka_run_group_tests_name("nft", tests, NULL, NULL);
}
