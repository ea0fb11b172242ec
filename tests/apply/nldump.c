// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nldump TABLE: prints what the kernel holds for table inet TABLE, attribute
 * by attribute, as libnftnl reads it back: the table, every set with its
 * flags, types, lengths, size, user data and elements, every chain, and
 * every rule as its expressions with its user data (the table's without
 * what apply records of its policy).  Handles and ids, which
 * differ from load to load, are left out, so two loads of the same ruleset
 * print the same text whichever program made them.  The elements of a set
 * are printed sorted: a hash set lists them in an order its random seed
 * decides, different from load to load.  A test tool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

static struct mnl_socket *nl;
static const char *table;
static FILE *dump; /* where hex() and the elements go: stdout, or a set's lines */

static void hex(const char *what, const void *p, const uint32_t *lenp)
{
	const unsigned char *b = p;
	uint32_t len = *lenp;

	fprintf(dump, " %s=", what);
	for (uint32_t i = 0; i < len; i++)
		fprintf(dump, "%02x", b[i]);
}

typedef int (*parse_cb)(const struct nlmsghdr *nlh, void *data);

/* One request, its answers through cb; exits on error. */
static void talk(struct nlmsghdr *nlh, parse_cb cb, void *data)
{
	static char buf[1 << 20];
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nldump: sendto");
		exit(1);
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)ret, seq, portid, cb, data);
		if (ret <= 0)
			break;
	}
	if (ret < 0) {
		fprintf(stderr, "nldump: %s\n", strerror(errno));
		exit(1);
	}
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	uint32_t len;
	(void)data;

	nftnl_table_nlmsg_parse(nlh, t);
	printf("table %s flags=%u", nftnl_table_get_str(t, NFTNL_TABLE_NAME),
			nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS));
	if (nftnl_table_is_set(t, NFTNL_TABLE_USERDATA)) {
		/*
		 * What apply records of its policy (hash, time, path: types 0xf0
		 * and up, after the comment) is left out: `nft -f` of the rendering
		 * has none of it, and the time differs from load to load.
		 */
		const unsigned char *u = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
		uint32_t keep = 0;
		while (keep + 2 <= len && u[keep] < 0xf0 && keep + 2 + u[keep + 1] <= len)
			keep += 2 + u[keep + 1];
		hex("udata", u, &keep);
	}
	putchar('\n');
	nftnl_table_free(t);
	return MNL_CB_OK;
}

struct names {
	char **v;
	size_t n;
};

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	static const uint16_t u32s[] = {NFTNL_SET_FLAGS, NFTNL_SET_KEY_TYPE, NFTNL_SET_KEY_LEN,
			NFTNL_SET_DATA_TYPE, NFTNL_SET_DATA_LEN, NFTNL_SET_POLICY,
			NFTNL_SET_DESC_SIZE};
	static const char *const u32names[] = {
			"flags", "key_type", "key_len", "data_type", "data_len", "policy", "size"};
	struct nftnl_set *s = nftnl_set_alloc();
	struct names *names = data;
	uint32_t len;

	nftnl_set_nlmsg_parse(nlh, s);
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	if (strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), table)) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	names->v = realloc(names->v, (names->n + 1) * sizeof(*names->v));
	names->v[names->n++] = strdup(name);
	printf("set %s", name);
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		if (nftnl_set_is_set(s, u32s[i]))
			printf(" %s=%#x", u32names[i], nftnl_set_get_u32(s, u32s[i]));
	if (nftnl_set_is_set(s, NFTNL_SET_USERDATA)) {
		const void *u = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
		hex("udata", u, &len);
	}
	putchar('\n');
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int elem_cb(struct nftnl_set_elem *e, void *data)
{
	uint32_t len;
	(void)data;

	fputs("  elem", dump);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY))
		hex("key", nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len), &len);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END))
		hex("key_end", nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len), &len);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
		fprintf(dump, " flags=%#x", nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS));
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
		fprintf(dump, " verdict=%d",
				(int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
		fprintf(dump, " chain=%s", nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA))
		hex("data", nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len), &len);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA))
		hex("udata", nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len), &len);
	fputc('\n', dump);
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int elems_cb(const struct nlmsghdr *nlh, void *data);

/* The elements the request asks for, one a line, sorted. */
static void print_sorted_elems(struct nlmsghdr *nlh)
{
	char *text = NULL, **lines = NULL;
	size_t len = 0, n = 0;

	dump = open_memstream(&text, &len);
	talk(nlh, elems_cb, NULL);
	fclose(dump);
	dump = stdout;
	for (char *p = text, *q; p && *p; p = q + 1) {
		q = strchr(p, '\n');
		*q = '\0';
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = p;
	}
	qsort(lines, n, sizeof(*lines), line_cmp);
	for (size_t i = 0; i < n; i++)
		puts(lines[i]);
	free(lines);
	free(text);
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	(void)data;

	nftnl_set_elems_nlmsg_parse(nlh, s);
	nftnl_set_elem_foreach(s, elem_cb, NULL);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	uint32_t len;
	(void)data;

	nftnl_chain_nlmsg_parse(nlh, c);
	if (strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), table)) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	printf("chain %s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
		printf(" hook=%u prio=%d type=%s policy=%u",
				nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
				nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
				nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
				nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_FLAGS))
		printf(" flags=%#x", nftnl_chain_get_u32(c, NFTNL_CHAIN_FLAGS));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_USERDATA))
		hex("udata", nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len), &len);
	putchar('\n');
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	uint32_t len;
	char buf[4096];
	(void)data;

	nftnl_rule_nlmsg_parse(nlh, r);
	if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), table)) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	printf("rule %s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	if (nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
		hex("udata", nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len), &len);
	putchar('\n');
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	for (struct nftnl_expr *e; (e = nftnl_expr_iter_next(it));) {
		nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
		printf("  [ %s %s ]\n", nftnl_expr_get_str(e, NFTNL_EXPR_NAME), buf);
	}
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL);
	struct nlmsghdr *nlh;
	struct names sets = {0};

	dump = stdout;

	if (argc != 2) {
		fprintf(stderr, "usage: nldump TABLE\n");
		return 2;
	}
	table = argv[1];
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nldump: netlink");
		return 1;
	}

	struct nftnl_table *t = nftnl_table_alloc();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, ++seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	talk(nlh, table_cb, NULL);

	struct nftnl_set *s = nftnl_set_alloc();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nlh = nftnl_nlmsg_build_hdr(
			buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK, ++seq);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	talk(nlh, set_cb, &sets);
	for (size_t i = 0; i < sets.n; i++) {
		printf("elements %s\n", sets.v[i]);
		s = nftnl_set_alloc();
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, sets.v[i]);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
				NLM_F_DUMP | NLM_F_ACK, ++seq);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		print_sorted_elems(nlh);
		free(sets.v[i]);
	}
	free(sets.v);

	nlh = nftnl_nlmsg_build_hdr(
			buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK, ++seq);
	talk(nlh, chain_cb, NULL);
	nlh = nftnl_nlmsg_build_hdr(
			buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK, ++seq);
	talk(nlh, rule_cb, NULL);
	mnl_socket_close(nl);
	return 0;
}
