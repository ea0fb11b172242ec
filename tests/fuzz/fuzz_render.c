// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Renderers: a policy that loads and resolves is rendered to every target,
 * and each text must keep the invariants that make it uninjectable, whatever
 * the policy's names, comments and descriptions hold:
 *   - every comment in the model: no quote, backslash or control character,
 *     at most 128 bytes (each target prints the same comments);
 *   - no control character but the line end (and tabs in nft and pf);
 *   - nft: every double quote opens or closes a string on its line, and no
 *     string holds a backslash or is longer than 128 bytes (comments);
 *   - iptables: every line is a comment, *filter, a chain, -A/-I, or COMMIT,
 *     with its quotes paired;
 *   - pf: every line is a comment, a macro, a table, a rule or a table's
 *     continuation; no comment ends in a backslash (which would join the next
 *     line to the comment);
 *   - JSON: strings closed, nothing but escapes after a backslash, brackets
 *     balanced.
 *   - the netlink transaction: its messages fill the buffer exactly, each
 *     within its bound, and read back with libnftnl, every comment a rule or
 *     map element carries keeps the comment invariants above.
 * A broken invariant aborts, so libFuzzer keeps the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "portcullis/netlink.h"
#include "portcullis/nft.h"
#include "portcullis/targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *line)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s: %.200s\n", what, line);
		abort();
	}
}

/* Quotes paired on the line, no backslash inside a string, strings of at most `max` bytes. */
static void quoted_strings(const char *line, size_t len, size_t max, int backslash_ok)
{
	int in = 0;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (line[i] == '"') {
			if (in)
				check(i - start <= max, "a string longer than allowed", line);
			in = !in;
			start = i + 1;
		} else if (in && line[i] == '\\' && !(backslash_ok && line[i + 1] == '\'')) {
			check(0, "a backslash in a string", line);
		}
	}
	check(!in, "a quote left open", line);
}

static void lines(const char *text, size_t n, int target)
{
	const char *p = text, *end = text + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		check(nl != NULL, "text not ending in a line end", p);
		size_t len = (size_t)(nl - p);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];
			check(c >= 0x20 || (c == '\t' && target != 'i'), "a control character", p);
			check(c != 0x7f, "DEL", p);
		}
		if (target == 'n') {
			if (len && p[0] != '#')
				quoted_strings(p, len, PC_NFT_COMMENT_MAX, 0);
		} else if (target == 'i') {
			check(len && (p[0] == '#' || !strncmp(p, "*filter", len) || p[0] == ':' ||
						     !strncmp(p, "-A ", 3) ||
						     !strncmp(p, "-I ", 3) ||
						     (len == 6 && !memcmp(p, "COMMIT", 6))),
					"an iptables line of no known kind", p);
			if (p[0] != '#')
				quoted_strings(p, len, 256, 1);
		} else if (target == 'p') {
			static const char *const starts[] = {
					"#", "r", "table <", "pass ", "block ", "\t", NULL};
			int known = len == 0;
			for (int k = 0; starts[k] && !known; k++)
				known = !strncmp(p, starts[k], strlen(starts[k]));
			check(known, "a pf line of no known kind", p);
			if (len && p[0] == '#')
				check(p[len - 1] != '\\', "a pf comment ending in a backslash", p);
			else if (len)
				quoted_strings(p, len, 64, 0);
		}
		p = nl + 1;
	}
}

static void json(const char *text, size_t n)
{
	int depth = 0, in = 0;

	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (in) {
			check((unsigned char)c >= 0x20, "a control character in a JSON string",
					text + i);
			if (c == '\\') {
				check(i + 1 < n && strchr("\"\\/bfnrtu", text[i + 1]) != NULL,
						"a bad JSON escape", text + i);
				i++;
			} else if (c == '"') {
				in = 0;
			}
		} else if (c == '"') {
			in = 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			check(--depth >= 0, "a JSON bracket closed twice", text + i);
		}
	}
	check(!in && depth == 0, "JSON left open", text);
}

/* Every comment in the model: no quote, backslash or control character, at most 128 bytes. */
static void comment_ok(const char *c)
{
	size_t n = strlen(c);

	check(n <= PC_NFT_COMMENT_MAX, "a comment longer than 128 bytes", c);
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)c[i];
		check(x >= 0x20 && x != 0x7f && x != '"' && x != '\\',
				"a comment that could escape", c);
	}
}

static void model(const struct pc_nft_table *t)
{
	comment_ok(t->comment);
	for (size_t i = 0; i < t->nsets; i++)
		comment_ok(t->sets[i].comment);
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < t->chains[k].n; i++)
			comment_ok(t->chains[k].rules[i].comment);
	for (size_t i = 0; i < t->nsubs; i++)
		comment_ok(t->subs[i].comment);
}

