/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Delta apply (portcullis/delta.h): the objects of a replacing transaction
 * read back off its messages, kept in a state file, compared with the next
 * policy's, and the difference sent as one transaction.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "apply/dump.h"
#include "portcullis/delta.h"
#include "newfile.h"
#include "sha256.h"
#include "util.h"

#define NONE ((size_t)-1)

static const char magic[8] = {'p', 'c', 'd', 'e', 'l', 't', 'a', '\n'};
#define FORMAT 2 /* 1: a checksum of one sum */
#define VERSION_MAX 32

void pc_dl_state_init(struct pc_dl_state *s)
{
	memset(s, 0, sizeof(*s));
}

void pc_dl_state_finish(struct pc_dl_state *s)
{
	for (size_t i = 0; i < s->nsets; i++) {
		free(s->sets[i].elems);
		if (!s->sets[i].mapped)
			free(s->sets[i].recs);
	}
	if (s->map)
		munmap(s->map, s->maplen);
	for (size_t i = 0; i < s->nchains; i++) {
		free(s->chains[i].msgs);
		free(s->chains[i].handles);
	}
	free(s->sets);
	free(s->chains);
	free(s->bytes);
	free(s->policy_path);
	memset(s, 0, sizeof(*s));
}

static struct pc_dl_span put(struct pc_dl_state *s, const void *p, size_t len)
{
	if (s->cap - s->len < len) {
		size_t cap = s->cap ? s->cap : 1 << 16;
		while (cap - s->len < len)
			cap *= 2;
		if (cap > UINT32_MAX)
			pc_oom_size(cap);
		s->bytes = xrealloc(s->bytes, cap);
		s->cap = cap;
	}
	struct pc_dl_span sp = {(uint32_t)s->len, (uint32_t)len};
	if (len)
		memcpy(s->bytes + s->len, p, len);
	s->len += len;
	return sp;
}

static const uint8_t *at(const struct pc_dl_state *s, struct pc_dl_span sp)
{
	return s->bytes + sp.off;
}

static bool span_eq(const struct pc_dl_state *a, struct pc_dl_span x, const struct pc_dl_state *b,
		struct pc_dl_span y)
{
	return x.len == y.len && !memcmp(at(a, x), at(b, y), x.len);
}

static struct pc_dl_set *new_set(struct pc_dl_state *s, const char *name)
{
	if (s->nsets == s->setcap) {
		s->setcap = s->setcap ? 2 * s->setcap : 16;
		s->sets = xreallocarray(s->sets, s->setcap, sizeof(*s->sets));
	}
	struct pc_dl_set *x = &s->sets[s->nsets++];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	return x;
}

static struct pc_dl_chain *new_chain(struct pc_dl_state *s, const char *name)
{
	if (s->nchains == s->chaincap) {
		s->chaincap = s->chaincap ? 2 * s->chaincap : 16;
		s->chains = xreallocarray(s->chains, s->chaincap, sizeof(*s->chains));
	}
	struct pc_dl_chain *c = &s->chains[s->nchains++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->policy = -1;
	return c;
}

static void elem_push(struct pc_dl_set *x, struct pc_dl_span sp)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 16;
		x->elems = xreallocarray(x->elems, x->cap, sizeof(*x->elems));
	}
	x->elems[x->n++] = sp;
}

/*
 * Element kinds in the file and in a set's records: the attributes as they
 * are (RAW, never a record), or only a key (START) or a key flagged as an
 * interval's end (END), the attributes made again from it (elem_make()).
 */
enum {
	RAW,
	START,
	END
};

static size_t elem_make(int kind, const uint8_t *k, uint32_t klen, uint8_t out[64]);

static size_t rec_len(const struct pc_dl_set *x)
{
	return 1 + (size_t)x->klen;
}

/* Record i of x, which keeps records or keys: where it is, or made in buf. */
static const uint8_t *rec_at(const struct pc_dl_set *x, size_t i, uint8_t buf[17])
{
	if (!x->keys)
		return x->recs + i * rec_len(x);
	const uint8_t *key = x->keys + i * x->kstride;
	buf[0] = START;
	if (x->klen == 4)
		memcpy(buf + 1, key, 4); /* a constant length: no call */
	else
		memcpy(buf + 1, key, x->klen);
	return buf;
}

/* The set's records made spans of attributes: it is given an element records cannot hold. */
static void recs_unpack(struct pc_dl_state *s, struct pc_dl_set *x)
{
	uint8_t made[64], rec[17];
	struct pc_dl_set was = *x;

	x->recs = NULL;
	x->keys = NULL;
	x->n = x->cap = 0;
	for (size_t i = 0; i < was.n; i++) {
		const uint8_t *r = rec_at(&was, i, rec);
		elem_push(x, put(s, made, elem_make(r[0], r + 1, x->klen, made)));
	}
	if (!was.mapped)
		free(was.recs);
	x->mapped = false;
}

/* An element of its attributes (a span of s). */
static void elem_raw(struct pc_dl_state *s, struct pc_dl_set *x, struct pc_dl_span sp)
{
	if (x->recs || x->keys)
		recs_unpack(s, x);
	elem_push(x, sp);
}

/* Room in x's records for `more` of them (x->klen set): doubled, at least 64. */
static void recs_reserve(struct pc_dl_set *x, size_t more)
{
	if (x->cap - x->n >= more)
		return;
	size_t cap = x->cap ? 2 * x->cap : 64;
	while (cap - x->n < more)
		cap *= 2;
	if (x->keys) {
		/* Keys where the model keeps them: made records before they grow. */
		uint8_t *v = xreallocarray(NULL, cap, rec_len(x));
		for (size_t i = 0; i < x->n; i++)
			rec_at(x, i, v + i * rec_len(x));
		x->recs = v;
		x->keys = NULL;
	} else if (x->mapped) {
		/* Records in the file's mapping: copied out before they grow. */
		uint8_t *v = xreallocarray(NULL, cap, rec_len(x));
		memcpy(v, x->recs, x->n * rec_len(x));
		x->recs = v;
		x->mapped = false;
	} else {
		x->recs = xreallocarray(x->recs, cap, rec_len(x));
	}
	x->cap = cap;
}

/* An element that is a key alone (START) or an interval's end (END). */
static void elem_plain(struct pc_dl_state *s, struct pc_dl_set *x, int kind, const uint8_t *k,
		uint32_t klen)
{
	if (x->elems || klen > 16 || !klen || (x->n && klen != x->klen)) {
		uint8_t made[64];
		elem_raw(s, x, put(s, made, elem_make(kind, k, klen, made)));
		return;
	}
	x->klen = klen;
	recs_reserve(x, 1);
	size_t at = x->n * rec_len(x);
	pc_pages_ahead(x->recs, at, at + rec_len(x), x->cap * rec_len(x));
	uint8_t *r = x->recs + x->n++ * rec_len(x);
	r[0] = (uint8_t)kind;
	memcpy(r + 1, k, klen);
}

/* Element i of x as its attributes: in s's bytes, or made in buf from its record. */
static const uint8_t *elem_at(const struct pc_dl_state *s, const struct pc_dl_set *x, size_t i,
		uint8_t buf[64], uint32_t *len)
{
	if (!x->elems) {
		uint8_t rec[17];
		const uint8_t *r = rec_at(x, i, rec);
		*len = (uint32_t)elem_make(r[0], r + 1, x->klen, buf);
		return buf;
	}
	*len = x->elems[i].len;
	return at(s, x->elems[i]);
}

/*
 * What compares element i of x: its record when `recs` (both sets compared
 * keep records of one key length: records are alike exactly when the
 * attributes made of them are), else its attributes.
 */
static const uint8_t *elem_cmpable(const struct pc_dl_state *s, const struct pc_dl_set *x, size_t i,
		bool recs, uint8_t buf[64], uint32_t *len)
{
	if (recs) {
		*len = (uint32_t)rec_len(x);
		return rec_at(x, i, buf);
	}
	return elem_at(s, x, i, buf, len);
}

static void msg_push(struct pc_dl_chain *c, size_t off)
{
	if (c->nmsgs == c->msgcap) {
		c->msgcap = c->msgcap ? 2 * c->msgcap : 8;
		c->msgs = xreallocarray(c->msgs, c->msgcap, sizeof(*c->msgs));
	}
	c->msgs[c->nmsgs++] = off;
}

/* ---- names looked up: an open-addressing index, index + 1, 0 empty ---- */

struct index {
	size_t *slot;
	size_t mask;
};

static void index_init(struct index *ix, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 2)
		cap *= 2;
	ix->slot = xcalloc(cap, sizeof(*ix->slot));
	ix->mask = cap - 1;
}

/* The slot of `name`: where it is, or the empty one it would take. */
static size_t *index_slot(const struct index *ix, const char *name,
		const char *(*name_of)(const void *, size_t), const void *arr)
{
	size_t i = pc_name_hash(name) & ix->mask;

	while (ix->slot[i] && strcmp(name_of(arr, ix->slot[i] - 1), name))
		i = (i + 1) & ix->mask;
	return &ix->slot[i];
}

static const char *set_name_of(const void *arr, size_t i)
{
	return ((const struct pc_dl_set *)arr)[i].name;
}

static const char *chain_name_of(const void *arr, size_t i)
{
	return ((const struct pc_dl_chain *)arr)[i].name;
}

