/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tables and chains the kernel holds, listed through netlink dumps: see
 * inventory.h.  Rules are read only for what they say about dropping (the
 * other tables' chains) or for counting (managed tables, when asked).
 */
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "apply/dump.h"
#include "portcullis/inventory.h"
#include "portcullis/netlink.h"
#include "util.h"

/* A jump or goto from one chain to another, by name, within one table. */
struct edge {
	size_t from;
	char *to;
};

struct reader {
	struct pc_inventory *inv;
	struct pc_dumper d;
	struct edge *edges;
	size_t nedges, edgecap;
	size_t table; /* the table whose rules or sets are being read */
	char **sets; /* names of its sets */
	size_t nsets;
	size_t count; /* elements counted */
};

static int udata_cb(const struct nftnl_udata *attr, void *data)
{
	struct pc_inv_table *t = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	switch (nftnl_udata_type(attr)) {
	case NFTNL_UDATA_TABLE_COMMENT: {
		static const char tag[] = "; policy ";
		size_t m = strlen(PC_NL_MARKER);
		if (!len || v[len - 1])
			break;
		t->managed = !strncmp(v, PC_NL_MARKER, m);
		if (t->managed && !strncmp(v + m, tag, sizeof(tag) - 1)) {
			free(t->policy);
			t->policy = xstrdup(v + m + sizeof(tag) - 1);
		}
		break;
	}
	case PC_NL_UDATA_SHA256:
		if (len == sizeof(t->sha256)) {
			memcpy(t->sha256, v, len);
			t->stamped = true;
		}
		break;
	case PC_NL_UDATA_TIME:
		if (len == 8) {
			t->time = 0;
			for (int i = 0; i < 8; i++)
				t->time = t->time << 8 | (uint8_t)v[i];
		}
		break;
	case PC_NL_UDATA_PATH:
		if (len && !v[len - 1]) {
			free(t->path);
			t->path = xstrdup(v);
		}
		break;
	}
	return 0;
}

static bool table_cb(void *data, struct nftnl_table *nt)
{
	struct reader *rd = data;
	struct pc_inventory *inv = rd->inv;
	uint32_t len = 0;

	inv->tables = pc_grow(inv->tables, inv->ntables, sizeof(*inv->tables));
	struct pc_inv_table *t = &inv->tables[inv->ntables++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(nftnl_table_get_str(nt, NFTNL_TABLE_NAME));
	t->family = nftnl_table_get_u32(nt, NFTNL_TABLE_FAMILY);
	t->dormant = nftnl_table_is_set(nt, NFTNL_TABLE_FLAGS) &&
		     (nftnl_table_get_u32(nt, NFTNL_TABLE_FLAGS) & NFT_TABLE_F_DORMANT);
	const void *u = nftnl_table_get_data(nt, NFTNL_TABLE_USERDATA, &len);
	if (u)
		nftnl_udata_parse(u, len, udata_cb, t);
	if (!t->managed)
		t->stamped = false;
	return false;
}

static size_t find_table(const struct pc_inventory *inv, uint32_t family, const char *name)
{
	for (size_t i = 0; i < inv->ntables; i++)
		if (inv->tables[i].family == family && !strcmp(inv->tables[i].name, name))
			return i;
	return (size_t)-1;
}

static size_t find_chain(const struct pc_inventory *inv, size_t table, const char *name)
{
	for (size_t i = 0; i < inv->nchains; i++)
		if (inv->chains[i].table == table && !strcmp(inv->chains[i].name, name))
			return i;
	return (size_t)-1;
}

static bool chain_cb(void *data, struct nftnl_chain *nc)
{
	struct reader *rd = data;
	struct pc_inventory *inv = rd->inv;
	size_t t = find_table(inv, nftnl_chain_get_u32(nc, NFTNL_CHAIN_FAMILY),
			nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE));
	if (t != (size_t)-1) {
		inv->chains = pc_grow(inv->chains, inv->nchains, sizeof(*inv->chains));
		struct pc_inv_chain *c = &inv->chains[inv->nchains++];
		memset(c, 0, sizeof(*c));
		c->name = xstrdup(nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME));
		c->table = t;
		c->base = nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM);
		if (c->base) {
			c->hook = nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM);
			c->prio = nftnl_chain_get_s32(nc, NFTNL_CHAIN_PRIO);
			c->policy_drop = nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY) &&
					 nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY) == NF_DROP;
			if (c->policy_drop)
				c->drops |= PC_INV_DROP_POLICY;
			if (nftnl_chain_is_set(nc, NFTNL_CHAIN_TYPE))
				c->type = xstrdup(nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE));
		}
		inv->tables[t].nchains++;
	}
	return false;
}