/* The invariants each kind of text keeps; a target not named here keeps the common ones. */
static int text_kind(const struct pc_target *tg)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {{"nft", 'n'}, {"nft-json", 'j'}, {"iptables", 'i'}, {"ip6tables", 'i'},
			{"pf", 'p'}};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(tg->name, kinds[i].name))
			return kinds[i].kind;
	return 0;
}

static void render(const struct pc_nft_table *t, const struct pc_target *tg)
{
	static const char *const header[] = {"policy fuzz.yaml"};
	struct pc_target_options o = {"fuzz", "fuzz.yaml", true};
	char *text = NULL, *own[PC_TARGET_HEADER_MAX];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int kind = text_kind(tg);

	for (size_t i = 0, n = tg->header(t, &o, own); i < n; i++)
		free(own[i]);
	tg->print(t, &o, header, 1, f);
	fclose(f);
	if (kind == 'j')
		json(text, len);
	else
		lines(text, len, kind);
	free(text);
}

static void safe_comment(const char *c, uint32_t len)
{
	check(len >= 1 && len <= PC_NFT_COMMENT_MAX + 1 && c[len - 1] == '\0',
			"a netlink comment of the wrong length", c);
	for (uint32_t i = 0; i + 1 < len; i++)
		check(c[i] != '"' && c[i] != '\\' && (unsigned char)c[i] >= 0x20 && c[i] != 0x7f,
				"an unsafe character in a netlink comment", c);
}

static int udata_cb(const struct nftnl_udata *attr, void *data)
{
	(void)data;
	/* Type 0 is the comment for rules and set elements alike. */
	if (nftnl_udata_type(attr) == 0)
		safe_comment(nftnl_udata_get(attr), nftnl_udata_len(attr));
	return 0;
}

static void batch(const struct pc_nft_table *t)
{
	struct pc_nl_options o = {.seq = 1, .genid = 1, .commit = true, .lo_ifindex = 1};
	struct pc_nl_batch b;
	size_t n = 0, total = 0;

	pc_nl_build(t, &o, &b);
	int remaining = (int)b.len;
	for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)b.buf;
			mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining), n++) {
		uint16_t type = nlh->nlmsg_type & 0xff;
		uint32_t len = 0;
		total += NLMSG_ALIGN(nlh->nlmsg_len);
		check(nlh->nlmsg_seq == 1 + n, "a message out of sequence", "");
		check(!b.msgs[n].rule || type == NFT_MSG_NEWRULE,
				"a policy rule on another message", "");
		if (type == NFT_MSG_NEWRULE && n && n + 1 < b.n) {
			struct nftnl_rule *r = nftnl_rule_alloc();
			check(nftnl_rule_nlmsg_parse(nlh, r) == 0,
					"a rule message libnftnl cannot read", "");
			const void *u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
			if (u)
				nftnl_udata_parse(u, len, udata_cb, NULL);
			nftnl_rule_free(r);
		} else if (type == NFT_MSG_NEWSETELEM) {
			/* Read with libmnl: each element of the list, its user data. */
			const struct nlattr *a, *el, *x;
			mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
			{
				if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
					continue;
				mnl_attr_for_each_nested(el, a)
				{
					mnl_attr_for_each_nested(x, el)
					{
						if (mnl_attr_get_type(x) == NFTA_SET_ELEM_USERDATA)
							nftnl_udata_parse(mnl_attr_get_payload(x),
									mnl_attr_get_payload_len(x),
									udata_cb, NULL);
					}
				}
			}
		}
	}
	check(remaining == 0 && n == b.n && total == b.len, "messages that do not fill the batch",
			"");
	pc_nl_batch_finish(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_policy p;
	struct pc_diags d;
	struct pc_nft_table t;

	pc_diags_init(&d);
	pc_policy_init(&p);
	if (pc_policy_load_mem(&p, "fuzz.yaml", (const char *)data, size, &d) == 0 &&
			pc_policy_resolve(&p, reg, &d) == 0 &&
			pc_nft_lower(&p, "portcullis", &t, &d) == 0) {
		model(&t);
		for (size_t i = 0; i < pc_ntargets; i++)
			if (!pc_targets[i].check || pc_targets[i].check(&t, &p, &d) == 0)
				render(&t, &pc_targets[i]);
		batch(&t);
		pc_nft_table_finish(&t);
	}
	pc_policy_finish(&p);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
	return 0;
}
