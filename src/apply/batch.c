/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nft model as nf_tables messages.  Each rule is written as the
 * expressions nft itself generates for the text `render` prints (nft 1.0.6:
 * the same loads, masks, comparisons, lookups and user data), so a table
 * applied from here and one loaded with `nft -f` from the rendering cannot
 * be told apart; tests/apply compares the two attribute by attribute.
 *
 * Order of the transaction, as nft sends it: begin, declare the table,
 * delete it, create it with its comment; every chain (so map elements can
 * jump to them); every named set and map with its elements; the rules,
 * each after the anonymous set it looks up; end.
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "portcullis/netlink.h"
#include "util.h"

/*
 * The largest message: a set's elements go in chunks small enough for the
 * 16-bit attribute length of their list, and a rule is far smaller.
 */
#define MSG_MAX (96u << 10)

enum {
	BYTEORDER_BIG_ENDIAN = 2
};

/* ct state bits */
enum {
	CT_INVALID = 1,
	CT_ESTABLISHED = 2,
	CT_RELATED = 4
};

static const uint8_t proto_numbers[PC_PROTO_COUNT] = {0, 6, 17, 132, 33};

/*
 * Room for `bytes` more from b->len on.  The buffer grows without being
 * written: the bytes a message is written into are zeroed as it begins
 * (attribute padding is sent as it is, libmnl 1.0.4 leaves it), so only
 * what the batch uses is ever touched.
 */
static void reserve(struct pc_nl_batch *b, size_t bytes)
{
	if (b->cap - b->len < bytes) {
		b->cap = b->cap * 2 > b->len + bytes ? b->cap * 2 : b->len + bytes;
		b->buf = xrealloc(b->buf, b->cap);
	}
}

static struct nlmsghdr *msg_begin(struct pc_nl_batch *b, const char *what, const char *name,
		const struct pc_nft_rule *rule)
{
	reserve(b, MSG_MAX);
	if (b->zeroed < b->len + MSG_MAX) {
		size_t from = b->zeroed > b->len ? b->zeroed : b->len;
		pc_pages_ahead(b->buf, from, b->len + MSG_MAX, b->cap);
		memset(b->buf + from, 0, b->len + MSG_MAX - from);
		b->zeroed = b->len + MSG_MAX;
	}
	if (b->n == b->msgcap) {
		b->msgcap = b->msgcap ? b->msgcap * 2 : 64;
		b->msgs = xrealloc(b->msgs, b->msgcap * sizeof(*b->msgs));
	}
	b->msgs[b->n] = (struct pc_nl_msg){what, name, rule};
	return (struct nlmsghdr *)(b->buf + b->len);
}

static void msg_end(struct pc_nl_batch *b, struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len > MSG_MAX)
		abort(); /* a chunk outgrew MSG_MAX: a bug, not an input */
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->n++;
}

static uint32_t next_seq(const struct pc_nl_batch *b)
{
	return b->seq0 + (uint32_t)b->n;
}

static struct nlmsghdr *nft_msg(struct pc_nl_batch *b, uint16_t type, uint16_t flags,
		const char *what, const char *name, const struct pc_nft_rule *rule)
{
	struct nlmsghdr *nlh = msg_begin(b, what, name, rule);

	return nftnl_nlmsg_build_hdr((char *)nlh, type, NFPROTO_INET, flags, next_seq(b));
}

static void batch_marker(struct pc_nl_batch *b, uint16_t type, uint32_t genid)
{
	struct nlmsghdr *nlh = msg_begin(b, "transaction", "", NULL);

	mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = next_seq(b);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	/*
	 * The kernel refuses the batch (ERESTART) if the ruleset moved on since
	 * (0: no check).  Always there, so a retry writes the new generation
	 * into the same place instead of building the batch again.
	 */
	if (type == NFNL_MSG_BATCH_BEGIN) {
		b->genid_off = b->len + MNL_ALIGN(nlh->nlmsg_len) + MNL_ATTR_HDRLEN;
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	}
	msg_end(b, nlh);
}

void pc_nl_batch_set_genid(struct pc_nl_batch *b, uint32_t genid)
{
	uint32_t be = htonl(genid);

	memcpy(b->buf + b->genid_off, &be, sizeof(be));
}

/* User data holding one NUL-terminated string of type `type`. */
static struct nftnl_udata_buf *udata_str(uint8_t type, const char *s)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 64);

	if (!u || !nftnl_udata_put_strz(u, type, s))
		pc_oom_size(0);
	return u;
}

/* The table's comment, then what apply records (see struct pc_nl_stamp). */
static struct nftnl_udata_buf *table_udata(
		const struct pc_nft_table *t, const struct pc_nl_stamp *st)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(PC_NL_UDATA_MAX);

	if (!u || !nftnl_udata_put_strz(u, NFTNL_UDATA_TABLE_COMMENT, t->comment))
		pc_oom_size(0);
	if (!st)
		return u;
	uint8_t when[8];
	for (int i = 0; i < 8; i++)
		when[i] = (uint8_t)(st->time >> (56 - 8 * i));
	if (!nftnl_udata_put(u, PC_NL_UDATA_SHA256, sizeof(st->sha256), st->sha256) ||
			!nftnl_udata_put(u, PC_NL_UDATA_TIME, sizeof(when), when))
		pc_oom_size(0);
	/* A path too long for what is left is not recorded rather than cut. */
	if (st->path && nftnl_udata_buf_len(u) + 2 + strlen(st->path) + 1 <= PC_NL_UDATA_MAX)
		nftnl_udata_put_strz(u, PC_NL_UDATA_PATH, st->path);
	return u;
}

static void table_msgs(
		struct pc_nl_batch *b, const struct pc_nft_table *t, const struct pc_nl_stamp *st)
{
	static const uint16_t types[3] = {NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE};

	b->clear_off = b->len;
	b->nclear = 2;
	for (int i = 0; i < 3; i++) {
		if (i == 2)
			b->clear_len = b->len - b->clear_off;
		struct nftnl_table *nt = nftnl_table_alloc();
		if (!nt)
			pc_oom_size(0);
		nftnl_table_set_str(nt, NFTNL_TABLE_NAME, t->name);
		if (i != 1)
			nftnl_table_set_u32(nt, NFTNL_TABLE_FLAGS, 0);
		if (i == 2) {
			struct nftnl_udata_buf *u = table_udata(t, st);
			nftnl_table_set_data(nt, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(u),
					nftnl_udata_buf_len(u));
			nftnl_udata_buf_free(u);
		}
		struct nlmsghdr *nlh = nft_msg(
				b, types[i], i == 1 ? 0 : NLM_F_CREATE, "table", t->name, NULL);
		nftnl_table_nlmsg_build_payload(nlh, nt);
		nftnl_table_free(nt);
		msg_end(b, nlh);
	}
}

static void chain_msg(
		struct pc_nl_batch *b, const char *table, const char *name, int hook, int policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		pc_oom_size(0);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, (uint32_t)policy);
	}
	struct nlmsghdr *nlh = nft_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, "chain", name, NULL);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	msg_end(b, nlh);
	b->nchains++;
}

