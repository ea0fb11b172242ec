/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one reader of nf_tables dumps: see dump.h. */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "apply/dump.h"
#include "apply/nlquery.h"
#include "portcullis/netlink.h"
#include "util.h"

/*
 * The size of the buffer a dump is read into.  The kernel makes each dump
 * message as large as the largest read so far allows (up to about 32 KiB),
 * and restarts a set's walk for every message: larger messages, fewer walks.
 */
#define DUMP_BUF (128 * 1024)

int pc_dump_open(struct pc_dumper *d)
{
	memset(d, 0, sizeof(*d));
	d->seq = (uint32_t)time(NULL);
	if (!(d->nl = pc_nlquery_open(NETLINK_NETFILTER)))
		return -1;
	d->buf = xmalloc(DUMP_BUF);
	return 0;
}

int pc_dump_close(struct pc_dumper *d, int ret, int err)
{
	free(d->buf);
	d->buf = NULL;
	ret = pc_nlquery_close(d->nl, ret, err);
	d->nl = NULL;
	return ret;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	return pc_nl_genid_parse(nlh, data);
}

int pc_dump_genid(struct pc_dumper *d, uint32_t *genid)
{
	struct nlmsghdr *nlh;

	memset(d->buf, 0, 4096);
	nlh = nftnl_nlmsg_build_hdr(d->buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, d->seq++);
	return pc_nlquery(d->nl, nlh, d->buf, DUMP_BUF, gen_cb, genid, NULL);
}

struct list {
	uint16_t type;
	const char *table;
	const struct pc_dump_ops *ops;
	void *arg;
};

/* Whether an object of table `of` is one asked for. */
static bool ours(const struct list *l, const char *of)
{
	return !l->table || (of && strcmp(of, l->table) == 0);
}

void pc_dump_elem_from_nftnl(const struct nftnl_set_elem *x, struct pc_dump_elem *e)
{
	struct nftnl_set_elem *y = (struct nftnl_set_elem *)x; /* its getters take no const */

	memset(e, 0, sizeof(*e));
	e->key = nftnl_set_elem_get(y, NFTNL_SET_ELEM_KEY, &e->key_len);
	e->key_end = nftnl_set_elem_get(y, NFTNL_SET_ELEM_KEY_END, &e->key_end_len);
	e->has_flags = nftnl_set_elem_is_set(y, NFTNL_SET_ELEM_FLAGS);
	e->flags = e->has_flags ? nftnl_set_elem_get_u32(y, NFTNL_SET_ELEM_FLAGS) : 0;
	e->has_verdict = nftnl_set_elem_is_set(y, NFTNL_SET_ELEM_VERDICT);
	e->verdict = e->has_verdict ? (int)nftnl_set_elem_get_u32(y, NFTNL_SET_ELEM_VERDICT) : 0;
	if (nftnl_set_elem_is_set(y, NFTNL_SET_ELEM_CHAIN))
		e->chain = nftnl_set_elem_get_str(y, NFTNL_SET_ELEM_CHAIN);
	e->data = nftnl_set_elem_get(y, NFTNL_SET_ELEM_DATA, &e->data_len);
	e->udata = nftnl_set_elem_get(y, NFTNL_SET_ELEM_USERDATA, &e->udata_len);
	e->has_timeout = nftnl_set_elem_is_set(y, NFTNL_SET_ELEM_TIMEOUT);
	e->timeout = e->has_timeout ? nftnl_set_elem_get_u64(y, NFTNL_SET_ELEM_TIMEOUT) : 0;
	e->has_expiration = nftnl_set_elem_is_set(y, NFTNL_SET_ELEM_EXPIRATION);
	e->expiration = e->has_expiration ? nftnl_set_elem_get_u64(y, NFTNL_SET_ELEM_EXPIRATION)
					  : 0;
}

/*
 * The attributes nested in an element, walked inline rather than through a
 * call into libmnl for each step (a large set is a few attributes each of
 * hundreds of thousands of elements): as mnl_attr_for_each_nested(), the
 * walk ends at the first attribute that does not fit in its nest.
 */
static inline bool attr_fits(const struct nlattr *a, const char *end)
{
	return end - (const char *)a >= (ptrdiff_t)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       (ptrdiff_t)a->nla_len <= end - (const char *)a;
}

static inline const struct nlattr *attr_next(const struct nlattr *a)
{
	return (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len));
}

static inline uint16_t attr_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static inline uint32_t attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static inline const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

/* As mnl_attr_validate(a, MNL_TYPE_NESTED): empty, or room for an attribute. */
static inline bool nest_ok(const struct nlattr *a)
{
	return attr_len(a) == 0 || attr_len(a) >= NLA_HDRLEN;
}