static size_t find_set(const struct index *ix, const struct pc_dl_state *s, const char *name)
{
	size_t v = *index_slot(ix, name, set_name_of, s->sets);
	return v ? v - 1 : NONE;
}

static size_t find_chain(const struct index *ix, const struct pc_dl_state *s, const char *name)
{
	size_t v = *index_slot(ix, name, chain_name_of, s->chains);
	return v ? v - 1 : NONE;
}

static void index_sets(struct index *ix, const struct pc_dl_state *s)
{
	index_init(ix, s->nsets);
	for (size_t i = 0; i < s->nsets; i++)
		*index_slot(ix, s->sets[i].name, set_name_of, s->sets) = i + 1;
}

static void index_chains(struct index *ix, const struct pc_dl_state *s)
{
	index_init(ix, s->nchains);
	for (size_t i = 0; i < s->nchains; i++)
		*index_slot(ix, s->chains[i].name, chain_name_of, s->chains) = i + 1;
}

/* ---- reading a batch ---- */

static const struct nlattr *attr_of(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(
			a, nlh, sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) == type) return a;
	return NULL;
}

static const char *str_of(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a = attr_of(nlh, type);
	return a ? mnl_attr_get_str(a) : "";
}

/* The attributes of a message but those of type `skip` (0: none), appended to buf. */
static void attrs_but(const struct nlmsghdr *nlh, uint16_t skip, struct pc_buf *buf)
{
	const struct nlattr *a;

	mnl_attr_for_each(
			a, nlh, sizeof(struct nfgenmsg)) if (!skip || mnl_attr_get_type(a) != skip)
			pc_buf_add(buf, a, MNL_ALIGN(a->nla_len));
}

static void hex_bytes(const char hex[65], uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/*
 * A rule's attributes with the ids of the sets it looks up zeroed (they
 * number the sets of one transaction); the named sets it looks up are
 * appended to refs, each NUL-terminated.
 */
static void rule_canonical(const struct nlmsghdr *nlh, struct pc_buf *out, struct pc_buf *refs)
{
	size_t start = out->len;

	attrs_but(nlh, 0, out);
	char *p = out->data + start, *end = out->data + out->len;
	for (struct nlattr *a = (struct nlattr *)p;
			(char *)a + sizeof(*a) <= end && a->nla_len >= sizeof(*a);
			a = (struct nlattr *)((char *)a + MNL_ALIGN(a->nla_len))) {
		if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS)
			continue;
		struct nlattr *e;
		mnl_attr_for_each_nested(e, a)
		{
			const struct nlattr *name = NULL;
			struct nlattr *data = NULL, *x;
			mnl_attr_for_each_nested(x, e)
			{
				if (mnl_attr_get_type(x) == NFTA_EXPR_NAME)
					name = x;
				else if (mnl_attr_get_type(x) == NFTA_EXPR_DATA)
					data = x;
			}
			if (!name || !data || strcmp(mnl_attr_get_str(name), "lookup"))
				continue;
			mnl_attr_for_each_nested(x, data)
			{
				if (mnl_attr_get_type(x) == NFTA_LOOKUP_SET_ID)
					memset(mnl_attr_get_payload(x), 0,
							mnl_attr_get_payload_len(x));
				else if (mnl_attr_get_type(x) == NFTA_LOOKUP_SET &&
						strncmp(mnl_attr_get_str(x), "__set", 5))
					pc_buf_add(refs, mnl_attr_get_str(x),
							strlen(mnl_attr_get_str(x)) + 1);
			}
		}
	}
}

struct reading {
	struct pc_dl_state *s;
	bool elems; /* named sets' elements read off the batch (pc_dl_from_batch()) */
	struct index sets, chains;
	struct pc_sha256 *hash; /* per chain */
	struct pc_buf *refs; /* per chain */
	size_t hashcap;
	struct pc_buf anon; /* the anonymous sets the next rule looks up */
	size_t *anon_msgs;
	size_t nanon, anoncap;
	struct pc_buf tmp;
	/*
	 * pc_dl_from_sent_batch(): the batch's bytes, and the run of named
	 * sets' element messages read off them and not given back yet.
	 */
	const uint8_t *give;
	size_t give_lo, give_hi;
};

/* A run of element messages is given back once PC_RELEASE_STEP long; a shorter one is kept. */
static void give_back(struct reading *rd)
{
	if (rd->give_hi - rd->give_lo >= PC_RELEASE_STEP)
		pc_pages_release(rd->give + rd->give_lo, rd->give_hi - rd->give_lo);
	rd->give_lo = rd->give_hi = 0;
}

/*
 * The element message at off..next was read whole into the state: its bytes
 * are read no more (an anonymous set's, whose offset a chain keeps, is not).
 */
static void given(struct reading *rd, size_t off, size_t next)
{
	if (rd->give_hi != off) {
		give_back(rd);
		rd->give_lo = off;
	}
	rd->give_hi = next;
	if (rd->give_hi - rd->give_lo >= PC_RELEASE_STEP)
		give_back(rd);
}

static void read_chain(struct reading *rd, const struct nlmsghdr *nlh)
{
	struct pc_dl_state *s = rd->s;
	const char *name = str_of(nlh, NFTA_CHAIN_NAME);
	size_t *slot = index_slot(&rd->chains, name, chain_name_of, s->chains);

	if (*slot)
		return; /* declared again: the first declaration stands */
	/* index_slot may move when the array grows: chains are few, index rebuilt */
	struct pc_dl_chain *c = new_chain(s, name);
	rd->tmp.len = 0;
	attrs_but(nlh, 0, &rd->tmp);
	c->decl = put(s, rd->tmp.data, rd->tmp.len);
	const struct nlattr *pol = attr_of(nlh, NFTA_CHAIN_POLICY);
	if (pol)
		c->policy = (int32_t)ntohl(mnl_attr_get_u32(pol));
	if (s->nchains * 2 + 2 > rd->chains.mask) {
		free(rd->chains.slot);
		index_chains(&rd->chains, s);
	} else {
		*index_slot(&rd->chains, name, chain_name_of, s->chains) = s->nchains;
	}
	if (s->nchains > rd->hashcap) {
		size_t old = rd->hashcap;
		rd->hashcap = s->chaincap;
		rd->hash = xreallocarray(rd->hash, rd->hashcap, sizeof(*rd->hash));
		rd->refs = xreallocarray(rd->refs, rd->hashcap, sizeof(*rd->refs));
		for (size_t i = old; i < rd->hashcap; i++) {
			pc_sha256_init(&rd->hash[i]);
			pc_buf_init(&rd->refs[i]);
		}
	}
}

static void read_set(struct reading *rd, const struct nlmsghdr *nlh, size_t off)
{
	struct pc_dl_state *s = rd->s;
	const struct nlattr *flags = attr_of(nlh, NFTA_SET_FLAGS);

	if (flags && (ntohl(mnl_attr_get_u32(flags)) & NFT_SET_ANONYMOUS)) {
		attrs_but(nlh, NFTA_SET_ID, &rd->anon);
		if (rd->nanon == rd->anoncap) {
			rd->anoncap = rd->anoncap ? 2 * rd->anoncap : 8;
			rd->anon_msgs = xreallocarray(rd->anon_msgs, rd->anoncap, sizeof(size_t));
		}
		rd->anon_msgs[rd->nanon++] = off;
		return;
	}
	struct pc_dl_set *x = new_set(s, str_of(nlh, NFTA_SET_NAME));
	rd->tmp.len = 0;
	attrs_but(nlh, NFTA_SET_ID, &rd->tmp);
	x->decl = put(s, rd->tmp.data, rd->tmp.len);
	x->msg_off = off;
	if (s->nsets * 2 + 2 > rd->sets.mask) {
		free(rd->sets.slot);
		index_sets(&rd->sets, s);
	} else {
		*index_slot(&rd->sets, x->name, set_name_of, s->sets) = s->nsets;
	}
}

static void named_elems(struct reading *rd, const struct nlmsghdr *nlh, const char *name);

/*
 * A rule's anonymous set's elements; a named set's come from the model
 * (model_elems()), or with rd->elems off the message (named_elems()).
 */
static void read_elems(struct reading *rd, const struct nlmsghdr *nlh, size_t off)
{
	const char *name = str_of(nlh, NFTA_SET_ELEM_LIST_SET);

	if (strncmp(name, "__set", 5)) {
		if (rd->elems)
			named_elems(rd, nlh, name);
		if (rd->elems && rd->give)
			given(rd, off, off + NLMSG_ALIGN(nlh->nlmsg_len));
		return;
	}
	attrs_but(nlh, NFTA_SET_ELEM_LIST_SET_ID, &rd->anon);
	if (rd->nanon == rd->anoncap) {
		rd->anoncap = rd->anoncap ? 2 * rd->anoncap : 8;
		rd->anon_msgs = xreallocarray(rd->anon_msgs, rd->anoncap, sizeof(size_t));
	}
	rd->anon_msgs[rd->nanon++] = off;
}

/* Where the model's walk puts a set's elements. */
struct elem_sink {
	struct pc_dl_state *s;
	struct pc_dl_set *x;
	struct pc_nl_batch scratch; /* the few elements that carry more than a key */
};

/*
 * One element of the walk as the batch writes it: a key, or an interval's
 * end, in the attributes the state file makes them of (elem_make(), what
 * libnftnl writes); one that carries more (a verdict, a comment, the open
 * flag) encoded by the batch's own writer.
 */