static void set_msg(struct pc_nl_batch *b, const char *table, const char *name, uint32_t id,
		uint32_t flags, uint32_t key_type, uint32_t key_len, bool vmap, size_t size,
		const void *udata, uint32_t udata_len)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		pc_oom_size(0);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	if (vmap) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	}
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t)size);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, udata, udata_len);
	struct nlmsghdr *nlh = nft_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, "set", name, NULL);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	msg_end(b, nlh);
	b->nsets++;
}

/*
 * The most bytes element e takes in its message's list: its attributes'
 * data, and ELEM_OVERHEAD for their headers, nests and padding (flags,
 * key, key end, data or verdict, timeout, expiration, user data, object).
 */
#define ELEM_OVERHEAD 128

static size_t elem_size(struct nftnl_set_elem *e)
{
	static const uint16_t data[] = {NFTNL_SET_ELEM_KEY, NFTNL_SET_ELEM_KEY_END,
			NFTNL_SET_ELEM_CHAIN, NFTNL_SET_ELEM_DATA, NFTNL_SET_ELEM_USERDATA,
			NFTNL_SET_ELEM_OBJREF};
	size_t size = ELEM_OVERHEAD;

	for (size_t i = 0; i < PC_ARRAY_SIZE(data); i++) {
		uint32_t len = 0;
		if (nftnl_set_elem_is_set(e, data[i]) && nftnl_set_elem_get(e, data[i], &len))
			size += len + 1;
	}
	return size;
}

static struct nlmsghdr *elems_msg(const struct pc_nl_elems *w)
{
	return (struct nlmsghdr *)(w->b->buf + w->b->len);
}

void pc_nl_elems_flush(struct pc_nl_elems *w)
{
	if (!w->list)
		return;
	struct nlmsghdr *nlh = elems_msg(w);
	mnl_attr_nest_end(nlh, (struct nlattr *)((char *)nlh + w->list));
	w->list = 0;
	w->n = w->bytes = 0;
	msg_end(w->b, nlh);
}

/*
 * The message the next element goes into, counting `size` bytes for it: the
 * open one while the element fits, else a new one, its list begun as
 * libnftnl begins it (the set's name, its id, the table).
 */
static struct nlmsghdr *elems_next(struct pc_nl_elems *w, size_t size)
{
	if (w->list && (w->n == PC_NL_ELEMS_PER_MSG || w->bytes + size > PC_NL_ELEMS_BYTES))
		pc_nl_elems_flush(w);
	if (!w->list) {
		struct nlmsghdr *nlh = nft_msg(w->b, NFT_MSG_NEWSETELEM, w->flags,
				"elements of set", w->name, NULL);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, w->name);
		if (w->id)
			mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(w->id));
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, w->table);
		w->list = nlh->nlmsg_len;
		mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	}
	w->bytes += size;
	return elems_msg(w);
}

void pc_nl_elems_add(struct pc_nl_elems *w, struct nftnl_set_elem *e)
{
	struct nlmsghdr *nlh = elems_next(w, elem_size(e));

	w->b->nelems += !(nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
			  (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
					  NFT_SET_ELEM_INTERVAL_END));
	/* libnftnl numbers the elements of a list from 1, and so does elem_add_open() */
	nftnl_set_elem_nlmsg_build(nlh, e, (int)++w->n);
	nftnl_set_elem_free(e);
}

/* A nest of `type` holding one NFTA_DATA_VALUE: a key. */
static void data_value(struct nlmsghdr *nlh, uint16_t type, const void *value, uint32_t len)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, value);
	mnl_attr_nest_end(nlh, nest);
}

/*
 * One element: a key, and for an interval set's end the flag; for a map a
 * verdict (accept, drop, or a jump to `chain`); a comment; and, for the start
 * of an interval that runs to the largest key (no end element follows), the
 * open-interval flag in its user data after the comment, as nft sends it.
 * Written straight into the message, attribute by attribute as libnftnl
 * writes an element (flags, key, data, user data); the user data is laid
 * out as libnftnl's udata buffer lays it out (type, length, value).
 */
static void elem_add_open(struct pc_nl_elems *so, const void *key, uint32_t key_len, bool end,
		bool open, int verdict, const char *chain, const char *comment)
{
	uint8_t udata[2 + PC_NFT_COMMENT_MAX + 1 + 2 + sizeof(uint32_t)];
	size_t ulen = 0, size = MNL_ATTR_HDRLEN + 2 * MNL_ATTR_HDRLEN + MNL_ALIGN(key_len);

	if (!end && comment) {
		size_t len = strlen(comment) + 1;
		if (len > PC_NFT_COMMENT_MAX + 1)
			abort(); /* the model holds no longer comment */
		udata[ulen++] = NFTNL_UDATA_SET_ELEM_COMMENT;
		udata[ulen++] = (uint8_t)len;
		memcpy(udata + ulen, comment, len);
		ulen += len;
	}
	if (!end && open) {
		uint32_t flag = NFTNL_SET_ELEM_F_INTERVAL_OPEN;
		udata[ulen++] = NFTNL_UDATA_SET_ELEM_FLAGS;
		udata[ulen++] = sizeof(flag);
		memcpy(udata + ulen, &flag, sizeof(flag));
		ulen += sizeof(flag);
	}
	if (end)
		size += MNL_ATTR_HDRLEN + sizeof(uint32_t);
	else if (chain || verdict >= 0)
		size += 3 * MNL_ATTR_HDRLEN + sizeof(uint32_t) +
			(chain ? MNL_ATTR_HDRLEN + MNL_ALIGN(strlen(chain) + 1) : 0);
	if (ulen)
		size += MNL_ATTR_HDRLEN + MNL_ALIGN(ulen);

	struct nlmsghdr *nlh = elems_next(so, size);
	struct nlattr *elem = mnl_attr_nest_start(nlh, (uint16_t)++so->n);
	if (end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
	data_value(nlh, NFTA_SET_ELEM_KEY, key, key_len);
	if (!end && (chain || verdict >= 0)) {
		struct nlattr *data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		struct nlattr *v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
		mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE,
				htonl(chain ? (uint32_t)NFT_JUMP : (uint32_t)verdict));
		if (chain)
			mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
		mnl_attr_nest_end(nlh, v);
		mnl_attr_nest_end(nlh, data);
	}
	if (ulen)
		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, ulen, udata);
	mnl_attr_nest_end(nlh, elem);
	so->b->nelems += !end;
}

/*
 * A hash set's element, its key alone: the bytes elem_add_open() writes for
 * an element with no flag, data or user data, written in one go (a large
 * network is one such element per address).
 */