#define attr_each(a, nest)                                                                         \
	for (a = (const struct nlattr *)attr_data(nest);                                           \
			attr_fits(a, (const char *)(nest) + (nest)->nla_len); a = attr_next(a))

/* A nest of NFTA_DATA_*: the value, or the verdict and its chain; -1 when malformed. */
static int data_parse(
		const struct nlattr *nest, const void **v, uint32_t *len, struct pc_dump_elem *e)
{
	const struct nlattr *a, *b;

	attr_each(a, nest)
	{
		switch (attr_type(a)) {
		case NFTA_DATA_VALUE:
			if (attr_len(a) > 64)
				return -1;
			*v = attr_data(a);
			*len = attr_len(a);
			break;
		case NFTA_DATA_VERDICT:
			if (!e || mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
				return -1;
			mnl_attr_for_each_nested(b, a)
			{
				if (mnl_attr_get_type(b) == NFTA_VERDICT_CODE) {
					if (mnl_attr_validate(b, MNL_TYPE_U32) < 0)
						return -1;
					e->verdict = (int)ntohl(mnl_attr_get_u32(b));
					e->has_verdict = true;
				} else if (mnl_attr_get_type(b) == NFTA_VERDICT_CHAIN) {
					if (mnl_attr_validate(b, MNL_TYPE_NUL_STRING) < 0)
						return -1;
					e->chain = mnl_attr_get_str(b);
				}
			}
			/* as libnftnl: a code it knows, a chain only to jump or go to */
			if (!e->has_verdict)
				return -1;
			switch (e->verdict) {
			case NF_ACCEPT:
			case NF_DROP:
			case NF_QUEUE:
			case NFT_CONTINUE:
			case NFT_BREAK:
			case NFT_RETURN:
			case NFT_JUMP:
			case NFT_GOTO:
				break;
			default:
				return -1;
			}
			if (e->verdict != NFT_JUMP && e->verdict != NFT_GOTO)
				e->chain = NULL;
			else if (!e->chain)
				return -1;
			break;
		}
	}
	return 0;
}

static int u64_attr(const struct nlattr *a, uint64_t *v, bool *has)
{
	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return -1;
	*v = be64toh(mnl_attr_get_u64(a));
	*has = true;
	return 0;
}

/* One NFTA_LIST_ELEM nest into e; -1 when malformed. */
static int elem_parse(const struct nlattr *nest, struct pc_dump_elem *e)
{
	const struct nlattr *a;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	if (attr_type(nest) != NFTA_LIST_ELEM)
		return -1;
	attr_each(a, nest)
	{
		switch (attr_type(a)) {
		case NFTA_SET_ELEM_KEY:
			ret = !nest_ok(a) ? -1 : data_parse(a, &e->key, &e->key_len, NULL);
			break;
		case NFTA_SET_ELEM_KEY_END:
			ret = !nest_ok(a) ? -1 : data_parse(a, &e->key_end, &e->key_end_len, NULL);
			break;
		case NFTA_SET_ELEM_DATA:
			ret = !nest_ok(a) ? -1 : data_parse(a, &e->data, &e->data_len, e);
			break;
		case NFTA_SET_ELEM_FLAGS:
			ret = mnl_attr_validate(a, MNL_TYPE_U32);
			e->flags = ret < 0 ? 0 : ntohl(mnl_attr_get_u32(a));
			e->has_flags = ret == 0;
			break;
		case NFTA_SET_ELEM_TIMEOUT:
			ret = u64_attr(a, &e->timeout, &e->has_timeout);
			break;
		case NFTA_SET_ELEM_EXPIRATION:
			ret = u64_attr(a, &e->expiration, &e->has_expiration);
			break;
		case NFTA_SET_ELEM_USERDATA:
			if ((ret = mnl_attr_validate(a, MNL_TYPE_BINARY)) == 0) {
				e->udata = mnl_attr_get_payload(a);
				e->udata_len = mnl_attr_get_payload_len(a);
			}
			break;
		}
		if (ret < 0)
			return -1;
	}
	return 0;
}

/*
 * A NEWSETELEM answer given to ops->elem_set and ops->elem, when it is of
 * the table asked for; nothing of an answer with a malformed element (the
 * whole message is checked first, as libnftnl refuses it whole).
 */
static void elems_raw(const struct nlmsghdr *nlh, const char *table, const struct pc_dump_ops *ops,
		void *arg)
{
	const struct nlattr *a, *list = NULL, *e;
	const char *of = NULL, *set = NULL;
	struct pc_dump_elem el;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		uint16_t type = mnl_attr_get_type(a);
		if (type == NFTA_SET_ELEM_LIST_TABLE || type == NFTA_SET_ELEM_LIST_SET) {
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
				return;
			if (type == NFTA_SET_ELEM_LIST_TABLE)
				of = mnl_attr_get_str(a);
			else
				set = mnl_attr_get_str(a);
		} else if (type == NFTA_SET_ELEM_LIST_ELEMENTS) {
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
				return;
			list = a;
		}
	}
	if (!set || (table && (!of || strcmp(of, table) != 0)))
		return;
	if (list)
		attr_each(e, list) if (elem_parse(e, &el) < 0) return;
	ops->elem_set(arg, set);
	if (list)
		attr_each(e, list)
		{
			elem_parse(e, &el);
			ops->elem(arg, &el);
		}
}

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct list *l = data;
	const struct pc_dump_ops *ops = l->ops;

	switch (l->type) {
	case NFT_MSG_GETTABLE: {
		struct nftnl_table *x = nftnl_table_alloc();
		if (!x)
			pc_oom_size(0);
		if (nftnl_table_nlmsg_parse(nlh, x) == 0 &&
				ours(l, nftnl_table_get_str(x, NFTNL_TABLE_NAME)) &&
				ops->table(l->arg, x))
			break;
		nftnl_table_free(x);
		break;
	}
	case NFT_MSG_GETSETELEM:
		if (ops->elem) {
			elems_raw(nlh, l->table, ops, l->arg);
			break;
		}
		/* fall through */
	case NFT_MSG_GETSET: {
		struct nftnl_set *x = nftnl_set_alloc();
		if (!x)
			pc_oom_size(0);
		int r = l->type == NFT_MSG_GETSET ? nftnl_set_nlmsg_parse(nlh, x)
						  : nftnl_set_elems_nlmsg_parse(nlh, x);
		if (r == 0 && ours(l, nftnl_set_get_str(x, NFTNL_SET_TABLE)) &&
				(l->type == NFT_MSG_GETSET ? ops->set : ops->elems)(l->arg, x))
			break;
		nftnl_set_free(x);
		break;
	}
	case NFT_MSG_GETCHAIN: {
		struct nftnl_chain *x = nftnl_chain_alloc();
		if (!x)
			pc_oom_size(0);
		if (nftnl_chain_nlmsg_parse(nlh, x) == 0 &&
				ours(l, nftnl_chain_get_str(x, NFTNL_CHAIN_TABLE)) &&
				ops->chain(l->arg, x))
			break;
		nftnl_chain_free(x);
		break;
	}
	case NFT_MSG_GETRULE: {
		if (ops->count_rules) {
			ops->rule(l->arg, NULL);
			break;
		}
		struct nftnl_rule *x = nftnl_rule_alloc();
		if (!x)
			pc_oom_size(0);
		if (nftnl_rule_nlmsg_parse(nlh, x) == 0 &&
				ours(l, nftnl_rule_get_str(x, NFTNL_RULE_TABLE)) &&
				ops->rule(l->arg, x))
			break;
		nftnl_rule_free(x);
		break;
	}
	}
	return MNL_CB_OK;
}