static void model_elem(void *arg, const struct pc_nl_elem *e)
{
	struct elem_sink *k = arg;
	uint8_t buf[PC_NFT_COMMENT_MAX + PC_NFT_NAME_MAX + 256];
	size_t len;

	if (!e->open && e->verdict < 0 && !e->chain && (e->end || !e->comment)) {
		struct pc_dl_set *x = k->x;
		/* A key of the length of those before, and room for it: a record, in place. */
		if (x->recs && x->n < x->cap && e->key_len == x->klen) {
			uint8_t *r = x->recs + x->n++ * rec_len(x);
			r[0] = e->end ? END : START;
			memcpy(r + 1, e->key, e->key_len);
			return;
		}
		elem_plain(k->s, x, e->end ? END : START, e->key, e->key_len);
		return;
	}
	len = pc_nl_elem_attrs(&k->scratch, k->s->table, e, buf, sizeof(buf));
	elem_raw(k->s, k->x, put(k->s, buf, len));
}

/*
 * One element of a named set as the batch wrote it (its attributes),
 * kept as model_elem() keeps it: one that is what elem_make() makes of its
 * key (the key alone, or the interval-end flag and the key; read here
 * without a call per attribute: a large set has a million) as a record,
 * any other as its attributes.  The batch writes the walk's elements (one
 * writer for both), so the set is the one model_elem() makes.
 */
static void batch_elem(struct pc_dl_state *s, struct pc_dl_set *x, const uint8_t *a, size_t len)
{
	struct nlattr h[2];
	size_t off = 0;
	int kind = START;
	uint32_t v;

	if (len >= 8) {
		memcpy(h, a, sizeof(h[0]));
		memcpy(&v, a + 4, 4);
		if (h[0].nla_len == 8 && h[0].nla_type == NFTA_SET_ELEM_FLAGS &&
				v == htonl(NFT_SET_ELEM_INTERVAL_END)) {
			kind = END;
			off = 8;
		}
	}
	if (len - off >= 8) {
		memcpy(h, a + off, sizeof(h));
		uint32_t klen = h[1].nla_len >= 4 ? h[1].nla_len - 4u : 0;
		const uint8_t *k = a + off + 8;
		static const uint8_t zero[4];
		if (h[0].nla_type == (NFTA_SET_ELEM_KEY | NLA_F_NESTED) &&
				h[0].nla_len == len - off && h[1].nla_type == NFTA_DATA_VALUE &&
				klen && klen <= 16 && 8 + MNL_ALIGN(klen) == len - off &&
				!memcmp(k + klen, zero, MNL_ALIGN(klen) - klen)) {
			elem_plain(s, x, kind, k, klen);
			return;
		}
	}
	elem_raw(s, x, put(s, a, len));
}

/* A named set's elements off its NEWSETELEM message. */
static void named_elems(struct reading *rd, const struct nlmsghdr *nlh, const char *name)
{
	size_t i = find_set(&rd->sets, rd->s, name);
	const struct nlattr *list = attr_of(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);

	if (i == NONE || !list)
		return;
	const uint8_t *p = mnl_attr_get_payload(list), *end = p + mnl_attr_get_payload_len(list);
	while (end - p >= 4) {
		struct nlattr e;
		memcpy(&e, p, sizeof(e));
		if (e.nla_len < 4 || e.nla_len > end - p)
			break;
		batch_elem(rd->s, &rd->s->sets[i], p + 4, e.nla_len - 4u);
		p += MNL_ALIGN(e.nla_len);
	}
}

static void read_rule(struct reading *rd, const struct nlmsghdr *nlh, size_t off)
{
	struct pc_dl_state *s = rd->s;
	size_t i = find_chain(&rd->chains, s, str_of(nlh, NFTA_RULE_CHAIN));

	if (i == NONE)
		return;
	struct pc_dl_chain *c = &s->chains[i];
	for (size_t k = 0; k < rd->nanon; k++)
		msg_push(c, rd->anon_msgs[k]);
	msg_push(c, off);
	rd->tmp.len = 0;
	rule_canonical(nlh, &rd->tmp, &rd->refs[i]);
	uint32_t lens[2] = {(uint32_t)rd->anon.len, (uint32_t)rd->tmp.len};
	pc_sha256_update(&rd->hash[i], lens, sizeof(lens));
	pc_sha256_update(&rd->hash[i], rd->anon.data, rd->anon.len);
	pc_sha256_update(&rd->hash[i], rd->tmp.data, rd->tmp.len);
	rd->anon.len = 0;
	rd->nanon = 0;
	c->nrules++;
}

/*
 * pc_dl_from_model(), or with t NULL pc_dl_from_batch(); with `give`, the
 * batch's named element messages given back as they are read.
 */
static void from_transaction(const struct pc_nft_table *t, const struct pc_nl_batch *b,
		const char *table, struct pc_dl_state *s, bool give)
{
	struct reading rd = {.s = s, .elems = !t, .give = give ? (const uint8_t *)b->buf : NULL};

	pc_dl_state_init(s);
	snprintf(s->table, sizeof(s->table), "%s", table);
	s->batch = b;
	index_init(&rd.sets, 0);
	index_init(&rd.chains, 0);
	pc_buf_init(&rd.anon);
	pc_buf_init(&rd.tmp);
	for (size_t off = 0; off + sizeof(struct nlmsghdr) <= b->len;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(b->buf + off);
		size_t next = off + NLMSG_ALIGN(nlh->nlmsg_len);
		if ((nlh->nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES) {
			switch (nlh->nlmsg_type & 0xff) {
			case NFT_MSG_NEWCHAIN:
				read_chain(&rd, nlh);
				break;
			case NFT_MSG_NEWSET:
				read_set(&rd, nlh, off);
				break;
			case NFT_MSG_NEWSETELEM:
				read_elems(&rd, nlh, off);
				break;
			case NFT_MSG_NEWRULE:
				read_rule(&rd, nlh, off);
				break;
			}
		}
		off = next;
	}
	give_back(&rd);
	struct elem_sink k = {.s = s};
	for (size_t i = 0; t && i < s->nsets; i++) {
		k.x = &s->sets[i];
		const struct pc_prefix *v;
		size_t n;
		uint32_t klen;
		if (pc_nl_set_keys(t, k.x->name, &v, &n, &klen) && klen <= 16) {
			/*
			 * Keys alone: read where the model keeps them, no record made
			 * (a large set's would be as many new pages, each first written).
			 */
			struct pc_dl_set *x = k.x;
			if (n) {
				x->klen = klen;
				x->keys = v[0].bytes;
				x->kstride = sizeof(*v);
			}
			x->n = x->cap = n; /* full: one more makes them records (recs_reserve()) */
			continue;
		}
		pc_nl_set_elems(t, k.x->name, model_elem, &k);
	}
	pc_nl_batch_finish(&k.scratch);
	for (size_t i = 0; i < s->nchains; i++) {
		char hex[65];
		pc_sha256_hex(&rd.hash[i], hex);
		hex_bytes(hex, s->chains[i].rules);
		s->chains[i].refs = put(s, rd.refs[i].data, rd.refs[i].len);
		pc_buf_finish(&rd.refs[i]);
	}
	for (size_t i = s->nchains; i < rd.hashcap; i++)
		pc_buf_finish(&rd.refs[i]);
	free(rd.hash);
	free(rd.refs);
	free(rd.sets.slot);
	free(rd.chains.slot);
	free(rd.anon_msgs);
	pc_buf_finish(&rd.anon);
	pc_buf_finish(&rd.tmp);
}

void pc_dl_from_model(const struct pc_nft_table *t, const struct pc_nl_batch *b, const char *table,
		struct pc_dl_state *s)
{
	from_transaction(t, b, table, s, false);
}

void pc_dl_from_batch(const struct pc_nl_batch *b, const char *table, struct pc_dl_state *s)
{
	from_transaction(NULL, b, table, s, false);
}

void pc_dl_from_sent_batch(struct pc_nl_batch *b, const char *table, struct pc_dl_state *s)
{
	from_transaction(NULL, b, table, s, true);
	s->batch = NULL;
}

/* ---- the state file ---- */

/*
 * A checksum against a file cut or damaged (the file is root's alone):
 * its 32-byte blocks, a word to each of four sums (independent, so the
 * processor works on them at once), the sums folded into one, then the
 * words and bytes after the last block; taken in as the file is written in
 * pieces (sum_add()) or read whole (checksum()).
 */
#define SUM_PRIME 0x100000001b3u

struct sum {
	uint64_t h[4];
	uint8_t w[32]; /* the bytes of a block not yet whole */
	size_t nw;
};

static void sum_init(struct sum *c)
{
	for (int j = 0; j < 4; j++)
		c->h[j] = 0xcbf29ce484222325u ^ (uint64_t)j;
	c->nw = 0;
}

static uint64_t sum_mix(uint64_t h, const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	h = (h ^ w) * SUM_PRIME;
	return h ^ (h >> 29);
}

static void sum_block(struct sum *c, const uint8_t *p)
{
	for (int j = 0; j < 4; j++)
		c->h[j] = sum_mix(c->h[j], p + 8 * j);
}

static void sum_add(struct sum *c, const uint8_t *p, size_t n)
{
	for (; n && c->nw; n--) {
		c->w[c->nw++] = *p++;
		if (c->nw == 32) {
			sum_block(c, c->w);
			c->nw = 0;
		}
	}
	if (!n)
		return;
	for (; n >= 32; p += 32, n -= 32)
		sum_block(c, p);
	memcpy(c->w, p, n);
	c->nw = n;
}

static uint64_t sum_end(struct sum *c)
{
	uint64_t h = c->h[0];
	size_t i = 0;
	uint8_t lanes[24];

	memcpy(lanes, &c->h[1], 24);
	for (int j = 0; j < 3; j++)
		h = sum_mix(h, lanes + 8 * j);
	for (; i + 8 <= c->nw; i += 8)
		h = sum_mix(h, c->w + i);
	for (; i < c->nw; i++)
		h = (h ^ c->w[i]) * SUM_PRIME;
	return h ^ (h >> 32);
}

static uint64_t checksum(const uint8_t *p, size_t n)
{
	struct sum c;

	sum_init(&c);
	sum_add(&c, p, n);
	return sum_end(&c);
}

/* The key length a set declares (NFTA_SET_KEY_LEN); 0 when it cannot be read. */
static uint32_t key_len(const struct pc_dl_state *s, const struct pc_dl_set *x)
{
	const uint8_t *p = at(s, x->decl), *end = p + x->decl.len;

	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const void *)p;
		if (a->nla_len < sizeof(*a) || p + a->nla_len > end)
			return 0;
		if (mnl_attr_get_type(a) == NFTA_SET_KEY_LEN && a->nla_len == 8)
			return ntohl(mnl_attr_get_u32(a));
		p += MNL_ALIGN(a->nla_len);
	}
	return 0;
}

