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
#include "apply/nlquery.h"
#include "util.h"

/* Dump messages are at most a page or two; 128 KiB takes several at a time. */
#define SNAP_BUF (128 * 1024)

struct snap_reader {
	struct mnl_socket *nl;
	char *buf;
	uint32_t seq;
	struct pc_snap *s;
	uint32_t genid;
};

static void *grow(void *v, size_t n, size_t size)
{
	/* Doubling at powers of two. */
	if (n & (n - 1) || n == 0)
		return n == 0 ? xreallocarray(v, 1, size) : v;
	return xreallocarray(v, n * 2, size);
}

static int snap_gen_cb(const struct nlmsghdr *nlh, void *data)
{
	return pc_nl_genid_parse(nlh, &((struct snap_reader *)data)->genid);
}

static int snap_table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct snap_reader *rd = data;
	struct nftnl_table *x = nftnl_table_alloc();

	if (!x)
		pc_oom_size(0);
	if (nftnl_table_nlmsg_parse(nlh, x) == 0 &&
			!strcmp(nftnl_table_get_str(x, NFTNL_TABLE_NAME), rd->s->name) &&
			!rd->s->table) {
		nftnl_table_unset(x, NFTNL_TABLE_HANDLE);
		nftnl_table_unset(x, NFTNL_TABLE_USE);
		nftnl_table_unset(x, NFTNL_TABLE_OWNER);
		rd->s->table = x;
		rd->s->exists = true;
		return MNL_CB_OK;
	}
	nftnl_table_free(x);
	return MNL_CB_OK;
}

static int snap_set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pc_snap *s = ((struct snap_reader *)data)->s;
	struct nftnl_set *x = nftnl_set_alloc();

	if (!x)
		pc_oom_size(0);
	if (nftnl_set_nlmsg_parse(nlh, x) == 0 &&
			!strcmp(nftnl_set_get_str(x, NFTNL_SET_TABLE), s->name)) {
		nftnl_set_unset(x, NFTNL_SET_HANDLE);
		s->sets = grow(s->sets, s->nsets, sizeof(*s->sets));
		s->sets[s->nsets++] = x;
		/* Each set's id, for the transaction (0 is none). */
		nftnl_set_set_u32(x, NFTNL_SET_ID, (uint32_t)s->nsets);
		return MNL_CB_OK;
	}
	nftnl_set_free(x);
	return MNL_CB_OK;
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

static int snap_elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pc_snap *s = ((struct snap_reader *)data)->s;
	struct nftnl_set *x = nftnl_set_alloc();

	if (!x)
		pc_oom_size(0);
	if (nftnl_set_elems_nlmsg_parse(nlh, x) == 0 &&
			!strcmp(nftnl_set_get_str(x, NFTNL_SET_TABLE), s->name) && !elems_none(x)) {
		nftnl_set_unset(x, NFTNL_SET_ID);
		s->elems = grow(s->elems, s->nelems, sizeof(*s->elems));
		s->elems[s->nelems++] = x;
		return MNL_CB_OK;
	}
	nftnl_set_free(x);
	return MNL_CB_OK;
}

static int snap_chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pc_snap *s = ((struct snap_reader *)data)->s;
	struct nftnl_chain *x = nftnl_chain_alloc();

	if (!x)
		pc_oom_size(0);
	if (nftnl_chain_nlmsg_parse(nlh, x) == 0 &&
			!strcmp(nftnl_chain_get_str(x, NFTNL_CHAIN_TABLE), s->name)) {
		nftnl_chain_unset(x, NFTNL_CHAIN_HANDLE);
		nftnl_chain_unset(x, NFTNL_CHAIN_USE);
		nftnl_chain_unset(x, NFTNL_CHAIN_FLAGS);
		s->chains = grow(s->chains, s->nchains, sizeof(*s->chains));
		s->chains[s->nchains++] = x;
		return MNL_CB_OK;
	}
	nftnl_chain_free(x);
	return MNL_CB_OK;
}