static void elem_key(struct pc_nl_elems *so, const uint8_t *key, uint32_t key_len)
{
	uint16_t size = (uint16_t)(3 * MNL_ATTR_HDRLEN + MNL_ALIGN(key_len));
	struct nlmsghdr *nlh = elems_next(so, size);
	struct nlattr *a = (struct nlattr *)((char *)nlh + MNL_ALIGN(nlh->nlmsg_len));

	a[0] = (struct nlattr){size, (uint16_t)(NLA_F_NESTED | (uint16_t)++so->n)};
	a[1] = (struct nlattr){
			(uint16_t)(size - MNL_ATTR_HDRLEN), NLA_F_NESTED | NFTA_SET_ELEM_KEY};
	a[2] = (struct nlattr){(uint16_t)(MNL_ATTR_HDRLEN + key_len), NFTA_DATA_VALUE};
	memcpy(a + 3, key, key_len);
	memset((char *)(a + 3) + key_len, 0, MNL_ALIGN(key_len) - key_len);
	nlh->nlmsg_len = MNL_ALIGN(nlh->nlmsg_len) + size;
	so->b->nelems++;
}

static void elem_add(struct pc_nl_elems *so, const void *key, uint32_t key_len, bool end,
		int verdict, const char *chain, const char *comment)
{
	elem_add_open(so, key, key_len, end, false, verdict, chain, comment);
}

/* key + 1 in place (big-endian); false when it wrapped past the largest key. */
static bool key_next(uint8_t *key, uint32_t len)
{
	for (uint32_t i = len; i-- > 0;)
		if (++key[i])
			return true;
	return false;
}

static bool key_zero(const uint8_t *key, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (key[i])
			return false;
	return true;
}

/* One element given to the walk's sink (struct pc_nl_elem). */
static void elem_to(pc_nl_elem_fn *fn, void *arg, const uint8_t *key, uint32_t len, bool end,
		bool open, int verdict, const char *chain, const char *comment)
{
	struct pc_nl_elem e = {key, len, end, open, verdict, chain, comment};

	fn(arg, &e);
}

/*
 * An interval [lo, hi] as nft sends it: a start element carrying the
 * verdict and comment, and an end element just past hi (none when hi is the
 * largest key: then the start is flagged open).  Before the first interval, when it does not start
 * at zero, an end element at zero.
 */
static void interval_add(pc_nl_elem_fn *fn, void *arg, bool first, const uint8_t *lo,
		const uint8_t *hi, uint32_t len, int verdict, const char *chain,
		const char *comment)
{
	uint8_t k[16];

	if (first && !key_zero(lo, len)) {
		memset(k, 0, len);
		elem_to(fn, arg, k, len, true, false, -1, NULL, NULL);
	}
	memcpy(k, hi, len);
	bool closed = key_next(k, len);
	elem_to(fn, arg, lo, len, false, !closed, verdict, chain, comment);
	if (closed)
		elem_to(fn, arg, k, len, true, false, -1, NULL, NULL);
}

static struct nftnl_udata_buf *set_udata(bool vmap, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 64);

	if (!u || !nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, BYTEORDER_BIG_ENDIAN))
		pc_oom_size(0);
	if (vmap && (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_DATABYTEORDER, 0) ||
				    !nftnl_udata_put_u32(u, NFTNL_UDATA_SET_DATA_INTERVAL, 0)))
		pc_oom_size(0);
	if (comment && comment[0] && !nftnl_udata_put_strz(u, NFTNL_UDATA_SET_COMMENT, comment))
		pc_oom_size(0);
	return u;
}

/* A named set or, with NFT_SET_MAP in flags, a verdict map. */
static void named_set(struct pc_nl_batch *b, const char *table, const char *name, uint32_t id,
		uint32_t flags, uint32_t key_type, uint32_t key_len, size_t size,
		const char *comment, struct pc_nl_elems *so)
{
	bool vmap = flags & NFT_SET_MAP;
	struct nftnl_udata_buf *u = set_udata(vmap, comment);

	set_msg(b, table, name, id, flags, key_type, key_len, vmap, size, nftnl_udata_buf_data(u),
			nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	*so = (struct pc_nl_elems){
			.b = b, .table = table, .name = name, .id = id, .flags = NLM_F_CREATE};
}

static void batch_elem(void *arg, const struct pc_nl_elem *e);

/*
 * The elements of an address set, each given to fn; with `release`, the
 * pages of its prefixes given back as they are written, a step at a time
 * (the rest, less than a step, is kept).
 */
static void address_set_elems(
		const struct pc_nft_set *s, pc_nl_elem_fn *fn, void *arg, bool release)
{
	uint32_t len = s->type == PC_NFT_SET_IPV4 ? 4 : 16;
	/* An array of huge pages (pc_pages_huge()) is given back a whole huge page at a time. */
	bool huge = s->n * sizeof(*s->prefixes) >= PC_HUGE_MIN;
	size_t step = huge ? PC_HUGE_PAGE : PC_RELEASE_STEP;
	size_t align = huge ? PC_HUGE_PAGE : (size_t)sysconf(_SC_PAGESIZE);
	size_t released = 0; /* bytes of the prefixes */

	for (size_t i = 0; i < s->n; i++) {
		const struct pc_prefix *x = &s->prefixes[i];
		uint8_t hi[16];
		if (release && i * sizeof(*x) - released >= step)
			pc_pages_release_upto(s->prefixes, &released, i * sizeof(*x), step, align);
		if (!s->interval) {
			/* A hash set: its keys, no interval ends. */
			if (fn == batch_elem)
				elem_key(arg, x->bytes, len);
			else
				elem_to(fn, arg, x->bytes, len, false, false, -1, NULL, NULL);
			continue;
		}
		pc_nft_prefix_last(x, hi);
		interval_add(fn, arg, i == 0, x->bytes, hi, len, -1, NULL, NULL);
	}
}

/* The elements of a verdict map by port. */
static void port_map_elems(const struct pc_nft_table *t, const struct pc_nft_map *m,
		pc_nl_elem_fn *fn, void *arg)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct pc_nft_segment *s = &m->segs[i];
		uint8_t lo[2] = {(uint8_t)(s->lo >> 8), (uint8_t)s->lo};
		uint8_t hi[2] = {(uint8_t)(s->hi >> 8), (uint8_t)s->hi};
		int verdict = s->direct && s->rule->verdict == PC_NFT_DROP ? NF_DROP : NF_ACCEPT;
		interval_add(fn, arg, i == 0, lo, hi, 2, verdict,
				s->direct ? NULL : t->subs[s->sub].name,
				s->rule ? s->rule->comment : NULL);
	}
}

/* The elements of a verdict map by source address. */
static void address_map_elems(
		const struct pc_nft_addr_map *m, int family, pc_nl_elem_fn *fn, void *arg)
{
	uint32_t len = family == 4 ? 4 : 16;

	for (size_t i = 0; i < m->n; i++) {
		const struct pc_nft_addr_elem *e = &m->elems[i];
		interval_add(fn, arg, i == 0, e->lo, e->hi, len,
				e->rule->verdict == PC_NFT_DROP ? NF_DROP : NF_ACCEPT, NULL,
				e->rule->comment);
	}
}

/* The batch's sink: each element into the set's messages. */
static void batch_elem(void *arg, const struct pc_nl_elem *e)
{
	elem_add_open(arg, e->key, e->key_len, e->end, e->open, e->verdict, e->chain, e->comment);
}