/* The attributes of a START or END element of key k into out; their length. */
static size_t elem_make(int kind, const uint8_t *k, uint32_t klen, uint8_t out[64])
{
	size_t n = 0;

	memset(out, 0, 64);
	if (kind == END) {
		struct nlattr f = {8, NFTA_SET_ELEM_FLAGS};
		uint32_t v = htonl(NFT_SET_ELEM_INTERVAL_END);
		memcpy(out, &f, 4);
		memcpy(out + 4, &v, 4);
		n = 8;
	}
	struct nlattr nest = {
			(uint16_t)(4 + MNL_ALIGN(4 + klen)), NFTA_SET_ELEM_KEY | NLA_F_NESTED};
	struct nlattr val = {(uint16_t)(4 + klen), NFTA_DATA_VALUE};
	memcpy(out + n, &nest, 4);
	memcpy(out + n + 4, &val, 4);
	memcpy(out + n + 8, k, klen);
	return n + 8 + MNL_ALIGN(klen);
}

static void wr(struct pc_buf *b, const void *p, size_t n)
{
	pc_buf_add(b, p, n);
}

static void wr_u32(struct pc_buf *b, uint32_t v)
{
	wr(b, &v, sizeof(v));
}

static void wr_span(struct pc_buf *b, const struct pc_dl_state *s, struct pc_dl_span sp)
{
	wr_u32(b, sp.len);
	wr(b, at(s, sp), sp.len);
}

/* A name or comment: its length in a byte, then its bytes. */
static void wr_name(struct pc_buf *b, const char *name)
{
	uint8_t n = (uint8_t)strlen(name);
	wr(b, &n, 1);
	wr(b, name, n);
}

/*
 * The file as it is written: the small fields gathered in b, written
 * before what comes next (a set's records, written from where they are:
 * a large set's are not copied), the checksum taken in as the bytes go.
 */
struct out {
	struct pc_buf b;
	int fd;
	int err; /* the first write's error: nothing is written after it */
	struct sum sum;
};

static void out_write(struct out *o, const uint8_t *p, size_t n)
{
	sum_add(&o->sum, p, n);
	while (n && !o->err) {
		ssize_t w = write(o->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 && errno ? errno : EIO;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* b's bytes written, then p's n bytes as they are. */
static void wr_ref(struct out *o, const uint8_t *p, size_t n)
{
	out_write(o, (const uint8_t *)o->b.data, o->b.len);
	o->b.len = 0;
	if (n)
		out_write(o, p, n);
}

/* Records made of keys at a time, in a buffer used again. */
#define KEYS_BLOCK 4096

static void wr_keys(struct out *o, const struct pc_dl_set *x)
{
	size_t rl = rec_len(x);
	uint8_t *blk = xreallocarray(NULL, KEYS_BLOCK, rl);

	for (size_t i = 0; i < x->n;) {
		size_t k = x->n - i < KEYS_BLOCK ? x->n - i : KEYS_BLOCK;
		for (size_t j = 0; j < k; j++)
			rec_at(x, i + j, blk + j * rl);
		wr_ref(o, blk, k * rl);
		i += k;
	}
	free(blk);
}

static void wr_elems(struct out *o, const struct pc_dl_state *s, const struct pc_dl_set *x)
{
	struct pc_buf *b = &o->b;
	uint32_t klen = key_len(s, x);
	uint8_t made[64];

	wr_u32(b, (uint32_t)x->n);
	wr_u32(b, klen);
	if (!x->elems && x->n && x->klen == klen) {
		if (x->keys)
			wr_keys(o, x);
		else
			wr_ref(o, x->recs, x->n * rec_len(x)); /* as the file writes them */
		return;
	}
	for (size_t i = 0; i < x->n; i++) {
		uint8_t buf[64];
		uint32_t len;
		const uint8_t *p = elem_at(s, x, i, buf, &len);
		uint8_t kind = RAW;
		if (klen && klen <= 16) {
			if (len == elem_make(START, p + 8, klen, made) && !memcmp(p, made, len))
				kind = START;
			else if (len > 16 && len == elem_make(END, p + 16, klen, made) &&
					!memcmp(p, made, len))
				kind = END;
		}
		wr(b, &kind, 1);
		if (kind == START)
			wr(b, p + 8, klen);
		else if (kind == END)
			wr(b, p + 16, klen);
		else {
			wr_u32(b, len);
			wr(b, p, len);
		}
	}
}

int pc_dl_write(const struct pc_dl_state *s, const char *path, const char *version)
{
	struct out o = {.fd = -1};
	struct pc_buf *b = &o.b;
	char ver[VERSION_MAX] = {0};
	struct pc_newfile nf;

	/* Without a name until it is whole: an apply killed meanwhile leaves nothing. */
	if (pc_newfile_open(&nf, AT_FDCWD, path, 0600) < 0)
		return -1;
	o.fd = nf.fd;
	pc_buf_init(b);
	sum_init(&o.sum);
	wr(b, magic, sizeof(magic));
	wr_u32(b, FORMAT);
	wr_u32(b, PC_DL_MODEL_VERSION);
	snprintf(ver, sizeof(ver), "%s", version);
	wr(b, ver, sizeof(ver));
	wr_name(b, s->table);
	wr_name(b, s->comment);
	wr(b, s->table_sha256, 32);
	wr(b, &s->table_time, 8);
	wr(b, s->policy_sha256, 32);
	wr(b, &s->policy_time, 8);
	wr_u32(b, s->policy_path ? (uint32_t)strlen(s->policy_path) + 1 : 0);
	if (s->policy_path)
		wr(b, s->policy_path, strlen(s->policy_path) + 1);
	wr_u32(b, s->genid);
	wr_u32(b, (uint32_t)s->nsets);
	wr_u32(b, (uint32_t)s->nchains);
	for (size_t i = 0; i < s->nsets; i++) {
		wr_name(b, s->sets[i].name);
		wr_span(b, s, s->sets[i].decl);
		wr_elems(&o, s, &s->sets[i]);
	}
	for (size_t i = 0; i < s->nchains; i++) {
		const struct pc_dl_chain *c = &s->chains[i];
		wr_name(b, c->name);
		wr_span(b, s, c->decl);
		wr(b, c->rules, 32);
		wr_u32(b, c->nrules);
		wr(b, &c->policy, 4);
		wr_span(b, s, c->refs);
		wr_u32(b, (uint32_t)c->nhandles);
		wr(b, c->handles, c->nhandles * sizeof(*c->handles));
	}
	wr_ref(&o, NULL, 0);
	uint64_t sum = sum_end(&o.sum);
	out_write(&o, (const uint8_t *)&sum, 8);
	int err = o.err;
	/*
	 * No fsync: the record only saves the next apply from replacing the
	 * whole table.  One a crash cut short is refused by its checksum, one
	 * that is stale by the live table's generation, and apply then
	 * replaces the table; and it lives under /run, a tmpfs no reboot keeps.
	 * On a disk, fsync took 1.7 to 47 ms of a delta that takes 30.
	 */
	if (pc_newfile_done(&nf, !err) < 0 && !err)
		err = errno;
	pc_buf_finish(b);
	errno = err;
	return err ? -1 : 0;
}

struct rd {
	const uint8_t *p;
	size_t len, pos;
	bool short_;
	size_t given; /* bytes from p given back (mapped: see rd_give_back) */
	bool mapped;
	bool lent; /* a set's records point into p: nothing more is given back */
};

/*
 * A large record is read into pages of its own, which are given back as the
 * elements are copied out of them: the record and its elements are not held
 * whole at once (diff's peak is when the record is read beside the policy).
 */
#define RD_MAP_MIN (256u << 10)

static void rd_give_back(struct rd *r)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), upto = r->pos / page * page;

	if (!r->mapped || r->lent || upto < r->given + RD_MAP_MIN)
		return;
	pc_pages_release(r->p + r->given, upto - r->given);
	r->given = upto;
}

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	if (r->short_ || r->len - r->pos < n) {
		r->short_ = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

static uint32_t rd_u32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);
	uint32_t v = 0;
	if (p)
		memcpy(&v, p, 4);
	return v;
}