/* What one expression says about dropping; a jump or goto is kept as an edge. */
static int expr_cb(struct nftnl_expr *e, void *data)
{
	void **a = data;
	struct reader *rd = a[0];
	size_t chain = *(size_t *)a[1];
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	struct pc_inv_chain *c = &rd->inv->chains[chain];

	if (!strcmp(name, "reject")) {
		c->drops |= PC_INV_DROP_REJECT;
	} else if (!strcmp(name, "lookup")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) &&
				nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) == NFT_REG_VERDICT)
			c->drops |= PC_INV_DROP_VMAP;
	} else if (!strcmp(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
		int v = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
		if (v == NF_DROP) {
			c->drops |= PC_INV_DROP_RULE;
		} else if ((v == NFT_JUMP || v == NFT_GOTO) &&
				nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)) {
			if (rd->nedges == rd->edgecap) {
				rd->edgecap = rd->edgecap ? 2 * rd->edgecap : 16;
				rd->edges = xreallocarray(
						rd->edges, rd->edgecap, sizeof(*rd->edges));
			}
			rd->edges[rd->nedges++] = (struct edge){chain,
					xstrdup(nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN))};
		}
	}
	return 0;
}

static bool rule_cb(void *data, struct nftnl_rule *r)
{
	struct reader *rd = data;
	struct pc_inventory *inv = rd->inv;

	inv->tables[rd->table].nrules++;
	if (r) {
		size_t chain = find_chain(inv, rd->table, nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
		void *a[2] = {rd, &chain};
		if (chain != (size_t)-1)
			nftnl_expr_foreach(r, expr_cb, a);
	}
	return false;
}

static bool set_cb(void *data, struct nftnl_set *s)
{
	struct reader *rd = data;

	rd->sets = pc_grow(rd->sets, rd->nsets, sizeof(*rd->sets));
	rd->sets[rd->nsets++] = xstrdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	return false;
}

/* Elements as apply counts them: an interval's end is no element of its own. */
static bool elem_cb(void *data, struct nftnl_set *s)
{
	struct reader *rd = data;
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);

	for (struct nftnl_set_elem *e; it && (e = nftnl_set_elems_iter_next(it));)
		rd->count += !(nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
				(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
						NFT_SET_ELEM_INTERVAL_END));
	nftnl_set_elems_iter_destroy(it);
	return false;
}

static const struct pc_dump_ops inv_ops = {.table = table_cb,
		.set = set_cb,
		.elems = elem_cb,
		.chain = chain_cb,
		.rule = rule_cb};
/* A managed table's rules are only counted (there may be 50 000). */
static const struct pc_dump_ops count_ops = {.rule = rule_cb, .count_rules = true};

static int count_sets(struct reader *rd, struct pc_inv_table *t)
{
	int ret = pc_dump_list(&rd->d, NFT_MSG_GETSET, t->family, t->name, NULL, &inv_ops, rd);

	t->nsets = rd->nsets;
	for (size_t i = 0; i < rd->nsets && ret == 0; i++) {
		rd->count = 0;
		ret = pc_dump_list(&rd->d, NFT_MSG_GETSETELEM, t->family, t->name, rd->sets[i],
				&inv_ops, rd);
		t->nelems += rd->count;
	}
	for (size_t i = 0; i < rd->nsets; i++)
		free(rd->sets[i]);
	free(rd->sets);
	rd->sets = NULL;
	rd->nsets = 0;
	return ret;
}

static bool hook_family(uint32_t family)
{
	return family == NFPROTO_IPV4 || family == NFPROTO_IPV6 || family == NFPROTO_INET;
}

bool pc_inventory_on_hook(const struct pc_inventory *inv, const struct pc_inv_chain *c, int hook)
{
	if (!c->base || !hook_family(inv->tables[c->table].family))
		return false;
	if (hook >= 0)
		return c->hook == (uint32_t)hook;
	return c->hook == NF_INET_LOCAL_IN || c->hook == NF_INET_FORWARD ||
	       c->hook == NF_INET_LOCAL_OUT;
}

/* Whether a table's rules are read: the others' with base chains on our hooks, to see drops. */
static bool wants_rules(const struct pc_inventory *inv, size_t t, unsigned flags)
{
	if (inv->tables[t].managed)
		return flags & PC_INV_F_COUNTS;
	for (size_t i = 0; i < inv->nchains; i++)
		if (inv->chains[i].table == t && pc_inventory_on_hook(inv, &inv->chains[i], -1))
			return true;
	return false;
}