static int snap_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pc_snap *s = ((struct snap_reader *)data)->s;
	struct nftnl_rule *x = nftnl_rule_alloc();

	if (!x)
		pc_oom_size(0);
	if (nftnl_rule_nlmsg_parse(nlh, x) == 0 &&
			!strcmp(nftnl_rule_get_str(x, NFTNL_RULE_TABLE), s->name)) {
		nftnl_rule_unset(x, NFTNL_RULE_HANDLE);
		nftnl_rule_unset(x, NFTNL_RULE_POSITION);
		s->rules = grow(s->rules, s->nrules, sizeof(*s->rules));
		s->rules[s->nrules++] = x;
		return MNL_CB_OK;
	}
	nftnl_rule_free(x);
	return MNL_CB_OK;
}

/* Sends the request in rd->buf and runs cb on its answers; -1 with errno on failure. */
static int snap_talk(struct snap_reader *rd, mnl_cb_t cb)
{
	return pc_nlquery(rd->nl, (struct nlmsghdr *)rd->buf, rd->buf, SNAP_BUF, cb, rd, NULL);
}

static struct nlmsghdr *snap_hdr(struct snap_reader *rd, uint16_t type, uint16_t flags)
{
	memset(rd->buf, 0, 4096);
	return nftnl_nlmsg_build_hdr(rd->buf, type, NFPROTO_INET, flags, rd->seq++);
}

/* One dump of the table into rd->s; -1 with errno and *what on failure. */
static int snap_dump(struct snap_reader *rd, uint32_t *gen_before, const char **what)
{
	struct pc_snap *s = rd->s;
	struct nlmsghdr *nlh;

	*what = "read the generation";
	memset(rd->buf, 0, 4096);
	nftnl_nlmsg_build_hdr(rd->buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, rd->seq++);
	if (snap_talk(rd, snap_gen_cb) < 0)
		return -1;
	*gen_before = rd->genid;

	*what = "read the table";
	nlh = snap_hdr(rd, NFT_MSG_GETTABLE, NLM_F_ACK);
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		pc_oom_size(0);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, s->name);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (snap_talk(rd, snap_table_cb) < 0)
		return errno == ENOENT ? 0 : -1;

	*what = "read the sets";
	nlh = snap_hdr(rd, NFT_MSG_GETSET, NLM_F_DUMP);
	struct nftnl_set *x = nftnl_set_alloc();
	if (!x)
		pc_oom_size(0);
	nftnl_set_set_str(x, NFTNL_SET_TABLE, s->name);
	nftnl_set_nlmsg_build_payload(nlh, x);
	nftnl_set_free(x);
	if (snap_talk(rd, snap_set_cb) < 0)
		return -1;

	*what = "read the elements of a set";
	for (size_t i = 0, n = s->nsets; i < n; i++) {
		nlh = snap_hdr(rd, NFT_MSG_GETSETELEM, NLM_F_DUMP);
		if (!(x = nftnl_set_alloc()))
			pc_oom_size(0);
		nftnl_set_set_str(x, NFTNL_SET_TABLE, s->name);
		nftnl_set_set_str(x, NFTNL_SET_NAME, nftnl_set_get_str(s->sets[i], NFTNL_SET_NAME));
		nftnl_set_elems_nlmsg_build_payload(nlh, x);
		nftnl_set_free(x);
		if (snap_talk(rd, snap_elem_cb) < 0)
			return -1;
	}

	*what = "read the chains";
	nlh = snap_hdr(rd, NFT_MSG_GETCHAIN, NLM_F_DUMP);
	struct nftnl_chain *ch = nftnl_chain_alloc();
	if (!ch)
		pc_oom_size(0);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, s->name);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	if (snap_talk(rd, snap_chain_cb) < 0)
		return -1;

	*what = "read the rules";
	nlh = snap_hdr(rd, NFT_MSG_GETRULE, NLM_F_DUMP);
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r)
		pc_oom_size(0);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, s->name);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (snap_talk(rd, snap_rule_cb) < 0)
		return -1;

	*what = "read the generation";
	memset(rd->buf, 0, 4096);
	nftnl_nlmsg_build_hdr(rd->buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, rd->seq++);
	return snap_talk(rd, snap_gen_cb);
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

