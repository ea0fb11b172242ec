/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A table saved from the kernel and put back (portcullis/snapshot.h), for
 * `apply --confirm`: the dump is parsed into libnftnl objects, and the
 * restore builds NEW* messages from them in an order the kernel accepts:
 * the table, sets, chains, the sets' elements (a verdict map's jump finds
 * its chain), then rules appended in each chain's order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "portcullis/snapshot.h"
#include "apply/dump.h"
#include "util.h"

static void *grow(void *v, size_t n, size_t size)
{
	/* Doubling at powers of two. */
	if (n & (n - 1) || n == 0)
		return n == 0 ? xreallocarray(v, 1, size) : v;
	return xreallocarray(v, n * 2, size);
}

static bool snap_table(void *arg, struct nftnl_table *x)
{
	struct pc_snap *s = arg;

	if (s->table)
		return false;
	nftnl_table_unset(x, NFTNL_TABLE_HANDLE);
	nftnl_table_unset(x, NFTNL_TABLE_USE);
	nftnl_table_unset(x, NFTNL_TABLE_OWNER);
	s->table = x;
	s->exists = true;
	return true;
}

static bool snap_set(void *arg, struct nftnl_set *x)
{
	struct pc_snap *s = arg;

	nftnl_set_unset(x, NFTNL_SET_HANDLE);
	s->sets = grow(s->sets, s->nsets, sizeof(*s->sets));
	s->sets[s->nsets++] = x;
	/* Each set's id, for the transaction (0 is none). */
	nftnl_set_set_u32(x, NFTNL_SET_ID, (uint32_t)s->nsets);
	return true;
}

/* Whether a dumped message holds no element (the kernel ends a dump with one). */
static bool elems_none(struct nftnl_set *x)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(x);

	if (!it)
		pc_oom_size(0);
	bool none = nftnl_set_elems_iter_next(it) == NULL;
	nftnl_set_elems_iter_destroy(it);
	return none;
}

static bool snap_elems(void *arg, struct nftnl_set *x)
{
	struct pc_snap *s = arg;

	if (elems_none(x))
		return false;
	nftnl_set_unset(x, NFTNL_SET_ID);
	s->elems = grow(s->elems, s->nelems, sizeof(*s->elems));
	s->elems[s->nelems++] = x;
	return true;
}

static bool snap_chain(void *arg, struct nftnl_chain *x)
{
	struct pc_snap *s = arg;

	nftnl_chain_unset(x, NFTNL_CHAIN_HANDLE);
	nftnl_chain_unset(x, NFTNL_CHAIN_USE);
	nftnl_chain_unset(x, NFTNL_CHAIN_FLAGS);
	s->chains = grow(s->chains, s->nchains, sizeof(*s->chains));
	s->chains[s->nchains++] = x;
	return true;
}

static bool snap_rule(void *arg, struct nftnl_rule *x)
{
	struct pc_snap *s = arg;

	nftnl_rule_unset(x, NFTNL_RULE_HANDLE);
	nftnl_rule_unset(x, NFTNL_RULE_POSITION);
	s->rules = grow(s->rules, s->nrules, sizeof(*s->rules));
	s->rules[s->nrules++] = x;
	return true;
}

void pc_snap_finish(struct pc_snap *s)
{
	if (s->table)
		nftnl_table_free(s->table);
	for (size_t i = 0; i < s->nsets; i++)
		nftnl_set_free(s->sets[i]);
	for (size_t i = 0; i < s->nelems; i++)
		nftnl_set_free(s->elems[i]);
	for (size_t i = 0; i < s->nchains; i++)
		nftnl_chain_free(s->chains[i]);
	for (size_t i = 0; i < s->nrules; i++)
		nftnl_rule_free(s->rules[i]);
	free(s->sets);
	free(s->elems);
	free(s->chains);
	free(s->rules);
	char *name = s->name;
	memset(s, 0, sizeof(*s));
	s->name = name;
}

static void snap_begin(void *arg)
{
	pc_snap_finish(arg);
}

int pc_snap_read(const char *name, unsigned retries, struct pc_snap *s, int *err, const char **what)
{
	static const struct pc_dump_ops ops = {.begin = snap_begin,
			.table = snap_table,
			.set = snap_set,
			.elems = snap_elems,
			.chain = snap_chain,
			.rule = snap_rule};
	struct pc_dump_result r;
	int ret;

	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	ret = pc_dump_table(name, retries, &ops, s, &r, err, what);
	if (ret < 0) {
		pc_snap_finish(s);
		free(s->name);
		s->name = NULL;
	} else {
		s->genid = r.genid;
	}
	return ret;
}