/* The request's payload: the table (and set) it is about. */
static void payload(struct nlmsghdr *nlh, uint16_t type, const char *table, const char *set)
{
	if (type == NFT_MSG_GETTABLE) {
		struct nftnl_table *x = nftnl_table_alloc();
		if (!x)
			pc_oom_size(0);
		nftnl_table_set_str(x, NFTNL_TABLE_NAME, table);
		nftnl_table_nlmsg_build_payload(nlh, x);
		nftnl_table_free(x);
	} else if (type == NFT_MSG_GETSET || type == NFT_MSG_GETSETELEM) {
		struct nftnl_set *x = nftnl_set_alloc();
		if (!x)
			pc_oom_size(0);
		nftnl_set_set_str(x, NFTNL_SET_TABLE, table);
		if (type == NFT_MSG_GETSETELEM) {
			nftnl_set_set_str(x, NFTNL_SET_NAME, set);
			nftnl_set_elems_nlmsg_build_payload(nlh, x);
		} else {
			nftnl_set_nlmsg_build_payload(nlh, x);
		}
		nftnl_set_free(x);
	} else if (type == NFT_MSG_GETCHAIN) {
		struct nftnl_chain *x = nftnl_chain_alloc();
		if (!x)
			pc_oom_size(0);
		nftnl_chain_set_str(x, NFTNL_CHAIN_TABLE, table);
		nftnl_chain_nlmsg_build_payload(nlh, x);
		nftnl_chain_free(x);
	} else if (type == NFT_MSG_GETRULE) {
		struct nftnl_rule *x = nftnl_rule_alloc();
		if (!x)
			pc_oom_size(0);
		nftnl_rule_set_str(x, NFTNL_RULE_TABLE, table);
		nftnl_rule_nlmsg_build_payload(nlh, x);
		nftnl_rule_free(x);
	}
}