/* A base chain can drop what any chain it reaches (jump, goto) can. */
static void reach(struct pc_inventory *inv, const struct edge *edges, size_t nedges)
{
	bool *seen = xcalloc(inv->nchains ? inv->nchains : 1, sizeof(*seen));
	size_t *stack = xcalloc(inv->nchains ? inv->nchains : 1, sizeof(*stack));

	for (size_t b = 0; b < inv->nchains; b++) {
		struct pc_inv_chain *base = &inv->chains[b];
		if (!base->base || inv->tables[base->table].managed)
			continue;
		memset(seen, 0, inv->nchains * sizeof(*seen));
		size_t n = 0;
		stack[n++] = b;
		seen[b] = true;
		while (n) {
			size_t c = stack[--n];
			base->drops |= inv->chains[c].drops & ~PC_INV_DROP_POLICY;
			for (size_t e = 0; e < nedges; e++) {
				if (edges[e].from != c)
					continue;
				size_t to = find_chain(inv, inv->chains[c].table, edges[e].to);
				if (to != (size_t)-1 && !seen[to]) {
					seen[to] = true;
					stack[n++] = to;
				}
			}
		}
	}
	free(seen);
	free(stack);
}

static int read_once(struct pc_inventory *inv, unsigned flags, const char **what);

/*
 * The dumps are several requests: a table removed between two of them
 * (ENOENT), a ruleset changed during one (NLM_F_DUMP_INTR, EINTR), or the
 * generation moved between the first and the last (EINTR: a table replaced
 * between its sets' dumps is counted half old, half new, and no single dump
 * says so) has the whole inventory read again, as pc_dump_table() does, at
 * most PC_INVENTORY_READS times in all.
 */
int pc_inventory_read(struct pc_inventory *inv, unsigned flags, const char **what)
{
	int ret = read_once(inv, flags, what);

	for (int again = 1; ret < 0 && (errno == ENOENT || errno == EINTR) &&
			    again < PC_INVENTORY_READS;
			again++) {
		pc_inventory_finish(inv);
		ret = read_once(inv, flags, what);
	}
	return ret;
}

static int read_once(struct pc_inventory *inv, unsigned flags, const char **what)
{
	struct reader rd = {.inv = inv};
	uint32_t before = 0, after = 0;
	int ret, err = 0;

	memset(inv, 0, sizeof(*inv));
	*what = "open a netlink socket";
	if (pc_dump_open(&rd.d) < 0)
		return -1;
	*what = "read the generation";
	ret = pc_dump_genid(&rd.d, &before);
	if (ret == 0) {
		*what = "list the tables";
		ret = pc_dump_list(
				&rd.d, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NULL, NULL, &inv_ops, &rd);
	}
	if (ret == 0) {
		*what = "list the chains";
		ret = pc_dump_list(
				&rd.d, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NULL, NULL, &inv_ops, &rd);
	}
	for (size_t t = 0; ret == 0 && t < inv->ntables; t++) {
		struct pc_inv_table *it = &inv->tables[t];
		if (!wants_rules(inv, t, flags))
			continue;
		rd.table = t;
		*what = "list the rules";
		ret = pc_dump_list(&rd.d, NFT_MSG_GETRULE, it->family, it->name, NULL,
				it->managed ? &count_ops : &inv_ops, &rd);
		if (ret == 0 && it->managed) {
			*what = "list the sets";
			ret = count_sets(&rd, it);
		}
	}
	if (ret == 0) {
		*what = "read the generation";
		ret = pc_dump_genid(&rd.d, &after);
		if (ret == 0 && after != before) {
			ret = -1;
			errno = EINTR;
		}
	}
	if (ret == 0)
		reach(inv, rd.edges, rd.nedges);
	if (ret < 0)
		err = errno;
	for (size_t e = 0; e < rd.nedges; e++)
		free(rd.edges[e].to);
	free(rd.edges);
	return pc_dump_close(&rd.d, ret, err);
}

void pc_inventory_finish(struct pc_inventory *inv)
{
	for (size_t i = 0; i < inv->ntables; i++) {
		free(inv->tables[i].name);
		free(inv->tables[i].policy);
		free(inv->tables[i].path);
	}
	for (size_t i = 0; i < inv->nchains; i++) {
		free(inv->chains[i].name);
		free(inv->chains[i].type);
	}
	free(inv->tables);
	free(inv->chains);
	memset(inv, 0, sizeof(*inv));
}

const char *pc_inventory_family(uint32_t family)
{
	switch (family) {
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_ARP:
		return "arp";
	case NFPROTO_BRIDGE:
		return "bridge";
	case NFPROTO_NETDEV:
		return "netdev";
	default:
		return "unknown";
	}
}

const char *pc_inventory_hook(const struct pc_inventory *inv, const struct pc_inv_chain *c)
{
	static const char *const inet[] = {
			"prerouting", "input", "forward", "output", "postrouting", "ingress"};
	static const char *const netdev[] = {"ingress", "egress"};
	uint32_t family = inv->tables[c->table].family;

	if (family == NFPROTO_NETDEV)
		return c->hook < 2 ? netdev[c->hook] : "unknown";
	if (family == NFPROTO_ARP)
		return c->hook == 0 ? "input" : c->hook == 1 ? "output" : "unknown";
	return c->hook < 6 ? inet[c->hook] : "unknown";
}