/* A name or comment of at most `max` bytes into out (max + 1 bytes). */
static void rd_text(struct rd *r, char *out, size_t max)
{
	const uint8_t *n = rd_take(r, 1);
	const uint8_t *p = n && *n <= max ? rd_take(r, *n) : NULL;

	out[0] = '\0';
	if (n && *n > max)
		r->short_ = true;
	if (p) {
		memcpy(out, p, *n);
		out[*n] = '\0';
	}
}

static void rd_name(struct rd *r, char out[PC_NFT_NAME_MAX + 1])
{
	rd_text(r, out, PC_NFT_NAME_MAX);
}

static struct pc_dl_span rd_span(struct rd *r, struct pc_dl_state *s)
{
	uint32_t len = rd_u32(r);
	const uint8_t *p = rd_take(r, len);
	return p ? put(s, p, len) : (struct pc_dl_span){0, 0};
}

static void rd_elems(struct rd *r, struct pc_dl_state *s, struct pc_dl_set *x)
{
	uint32_t n = rd_u32(r), klen = rd_u32(r);

	if (klen > 16 || n > r->len - r->pos) {
		r->short_ = true;
		return;
	}
	size_t rl = 1 + (size_t)klen;
	if (r->mapped && klen && !x->n && !x->elems && n <= (r->len - r->pos) / rl) {
		/* Records alone (an address set): used where they lie in the mapped file. */
		const uint8_t *p = r->p + r->pos;
		size_t i = 0;
		while (i < n && (p[i * rl] == START || p[i * rl] == END))
			i++;
		if (i == n) {
			x->recs = (uint8_t *)rd_take(r, n * rl);
			x->n = x->cap = n;
			x->klen = klen;
			x->mapped = r->lent = true;
			return;
		}
	}
	for (uint32_t i = 0; i < n && !r->short_; i++) {
		/*
		 * A run of records (a START or END and a key each) is what the
		 * set keeps: copied as it is, 4096 at most between givings back.
		 */
		size_t run = 0, room = (r->len - r->pos) / rl;
		if (klen && !x->elems && (!x->n || x->klen == klen)) {
			const uint8_t *p = r->p + r->pos;
			size_t most = n - i < 4096 ? n - i : 4096;
			if (most > room)
				most = room;
			while (run < most && (p[run * rl] == START || p[run * rl] == END))
				run++;
		}
		if (run) {
			x->klen = klen;
			recs_reserve(x, run);
			memcpy(x->recs + x->n * rl, rd_take(r, run * rl), run * rl);
			x->n += run;
			i += (uint32_t)run - 1;
			rd_give_back(r);
			continue;
		}
		const uint8_t *kind = rd_take(r, 1);
		if (!kind)
			return;
		if (*kind == RAW) {
			elem_raw(s, x, rd_span(r, s));
			continue;
		}
		const uint8_t *k = *kind <= END && klen ? rd_take(r, klen) : NULL;
		if (!k) {
			r->short_ = true;
			return;
		}
		elem_plain(s, x, *kind, k, klen);
		if ((i & 4095) == 4095)
			rd_give_back(r);
	}
}