/* The elements counted, not sent (pc_nl_options.sets_empty): starts of intervals and keys. */
static void count_elem(void *arg, const struct pc_nl_elem *e)
{
	*(size_t *)arg += !e->end;
}

/* The sink a named set's elements go to: its messages, or with sets_empty a count. */
static pc_nl_elem_fn *set_sink(const struct pc_nl_options *o, struct pc_nl_elems *so, void **arg)
{
	*arg = o->sets_empty ? (void *)&so->b->nelems : (void *)so;
	return o->sets_empty ? count_elem : batch_elem;
}

static void address_set(struct pc_nl_batch *b, const struct pc_nft_table *t,
		const struct pc_nft_set *s, uint32_t id, const struct pc_nl_options *o,
		bool release)
{
	uint32_t len = s->type == PC_NFT_SET_IPV4 ? 4 : 16;
	struct pc_nl_elems so;
	void *arg;

	named_set(b, t->name, s->name, id, s->interval ? NFT_SET_INTERVAL : 0,
			len == 4 ? PC_NFT_TYPE_IPADDR : PC_NFT_TYPE_IP6ADDR, len, s->size,
			s->comment, &so);
	pc_nl_elem_fn *fn = set_sink(o, &so, &arg);
	/* Counted, every prefix is one key or one interval's start: no walk. */
	if (o->sets_empty && !release)
		b->nelems += s->n;
	else
		address_set_elems(s, fn, arg, release);
	pc_nl_elems_flush(&so);
}

static void port_map(struct pc_nl_batch *b, const struct pc_nft_table *t,
		const struct pc_nft_map *m, uint32_t id, const struct pc_nl_options *o)
{
	struct pc_nl_elems so;
	void *arg;

	named_set(b, t->name, m->name, id, NFT_SET_INTERVAL | NFT_SET_MAP, PC_NFT_TYPE_INET_SERVICE,
			2, m->size, NULL, &so);
	pc_nl_elem_fn *fn = set_sink(o, &so, &arg);
	port_map_elems(t, m, fn, arg);
	pc_nl_elems_flush(&so);
}

static void address_map(struct pc_nl_batch *b, const struct pc_nft_table *t,
		const struct pc_nft_addr_map *m, int family, uint32_t id,
		const struct pc_nl_options *o)
{
	uint32_t len = family == 4 ? 4 : 16;
	struct pc_nl_elems so;
	void *arg;

	named_set(b, t->name, m->name, id, NFT_SET_INTERVAL | NFT_SET_MAP,
			len == 4 ? PC_NFT_TYPE_IPADDR : PC_NFT_TYPE_IP6ADDR, len, m->size, NULL,
			&so);
	pc_nl_elem_fn *fn = set_sink(o, &so, &arg);
	address_map_elems(m, family, fn, arg);
	pc_nl_elems_flush(&so);
}

/* The named set of addresses `name` of t, or NULL. */
static const struct pc_nft_set *address_set_named(const struct pc_nft_table *t, const char *name)
{
	for (size_t i = 0; i < t->nsets; i++) {
		const struct pc_nft_set *s = &t->sets[i];
		if (!s->literal && s->type != PC_NFT_SET_SERVICE && !strcmp(s->name, name))
			return s;
	}
	return NULL;
}

bool pc_nl_set_keys(const struct pc_nft_table *t, const char *name, const struct pc_prefix **v,
		size_t *n, uint32_t *key_len)
{
	const struct pc_nft_set *s = address_set_named(t, name);

	/* A hash set: address_set_elems() gives each prefix's key, nothing more. */
	if (!s || s->interval)
		return false;
	*v = s->prefixes;
	*n = s->n;
	*key_len = s->type == PC_NFT_SET_IPV4 ? 4 : 16;
	return true;
}

bool pc_nl_set_elems(const struct pc_nft_table *t, const char *name, pc_nl_elem_fn *fn, void *arg)
{
	const struct pc_nft_set *s = address_set_named(t, name);

	if (s) {
		address_set_elems(s, fn, arg, false);
		return true;
	}
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		for (int p = 0; p < PC_PROTO_COUNT; p++)
			if (t->chains[k].maps[p].n && !strcmp(t->chains[k].maps[p].name, name)) {
				port_map_elems(t, &t->chains[k].maps[p], fn, arg);
				return true;
			}
	for (size_t i = 0; i < t->nsubs; i++)
		for (int f = 0; f < 2; f++) {
			const struct pc_nft_addr_map *m = &t->subs[i].by_saddr[f];
			if (t->subs[i].mapped && m->n && !strcmp(m->name, name)) {
				address_map_elems(m, f ? 6 : 4, fn, arg);
				return true;
			}
		}
	return false;
}

size_t pc_nl_elem_attrs(struct pc_nl_batch *scratch, const char *table, const struct pc_nl_elem *e,
		uint8_t *out, size_t cap)
{
	struct pc_nl_elems so = {.b = scratch, .table = table, .name = "", .flags = 0};

	/* One message each time, over the bytes of the last: zeroed (padding is sent as it is). */
	if (scratch->buf)
		memset(scratch->buf, 0, scratch->len);
	scratch->len = scratch->n = 0;
	elem_add_open(&so, e->key, e->key_len, e->end, e->open, e->verdict, e->chain, e->comment);
	pc_nl_elems_flush(&so);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)scratch->buf;
	const struct nlattr *a, *x;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(x, a)
		{
			size_t len = mnl_attr_get_payload_len(x);
			if (len > cap)
				abort(); /* an element larger than any the model makes: a bug */
			memcpy(out, mnl_attr_get_payload(x), len);
			return len;
		}
	}
	abort(); /* the message holds the element just added */
}

/* ---- rules ---- */

struct rule_out {
	struct pc_nl_batch *b;
	const struct pc_nft_table *t;
	const struct pc_nl_options *o;
	uint32_t *next_id; /* set ids */
	struct nftnl_rule *r;
};

static void add(struct rule_out *ro, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(ro->r, e);
}

static struct nftnl_expr *expr(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		pc_oom_size(0);
	return e;
}