int pc_snap_read(const char *name, unsigned retries, struct pc_snap *s, int *err, const char **what)
{
	struct snap_reader rd = {.seq = 1, .s = s};
	int ret = -1;

	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	rd.buf = xmalloc(SNAP_BUF);
	for (unsigned attempt = 0; attempt <= retries; attempt++) {
		uint32_t before = 0;
		pc_snap_finish(s);
		*what = "open a netlink socket";
		rd.nl = mnl_socket_open(NETLINK_NETFILTER);
		if (!rd.nl || mnl_socket_bind(rd.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			*err = errno;
			if (rd.nl)
				mnl_socket_close(rd.nl);
			ret = -1;
			break;
		}
		ret = snap_dump(&rd, &before, what);
		*err = ret < 0 ? errno : 0;
		mnl_socket_close(rd.nl);
		if (ret == 0 && before == rd.genid) {
			s->genid = rd.genid;
			break;
		}
		/* Interrupted by a concurrent change, or the table replaced meanwhile: again. */
		if (ret < 0 && *err != EINTR && *err != ENOENT)
			break;
		ret = -1;
		*err = EINTR;
		*what = "read a consistent table (it kept changing)";
	}
	free(rd.buf);
	if (ret < 0) {
		pc_snap_finish(s);
		free(s->name);
		s->name = NULL;
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

/*
 * The elements of one dumped message in the opposite order, as a new set
 * object: an interval set is dumped from its highest element down, and the
 * kernel takes its intervals from the lowest up (each start before its end).
 */
static struct nftnl_set *reversed(struct nftnl_set *from)
{
	struct nftnl_set *x = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(from);
	struct nftnl_set_elem **v = NULL, *e;
	size_t n = 0;

	if (!x || !it)
		pc_oom_size(0);
	nftnl_set_set_str(x, NFTNL_SET_TABLE, nftnl_set_get_str(from, NFTNL_SET_TABLE));
	nftnl_set_set_str(x, NFTNL_SET_NAME, nftnl_set_get_str(from, NFTNL_SET_NAME));
	while ((e = nftnl_set_elems_iter_next(it))) {
		v = grow(v, n, sizeof(*v));
		v[n++] = e;
	}
	nftnl_set_elems_iter_destroy(it);
	while (n-- > 0) {
		nftnl_set_elem_add(x, elem_copy(v[n]));
	}
	free(v);
	return x;
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
		/* Backwards: the kernel dumps an interval set from its highest element down. */
		for (size_t i = s->nelems; i-- > 0;) {
			struct nftnl_set *x = reversed(s->elems[i]);
			/* Named by the id of the set this transaction creates, as nft does. */
			const char *sn = nftnl_set_get_str(x, NFTNL_SET_NAME);
			for (size_t k = 0; k < s->nsets; k++)
				if (!strcmp(nftnl_set_get_str(s->sets[k], NFTNL_SET_NAME), sn))
					nftnl_set_set_u32(x, NFTNL_SET_ID,
							nftnl_set_get_u32(
									s->sets[k], NFTNL_SET_ID));
			nlh = pc_nl_batch_msg(b, NFT_MSG_NEWSETELEM,
					NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, "elements of set",
					nftnl_set_get_str(s->elems[i], NFTNL_SET_NAME));
			nftnl_set_elems_nlmsg_build_payload(nlh, x);
			pc_nl_batch_msg_end(b, nlh);
			nftnl_set_free(x);
		}
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