int pc_dl_read(const char *path, const char *table, const char *version, struct pc_dl_state *s,
		char *why, size_t size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	pc_dl_state_init(s);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			snprintf(why, size, "%s is a symbolic link", path);
		else
			snprintf(why, size, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	const char *bad = NULL;
	if (fstat(fd, &st) < 0)
		bad = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		bad = "not a regular file";
	else if (st.st_uid != geteuid())
		bad = "owned by another user";
	else if (st.st_mode & 0077)
		bad = "others may read or write it (it must be 0600)";
	else if ((uint64_t)st.st_size > PC_DL_FILE_MAX)
		bad = "too large";
	if (bad) {
		snprintf(why, size, "%s: %s", path, bad);
		close(fd);
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1, got = 0;
	/*
	 * A large file is mapped: its pages are the page cache's, neither
	 * copied nor zeroed first.  Only a rename replaces it, so it is never
	 * cut short while mapped.
	 */
	bool mapped = cap >= RD_MAP_MIN;
	uint8_t *buf = mapped ? mmap(NULL, cap - 1, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
			      : xmalloc(cap);
	if (buf == MAP_FAILED) {
		snprintf(why, size, "cannot map %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (mapped)
		got = (size_t)st.st_size;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	struct rd r = {buf, got, 0, false, 0, mapped, false};
	char ver[VERSION_MAX] = {0}, name[PC_NFT_NAME_MAX + 1];
	uint64_t sum;
	const uint8_t *m = rd_take(&r, sizeof(magic));
	if (!m || memcmp(m, magic, sizeof(magic))) {
		bad = "not a state file of portcullis";
		goto out;
	}
	if (got < sizeof(magic) + 8 + 8 ||
			(memcpy(&sum, buf + got - 8, 8), sum != checksum(buf, got - 8))) {
		bad = "truncated or damaged (its checksum does not match)";
		goto out;
	}
	r.len = got - 8;
	uint32_t format = rd_u32(&r), model = rd_u32(&r);
	const uint8_t *v = rd_take(&r, VERSION_MAX);
	if (v)
		memcpy(ver, v, VERSION_MAX - 1);
	if (format != FORMAT) {
		bad = "of another format";
		goto out;
	}
	if (model != PC_DL_MODEL_VERSION || strncmp(ver, version, VERSION_MAX - 1)) {
		bad = "written by another version of portcullis";
		goto out;
	}
	rd_name(&r, name);
	if (strcmp(name, table)) {
		bad = "of another table";
		goto out;
	}
	snprintf(s->table, sizeof(s->table), "%s", name);
	rd_text(&r, s->comment, PC_NFT_COMMENT_MAX);
	const uint8_t *p;
	if ((p = rd_take(&r, 32)))
		memcpy(s->table_sha256, p, 32);
	if ((p = rd_take(&r, 8)))
		memcpy(&s->table_time, p, 8);
	if ((p = rd_take(&r, 32)))
		memcpy(s->policy_sha256, p, 32);
	if ((p = rd_take(&r, 8)))
		memcpy(&s->policy_time, p, 8);
	uint32_t plen = rd_u32(&r);
	if (plen && plen <= 4096 && (p = rd_take(&r, plen)) && !p[plen - 1])
		s->policy_path = xstrdup((const char *)p);
	else if (plen)
		r.short_ = true;
	s->genid = rd_u32(&r);
	uint32_t nsets = rd_u32(&r), nchains = rd_u32(&r);
	if (nsets > r.len || nchains > r.len)
		r.short_ = true;
	for (uint32_t i = 0; i < nsets && !r.short_; i++) {
		rd_name(&r, name);
		struct pc_dl_set *x = new_set(s, name);
		x->decl = rd_span(&r, s);
		rd_elems(&r, s, x);
	}
	for (uint32_t i = 0; i < nchains && !r.short_; i++) {
		rd_name(&r, name);
		struct pc_dl_chain *c = new_chain(s, name);
		c->decl = rd_span(&r, s);
		if ((p = rd_take(&r, 32)))
			memcpy(c->rules, p, 32);
		c->nrules = rd_u32(&r);
		if ((p = rd_take(&r, 4)))
			memcpy(&c->policy, p, 4);
		c->refs = rd_span(&r, s);
		uint32_t nh = rd_u32(&r);
		if (nh > (r.len - r.pos) / 8) {
			r.short_ = true;
			break;
		}
		c->handles = xreallocarray(NULL, nh ? nh : 1, sizeof(*c->handles));
		if ((p = rd_take(&r, (size_t)nh * 8)))
			memcpy(c->handles, p, (size_t)nh * 8);
		c->nhandles = nh;
	}
	if (r.short_ || r.pos != r.len)
		bad = "truncated or damaged (its records do not add up)";
out:
	if (r.lent && !bad) {
		s->map = buf;
		s->maplen = cap - 1;
	} else if (mapped) {
		munmap(buf, cap - 1); /* records in it are not freed (pc_dl_set.mapped) */
	} else {
		free(buf);
	}
	if (bad) {
		snprintf(why, size, "%s: %s", path, bad);
		pc_dl_state_finish(s);
		return -1;
	}
	return 0;
}

/* ---- the plan ---- */

/* Whether chain c looks up a set the plan makes again. */
static bool looks_up_remade(const struct pc_dl_state *s, const struct pc_dl_chain *c,
		const struct index *sets, const uint8_t *set_new)
{
	const char *p = (const char *)at(s, c->refs), *end = p + c->refs.len;

	for (; p < end; p += strlen(p) + 1) {
		size_t i = find_set(sets, s, p);
		if (i != NONE && set_new[i] == 2)
			return true;
	}
	return false;
}

struct elem_ix {
	const struct pc_dl_state *s;
	const struct pc_dl_span *e;
	size_t *slot; /* index + 1 */
	size_t mask;
};

static uint32_t elem_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Whether element i of a is element j of b (see elem_cmpable()). */
static bool elems_eq(const struct pc_dl_state *os, const struct pc_dl_set *a, size_t i,
		const struct pc_dl_state *ns, const struct pc_dl_set *b, size_t j, bool recs)
{
	uint8_t ba[64], bb[64];
	uint32_t la, lb;
	const uint8_t *pa = elem_cmpable(os, a, i, recs, ba, &la);
	const uint8_t *pb = elem_cmpable(ns, b, j, recs, bb, &lb);

	return la == lb && !memcmp(pa, pb, la);
}

/*
 * How many of the first n records (rl bytes each) of x and y are alike;
 * with `back`, of the last n.  Compared a block of records at a time.
 */
static size_t same_run(const uint8_t *x, const uint8_t *y, size_t n, size_t rl, bool back)
{
	size_t done = 0, block = 4096;

	while (done < n) {
		size_t k = n - done < block ? n - done : block;
		size_t from = back ? n - done - k : done;
		if (memcmp(x + from * rl, y + from * rl, k * rl)) {
			/* The first unlike record of the block, from the side walked from. */
			for (size_t i = 0; i < k; i++) {
				size_t at = back ? from + k - 1 - i : from + i;
				if (memcmp(x + at * rl, y + at * rl, rl))
					return done + i;
			}
		}
		done += k;
	}
	return n;
}

/* Whether record r is the START record of key k (klen bytes). */
static bool rec_is_key(const uint8_t *r, const uint8_t *k, uint32_t klen)
{
	if (r[0] != START)
		return false;
	return klen == 4 ? !memcmp(r + 1, k, 4) : !memcmp(r + 1, k, klen);
}

/*
 * How many of the n records of x from record xi and of y from yi are alike
 * (of one length); with `back`, counted from the last.  Two sets of records
 * are compared a block at a time (same_run()), records and keys one by one.
 */
static size_t same_recs(const struct pc_dl_set *x, size_t xi, const struct pc_dl_set *y, size_t yi,
		size_t n, bool back)
{
	size_t rl = rec_len(x);
	uint8_t bx[17], by[17];

	if (!x->keys && !y->keys)
		return same_run(x->recs + xi * rl, y->recs + yi * rl, n, rl, back);
	for (size_t i = 0; i < n; i++) {
		size_t at = back ? n - 1 - i : i;
		bool same;
		if (!x->keys)
			same = rec_is_key(x->recs + (xi + at) * rl,
					y->keys + (yi + at) * y->kstride, y->klen);
		else if (!y->keys)
			same = rec_is_key(y->recs + (yi + at) * rl,
					x->keys + (xi + at) * x->kstride, x->klen);
		else
			same = !memcmp(rec_at(x, xi + at, bx), rec_at(y, yi + at, by), rl);
		if (!same)
			return i;
	}
	return n;
}

/*
 * The elements of old set a and new set b compared: the common start and
 * end are skipped (a change of a few elements leaves most of a set where
 * it was), the middles compared through a hash index.  Indices of b's
 * elements to add go to adds, of a's to delete to dels.
 */
static void elems_diff(const struct pc_dl_state *os, const struct pc_dl_set *a,
		const struct pc_dl_state *ns, const struct pc_dl_set *b, size_t **adds,
		size_t *nadds, size_t *addcap, size_t **dels, size_t *ndels, size_t *delcap)
{
	size_t lo = 0, ha = a->n, hb = b->n;
	bool recs = !a->elems && !b->elems && a->klen == b->klen;
	uint8_t ba[64], bb[64];
	uint32_t la, lb;
	const uint8_t *pa, *pb;

	if (recs) {
		/* Records of one length: the common start and end found by memcmp over runs. */
		size_t most = ha < hb ? ha : hb;
		lo = same_recs(a, 0, b, 0, most, false);
		size_t rest = most - lo;
		size_t end = same_recs(a, ha - rest, b, hb - rest, rest, true);
		ha -= end;
		hb -= end;
	}
	while (lo < ha && lo < hb && elems_eq(os, a, lo, ns, b, lo, recs))
		lo++;
	while (ha > lo && hb > lo && elems_eq(os, a, ha - 1, ns, b, hb - 1, recs))
		ha--, hb--;
	size_t na = ha - lo, nb = hb - lo;
	uint8_t *seen = xcalloc(na + 1, 1);
	size_t cap = 16;
	while (cap < 2 * na + 2)
		cap *= 2;
	size_t *slot = xcalloc(cap, sizeof(*slot));
	for (size_t i = 0; i < na; i++) {
		pa = elem_cmpable(os, a, lo + i, recs, ba, &la);
		size_t k = elem_hash(pa, la) & (cap - 1);
		while (slot[k])
			k = (k + 1) & (cap - 1);
		slot[k] = i + 1;
	}
	for (size_t j = 0; j < nb; j++) {
		pb = elem_cmpable(ns, b, lo + j, recs, bb, &lb);
		size_t k = elem_hash(pb, lb) & (cap - 1);
		bool found = false;
		for (; slot[k]; k = (k + 1) & (cap - 1)) {
			pa = elem_cmpable(os, a, lo + slot[k] - 1, recs, ba, &la);
			if (la == lb && !memcmp(pa, pb, la)) {
				seen[slot[k] - 1] = 1;
				found = true;
				break;
			}
		}
		if (found)
			continue;
		if (*nadds == *addcap) {
			*addcap = *addcap ? 2 * *addcap : 64;
			*adds = xreallocarray(*adds, *addcap, sizeof(**adds));
		}
		(*adds)[(*nadds)++] = lo + j;
	}
	for (size_t i = 0; i < na; i++) {
		if (seen[i])
			continue;
		if (*ndels == *delcap) {
			*delcap = *delcap ? 2 * *delcap : 64;
			*dels = xreallocarray(*dels, *delcap, sizeof(**dels));
		}
		(*dels)[(*ndels)++] = lo + i;
	}
	free(slot);
	free(seen);
}

size_t pc_dl_plan(
		const struct pc_dl_state *old, const struct pc_dl_state *new, struct pc_dl_plan *p)
{
	struct index osets, ochains, nsets;
	size_t nadds = 0, addcap = 0, ndels = 0, delcap = 0;

	memset(p, 0, sizeof(*p));
	p->old = old;
	p->new = new;
	p->set_new = xcalloc(new->nsets + 1, 1);
	p->set_old = xcalloc(old->nsets + 1, 1);
	p->set_match = xcalloc(new->nsets + 1, sizeof(size_t));
	p->add_at = xcalloc(new->nsets + 1, sizeof(size_t));
	p->del_at = xcalloc(new->nsets + 1, sizeof(size_t));
	p->chain_new = xcalloc(new->nchains + 1, 1);
	p->chain_old = xcalloc(old->nchains + 1, 1);
	p->chain_match = xcalloc(new->nchains + 1, sizeof(size_t));
	index_sets(&osets, old);
	index_sets(&nsets, new);
	index_chains(&ochains, old);
	memset(p->set_old, 1, old->nsets);
	for (size_t i = 0; i < new->nsets; i++) {
		const struct pc_dl_set *b = &new->sets[i];
		size_t j = find_set(&osets, old, b->name);
		p->set_match[i] = j;
		p->add_at[i] = nadds;
		p->del_at[i] = ndels;
		if (j == NONE) {
			p->set_new[i] = 1;
			p->sets_created++;
			continue;
		}
		const struct pc_dl_set *a = &old->sets[j];
		if (!span_eq(old, a->decl, new, b->decl)) {
			p->set_new[i] = 2;
			p->sets_created++;
			continue;
		}
		p->set_old[j] = 0;
		elems_diff(old, a, new, b, &p->adds, &nadds, &addcap, &p->dels, &ndels, &delcap);
	}
	p->add_at[new->nsets] = nadds;
	p->del_at[new->nsets] = ndels;
	p->elems_added = nadds;
	p->elems_deleted = ndels;
	for (size_t j = 0; j < old->nsets; j++)
		p->sets_deleted += p->set_old[j];

	memset(p->chain_old, 1, old->nchains);
	for (size_t i = 0; i < new->nchains; i++) {
		const struct pc_dl_chain *c = &new->chains[i];
		size_t j = find_chain(&ochains, old, c->name);
		p->chain_match[i] = j;
		if (j == NONE) {
			p->chain_new[i] = 1;
			p->chains_created++;
			p->rules_sent += c->nrules;
			continue;
		}
		const struct pc_dl_chain *o = &old->chains[j];
		p->chain_old[j] = 0;
		if (c->nrules != o->nrules || memcmp(c->rules, o->rules, 32) ||
				looks_up_remade(new, c, &nsets, p->set_new)) {
			p->chain_new[i] = 2;
			p->chains_rebuilt++;
			p->rules_sent += c->nrules;
		}
		if (!span_eq(old, o->decl, new, c->decl)) {
			p->chain_new[i] |= 4;
			p->policies_changed++;
		}
	}
	for (size_t j = 0; j < old->nchains; j++)
		p->chains_deleted += p->chain_old[j];
	free(osets.slot);
	free(nsets.slot);
	free(ochains.slot);
	return pc_dl_plan_size(p);
}

size_t pc_dl_plan_size(const struct pc_dl_plan *p)
{
	return p->elems_added + p->elems_deleted + p->sets_created + p->sets_deleted +
	       p->chains_created + p->chains_deleted + p->chains_rebuilt + p->policies_changed;
}

void pc_dl_plan_finish(struct pc_dl_plan *p)
{
	free(p->set_new);
	free(p->set_old);
	free(p->set_match);
	free(p->chain_new);
	free(p->chain_old);
	free(p->chain_match);
	free(p->adds);
	free(p->dels);
	free(p->add_at);
	free(p->del_at);
	memset(p, 0, sizeof(*p));
}

/* ---- the transaction ---- */

/* A message of `type` whose attributes are `attrs` as they are. */
static void msg_attrs(struct pc_nl_batch *b, uint16_t type, uint16_t flags, const char *what,
		const char *name, const void *attrs, size_t len)
{
	struct nlmsghdr *nlh = pc_nl_batch_msg(b, type, flags, what, name);

	memcpy((char *)nlh + nlh->nlmsg_len, attrs, len);
	nlh->nlmsg_len += (uint32_t)len;
	pc_nl_batch_msg_end(b, nlh);
}

/* A message naming one object of the table: a rule flush, a set or chain deleted. */
static void msg_named(struct pc_nl_batch *b, uint16_t type, const char *what, const char *table,
		uint16_t table_attr, const char *name, uint16_t name_attr)
{
	struct nlmsghdr *nlh = pc_nl_batch_msg(b, type, 0, what, name);

	mnl_attr_put_strz(nlh, table_attr, table);
	mnl_attr_put_strz(nlh, name_attr, name);
	pc_nl_batch_msg_end(b, nlh);
}

static void elems_send(struct pc_nl_batch *b, uint16_t type, uint16_t flags,
		const struct pc_dl_state *s, const struct pc_dl_set *x, const size_t *idx, size_t n)
{
	if (!n)
		return;
	struct pc_nl_raw_elem *e = xreallocarray(NULL, n, sizeof(*e));
	uint8_t *made = x->elems ? NULL : xreallocarray(NULL, n, 64);
	for (size_t i = 0; i < n; i++) {
		uint32_t len;
		const uint8_t *p = elem_at(s, x, idx[i], made ? made + 64 * i : NULL, &len);
		e[i] = (struct pc_nl_raw_elem){p, len};
	}
	pc_nl_elems_raw(b, type, flags, s->table, x->name, e, n);
	free(made);
	free(e);
}

void pc_dl_build(void *plan, const struct pc_nl_options *o, struct pc_nl_batch *b)
{
	const struct pc_dl_plan *p = plan;
	const struct pc_dl_state *os = p->old, *ns = p->new;
	const char *table = ns->table;

	pc_nl_batch_begin(b, o);
	for (size_t i = 0; i < ns->nchains; i++) {
		const struct pc_dl_chain *c = &ns->chains[i];
		if ((p->chain_new[i] & 3) == 1 || (p->chain_new[i] & 4))
			msg_attrs(b, NFT_MSG_NEWCHAIN,
					NLM_F_CREATE | ((p->chain_new[i] & 3) == 1 ? NLM_F_EXCL
										   : 0),
					"chain", c->name, at(ns, c->decl), c->decl.len);
	}
	for (size_t i = 0; i < ns->nchains; i++)
		if ((p->chain_new[i] & 3) == 2)
			msg_named(b, NFT_MSG_DELRULE, "rules of chain", table, NFTA_RULE_TABLE,
					ns->chains[i].name, NFTA_RULE_CHAIN);
	for (size_t j = 0; j < os->nchains; j++)
		if (p->chain_old[j])
			msg_named(b, NFT_MSG_DELRULE, "rules of chain", table, NFTA_RULE_TABLE,
					os->chains[j].name, NFTA_RULE_CHAIN);
	/* Sets gone, and those made again (their declaration changed). */
	for (size_t j = 0; j < os->nsets; j++)
		if (p->set_old[j])
			msg_named(b, NFT_MSG_DELSET, "set", table, NFTA_SET_TABLE, os->sets[j].name,
					NFTA_SET_NAME);
	for (size_t i = 0; i < ns->nsets; i++)
		if (!p->set_new[i])
			elems_send(b, NFT_MSG_DELSETELEM, 0, os, &os->sets[p->set_match[i]],
					p->dels + p->del_at[i], p->del_at[i + 1] - p->del_at[i]);
	for (size_t i = 0; i < ns->nsets; i++) {
		const struct pc_dl_set *x = &ns->sets[i];
		if (!p->set_new[i])
			continue;
		const struct nlmsghdr *nlh = (const void *)(ns->batch->buf + x->msg_off);
		pc_nl_batch_copy(b, nlh, NLM_F_EXCL, "set", x->name);
		size_t *all = xreallocarray(NULL, x->n ? x->n : 1, sizeof(*all));
		for (size_t k = 0; k < x->n; k++)
			all[k] = k;
		elems_send(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, ns, x, all, x->n);
		free(all);
	}
	for (size_t i = 0; i < ns->nsets; i++)
		if (!p->set_new[i])
			elems_send(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, ns,
					&ns->sets[i], p->adds + p->add_at[i],
					p->add_at[i + 1] - p->add_at[i]);
	for (size_t i = 0; i < ns->nchains; i++) {
		const struct pc_dl_chain *c = &ns->chains[i];
		if (!(p->chain_new[i] & 3))
			continue;
		for (size_t k = 0; k < c->nmsgs; k++) {
			const struct nlmsghdr *nlh = (const void *)(ns->batch->buf + c->msgs[k]);
			bool rule = (nlh->nlmsg_type & 0xff) == NFT_MSG_NEWRULE;
			pc_nl_batch_copy(b, nlh, 0, rule ? "rule" : "set", c->name);
		}
	}
	for (size_t j = 0; j < os->nchains; j++)
		if (p->chain_old[j])
			msg_named(b, NFT_MSG_DELCHAIN, "chain", table, NFTA_CHAIN_TABLE,
					os->chains[j].name, NFTA_CHAIN_NAME);
	pc_nl_batch_end(b, o);
}

/* ---- the live table ---- */

struct live {
	const struct pc_dl_state *s;
	struct index chains, sets;
	bool found, stamp_ok;
	uint8_t sha[32];
	uint64_t time;
	bool stamped;
	uint32_t *rules; /* per state chain: its rules seen so far */
	struct pc_dl_state *record; /* reading handles into it; NULL: comparing */
	uint8_t *chain_seen, *set_seen;
	char what[160]; /* the first difference */
};

/* The first difference: "WHAT NAME REST". */
static void differs(struct live *l, const char *what, const char *name, const char *rest)
{
	if (!l->what[0])
		snprintf(l->what, sizeof(l->what), "%s %s%s", what, name, rest);
}

static int stamp_cb(const struct nftnl_udata *attr, void *data)
{
	struct live *l = data;
	const uint8_t *v = nftnl_udata_get(attr);

	if (nftnl_udata_type(attr) == PC_NL_UDATA_SHA256 && nftnl_udata_len(attr) == 32) {
		memcpy(l->sha, v, 32);
		l->stamped = true;
	} else if (nftnl_udata_type(attr) == PC_NL_UDATA_TIME && nftnl_udata_len(attr) == 8) {
		l->time = 0;
		for (int i = 0; i < 8; i++)
			l->time = l->time << 8 | v[i];
	}
	return 0;
}

static bool live_table(void *arg, struct nftnl_table *t)
{
	struct live *l = arg;
	uint32_t len = 0;
	const void *u = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);

	l->found = true;
	if (u)
		nftnl_udata_parse(u, len, stamp_cb, l);
	return false;
}

static bool live_chain(void *arg, struct nftnl_chain *c)
{
	struct live *l = arg;
	const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	size_t i = find_chain(&l->chains, l->s, name);

	if (i == NONE) {
		differs(l, "it holds a chain", name, " the state does not");
		return false;
	}
	l->chain_seen[i] = 1;
	int32_t pol = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
				      ? (int32_t)nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
				      : -1;
	if (pol != l->s->chains[i].policy)
		differs(l, "the policy of chain", name, " is not the state's");
	return false;
}

static bool live_rule(void *arg, struct nftnl_rule *r)
{
	struct live *l = arg;
	const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	size_t i = find_chain(&l->chains, l->s, chain);
	uint64_t h = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);

	if (i == NONE)
		return false;
	struct pc_dl_chain *c = l->record ? &l->record->chains[i] : NULL;
	if (c) {
		if (!(c->nhandles & (c->nhandles - 1))) /* 0 or a power of two: full */
			c->handles = xreallocarray(
					c->handles, 2 * c->nhandles + 1, sizeof(*c->handles));
		c->handles[c->nhandles++] = h;
	} else if (l->rules[i] >= l->s->chains[i].nhandles ||
			l->s->chains[i].handles[l->rules[i]] != h) {
		differs(l, "chain", chain, " holds rules that are not those of the last apply");
	}
	l->rules[i]++;
	return false;
}

static bool live_set(void *arg, struct nftnl_set *x)
{
	struct live *l = arg;
	const char *name = nftnl_set_get_str(x, NFTNL_SET_NAME);

	if (nftnl_set_get_u32(x, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)
		return false;
	size_t i = find_set(&l->sets, l->s, name);
	if (i == NONE)
		differs(l, "it holds a set", name, " the state does not");
	else
		l->set_seen[i] = 1;
	return false;
}

/*
 * What identifies an element in its set: its key and whether it ends an
 * interval, read off its attributes into out (flag byte, then the key);
 * its length, 0 when it has no key.
 */
static size_t elem_id(const uint8_t *p, size_t len, uint8_t out[80])
{
	const uint8_t *end = p + len;
	size_t n = 0;

	out[0] = 0;
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const void *)p;
		if (a->nla_len < sizeof(*a) || p + a->nla_len > end)
			break;
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_FLAGS && a->nla_len == 8)
			out[0] = (ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END) != 0;
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_KEY) {
			const struct nlattr *v;
			mnl_attr_for_each_nested(
					v, a) if (mnl_attr_get_type(v) == NFTA_DATA_VALUE &&
						  mnl_attr_get_payload_len(v) < 80)
			{
				n = mnl_attr_get_payload_len(v);
				memcpy(out + 1, mnl_attr_get_payload(v), n);
			}
		}
		p += MNL_ALIGN(a->nla_len);
	}
	return n ? n + 1 : 0;
}