static void meta(struct rule_out *ro, uint32_t key)
{
	struct nftnl_expr *e = expr("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	add(ro, e);
}

static void cmp(struct rule_out *ro, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	add(ro, e);
}

static void cmp_u8(struct rule_out *ro, uint8_t v)
{
	cmp(ro, NFT_CMP_EQ, &v, 1);
}

static void payload(struct rule_out *ro, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = expr("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	add(ro, e);
}

static void bitwise(struct rule_out *ro, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = expr("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	add(ro, e);
}

/* A lookup in a set or verdict map; `invert`: the key is not in the set (`!=`). */
static void lookup_in(struct rule_out *ro, const char *set, uint32_t id, bool vmap, bool invert)
{
	struct nftnl_expr *e = expr("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (invert)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	add(ro, e);
}

static void lookup(struct rule_out *ro, const char *set, uint32_t id, bool vmap)
{
	lookup_in(ro, set, id, vmap, false);
}

static void verdict(struct rule_out *ro, int v)
{
	struct nftnl_expr *e = expr("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	add(ro, e);
}

static void l4proto(struct rule_out *ro, uint8_t proto)
{
	meta(ro, NFT_META_L4PROTO);
	cmp_u8(ro, proto);
}

static void nfproto(struct rule_out *ro, int family)
{
	meta(ro, NFT_META_NFPROTO);
	cmp_u8(ro, family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
}

static void limit(struct rule_out *ro, uint64_t rate, uint64_t unit)
{
	struct nftnl_expr *e = expr("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, unit);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, 5); /* nft's default */
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	add(ro, e);
}

static void ct_state(struct rule_out *ro, uint32_t bits, int v)
{
	struct nftnl_expr *e = expr("ct");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add(ro, e);
	bitwise(ro, &bits, sizeof(bits));
	cmp(ro, NFT_CMP_NEQ, &zero, sizeof(zero));
	verdict(ro, v);
}

/*
 * The user data nft gives the anonymous sets it makes for these rules: key
 * byte order and the expression the key came from (`typeof`), which `nft
 * list` reads to print the elements by name.
 */
static const uint8_t udata_l4proto[] = {0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x03, 0x0e, 0x00, 0x04,
		0x09, 0x00, 0x00, 0x00, 0x01, 0x06, 0x00, 0x04, 0x10, 0x00, 0x00, 0x00};
static const uint8_t udata_icmp[] = {0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x03, 0x14, 0x00, 0x04,
		0x07, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x04, 0x04, 0x00, 0x00, 0x00, 0x01, 0x04,
		0x01, 0x00, 0x00, 0x00};
static const uint8_t udata_icmp6[] = {0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x03, 0x14, 0x00, 0x04,
		0x07, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00, 0x01, 0x04,
		0x01, 0x00, 0x00, 0x00};

/*
 * An anonymous constant set of `n` elements of `key_len` bytes each, looked
 * up by the rule being built; with `ends` (an interval set), ends[i] says
 * element i ends an interval.  With `invert`, the lookup matches what is not
 * in the set.
 */
static void anon_set_lookup(struct rule_out *ro, uint32_t key_type, uint32_t key_len,
		const uint8_t *keys, const bool *ends, size_t n, const uint8_t *udata,
		uint32_t udata_len, bool invert)
{
	uint32_t id = (*ro->next_id)++;
	struct pc_nl_elems so = {.b = ro->b,
			.table = ro->t->name,
			.name = "__set%d",
			.id = id,
			.flags = NLM_F_CREATE};

	set_msg(ro->b, ro->t->name, "__set%d", id,
			NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (ends ? NFT_SET_INTERVAL : 0),
			key_type, key_len, false, n, udata, udata_len);
	for (size_t i = 0; i < n; i++)
		elem_add(&so, &keys[i * key_len], key_len, ends && ends[i], -1, NULL, NULL);
	pc_nl_elems_flush(&so);
	lookup_in(ro, "__set%d", id, false, invert);
}

/* The same for one-byte keys. */
static void anon_lookup(struct rule_out *ro, uint32_t key_type, const uint8_t *keys, size_t n,
		const uint8_t *udata, uint32_t udata_len)
{
	anon_set_lookup(ro, key_type, 1, keys, NULL, n, udata, udata_len, false);
}

static void rule_begin(struct rule_out *ro, const char *chain)
{
	if (!(ro->r = nftnl_rule_alloc()))
		pc_oom_size(0);
	nftnl_rule_set_str(ro->r, NFTNL_RULE_TABLE, ro->t->name);
	nftnl_rule_set_str(ro->r, NFTNL_RULE_CHAIN, chain);
}

static void rule_end(struct rule_out *ro, const char *chain, const char *comment,
		const struct pc_nft_rule *policy_rule)
{
	if (comment && comment[0]) {
		struct nftnl_udata_buf *u = udata_str(NFTNL_UDATA_RULE_COMMENT, comment);
		nftnl_rule_set_data(ro->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	struct nlmsghdr *nlh = nft_msg(ro->b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, "rule",
			chain, policy_rule);
	nftnl_rule_nlmsg_build_payload(nlh, ro->r);
	nftnl_rule_free(ro->r);
	ro->r = NULL;
	msg_end(ro->b, nlh);
	ro->b->nrules++;
}

static void icmp_echo(struct rule_out *ro, const char *chain, int family)
{
	rule_begin(ro, chain);
	nfproto(ro, family);
	l4proto(ro, family == 4 ? 1 : 58);
	payload(ro, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	cmp_u8(ro, pc_nft_icmp_echo(family)->type);
	limit(ro, PC_NFT_ICMP_ECHO_PER_SECOND, 1);
	verdict(ro, NF_ACCEPT);
	rule_end(ro, chain, NULL, NULL);
}

/* A default rule (not from the policy); some are two rules, one per family. */
static void default_rule(
		struct rule_out *ro, const struct pc_nft_chain *c, const struct pc_nft_rule *r)
{
	static const uint8_t icmp_protos[] = {1, 58};
	const char *chain = pc_nft_hook_name(c->hook);

	switch (r->kind) {
	case PC_NFT_ESTABLISHED:
	case PC_NFT_INVALID:
		rule_begin(ro, chain);
		if (r->kind == PC_NFT_ESTABLISHED)
			ct_state(ro, CT_ESTABLISHED | CT_RELATED, NF_ACCEPT);
		else
			ct_state(ro, CT_INVALID, NF_DROP);
		rule_end(ro, chain, NULL, NULL);
		return;
	case PC_NFT_LOOPBACK: {
		uint32_t lo = ro->o->lo_ifindex;
		rule_begin(ro, chain);
		meta(ro, c->hook == PC_NFT_HOOK_OUTPUT ? NFT_META_OIF : NFT_META_IIF);
		cmp(ro, NFT_CMP_EQ, &lo, sizeof(lo));
		verdict(ro, NF_ACCEPT);
		rule_end(ro, chain, NULL, NULL);
		return;
	}
	case PC_NFT_ICMP_ESSENTIAL:
	case PC_NFT_ICMP_ND:
		for (int f = 0; f < 2; f++) {
			size_t n;
			const struct pc_nft_icmp_type *v =
					pc_nft_icmp_types(r->kind, f ? 6 : 4, &n);
			uint8_t types[PC_NFT_ICMP_ESSENTIAL_MAX];
			if (!n)
				continue;
			for (size_t i = 0; i < n; i++)
				types[i] = v[i].type;
			rule_begin(ro, chain);
			l4proto(ro, f ? 58 : 1);
			payload(ro, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
			if (f)
				anon_lookup(ro, PC_NFT_TYPE_ICMP6_TYPE, types, n, udata_icmp6,
						sizeof(udata_icmp6));
			else
				anon_lookup(ro, PC_NFT_TYPE_ICMP_TYPE, types, n, udata_icmp,
						sizeof(udata_icmp));
			verdict(ro, r->verdict == PC_NFT_DROP ? NF_DROP : NF_ACCEPT);
			rule_end(ro, chain, NULL, NULL);
		}
		return;
	case PC_NFT_ICMP_ECHO:
		icmp_echo(ro, chain, 4);
		icmp_echo(ro, chain, 6);
		return;
	case PC_NFT_ICMP_ALL:
		rule_begin(ro, chain);
		meta(ro, NFT_META_L4PROTO);
		anon_lookup(ro, PC_NFT_TYPE_INET_PROTOCOL, icmp_protos, sizeof(icmp_protos),
				udata_l4proto, sizeof(udata_l4proto));
		verdict(ro, NF_ACCEPT);
		rule_end(ro, chain, NULL, NULL);
		return;
	case PC_NFT_POLICY_RULE:
		break;
	}
	abort();
}

static uint32_t set_id(const struct pc_nft_table *t, const struct pc_nft_set *s)
{
	return (uint32_t)(s - t->sets) + 1;
}

/*
 * An address match as nft compiles it: a byte-aligned prefix loads only its
 * bytes, a host loads the address, any other prefix is masked; a set is
 * looked up.
 */
static void address(struct rule_out *ro, int family, bool dst, const struct pc_nft_set *s)
{
	uint32_t len = family == 4 ? 4 : 16;
	uint32_t off = family == 4 ? (dst ? 16 : 12) : (dst ? 24 : 8);

	if (!s->literal) {
		payload(ro, NFT_PAYLOAD_NETWORK_HEADER, off, len);
		lookup(ro, s->name, set_id(ro->t, s), false);
		return;
	}
	const struct pc_prefix *x = &s->prefixes[0];
	if (x->len % 8 == 0 && x->len > 0) {
		payload(ro, NFT_PAYLOAD_NETWORK_HEADER, off, x->len / 8u);
		cmp(ro, NFT_CMP_EQ, x->bytes, x->len / 8u);
		return;
	}
	uint8_t mask[16] = {0};
	for (unsigned bit = 0; bit < x->len; bit++)
		mask[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	payload(ro, NFT_PAYLOAD_NETWORK_HEADER, off, len);
	bitwise(ro, mask, len);
	cmp(ro, NFT_CMP_EQ, x->bytes, len);
}

static int key16_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/*
 * A list holding a wildcard as nft 1.0.6 sends it: an interval set, each
 * name the interval [name, name], each wildcard [stem, stem then 0xff
 * bytes], in key order; an end element at zero before the first interval,
 * and one just past each.  The user data also says the elements were merged.
 */
static void ifname_intervals(struct rule_out *ro, uint32_t key, const struct pc_ifaces *s)
{
	static const uint8_t merged[] = {0x02, 0x04, 0x01, 0x00, 0x00, 0x00};
	uint8_t udata[sizeof(udata_l4proto) + sizeof(merged)];
	uint8_t(*lohi)[2][16] = xcalloc(s->n, sizeof(*lohi));
	uint8_t(*keys)[16] = xcalloc(2 * s->n + 1, sizeof(*keys));
	bool *ends = xcalloc(2 * s->n + 1, sizeof(*ends));
	size_t k = 0;

	memcpy(udata, udata_l4proto, 6);
	memcpy(udata + 6, merged, sizeof(merged));
	memcpy(udata + 6 + sizeof(merged), udata_l4proto + 6, sizeof(udata_l4proto) - 6);
	udata[sizeof(udata) - 4] = (uint8_t)key;
	for (size_t i = 0; i < s->n; i++) {
		size_t len = strlen(s->names[i]);
		bool wild = pc_ifname_wild(s->names[i]);
		memcpy(lohi[i][0], s->names[i], len - wild);
		memcpy(lohi[i][1], s->names[i], len - wild);
		if (wild)
			memset(lohi[i][1] + len - 1, 0xff, 16 - (len - 1));
	}
	qsort(lohi, s->n, sizeof(*lohi), key16_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (i == 0 && !key_zero(lohi[0][0], 16))
			ends[k++] = true; /* keys[0] is zero */
		memcpy(keys[k++], lohi[i][0], 16);
		memcpy(keys[k], lohi[i][1], 16);
		if (key_next(keys[k], 16))
			ends[k++] = true;
	}
	anon_set_lookup(ro, PC_NFT_TYPE_IFNAME, 16, keys[0], ends, k, udata, sizeof(udata),
			s->negate);
	free(ends);
	free(keys);
	free(lohi);
}

/*
 * An interface match as nft compiles it: a name compares all 16 bytes
 * (padded with NULs), a wildcard only those before its '*'; a list is an
 * anonymous set of names (of intervals, with a wildcard among them);
 * negation is `neq` or an inverted lookup.
 */
static void ifname(struct rule_out *ro, uint32_t key, const struct pc_ifaces *s)
{
	/* udata_l4proto's layout: the key comes from meta (9), key 6 or 7 */
	uint8_t udata[sizeof(udata_l4proto)];
	uint8_t *names;
	bool wild = false;

	meta(ro, key);
	if (s->n == 1) {
		char buf[16] = {0};
		size_t len = strlen(s->names[0]);
		wild = pc_ifname_wild(s->names[0]);
		memcpy(buf, s->names[0], len - wild);
		cmp(ro, s->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, buf,
				wild ? (uint32_t)(len - 1) : (uint32_t)sizeof(buf));
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		wild |= pc_ifname_wild(s->names[i]);
	if (wild) {
		ifname_intervals(ro, key, s);
		return;
	}
	memcpy(udata, udata_l4proto, sizeof(udata));
	udata[sizeof(udata) - 4] = (uint8_t)key;
	names = xcalloc(s->n, 16);
	for (size_t i = 0; i < s->n; i++)
		memcpy(&names[16 * i], s->names[i], strlen(s->names[i]));
	anon_set_lookup(ro, PC_NFT_TYPE_IFNAME, 16, names, NULL, s->n, udata, sizeof(udata),
			s->negate);
	free(names);
}

/*
 * A policy rule: in a jump chain the map matched its ports; in its base
 * chain (pc_nft_chain.inline_rules) it matches `port` first, as nft
 * compiles `tcp dport 1-30000`: the protocol, then the port compared with
 * each end.
 */
static void policy_rule(struct rule_out *ro, const char *chain, const struct pc_nft_rule *r,
		const char *comment, const struct pc_nft_port_range *port)
{
	rule_begin(ro, chain);
	if (port) {
		uint16_t lo = htons(port->lo), hi = htons(port->hi);
		l4proto(ro, proto_numbers[r->proto]);
		payload(ro, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		if (port->lo == port->hi) {
			cmp(ro, NFT_CMP_EQ, &lo, sizeof(lo));
		} else {
			cmp(ro, NFT_CMP_GTE, &lo, sizeof(lo));
			cmp(ro, NFT_CMP_LTE, &hi, sizeof(hi));
		}
	}
	if (r->iifname)
		ifname(ro, NFT_META_IIFNAME, r->iifname);
	if (r->oifname)
		ifname(ro, NFT_META_OIFNAME, r->oifname);
	if (r->family)
		nfproto(ro, r->family);
	if (r->saddr)
		address(ro, r->family, false, r->saddr);
	if (r->daddr)
		address(ro, r->family, true, r->daddr);
	if (r->verdict == PC_NFT_REJECT && r->proto == PC_PROTO_TCP && !port)
		l4proto(ro, 6);
	if (r->limit_rate)
		limit(ro, r->limit_rate, pc_limit_seconds(r->limit_unit));
	if (r->log) {
		char prefix[64];
		struct nftnl_expr *e = expr("log");
		snprintf(prefix, sizeof(prefix), "portcullis r%zu ", r->policy_rule + 1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
		add(ro, e);
	}
	if (r->counter)
		add(ro, expr("counter"));
	if (r->verdict == PC_NFT_REJECT) {
		struct nftnl_expr *e = expr("reject");
		if (r->proto == PC_PROTO_TCP) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
		} else if (r->family) {
			/* ICMP port unreachable (3), ICMPv6 port unreachable (4) */
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, r->family == 4 ? 3 : 4);
		} else {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_PORT_UNREACH);
		}
		add(ro, e);
	} else {
		verdict(ro, r->verdict == PC_NFT_ACCEPT ? NF_ACCEPT : NF_DROP);
	}
	rule_end(ro, chain, comment, r);
}

/*
 * The most bytes the elements of a set of n (as address set: hosts or
 * intervals; as map: intervals with verdicts, chains and comments) take
 * with their messages' headers.
 */
#define ELEMS_MSG_HEAD                                                                             \
	(NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) + 3 * MNL_ATTR_HDRLEN +                 \
			2 * MNL_ALIGN(PC_NFT_NAME_MAX + 1) + sizeof(uint32_t) + MNL_ATTR_HDRLEN)
#define ELEM_MAX_HOST (3 * MNL_ATTR_HDRLEN + 16)
#define ELEM_MAX_INTERVAL (ELEM_MAX_HOST + MNL_ATTR_HDRLEN + sizeof(uint32_t))
#define ELEM_MAX_MAPPED                                                                            \
	(ELEM_MAX_INTERVAL + 4 * MNL_ATTR_HDRLEN + sizeof(uint32_t) +                              \
			MNL_ALIGN(PC_NFT_NAME_MAX + 1) + MNL_ATTR_HDRLEN +                         \
			MNL_ALIGN(2 + PC_NFT_COMMENT_MAX + 1 + 2 + sizeof(uint32_t)))

static size_t elems_bytes(size_t elems, size_t per_elem)
{
	return elems * per_elem + (elems / PC_NL_ELEMS_PER_MSG + 1) * ELEMS_MSG_HEAD;
}

/*
 * What the transaction of t takes at most, near enough to reserve it once:
 * the elements of its sets and maps counted exactly as they are bounded,
 * and an allowance per rule and chain of about twice what the project's
 * policies take (450 to 600 bytes a rule with its chain and anonymous sets;
 * a batch past it grows, which only costs a copy).
 */
static size_t build_bytes(const struct pc_nft_table *t)
{
	size_t bytes = 64u << 10, rules = t->nsubs;

	for (size_t i = 0; i < t->nsets; i++)
		if (!t->sets[i].literal && t->sets[i].type != PC_NFT_SET_SERVICE)
			bytes += t->sets[i].interval ? elems_bytes(2 * t->sets[i].n + 1,
								       ELEM_MAX_INTERVAL)
						     : elems_bytes(t->sets[i].n, ELEM_MAX_HOST);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		rules += t->chains[k].n;
		for (int p = 0; p < PC_PROTO_COUNT; p++)
			bytes += elems_bytes(2 * t->chains[k].maps[p].n + 1, ELEM_MAX_MAPPED);
	}
	for (size_t i = 0; i < t->nsubs; i++)
		for (int f = 0; f < 2; f++)
			bytes += elems_bytes(2 * t->subs[i].by_saddr[f].n + 1, ELEM_MAX_MAPPED);
	return bytes + rules * (1u << 10);
}

struct prefix_span {
	uintptr_t from, to;
	size_t set;
};

static int cmp_span(const void *a, const void *b)
{
	const struct prefix_span *x = a, *y = b;

	return x->from != y->from ? (x->from < y->from ? -1 : 1)
				  : (x->set > y->set) - (x->set < y->set);
}

/*
 * Which address sets of t may give their prefixes' pages back as they are
 * written (pc_nl_options.release_prefixes): those whose array no other set
 * of the table reaches into (rules that write the same peers share one
 * array; a literal's prefix is read again by its rule): a flag per set.
 */
static bool *releasable(const struct pc_nft_table *t)
{
	struct prefix_span *v = xcalloc(t->nsets + 1, sizeof(*v));
	bool *ok = xcalloc(t->nsets + 1, sizeof(*ok));
	size_t n = 0;

	for (size_t i = 0; i < t->nsets; i++)
		if (t->sets[i].type != PC_NFT_SET_SERVICE && t->sets[i].n)
			v[n++] = (struct prefix_span){(uintptr_t)t->sets[i].prefixes,
					(uintptr_t)(t->sets[i].prefixes + t->sets[i].n), i};
	qsort(v, n, sizeof(*v), cmp_span);
	/* A run of spans each starting before the furthest end of those before it overlaps. */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		uintptr_t end = v[i].to;
		for (; j < n && v[j].from < end; j++)
			end = v[j].to > end ? v[j].to : end;
		if (j == i + 1 && !t->sets[v[i].set].literal)
			ok[v[i].set] = true;
		i = j;
	}
	free(v);
	return ok;
}

void pc_nl_build(const struct pc_nft_table *t, const struct pc_nl_options *o, struct pc_nl_batch *b)
{
	static const int hooks[PC_NFT_HOOK_COUNT] = {
			[PC_NFT_HOOK_INPUT] = NF_INET_LOCAL_IN,
			[PC_NFT_HOOK_FORWARD] = NF_INET_FORWARD,
			[PC_NFT_HOOK_OUTPUT] = NF_INET_LOCAL_OUT,
	};
	uint32_t next_id = (uint32_t)t->nsets + 1;
	uint32_t map_ids[PC_NFT_HOOK_COUNT][PC_PROTO_COUNT];

	memset(b, 0, sizeof(*b));
	reserve(b, build_bytes(t));
	b->seq0 = o->seq;
	batch_marker(b, NFNL_MSG_BATCH_BEGIN, o->genid);
	table_msgs(b, t, o->stamp);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		chain_msg(b, t->name, pc_nft_hook_name(t->chains[k].hook), hooks[t->chains[k].hook],
				t->chains[k].policy == PC_VERDICT_ACCEPT ? NF_ACCEPT : NF_DROP);
	for (size_t i = 0; i < t->nsubs; i++)
		chain_msg(b, t->name, t->subs[i].name, -1, 0);

	/* Sets and maps in the order the text declares them. */
	bool *release = o->release_prefixes && !o->sets_empty ? releasable(t) : NULL;
	for (size_t i = 0; i < t->nsets; i++)
		if (!t->sets[i].literal && t->sets[i].type != PC_NFT_SET_SERVICE)
			address_set(b, t, &t->sets[i], set_id(t, &t->sets[i]), o,
					release && release[i]);
	free(release);
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++)
		for (int p = 0; p < PC_PROTO_COUNT; p++)
			if (t->chains[k].maps[p].n)
				port_map(b, t, &t->chains[k].maps[p], map_ids[k][p] = next_id++, o);
	uint32_t *sub_ids = xcalloc(t->nsubs * 2 + 1, sizeof(*sub_ids));
	for (size_t i = 0; i < t->nsubs; i++)
		for (int f = 0; f < 2; f++)
			if (t->subs[i].mapped && t->subs[i].by_saddr[f].n)
				address_map(b, t, &t->subs[i].by_saddr[f], f ? 6 : 4,
						sub_ids[2 * i + (size_t)f] = next_id++, o);

	struct rule_out ro = {.b = b, .t = t, .o = o, .next_id = &next_id};
	for (int k = 0; k < PC_NFT_HOOK_COUNT; k++) {
		const struct pc_nft_chain *c = &t->chains[k];
		const char *chain = pc_nft_hook_name(c->hook);
		for (size_t i = 0; i < c->n; i++)
			if (c->rules[i].kind != PC_NFT_POLICY_RULE)
				default_rule(&ro, c, &c->rules[i]);
		for (int p = 0; p < PC_PROTO_COUNT; p++) {
			const struct pc_nft_rule *r;
			const struct pc_nft_port_range *port;
			for (size_t i = 0, q = 0;
					pc_nft_inline_next(c, (enum pc_proto)p, &i, &q, &r, &port);)
				policy_rule(&ro, chain, r, r->comment, port);
			if (!c->maps[p].n)
				continue;
			rule_begin(&ro, chain);
			l4proto(&ro, proto_numbers[p]);
			payload(&ro, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
			lookup(&ro, c->maps[p].name, map_ids[k][p], true);
			rule_end(&ro, chain, NULL, NULL);
		}
	}
	for (size_t i = 0; i < t->nsubs; i++) {
		const struct pc_nft_subchain *sc = &t->subs[i];
		const struct pc_nft_chain *c = &t->chains[sc->base];
		for (int f = 0; sc->mapped && f < 2; f++) {
			if (!sc->by_saddr[f].n)
				continue;
			rule_begin(&ro, sc->name);
			nfproto(&ro, f ? 6 : 4);
			payload(&ro, NFT_PAYLOAD_NETWORK_HEADER, f ? 8 : 12, f ? 16 : 4);
			lookup(&ro, sc->by_saddr[f].name, sub_ids[2 * i + (size_t)f], true);
			rule_end(&ro, sc->name, NULL, NULL);
		}
		for (size_t k = 0; !sc->mapped && k < sc->n; k++) {
			const struct pc_nft_rule *r = &c->rules[sc->rules[k]];
			policy_rule(&ro, sc->name, r, sc->shared ? sc->comment : r->comment, NULL);
		}
	}
	free(sub_ids);
	if (o->commit)
		batch_marker(b, NFNL_MSG_BATCH_END, 0);
}

void pc_nl_build_remove(const char *table, const struct pc_nl_options *o, struct pc_nl_batch *b)
{
	struct nftnl_table *nt = nftnl_table_alloc();

	if (!nt)
		pc_oom_size(0);
	memset(b, 0, sizeof(*b));
	b->seq0 = o->seq;
	batch_marker(b, NFNL_MSG_BATCH_BEGIN, o->genid);
	nftnl_table_set_str(nt, NFTNL_TABLE_NAME, table);
	struct nlmsghdr *nlh = nft_msg(b, NFT_MSG_DELTABLE, 0, "table", table, NULL);
	nftnl_table_nlmsg_build_payload(nlh, nt);
	nftnl_table_free(nt);
	msg_end(b, nlh);
	if (o->commit)
		batch_marker(b, NFNL_MSG_BATCH_END, 0);
}

void pc_nl_batch_begin(struct pc_nl_batch *b, const struct pc_nl_options *o)
{
	memset(b, 0, sizeof(*b));
	b->seq0 = o->seq;
	batch_marker(b, NFNL_MSG_BATCH_BEGIN, o->genid);
}

void pc_nl_batch_end(struct pc_nl_batch *b, const struct pc_nl_options *o)
{
	if (o->commit)
		batch_marker(b, NFNL_MSG_BATCH_END, 0);
}

struct nlmsghdr *pc_nl_batch_msg(struct pc_nl_batch *b, uint16_t type, uint16_t flags,
		const char *what, const char *name)
{
	return nft_msg(b, type, flags, what, name, NULL);
}

void pc_nl_batch_msg_end(struct pc_nl_batch *b, struct nlmsghdr *nlh)
{
	msg_end(b, nlh);
}

void pc_nl_batch_finish(struct pc_nl_batch *b)
{
	free(b->buf);
	free(b->msgs);
	memset(b, 0, sizeof(*b));
}

void pc_nl_elems_raw(struct pc_nl_batch *b, uint16_t type, uint16_t flags, const char *table,
		const char *set, const struct pc_nl_raw_elem *e, size_t n)
{
	for (size_t i = 0; i < n;) {
		struct nlmsghdr *nlh = nft_msg(b, type, flags, "elements of set", set, NULL);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
		struct nlattr *list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		size_t k = 0, bytes = 0;
		for (; i < n && k < PC_NL_ELEMS_PER_MSG &&
				(!k || bytes + e[i].len + ELEM_OVERHEAD <= PC_NL_ELEMS_BYTES);
				i++, k++) {
			struct nlattr *el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
			memcpy(mnl_nlmsg_get_payload_tail(nlh), e[i].data, e[i].len);
			nlh->nlmsg_len += MNL_ALIGN(e[i].len);
			mnl_attr_nest_end(nlh, el);
			bytes += e[i].len + ELEM_OVERHEAD;
		}
		mnl_attr_nest_end(nlh, list);
		msg_end(b, nlh);
		if (type == NFT_MSG_NEWSETELEM)
			b->nelems += k;
	}
}

void pc_nl_batch_copy(struct pc_nl_batch *b, const struct nlmsghdr *src, uint16_t flags,
		const char *what, const char *name)
{
	struct nlmsghdr *nlh = msg_begin(b, what, name, NULL);

	memcpy(nlh, src, src->nlmsg_len);
	nlh->nlmsg_seq = next_seq(b);
	nlh->nlmsg_flags |= flags;
	switch (nlh->nlmsg_type & 0xff) {
	case NFT_MSG_NEWRULE:
		b->nrules++;
		break;
	case NFT_MSG_NEWSET:
		b->nsets++;
		break;
	case NFT_MSG_NEWCHAIN:
		b->nchains++;
		break;
	}
	msg_end(b, nlh);
}