/* A copy of an element's attributes (this libnftnl exports no clone). */
static struct nftnl_set_elem *elem_copy(struct nftnl_set_elem *e)
{
	static const uint16_t attrs[] = {NFTNL_SET_ELEM_FLAGS, NFTNL_SET_ELEM_KEY,
			NFTNL_SET_ELEM_KEY_END, NFTNL_SET_ELEM_VERDICT, NFTNL_SET_ELEM_CHAIN,
			NFTNL_SET_ELEM_DATA, NFTNL_SET_ELEM_TIMEOUT, NFTNL_SET_ELEM_EXPIRATION,
			NFTNL_SET_ELEM_USERDATA, NFTNL_SET_ELEM_OBJREF};
	struct nftnl_set_elem *c = nftnl_set_elem_alloc();

	if (!c)
		pc_oom_size(0);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		uint32_t len = 0;
		if (!nftnl_set_elem_is_set(e, attrs[i]))
			continue;
		const void *d = nftnl_set_elem_get(e, attrs[i], &len);
		if (attrs[i] == NFTNL_SET_ELEM_CHAIN || attrs[i] == NFTNL_SET_ELEM_OBJREF)
			nftnl_set_elem_set_str(c, attrs[i], d);
		else
			nftnl_set_elem_set(c, attrs[i], d, len);
	}
	return c;
}

void pc_snap_build(void *snap, const struct pc_nl_options *o, struct pc_nl_batch *b)
{
	struct pc_snap *s = snap;
	struct nftnl_table *nt = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!nt)
		pc_oom_size(0);
	pc_nl_batch_begin(b, o);
	/* Declared, then deleted: whether or not a table of that name is there now. */
	nftnl_table_set_str(nt, NFTNL_TABLE_NAME, s->name);
	nlh = pc_nl_batch_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, "table", s->name);
	nftnl_table_nlmsg_build_payload(nlh, nt);
	pc_nl_batch_msg_end(b, nlh);
	nlh = pc_nl_batch_msg(b, NFT_MSG_DELTABLE, NLM_F_ACK, "table", s->name);
	nftnl_table_nlmsg_build_payload(nlh, nt);
	pc_nl_batch_msg_end(b, nlh);
	nftnl_table_free(nt);
	if (s->exists) {
		nlh = pc_nl_batch_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
				"table", s->name);
		nftnl_table_nlmsg_build_payload(nlh, s->table);
		pc_nl_batch_msg_end(b, nlh);
		for (size_t i = 0; i < s->nsets; i++) {
			nlh = pc_nl_batch_msg(b, NFT_MSG_NEWSET,
					NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, "set",
					nftnl_set_get_str(s->sets[i], NFTNL_SET_NAME));
			nftnl_set_nlmsg_build_payload(nlh, s->sets[i]);
			pc_nl_batch_msg_end(b, nlh);
		}
		for (size_t i = 0; i < s->nchains; i++) {
			nlh = pc_nl_batch_msg(b, NFT_MSG_NEWCHAIN,
					NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, "chain",
					nftnl_chain_get_str(s->chains[i], NFTNL_CHAIN_NAME));
			nftnl_chain_nlmsg_build_payload(nlh, s->chains[i]);
			pc_nl_batch_msg_end(b, nlh);
		}
		/*
		 * Backwards, each message's elements too: the kernel dumps an
		 * interval set from its highest element down, and takes its
		 * intervals from the lowest up (each start before its end).  The
		 * elements go in messages as apply's do (pc_nl_elems): a dumped
		 * message may hold more than a batch message should.
		 */
		struct pc_nl_elems w = {0};
		for (size_t i = s->nelems; i-- > 0;) {
			const char *sn = nftnl_set_get_str(s->elems[i], NFTNL_SET_NAME);
			if (!w.name || strcmp(w.name, sn) != 0) {
				pc_nl_elems_flush(&w);
				/* Named by the id of the set this transaction creates, as nft does.
				 */
				w = (struct pc_nl_elems){.b = b,
						.table = s->name,
						.name = sn,
						.flags = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK};
				for (size_t k = 0; k < s->nsets; k++)
					if (!strcmp(nftnl_set_get_str(s->sets[k], NFTNL_SET_NAME),
							    sn))
						w.id = nftnl_set_get_u32(s->sets[k], NFTNL_SET_ID);
			}
			struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s->elems[i]);
			struct nftnl_set_elem **v = NULL, *e;
			size_t n = 0;
			if (!it)
				pc_oom_size(0);
			while ((e = nftnl_set_elems_iter_next(it))) {
				v = grow(v, n, sizeof(*v));
				v[n++] = e;
			}
			nftnl_set_elems_iter_destroy(it);
			while (n-- > 0)
				pc_nl_elems_add(&w, elem_copy(v[n]));
			free(v);
		}
		pc_nl_elems_flush(&w);
		for (size_t i = 0; i < s->nrules; i++) {
			nlh = pc_nl_batch_msg(b, NFT_MSG_NEWRULE,
					NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, "rule",
					nftnl_rule_get_str(s->rules[i], NFTNL_RULE_CHAIN));
			nftnl_rule_nlmsg_build_payload(nlh, s->rules[i]);
			pc_nl_batch_msg_end(b, nlh);
		}
	}
	pc_nl_batch_end(b, o);
}