/* The elements of one set of the state, by what identifies them, and which the kernel holds. */
struct elem_check {
	uint8_t *ids; /* 80 bytes each: length, then elem_id() */
	size_t *slot, mask, n;
	uint8_t *seen;
	bool extra; /* the kernel holds one the state does not */
};

static size_t id_slot(const struct elem_check *ec, const uint8_t *id, size_t len)
{
	size_t k = elem_hash(id, len) & ec->mask;

	for (; ec->slot[k]; k = (k + 1) & ec->mask) {
		const uint8_t *x = ec->ids + 81 * (ec->slot[k] - 1);
		if (x[0] == len && !memcmp(x + 1, id, len))
			break;
	}
	return k;
}

static bool live_elems(void *arg, struct nftnl_set *x)
{
	struct elem_check *ec = arg;
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(x);

	if (!it)
		pc_oom_size(0);
	for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e;
			e = nftnl_set_elems_iter_next(it)) {
		uint8_t id[80];
		uint32_t klen = 0;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		if (!key || klen >= 79) {
			ec->extra = true;
			continue;
		}
		id[0] = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
			(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
					NFT_SET_ELEM_INTERVAL_END);
		memcpy(id + 1, key, klen);
		size_t k = id_slot(ec, id, klen + 1);
		if (ec->slot[k])
			ec->seen[ec->slot[k] - 1] = 1;
		else
			ec->extra = true;
	}
	nftnl_set_elems_iter_destroy(it);
	return false;
}