/* One request: a dump, or (`one`) table `table` alone. */
static int request(struct pc_dumper *d, uint16_t type, uint32_t family, const char *table,
		const char *set, bool one, const struct pc_dump_ops *ops, void *arg)
{
	struct list l = {.type = type, .table = table, .ops = ops, .arg = arg};
	struct nlmsghdr *nlh;

	memset(d->buf, 0, 4096);
	nlh = nftnl_nlmsg_build_hdr(
			d->buf, type, (uint16_t)family, one ? NLM_F_ACK : NLM_F_DUMP, d->seq++);
	if (table)
		payload(nlh, type, table, set);
	return pc_nlquery(d->nl, nlh, d->buf, DUMP_BUF, list_cb, &l, NULL);
}

int pc_dump_list(struct pc_dumper *d, uint16_t type, uint32_t family, const char *table,
		const char *set, const struct pc_dump_ops *ops, void *arg)
{
	return request(d, type, family, table, set, false, ops, arg);
}

/* The names of the sets of the table being read, for their elements. */
struct names {
	const struct pc_dump_ops *ops;
	void *arg;
	char **v;
	size_t n;
	bool exists;
};

static bool name_table(void *arg, struct nftnl_table *t)
{
	struct names *nm = arg;
	nm->exists = true;
	return nm->ops->table ? nm->ops->table(nm->arg, t) : false;
}

static bool name_set(void *arg, struct nftnl_set *s)
{
	struct names *nm = arg;
	nm->v = pc_grow(nm->v, nm->n, sizeof(*nm->v));
	nm->v[nm->n++] = xstrdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	return nm->ops->set ? nm->ops->set(nm->arg, s) : false;
}

/* One dump of the whole table; -1 with errno and *what on failure. */
static int table_once(struct pc_dumper *d, const char *name, const struct pc_dump_ops *ops,
		void *arg, struct pc_dump_result *r, uint32_t *before, const char **what)
{
	struct names nm = {.ops = ops, .arg = arg};
	struct pc_dump_ops first = {.table = name_table, .set = name_set};
	int ret;

	*what = "read the generation";
	if (pc_dump_genid(d, before) < 0)
		return -1;
	r->genid = *before;
	*what = "read the table";
	if (request(d, NFT_MSG_GETTABLE, NFPROTO_INET, name, NULL, true, &first, &nm) < 0)
		return errno == ENOENT ? 0 : -1;
	r->exists = nm.exists;
	*what = "read the sets";
	ret = pc_dump_list(d, NFT_MSG_GETSET, NFPROTO_INET, name, NULL, &first, &nm);
	*what = "read the elements of a set";
	for (size_t i = 0; ret == 0 && i < nm.n; i++)
		if (ops->elems || ops->elem)
			ret = pc_dump_list(d, NFT_MSG_GETSETELEM, NFPROTO_INET, name, nm.v[i], ops,
					arg);
	for (size_t i = 0; i < nm.n; i++)
		free(nm.v[i]);
	free(nm.v);
	if (ret < 0)
		return -1;
	*what = "read the chains";
	if (ops->chain && pc_dump_list(d, NFT_MSG_GETCHAIN, NFPROTO_INET, name, NULL, ops, arg) < 0)
		return -1;
	*what = "read the rules";
	if (ops->rule && pc_dump_list(d, NFT_MSG_GETRULE, NFPROTO_INET, name, NULL, ops, arg) < 0)
		return -1;
	*what = "read the generation";
	return pc_dump_genid(d, &r->genid);
}

int pc_dump_table(const char *name, unsigned retries, const struct pc_dump_ops *ops, void *arg,
		struct pc_dump_result *r, int *err, const char **what)
{
	int ret = -1;

	memset(r, 0, sizeof(*r));
	for (unsigned attempt = 0; attempt <= retries; attempt++) {
		struct pc_dumper d;
		uint32_t before = 0;
		if (ops->begin)
			ops->begin(arg);
		r->exists = false;
		*what = "open a netlink socket";
		if (pc_dump_open(&d) < 0) {
			*err = errno;
			return -1;
		}
		ret = table_once(&d, name, ops, arg, r, &before, what);
		*err = ret < 0 ? errno : 0;
		pc_dump_close(&d, 0, 0);
		r->attempts = attempt + 1;
		if (ret == 0 && before == r->genid)
			return 0;
		/*
		 * Interrupted by a concurrent change, the generation moved, or a
		 * set the table named a moment ago is gone (ENOENT: the table was
		 * replaced meanwhile): again.
		 */
		if (ret < 0 && *err != EINTR && *err != ENOENT)
			return -1;
		ret = -1;
		*err = EINTR;
		*what = "read a consistent table (it kept changing)";
	}
	return ret;
}