/* Whether the kernel holds exactly the elements of set x (by key and end flag). */
static int check_elems(struct pc_dumper *d, const struct pc_dl_state *s, const struct pc_dl_set *x,
		bool *same)
{
	struct elem_check ec = {0};
	size_t cap = 16;

	while (cap < 2 * x->n + 2)
		cap *= 2;
	ec.slot = xcalloc(cap, sizeof(*ec.slot));
	ec.mask = cap - 1;
	ec.ids = xcalloc(x->n + 1, 81);
	ec.seen = xcalloc(x->n + 1, 1);
	for (size_t i = 0; i < x->n; i++) {
		uint8_t *id = ec.ids + 81 * i;
		uint8_t buf[64];
		uint32_t alen;
		const uint8_t *p = elem_at(s, x, i, buf, &alen);
		size_t len = elem_id(p, alen, id + 1);
		id[0] = (uint8_t)len;
		size_t k = id_slot(&ec, id + 1, len);
		if (!ec.slot[k])
			ec.slot[k] = i + 1;
		else
			ec.seen[i] = 1; /* the same twice: counted once */
	}
	struct pc_dump_ops ops = {.elems = live_elems};
	int ret = pc_dump_list(d, NFT_MSG_GETSETELEM, NFPROTO_INET, s->table, x->name, &ops, &ec);
	*same = !ec.extra;
	for (size_t i = 0; i < x->n && *same; i++)
		*same = ec.seen[i];
	free(ec.slot);
	free(ec.ids);
	free(ec.seen);
	return ret;
}

int pc_dl_read_handles(struct pc_dl_state *s, uint32_t genid)
{
	struct pc_dumper d;
	struct live l = {.s = s, .record = s};
	uint32_t before = 0, after = 0;
	int ret = -1;

	if (pc_dump_open(&d) < 0)
		return -1;
	index_chains(&l.chains, s);
	l.rules = xcalloc(s->nchains + 1, sizeof(*l.rules));
	for (size_t i = 0; i < s->nchains; i++)
		s->chains[i].nhandles = 0;
	struct pc_dump_ops ops = {.rule = live_rule};
	if (pc_dump_genid(&d, &before) == 0 &&
			pc_dump_list(&d, NFT_MSG_GETRULE, NFPROTO_INET, s->table, NULL, &ops, &l) ==
					0 &&
			pc_dump_genid(&d, &after) == 0)
		ret = before == genid && after == genid ? 0 : -1;
	if (ret == 0)
		for (size_t i = 0; i < s->nchains && ret == 0; i++)
			if (s->chains[i].nhandles != s->chains[i].nrules)
				ret = -1;
	free(l.chains.slot);
	free(l.rules);
	int err = errno;
	pc_dump_close(&d, 0, 0);
	errno = err;
	return ret;
}

int pc_dl_live_matches(const struct pc_dl_state *s, uint32_t *genid_now, char *why, size_t size)
{
	struct pc_dumper d;
	struct live l = {.s = s};
	uint32_t genid = 0;
	int ret = -1;

	if (pc_dump_open(&d) < 0) {
		snprintf(why, size, "cannot open a netlink socket: %s", strerror(errno));
		return -1;
	}
	index_chains(&l.chains, s);
	index_sets(&l.sets, s);
	l.rules = xcalloc(s->nchains + 1, sizeof(*l.rules));
	l.chain_seen = xcalloc(s->nchains + 1, 1);
	l.set_seen = xcalloc(s->nsets + 1, 1);
	struct pc_dump_ops tops = {.table = live_table};
	if (pc_dump_genid(&d, &genid) < 0 || pc_dump_list(&d, NFT_MSG_GETTABLE, NFPROTO_INET,
							     s->table, NULL, &tops, &l) < 0) {
		snprintf(why, size, "cannot read table inet %s: %s", s->table, strerror(errno));
		goto out;
	}
	*genid_now = genid;
	ret = 0;
	if (!l.found) {
		snprintf(why, size, "table inet %s is not loaded", s->table);
		ret = 2;
		goto out;
	}
	if (!l.stamped || memcmp(l.sha, s->table_sha256, 32) || l.time != s->table_time) {
		snprintf(why, size,
				"table inet %s is not the one the state describes (another apply "
				"replaced it)",
				s->table);
		goto out;
	}
	ret = 1;
	if (genid == s->genid)
		goto out;
	struct pc_dump_ops ops = {.chain = live_chain, .rule = live_rule, .set = live_set};
	ret = -1;
	if (pc_dump_list(&d, NFT_MSG_GETCHAIN, NFPROTO_INET, s->table, NULL, &ops, &l) < 0 ||
			pc_dump_list(&d, NFT_MSG_GETSET, NFPROTO_INET, s->table, NULL, &ops, &l) <
					0 ||
			pc_dump_list(&d, NFT_MSG_GETRULE, NFPROTO_INET, s->table, NULL, &ops, &l) <
					0) {
		snprintf(why, size, "cannot read table inet %s: %s", s->table, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < s->nchains; i++) {
		if (!l.chain_seen[i])
			differs(&l, "chain", s->chains[i].name, " is gone");
		else if (l.rules[i] != s->chains[i].nhandles)
			differs(&l, "chain", s->chains[i].name,
					" holds rules that are not those of the last apply");
	}
	for (size_t i = 0; i < s->nsets; i++)
		if (!l.set_seen[i])
			differs(&l, "set", s->sets[i].name, " is gone");
	/* Elements are read only when all else matched: the costly part. */
	for (size_t i = 0; i < s->nsets && !l.what[0]; i++) {
		bool same;
		if (check_elems(&d, s, &s->sets[i], &same) < 0) {
			snprintf(why, size, "cannot read the elements of set %s: %s",
					s->sets[i].name, strerror(errno));
			goto out;
		}
		if (!same)
			differs(&l, "set", s->sets[i].name, " holds other elements");
	}
	/*
	 * What the reading above compares (chains, their policies, rule handles,
	 * sets, element keys) leaves out what a change by hand can alter and
	 * keep: a rule replaced in place (same handle), a map element's verdict,
	 * the table's flags (dormant: nothing filtered).  So the generation having
	 * moved at all means a replace; the reading names the change when it
	 * sees one.
	 */
	ret = 0;
	if (l.what[0])
		snprintf(why, size, "table inet %s changed since the last apply: %s", s->table,
				l.what);
	else
		snprintf(why, size,
				"the ruleset changed since the last apply (generation %u, now %u), "
				"and a change to table inet %s that keeps its rules' handles "
				"(a rule replaced in place, a verdict, the table's flags) cannot be "
				"told apart",
				s->genid, genid, s->table);
out:
	free(l.chains.slot);
	free(l.sets.slot);
	free(l.rules);
	free(l.chain_seen);
	free(l.set_seen);
	int err = errno;
	pc_dump_close(&d, 0, 0);
	errno = err;
	return ret;
}
