// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A table read back from the kernel, or from a transaction, into the
 * canonical objects of portcullis/readback.h.  Both sides go through the
 * same libnftnl objects and the same printer (struct collect).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "portcullis/readback.h"
#include "apply/dump.h"
#include "util.h"

#define KEY_MAX 64 /* bytes: the longest key read (a concatenation) */

/*
 * A set's elements are kept packed, one record each: the key's length, 1
 * when it ends an interval, the number of its extra (0: none; 4 bytes,
 * unaligned), then the key in `klen` bytes.  A set of 200 000 addresses is
 * an interval set of 400 000 elements (each address a start and an end):
 * records rather than objects keep it in a few MiB.
 */
#define REC_HEAD 6

/* What few elements carry besides their key: a verdict, a chain, a comment. */
struct extra {
	int verdict; /* -1000: none */
	char *chain, *comment;
};

struct set {
	char *name, *comment;
	uint32_t id, flags, key_type, key_len, data_type, size;
	bool has_id, has_data;
	uint8_t *recs;
	size_t n, cap;
	uint32_t klen; /* the key bytes of a record */
	struct extra *extras;
	size_t nextras, extcap;
	bool sorted; /* the records are in the order of rec_cmp() */
	/*
	 * Kept packed, a hash set: per record, whether the kernel's set holds
	 * it alike (struct collect.against); NULL: none yet.  Such records
	 * are passed over as if they were not there.
	 */
	uint8_t *seen;
	/*
	 * Kept packed and large: where the records of each value of the 16
	 * key bits after the prefix they all share begin (RB_INDEX_SLOTS + 1
	 * of them; NULL: none made), so that a kernel element is looked for
	 * among a few records rather than in the whole array (whose random
	 * reads cost more than the kernel's dump of it).
	 */
	uint32_t *index;
	uint32_t index_at; /* the bit where the indexed 16 begin: the shared prefix's length */
	/*
	 * Reading the kernel, a hash set matched against a packed one: the
	 * keys of its bare elements (nothing but a key as long as the packed
	 * set's), klen bytes each as they arrive, sorted and merged with the
	 * packed records once the dump is read (bare_merge()): sequential
	 * reads, where a lookup per element read the records at random.
	 */
	uint8_t *bare;
	size_t nbare, barecap;
	uint32_t bare_len;
	int uniform; /* 1 when every record's key is klen bytes, -1 not, 0 not known (uniform()) */
};

#define RB_INDEX_SLOTS 65536u
#define RB_INDEX_MIN 4096u /* records: fewer are searched whole */

struct pc_rb_elems {
	struct set *sets;
	size_t n;
};

static size_t rec_size(const struct set *x)
{
	return REC_HEAD + x->klen;
}

static const struct extra *rec_extra(const struct set *x, const uint8_t *r)
{
	uint32_t k;

	memcpy(&k, r + 2, sizeof(k));
	return k ? &x->extras[k - 1] : NULL;
}

/* Records of `klen` key bytes from now on (more than before). */
static void recs_widen(struct set *x, uint32_t klen)
{
	size_t from = rec_size(x), to = REC_HEAD + klen;
	uint8_t *v = xreallocarray(NULL, x->cap ? x->cap : 1, to);

	memset(v, 0, (x->cap ? x->cap : 1) * to);
	for (size_t i = 0; i < x->n; i++)
		memcpy(v + i * to, x->recs + i * from, from);
	free(x->recs);
	x->recs = v;
	x->klen = klen;
}

struct rule {
	struct nftnl_rule *r;
	size_t order;
};

struct chain {
	struct nftnl_chain *c;
	size_t order;
};

/* What one table is made of, before it becomes text. */
struct collect {
	char *table;
	bool exists;
	uint32_t flags;
	char *comment;
	struct set *sets;
	size_t nsets, setcap;
	struct chain *chains;
	size_t nchains, chaincap;
	struct rule *rules;
	size_t nrules, rulecap;
	/*
	 * Reading the kernel: the table whose packed hash sets the elements
	 * are matched against as they arrive (pc_rb_options.against); an
	 * element found there alike is marked seen in it and not kept.
	 */
	struct pc_rb_table *against;
	/* Reading the kernel: the set whose elements the dump is giving, and its packed peer. */
	struct set *cur, *cur_y;
};

const char *pc_rb_kind_name(enum pc_rb_kind k)
{
	static const char *const names[] = {"table", "set", "element", "chain", "rule"};
	return names[k];
}

static void elems_release(struct set *x)
{
	for (size_t j = 0; j < x->nextras; j++) {
		free(x->extras[j].chain);
		free(x->extras[j].comment);
	}
	free(x->extras);
	free(x->recs);
	free(x->seen);
	free(x->index);
	free(x->bare);
	x->bare = NULL;
	x->nbare = x->barecap = 0;
	x->extras = NULL;
	x->recs = NULL;
	x->seen = NULL;
	x->index = NULL;
	x->n = x->cap = x->nextras = x->extcap = 0;
}

static void collect_finish(struct collect *c)
{
	for (size_t i = 0; i < c->nsets; i++) {
		elems_release(&c->sets[i]);
		free(c->sets[i].name);
		free(c->sets[i].comment);
	}
	free(c->sets);
	for (size_t i = 0; i < c->nchains; i++)
		nftnl_chain_free(c->chains[i].c);
	free(c->chains);
	for (size_t i = 0; i < c->nrules; i++)
		nftnl_rule_free(c->rules[i].r);
	free(c->rules);
	free(c->comment);
	free(c->table);
	memset(c, 0, sizeof(*c));
}

/* The comment of user data: the attribute `type` holds a string. */
struct udata_want {
	uint8_t type;
	char *s;
};

static int udata_cb(const struct nftnl_udata *a, void *data)
{
	struct udata_want *w = data;

	if (nftnl_udata_type(a) == w->type && !w->s) {
		uint8_t len = nftnl_udata_len(a);
		const char *v = nftnl_udata_get(a);
		w->s = xmalloc((size_t)len + 1);
		memcpy(w->s, v, len);
		w->s[len] = 0;
		w->s[strnlen(w->s, len)] = 0;
	}
	return MNL_CB_OK;
}

static char *udata_comment(const void *p, uint32_t len, uint8_t type)
{
	struct udata_want w = {.type = type};

	if (p && len)
		nftnl_udata_parse(p, len, udata_cb, &w);
	return w.s;
}

static void table_take(struct collect *c, const struct nftnl_table *t)
{
	uint32_t len = 0;
	const void *u;

	c->exists = true;
	c->flags = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS)
				   ? nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS)
				   : 0;
	free(c->comment);
	u = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	c->comment = udata_comment(u, len, NFTNL_UDATA_TABLE_COMMENT);
}

static uint32_t set_u32(const struct nftnl_set *s, uint16_t a)
{
	return nftnl_set_is_set(s, a) ? nftnl_set_get_u32(s, a) : 0;
}

static void set_take(struct collect *c, const struct nftnl_set *s)
{
	struct set *x;
	uint32_t len = 0;
	const void *u;

	if (c->nsets == c->setcap) {
		c->setcap = c->setcap ? 2 * c->setcap : 8;
		c->sets = xreallocarray(c->sets, c->setcap, sizeof(*c->sets));
	}
	x = &c->sets[c->nsets++];
	memset(x, 0, sizeof(*x));
	x->name = xstrdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	x->has_id = nftnl_set_is_set(s, NFTNL_SET_ID);
	x->id = set_u32(s, NFTNL_SET_ID);
	x->flags = set_u32(s, NFTNL_SET_FLAGS);
	x->key_type = set_u32(s, NFTNL_SET_KEY_TYPE);
	x->key_len = set_u32(s, NFTNL_SET_KEY_LEN);
	x->has_data = nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE);
	x->data_type = set_u32(s, NFTNL_SET_DATA_TYPE);
	x->size = set_u32(s, NFTNL_SET_DESC_SIZE);
	u = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
	x->comment = udata_comment(u, len, NFTNL_UDATA_SET_COMMENT);
}

/* The set the elements of `s` belong to: by id (a transaction's anonymous sets), else name. */
static struct set *set_find(struct collect *c, const char *name, bool has_id, uint32_t id)
{
	if (has_id && name && strchr(name, '%'))
		for (size_t i = 0; i < c->nsets; i++)
			if (c->sets[i].has_id && c->sets[i].id == id)
				return &c->sets[i];
	for (size_t i = c->nsets; i-- > 0;)
		if (name && strcmp(c->sets[i].name, name) == 0)
			return &c->sets[i];
	return NULL;
}

/* One element appended to x's records; ex (verdict, chain, comment) taken when it carries any. */
static void rec_add(struct set *x, const void *k, uint32_t len, bool end, struct extra ex)
{
	uint32_t ext = 0;
	uint8_t *r;

	if (len > KEY_MAX)
		len = KEY_MAX;
	if (len > x->klen)
		recs_widen(x, len);
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 16;
		x->recs = xreallocarray(x->recs, x->cap, rec_size(x));
	}
	r = x->recs + x->n++ * rec_size(x);
	x->uniform = 0;
	memset(r, 0, rec_size(x));
	r[0] = (uint8_t)len;
	r[1] = end;
	if (k)
		memcpy(r + REC_HEAD, k, len);
	if (ex.verdict != -1000 || ex.chain || ex.comment) {
		if (x->nextras == x->extcap) {
			x->extcap = x->extcap ? 2 * x->extcap : 8;
			x->extras = xreallocarray(x->extras, x->extcap, sizeof(*x->extras));
		}
		x->extras[x->nextras++] = ex;
		ext = (uint32_t)x->nextras;
	}
	memcpy(r + 2, &ext, sizeof(ext));
}

static struct set *packed_for(const struct collect *c, const struct set *x);
static bool bare_keep(struct set *x, struct set *y, const void *k, uint32_t len);
static bool matched_packed(struct set *y, const void *k, uint32_t len, const struct extra *ex);

/* One element of set x, read off a message; y: the packed set it is matched in (packed_for()). */
static void elem_take(struct set *x, struct set *y, const struct pc_dump_elem *e)
{
	struct extra ex = {.verdict = e->has_verdict ? e->verdict : -1000};
	bool end = e->has_flags && (e->flags & NFT_SET_ELEM_INTERVAL_END);

	ex.chain = e->chain ? xstrdup(e->chain) : NULL;
	ex.comment = udata_comment(e->udata, e->udata_len, NFTNL_UDATA_SET_ELEM_COMMENT);
	if (!end && y && e->key && ex.verdict == -1000 && !ex.chain && !ex.comment &&
			bare_keep(x, y, e->key, e->key_len))
		return;
	if (!end && y && matched_packed(y, e->key, e->key_len, &ex)) {
		free(ex.chain);
		free(ex.comment);
		return;
	}
	rec_add(x, e->key, e->key_len, end, ex);
}

/* The elements of a transaction's message, as libnftnl reads them. */
static void elems_take(struct collect *c, struct nftnl_set *s)
{
	struct set *x = set_find(c, nftnl_set_get_str(s, NFTNL_SET_NAME),
			nftnl_set_is_set(s, NFTNL_SET_ID), set_u32(s, NFTNL_SET_ID));
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (!x || !(it = nftnl_set_elems_iter_create(s)))
		return;
	x->sorted = false;
	/* Looked up once a message, not once an element. */
	struct set *y = packed_for(c, x);
	while ((e = nftnl_set_elems_iter_next(it))) {
		struct pc_dump_elem d;
		pc_dump_elem_from_nftnl(e, &d);
		elem_take(x, y, &d);
	}
	nftnl_set_elems_iter_destroy(it);
}

/*
 * An element of the model's walk (pc_nl_set_elems()) as elems_take() reads
 * it off the message the batch makes of it: an end carries nothing else, a
 * jump is the verdict NFT_JUMP and its chain.
 */
static void model_elem(void *arg, const struct pc_nl_elem *e)
{
	struct extra ex = {.verdict = -1000};

	if (!e->end && e->chain) {
		ex.verdict = NFT_JUMP;
		ex.chain = xstrdup(e->chain);
	} else if (!e->end && e->verdict >= 0) {
		ex.verdict = e->verdict;
	}
	if (!e->end && e->comment)
		ex.comment = xstrdup(e->comment);
	rec_add(arg, e->key, e->key_len, e->end, ex);
}

static void chain_take(struct collect *c, struct nftnl_chain *ch)
{
	if (c->nchains == c->chaincap) {
		c->chaincap = c->chaincap ? 2 * c->chaincap : 8;
		c->chains = xreallocarray(c->chains, c->chaincap, sizeof(*c->chains));
	}
	c->chains[c->nchains].c = ch;
	c->chains[c->nchains].order = c->nchains;
	c->nchains++;
}

static void rule_take(struct collect *c, struct nftnl_rule *r)
{
	if (c->nrules == c->rulecap) {
		c->rulecap = c->rulecap ? 2 * c->rulecap : 32;
		c->rules = xreallocarray(c->rules, c->rulecap, sizeof(*c->rules));
	}
	c->rules[c->nrules].r = r;
	c->rules[c->nrules].order = c->nrules;
	c->nrules++;
}

/* ---- the canonical text ---- */

/* Where the objects go as they are made: a callback, or a table (table_add). */
struct sink {
	pc_rb_each_fn *each;
	void *arg;
	const char *set; /* the name of the set whose elements are being made */
};

/* One object, its text taken from `text` (emptied); the strings are borrowed for the call. */
static void out_obj(struct sink *s, enum pc_rb_kind kind, const char *owner, struct pc_buf *text,
		const char *comment, const char *sets, const char *nft)
{
	struct pc_rb_obj o = {.kind = kind,
			.owner = (char *)owner,
			.comment = (char *)comment,
			.sets = (char *)sets,
			.nft = (char *)nft};

	pc_buf_add(text, "", 1);
	o.text = text->data;
	s->each(s->arg, &o);
	text->len = 0;
}

/* The table objects are added to, and where its last set stands. */
struct table_sink {
	struct pc_rb_table *t;
	size_t set;
};

/*
 * A copy of o added to the table of arg (a struct table_sink).  An
 * element's owner is the string of its set's object, not a copy.
 */
static void table_add(void *arg, const struct pc_rb_obj *o)
{
	struct table_sink *ts = arg;
	struct pc_rb_table *t = ts->t;
	struct pc_rb_obj *p;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->objs = xreallocarray(t->objs, t->cap, sizeof(*t->objs));
	}
	if (o->kind == PC_RB_SET)
		ts->set = t->n;
	p = &t->objs[t->n++];
	p->kind = o->kind;
	p->owner = o->kind == PC_RB_ELEM ? t->objs[ts->set].owner : xstrdup(o->owner);
	p->text = xstrdup(o->text);
	p->comment = o->comment ? xstrdup(o->comment) : NULL;
	p->sets = o->sets ? xstrdup(o->sets) : NULL;
	p->nft = o->nft ? xstrdup(o->nft) : NULL;
}

static void bprintf(struct pc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct pc_buf *b, const char *fmt, ...)
{
	va_list ap, aq;
	int n;

	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	pc_buf_reserve(b, (size_t)n + 1);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, aq);
	va_end(aq);
	b->len += (size_t)n;
}

static const char *l4_name(int p)
{
	switch (p) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 33:
		return "dccp";
	case 58:
		return "ipv6-icmp";
	case 132:
		return "sctp";
	default:
		return NULL;
	}
}

static const char *icmp_name(int family, unsigned t)
{
	static const char *const v4[] = {[0] = "echo-reply",
			[3] = "destination-unreachable",
			[8] = "echo-request",
			[11] = "time-exceeded",
			[12] = "parameter-problem"};
	static const char *const v6[] = {[1] = "destination-unreachable",
			[2] = "packet-too-big",
			[3] = "time-exceeded",
			[4] = "parameter-problem",
			[128] = "echo-request",
			[129] = "echo-reply",
			[133] = "nd-router-solicit",
			[134] = "nd-router-advert",
			[135] = "nd-neighbor-solicit",
			[136] = "nd-neighbor-advert"};
	if (family == 4 && t < PC_ARRAY_SIZE(v4))
		return v4[t];
	if (family == 6 && t < PC_ARRAY_SIZE(v6))
		return v6[t];
	return NULL;
}

static void key_text(struct pc_buf *b, uint32_t type, const uint8_t *k, uint32_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (type == PC_NFT_TYPE_IPADDR && len == 4) {
		/* as inet_ntop() writes it, without its printf: a large set is most of show */
		char *p = a;
		for (uint32_t i = 0; i < 4; i++) {
			if (k[i] >= 100)
				*p++ = (char)('0' + k[i] / 100);
			if (k[i] >= 10)
				*p++ = (char)('0' + k[i] / 10 % 10);
			*p++ = (char)('0' + k[i] % 10);
			*p++ = '.';
		}
		pc_buf_add(b, a, (size_t)(p - a - 1));
	} else if (type == PC_NFT_TYPE_IP6ADDR && len == 16) {
		bprintf(b, "%s", inet_ntop(AF_INET6, k, a, sizeof(a)));
	} else if ((type == PC_NFT_TYPE_INET_PROTOCOL || type == PC_NFT_TYPE_ICMP_TYPE ||
				   type == PC_NFT_TYPE_ICMP6_TYPE) &&
			len == 1) {
		const char *n = type == PC_NFT_TYPE_INET_PROTOCOL
						? l4_name(k[0])
						: icmp_name(type == PC_NFT_TYPE_ICMP_TYPE ? 4 : 6,
								  k[0]);
		if (n)
			bprintf(b, "%s", n);
		else
			bprintf(b, "%u", k[0]);
	} else if (type == PC_NFT_TYPE_INET_SERVICE && len == 2) {
		bprintf(b, "%u", (unsigned)k[0] << 8 | k[1]);
	} else if (type == PC_NFT_TYPE_IFNAME) {
		bprintf(b, "\"");
		for (uint32_t i = 0; i < len && k[i]; i++)
			if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '"' && k[i] != '\\')
				bprintf(b, "%c", k[i]);
			else
				bprintf(b, "\\x%02x", k[i]);
		bprintf(b, "\"");
	} else if (len <= 4) {
		uint32_t v = 0;
		for (uint32_t i = 0; i < len; i++)
			v = v << 8 | k[i];
		bprintf(b, "%u", v);
	} else {
		bprintf(b, "0x");
		for (uint32_t i = 0; i < len; i++)
			bprintf(b, "%02x", k[i]);
	}
}

static void verdict_text(struct pc_buf *b, int v, const char *chain)
{
	switch (v) {
	case NF_ACCEPT:
		bprintf(b, "accept");
		break;
	case NF_DROP:
		bprintf(b, "drop");
		break;
	case NFT_JUMP:
		bprintf(b, "jump %s", chain ? chain : "?");
		break;
	case NFT_GOTO:
		bprintf(b, "goto %s", chain ? chain : "?");
		break;
	case NFT_RETURN:
		bprintf(b, "return");
		break;
	case NFT_CONTINUE:
		bprintf(b, "continue");
		break;
	default:
		bprintf(b, "verdict %d", v);
	}
}

static int rec_cmp(const void *a, const void *b)
{
	const uint8_t *x = a, *y = b;
	int d = memcmp(x + REC_HEAD, y + REC_HEAD, x[0] < y[0] ? x[0] : y[0]);

	if (d)
		return d;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return (int)y[1] - (int)x[1]; /* an end before a start at the same key */
}

/* Whether [lo, hi] are the names an interface wildcard "stem*" matches: lo the stem, hi 0xff after
 * it. */
static bool ifname_wild(const uint8_t *lo, const uint8_t *hi, uint32_t len)
{
	uint32_t n = (uint32_t)strnlen((const char *)lo, len);

	if (memcmp(lo, hi, n) != 0)
		return false;
	for (uint32_t i = n; i < len; i++)
		if (hi[i] != 0xff)
			return false;
	return true;
}

/* k - 1 in place (big-endian). */
static void key_prev(uint8_t *k, uint32_t len)
{
	for (uint32_t i = len; i-- > 0;)
		if (k[i]--)
			return;
}

/* One element of a set: its key, of an interval set the last key of its range, and its extra. */
struct elem {
	const uint8_t *key;
	uint32_t len;
	uint8_t hi[KEY_MAX];
	const struct extra *ex;
};

/* Whether every record of y has a key of y->klen bytes (cached in y->uniform; rec_add() forgets).
 */
static bool uniform(struct set *y)
{
	size_t rs = rec_size(y);

	if (!y->uniform) {
		y->uniform = 1;
		for (size_t i = 0; i < y->n && y->uniform > 0; i++)
			if (y->recs[i * rs] != y->klen)
				y->uniform = -1;
	}
	return y->uniform > 0;
}

static void keys_sort(uint8_t *v, size_t n, size_t size, uint32_t off, uint32_t len, uint32_t at);
static void rec_swap(uint8_t *a, uint8_t *b, size_t size);

/*
 * The records of x in the order of rec_cmp(): a transaction's mostly are
 * already.  Keys all of one length (a kernel's hash set comes in the order
 * of its hash) are sorted in place by their bytes, then an end put before a
 * start of the same key; others by qsort().
 */
static void elems_sort(struct set *x)
{
	size_t rs = rec_size(x), i = 1;

	while (!x->sorted && i < x->n && rec_cmp(x->recs + (i - 1) * rs, x->recs + i * rs) <= 0)
		i++;
	if (!x->sorted && i < x->n && uniform(x)) {
		keys_sort(x->recs, x->n, rs, REC_HEAD, x->klen, 0);
		for (i = 1; i < x->n; i++)
			for (size_t j = i; j > 0 &&
					   rec_cmp(x->recs + (j - 1) * rs, x->recs + j * rs) > 0;
					j--)
				rec_swap(x->recs + (j - 1) * rs, x->recs + j * rs, rs);
	} else if (!x->sorted && i < x->n) {
		qsort(x->recs, x->n, rs, rec_cmp);
	}
	x->sorted = true;
}

/* The element at record *i of x (sorted) or after it, *i moved past it; false after the last. */
static bool elem_next(const struct set *x, size_t *i, struct elem *e)
{
	size_t rs = rec_size(x);
	const uint8_t *r;

	while (*i < x->n && (x->recs[*i * rs + 1] || (x->seen && x->seen[*i])))
		(*i)++;
	if (*i == x->n)
		return false;
	r = x->recs + *i * rs;
	e->len = r[0];
	e->key = r + REC_HEAD;
	e->ex = rec_extra(x, r);
	if (x->flags & NFT_SET_INTERVAL) {
		if (*i + 1 < x->n) {
			memcpy(e->hi, r + rs + REC_HEAD, e->len);
			key_prev(e->hi, e->len);
		} else {
			memset(e->hi, 0xff, e->len);
		}
	}
	(*i)++;
	return true;
}

/* The text of element e of x: a key (of an interval set, a range) and its data. */
static void elem_text(struct pc_buf *b, const struct set *x, const struct elem *e)
{
	key_text(b, x->key_type, e->key, e->len);
	if (x->flags & NFT_SET_INTERVAL) {
		if (memcmp(e->hi, e->key, e->len) == 0) {
		} else if (x->key_type == PC_NFT_TYPE_IFNAME &&
				ifname_wild(e->key, e->hi, e->len)) {
			b->len--; /* the closing quote */
			bprintf(b, "*\"");
		} else {
			bprintf(b, "-");
			key_text(b, x->key_type, e->hi, e->len);
		}
	}
	if (e->ex && e->ex->verdict != -1000) {
		bprintf(b, " : ");
		verdict_text(b, e->ex->verdict, e->ex->chain);
	}
}

/*
 * The text of the elements of x, one call of `each` per element, in the
 * order of their keys.
 */
static void elems_text(struct set *x,
		void (*each)(void *arg, struct pc_buf *b, const char *comment), void *arg,
		struct pc_buf *b)
{
	struct elem e;

	elems_sort(x);
	for (size_t i = 0; elem_next(x, &i, &e);) {
		elem_text(b, x, &e);
		each(arg, b, e.ex ? e.ex->comment : NULL);
	}
}

static void inline_each(void *arg, struct pc_buf *b, const char *comment)
{
	(void)arg;
	if (comment)
		bprintf(b, " comment \"%s\"", comment);
	bprintf(b, ", ");
}

static void elem_each(void *arg, struct pc_buf *b, const char *comment)
{
	struct sink *s = arg;
	out_obj(s, PC_RB_ELEM, s->set, b, comment, NULL, NULL);
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case PC_NFT_TYPE_IPADDR:
		return "ipv4_addr";
	case PC_NFT_TYPE_IP6ADDR:
		return "ipv6_addr";
	case PC_NFT_TYPE_INET_SERVICE:
		return "inet_service";
	case PC_NFT_TYPE_IFNAME:
		return "ifname";
	default:
		return NULL;
	}
}

static void set_text(struct pc_buf *b, const struct set *x)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} flags[] = {{NFT_SET_ANONYMOUS, "anonymous"}, {NFT_SET_CONSTANT, "constant"},
			{NFT_SET_INTERVAL, "interval"}, {NFT_SET_MAP, "map"},
			{NFT_SET_TIMEOUT, "timeout"}, {NFT_SET_EVAL, "dynamic"}};
	const char *tn = type_name(x->key_type);
	const char *sep = " ";

	bprintf(b, "%s %s { type ", x->flags & NFT_SET_MAP ? "map" : "set", x->name);
	if (tn)
		bprintf(b, "%s", tn);
	else
		bprintf(b, "%u/%u", x->key_type, x->key_len);
	if (x->has_data)
		bprintf(b, " : %s", x->data_type == NFT_DATA_VERDICT ? "verdict" : "data");
	bprintf(b, ";");
	uint32_t rest = x->flags & ~(uint32_t)NFT_SET_MAP;
	if (rest) {
		bprintf(b, " flags");
		for (size_t i = 0; i < PC_ARRAY_SIZE(flags); i++)
			if (rest & flags[i].bit) {
				bprintf(b, "%s%s", sep, flags[i].name);
				sep = ",";
				rest &= ~flags[i].bit;
			}
		if (rest)
			bprintf(b, "%s0x%x", sep, rest);
		bprintf(b, ";");
	}
	if (x->size)
		bprintf(b, " size %u;", x->size);
	bprintf(b, " }");
}

static const char *hook_name(uint32_t h)
{
	static const char *const names[] = {
			"prerouting", "input", "forward", "output", "postrouting", "ingress"};
	return h < PC_ARRAY_SIZE(names) ? names[h] : "?";
}

static void chain_text(struct pc_buf *b, const struct nftnl_chain *ch)
{
	bprintf(b, "chain %s", nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));
	if (!nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM))
		return;
	bprintf(b, " { type %s hook %s priority %d; policy ",
			nftnl_chain_is_set(ch, NFTNL_CHAIN_TYPE)
					? nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE)
					: "filter",
			hook_name(nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM)),
			nftnl_chain_is_set(ch, NFTNL_CHAIN_PRIO)
					? nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO)
					: 0);
	verdict_text(b,
			nftnl_chain_is_set(ch, NFTNL_CHAIN_POLICY)
					? (int)nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY)
					: NF_ACCEPT,
			NULL);
	bprintf(b, "; }");
}

struct rule_text {
	struct collect *c;
	struct pc_buf *b;
	struct pc_buf sets;
};

static int expr_text(struct nftnl_expr *e, void *data)
{
	struct rule_text *rt = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	char buf[512];

	bprintf(rt->b, "[ ");
	if (strcmp(name, "counter") == 0) {
		bprintf(rt->b, "counter");
	} else if (strcmp(name, "lookup") == 0) {
		const char *sn = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
		struct set *x = set_find(rt->c, sn, nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_SET_ID),
				nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_SET_ID)
						? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID)
						: 0);
		bprintf(rt->b, "lookup reg %u set ", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
		if (x && (x->flags & NFT_SET_ANONYMOUS)) {
			size_t mark;
			bprintf(rt->b, "{ ");
			mark = rt->b->len;
			elems_text(x, inline_each, NULL, rt->b);
			if (rt->b->len > mark)
				rt->b->len -= 2;
			bprintf(rt->b, " }");
		} else {
			bprintf(rt->b, "@%s", sn ? sn : "?");
			bprintf(&rt->sets, "%s ", sn ? sn : "?");
		}
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
			bprintf(rt->b, " dreg %u", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
				nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS))
			bprintf(rt->b, " flags 0x%x",
					nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS));
	} else if (strcmp(name, "log") == 0) {
		/* the kernel reports the level it logs at when none was given: 4 */
		bprintf(rt->b, "log");
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX))
			bprintf(rt->b, " prefix \"%s\"",
					nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP))
			bprintf(rt->b, " group %u", nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL) &&
				nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_LEVEL) != 4)
			bprintf(rt->b, " level %u", nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_LEVEL));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_FLAGS) &&
				nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_FLAGS))
			bprintf(rt->b, " flags 0x%x", nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_FLAGS));
	} else {
		size_t len;
		nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
		len = strlen(buf);
		while (len && buf[len - 1] == ' ')
			buf[--len] = 0;
		bprintf(rt->b, "%s %s", name, buf);
	}
	bprintf(rt->b, " ] ");
	return 0;
}

/* ---- rules in nft syntax ---- */

/*
 * What a rule has loaded into register 1 so far, and what it said about the
 * packet's protocols (which decide how a later load is named).
 */
struct syn {
	struct collect *c;
	struct pc_buf *b;
	enum {
		L_NONE,
		L_META,
		L_CT,
		L_PAYLOAD
	} load;
	uint32_t key, base, off, len;
	uint8_t mask[16];
	bool masked;
	int l4, nf; /* -1: not matched */
	char pending[300]; /* "meta l4proto tcp": left out when a tcp match follows */
	bool pending_nf;
	uint8_t low[2]; /* a port compared `gte`: the range's start, until its `lte` */
	bool has_low;
};

static void syn_term(struct syn *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void syn_term(struct syn *s, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];

	if (s->pending[0])
		bprintf(s->b, "%s ", s->pending);
	s->pending[0] = 0;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	bprintf(s->b, "%s ", tmp);
}

/* The left side of a match on what is loaded ("tcp dport"); NULL: no name for it. */
static const char *syn_lhs(struct syn *s, char *out, size_t size)
{
	if (s->load == L_META) {
		static const struct {
			uint32_t key;
			const char *name;
		} metas[] = {{NFT_META_L4PROTO, "meta l4proto"}, {NFT_META_NFPROTO, "meta nfproto"},
				{NFT_META_IIF, "iif"}, {NFT_META_OIF, "oif"},
				{NFT_META_IIFNAME, "iifname"}, {NFT_META_OIFNAME, "oifname"},
				{NFT_META_MARK, "meta mark"}};
		for (size_t i = 0; i < PC_ARRAY_SIZE(metas); i++)
			if (metas[i].key == s->key)
				return metas[i].name;
		return NULL;
	}
	if (s->load == L_CT)
		return s->key == NFT_CT_STATE ? "ct state" : NULL;
	if (s->load != L_PAYLOAD)
		return NULL;
	if (s->base == NFT_PAYLOAD_NETWORK_HEADER) {
		bool v6 = s->nf == NFPROTO_IPV6 || (s->nf < 0 && s->len > 4);
		uint32_t src = v6 ? 8 : 12, dst = v6 ? 24 : 16;
		if (s->off != src && s->off != dst)
			return NULL;
		snprintf(out, size, "%s %s", v6 ? "ip6" : "ip", s->off == src ? "saddr" : "daddr");
		return out;
	}
	if (s->base == NFT_PAYLOAD_TRANSPORT_HEADER) {
		bool ports = s->l4 == 6 || s->l4 == 17 || s->l4 == 33 || s->l4 == 132;
		const char *p = ports ? l4_name(s->l4) : "th";
		if (s->off == 0 && s->len == 1 && (s->l4 == 1 || s->l4 == 58))
			return s->l4 == 1 ? "icmp type" : "icmpv6 type";
		if (s->len == 2 && (s->off == 0 || s->off == 2)) {
			snprintf(out, size, "%s %s", p, s->off ? "dport" : "sport");
			return out;
		}
	}
	return NULL;
}

/* A value loaded as s says, as nft writes it. */
static void syn_value(struct syn *s, struct pc_buf *b, const uint8_t *d, uint32_t len)
{
	char a[INET6_ADDRSTRLEN], name[IF_NAMESIZE];

	if (s->load == L_META && (s->key == NFT_META_L4PROTO || s->key == NFT_META_NFPROTO) &&
			len == 1) {
		const char *n = s->key == NFT_META_L4PROTO ? l4_name(d[0])
				: d[0] == NFPROTO_IPV4	   ? "ipv4"
				: d[0] == NFPROTO_IPV6	   ? "ipv6"
							   : NULL;
		if (n)
			bprintf(b, "%s", n);
		else
			bprintf(b, "%u", d[0]);
	} else if (s->load == L_META && (s->key == NFT_META_IIF || s->key == NFT_META_OIF) &&
			len == 4) {
		uint32_t ix;
		memcpy(&ix, d, 4);
		if (if_indextoname(ix, name))
			bprintf(b, "\"%s\"", name);
		else
			bprintf(b, "%u", ix);
	} else if (s->load == L_META &&
			(s->key == NFT_META_IIFNAME || s->key == NFT_META_OIFNAME)) {
		key_text(b, PC_NFT_TYPE_IFNAME, d, len);
		if (len < 16) { /* a prefix: a wildcard */
			b->len--;
			bprintf(b, "*\"");
		}
	} else if (s->load == L_PAYLOAD && s->base == NFT_PAYLOAD_NETWORK_HEADER) {
		bool v6 = s->nf == NFPROTO_IPV6 || (s->nf < 0 && s->len > 4);
		uint8_t full[16] = {0};
		unsigned bits = len * 8;
		memcpy(full, d, len > 16 ? 16 : len);
		if (s->masked) {
			bits = 0;
			for (uint32_t i = 0; i < s->len; i++)
				bits += (unsigned)__builtin_popcount(s->mask[i]);
		}
		bprintf(b, "%s", inet_ntop(v6 ? AF_INET6 : AF_INET, full, a, sizeof(a)));
		if (bits != (v6 ? 128u : 32u))
			bprintf(b, "/%u", bits);
	} else if (s->load == L_PAYLOAD && s->len == 1 && (s->l4 == 1 || s->l4 == 58)) {
		const char *n = icmp_name(s->l4 == 1 ? 4 : 6, d[0]);
		if (n)
			bprintf(b, "%s", n);
		else
			bprintf(b, "%u", d[0]);
	} else if (len == 2) {
		bprintf(b, "%u", (unsigned)d[0] << 8 | d[1]);
	} else {
		key_text(b, 0, d, len);
	}
}

/* A match named by its protocol (`ip saddr`, `tcp dport`) says what the pending one said. */
static void syn_implied(struct syn *s, const char *lhs)
{
	if (s->load == L_PAYLOAD && s->pending[0] &&
			((s->base == NFT_PAYLOAD_NETWORK_HEADER && s->pending_nf) ||
					(s->base == NFT_PAYLOAD_TRANSPORT_HEADER &&
							!s->pending_nf &&
							strncmp(lhs, "th", 2) != 0)))
		s->pending[0] = 0;
}

/* A port range as nft compiles `tcp dport 1-30000`: compared `gte` the start, then `lte` the end.
 */
static bool syn_port_range(struct syn *s, const char *lhs, uint32_t op, const uint8_t *d)
{
	if (op == NFT_CMP_GTE) {
		memcpy(s->low, d, 2);
		s->has_low = true;
		return true;
	}
	s->has_low = false;
	syn_implied(s, lhs);
	syn_term(s, "%s %u-%u", lhs, (unsigned)s->low[0] << 8 | s->low[1],
			(unsigned)d[0] << 8 | d[1]);
	return true;
}

static bool syn_cmp(struct syn *s, struct nftnl_expr *e)
{
	char buf[64], val[256];
	uint32_t len = 0, op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
	const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
	const char *lhs = syn_lhs(s, buf, sizeof(buf));
	struct pc_buf v;

	if (lhs && d && len == 2 && s->load == L_PAYLOAD && !s->masked &&
			(op == NFT_CMP_GTE || (op == NFT_CMP_LTE && s->has_low)))
		return syn_port_range(s, lhs, op, d);
	if (!lhs || !d || (op != NFT_CMP_EQ && op != NFT_CMP_NEQ))
		return false;
	if (s->load == L_CT) { /* ct state: a mask of states, compared with zero */
		static const char *const states[] = {"invalid", "established", "related", "new"};
		uint32_t m;
		const char *sep = "";
		if (!s->masked || op != NFT_CMP_NEQ || len != 4)
			return false;
		memcpy(&m, s->mask, 4);
		pc_buf_init(&v);
		for (unsigned i = 0; i < 4; i++)
			if (m & 1u << i) {
				bprintf(&v, "%s%s", sep, states[i]);
				sep = ",";
			}
		pc_buf_add(&v, "", 1);
		syn_term(s, "ct state %s", v.data);
		pc_buf_finish(&v);
		return true;
	}
	if (s->masked && s->base != NFT_PAYLOAD_NETWORK_HEADER)
		return false;
	pc_buf_init(&v);
	syn_value(s, &v, d, len);
	pc_buf_add(&v, "", 1);
	snprintf(val, sizeof(val), "%s", v.data);
	pc_buf_finish(&v);
	if (s->load == L_META && s->key == NFT_META_L4PROTO && op == NFT_CMP_EQ && len == 1) {
		/* icmp says ipv4, ipv6-icmp ipv6 */
		if (s->pending_nf && ((d[0] == 1 && s->nf == NFPROTO_IPV4) ||
						     (d[0] == 58 && s->nf == NFPROTO_IPV6)))
			s->pending[0] = 0;
		if (s->pending[0])
			bprintf(s->b, "%s ", s->pending);
		s->pending_nf = false;
		s->l4 = d[0];
		snprintf(s->pending, sizeof(s->pending), "meta l4proto %s", val);
		return true;
	}
	if (s->load == L_META && s->key == NFT_META_NFPROTO && op == NFT_CMP_EQ && len == 1) {
		if (s->pending[0])
			bprintf(s->b, "%s ", s->pending);
		s->nf = d[0];
		snprintf(s->pending, sizeof(s->pending), "meta nfproto %s", val);
		s->pending_nf = true;
		return true;
	}
	syn_implied(s, lhs);
	syn_term(s, "%s %s%s", lhs, op == NFT_CMP_NEQ ? "!= " : "", val);
	return true;
}

static void syn_elem_each(void *arg, struct pc_buf *b, const char *comment)
{
	(void)arg;
	(void)comment;
	bprintf(b, ", ");
}

static bool syn_lookup(struct syn *s, struct nftnl_expr *e)
{
	const char *sn = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	bool has_id = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_SET_ID);
	struct set *x = set_find(s->c, sn, has_id,
			has_id ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID) : 0);
	bool vmap = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG);
	bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
		   (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);
	char buf[64];
	const char *lhs = syn_lhs(s, buf, sizeof(buf));
	struct pc_buf v;

	if (!lhs || !x || s->masked || s->load == L_CT)
		return false;
	syn_implied(s, lhs);
	pc_buf_init(&v);
	if (x->flags & NFT_SET_ANONYMOUS) {
		bprintf(&v, "{ ");
		/* the elements as the set's key type says; icmp types and protocols by number */
		elems_text(x, syn_elem_each, NULL, &v);
		v.len -= 2;
		bprintf(&v, " }");
	} else {
		bprintf(&v, "@%s", x->name);
	}
	pc_buf_add(&v, "", 1);
	syn_term(s, "%s %s%s%s", lhs, vmap ? "vmap " : "", inv ? "!= " : "", v.data);
	pc_buf_finish(&v);
	return true;
}

static bool syn_expr(struct syn *s, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(name, "meta") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
		s->load = L_META;
		s->key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
		s->masked = false;
		return true;
	}
	if (strcmp(name, "ct") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
		s->load = L_CT;
		s->key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);
		s->masked = false;
		return true;
	}
	if (strcmp(name, "payload") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
		s->load = L_PAYLOAD;
		s->base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
		s->off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
		s->len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
		s->masked = false;
		return true;
	}
	if (strcmp(name, "bitwise") == 0) {
		uint32_t len = 0;
		const void *m = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &len);
		if (!m || len > sizeof(s->mask) || s->masked)
			return false;
		memset(s->mask, 0, sizeof(s->mask));
		memcpy(s->mask, m, len);
		s->masked = true;
		return true;
	}
	if (strcmp(name, "cmp") == 0)
		return syn_cmp(s, e);
	if (strcmp(name, "lookup") == 0)
		return syn_lookup(s, e);
	if (strcmp(name, "immediate") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
		struct pc_buf v;
		pc_buf_init(&v);
		verdict_text(&v, (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT),
				nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)
						? nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN)
						: NULL);
		pc_buf_add(&v, "", 1);
		syn_term(s, "%s", v.data);
		pc_buf_finish(&v);
		return true;
	}
	if (strcmp(name, "counter") == 0) {
		syn_term(s, "counter");
		return true;
	}
	if (strcmp(name, "limit") == 0 &&
			nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_TYPE) == NFT_LIMIT_PKTS) {
		static const struct {
			uint64_t secs;
			const char *name;
		} units[] = {{1, "second"}, {60, "minute"}, {3600, "hour"}, {86400, "day"},
				{604800, "week"}};
		uint64_t unit = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT);
		uint32_t burst = nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST);
		for (size_t i = 0; i < PC_ARRAY_SIZE(units); i++)
			if (units[i].secs == unit) {
				char extra[32] = "";
				if (burst != 5)
					snprintf(extra, sizeof(extra), " burst %u packets", burst);
				syn_term(s, "limit rate %llu/%s%s",
						(unsigned long long)nftnl_expr_get_u64(
								e, NFTNL_EXPR_LIMIT_RATE),
						units[i].name, extra);
				return true;
			}
		return false;
	}
	if (strcmp(name, "log") == 0) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX))
			syn_term(s, "log prefix \"%s\"",
					nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX));
		else
			syn_term(s, "log");
		return true;
	}
	if (strcmp(name, "reject") == 0) {
		uint32_t type = nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE);
		uint8_t code = nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE);
		if (type == NFT_REJECT_TCP_RST)
			syn_term(s, "reject with tcp reset");
		else if (type == NFT_REJECT_ICMPX_UNREACH && code == NFT_REJECT_ICMPX_PORT_UNREACH)
			syn_term(s, "reject");
		else if (type == NFT_REJECT_ICMP_UNREACH && code == 3 && s->nf == NFPROTO_IPV4)
			syn_term(s, "reject with icmp port-unreachable");
		else if (type == NFT_REJECT_ICMP_UNREACH && code == 4 && s->nf == NFPROTO_IPV6)
			syn_term(s, "reject with icmpv6 port-unreachable");
		else
			return false;
		return true;
	}
	return false;
}

struct syn_walk {
	struct syn s;
	bool ok;
};

static int syn_cb(struct nftnl_expr *e, void *data)
{
	struct syn_walk *w = data;

	if (w->ok && !syn_expr(&w->s, e))
		w->ok = false;
	return 0;
}

/*
 * The rule in nft syntax, into b; false (b as it was) when it holds an
 * expression, or a sequence, this printer has no words for.
 */
static bool rule_nft(struct collect *c, struct nftnl_rule *r, struct pc_buf *b)
{
	size_t mark = b->len;
	struct syn_walk w = {.s = {.c = c, .b = b, .l4 = -1, .nf = -1}, .ok = true};

	nftnl_expr_foreach(r, syn_cb, &w);
	if (w.ok && w.s.pending[0])
		syn_term(&w.s, "%s", "");
	if (!w.ok || b->len == mark) {
		b->len = mark;
		return false;
	}
	while (b->len > mark && b->data[b->len - 1] == ' ')
		b->len--;
	return true;
}

static int chain_order(const void *a, const void *b)
{
	const struct chain *x = a, *y = b;
	bool bx = nftnl_chain_is_set(x->c, NFTNL_CHAIN_HOOKNUM);
	bool by = nftnl_chain_is_set(y->c, NFTNL_CHAIN_HOOKNUM);

	if (bx != by)
		return bx ? -1 : 1;
	if (bx) {
		uint32_t hx = nftnl_chain_get_u32(x->c, NFTNL_CHAIN_HOOKNUM);
		uint32_t hy = nftnl_chain_get_u32(y->c, NFTNL_CHAIN_HOOKNUM);
		if (hx != hy)
			return hx < hy ? -1 : 1;
	}
	return strcmp(nftnl_chain_get_str(x->c, NFTNL_CHAIN_NAME),
			nftnl_chain_get_str(y->c, NFTNL_CHAIN_NAME));
}

/* Rules by chain, each chain's in their order. */
static int rule_order(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	int d = strcmp(nftnl_rule_get_str(x->r, NFTNL_RULE_CHAIN),
			nftnl_rule_get_str(y->r, NFTNL_RULE_CHAIN));

	if (d)
		return d;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The first of the rules (sorted by rule_order) of chain `name`, or nrules. */
static size_t rules_of(const struct collect *c, const char *name)
{
	size_t lo = 0, hi = c->nrules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(nftnl_rule_get_str(c->rules[mid].r, NFTNL_RULE_CHAIN), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int set_order(const void *a, const void *b)
{
	const struct set *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/*
 * The objects of c, in the order of readback.h: given to `each` one at a
 * time, or, when each is NULL, added to t.
 */
/* The object of the named set `name` in t: its index, or t->n. */
static size_t set_obj(const struct pc_rb_table *t, const char *name)
{
	size_t i = 0;

	while (i < t->n && !(t->objs[i].kind == PC_RB_SET && strcmp(t->objs[i].owner, name) == 0))
		i++;
	return i;
}

/* The set `name` t keeps packed, or NULL. */
static struct set *packed_find(const struct pc_rb_table *t, const char *name)
{
	for (size_t i = 0; t->elems && i < t->elems->n; i++)
		if (strcmp(t->elems->sets[i].name, name) == 0)
			return &t->elems->sets[i];
	return NULL;
}

static bool streq_null(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool extra_same(const struct extra *a, const struct extra *b)
{
	if (!a || !b)
		return a == b;
	return a->verdict == b->verdict && streq_null(a->chain, b->chain) &&
	       streq_null(a->comment, b->comment);
}

/* The 16 bits of the big-endian key k (len bytes) from bit `at` on; 0 past its end. */
static uint32_t key_bits16(const uint8_t *k, uint32_t len, uint32_t at)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < 3; i++) {
		uint32_t byte = at / 8 + i;
		v = v << 8 | (byte < len ? k[byte] : 0);
	}
	return v >> (8 - at % 8) & 0xffff;
}

/* The bits k shares with the first record of y (all of y's records share at least y->index_at). */
static bool key_shares_prefix(const struct set *y, const uint8_t *k)
{
	const uint8_t *first = y->recs + REC_HEAD;
	uint32_t whole = y->index_at / 8, rest = y->index_at % 8;

	return !memcmp(first, k, whole) &&
	       (!rest || !((first[whole] ^ k[whole]) & (uint8_t)(0xff00u >> rest)));
}

/*
 * y's index (struct set.index), made when y is large and every record has a
 * key of y->klen bytes; false when it has none.  The records are sorted:
 * past the prefix they all share, their next 16 bits never decrease.
 */
static bool index_made(struct set *y)
{
	size_t rs = rec_size(y);

	if (y->index)
		return true;
	if (y->n < RB_INDEX_MIN || y->n > UINT32_MAX)
		return false;
	for (size_t i = 0; i < y->n; i++)
		if (y->recs[i * rs] != y->klen)
			return false;
	const uint8_t *a = y->recs + REC_HEAD, *b = y->recs + (y->n - 1) * rs + REC_HEAD;
	uint32_t at = 0;
	while (at < 8 * y->klen && !((a[at / 8] ^ b[at / 8]) & (0x80u >> at % 8)))
		at++;
	y->index_at = at;
	y->index = xreallocarray(NULL, RB_INDEX_SLOTS + 1, sizeof(*y->index));
	size_t i = 0;
	for (uint32_t v = 0; v < RB_INDEX_SLOTS; v++) {
		while (i < y->n && key_bits16(y->recs + i * rs + REC_HEAD, y->klen, at) < v)
			i++;
		y->index[v] = (uint32_t)i;
	}
	y->index[RB_INDEX_SLOTS] = (uint32_t)y->n;
	return true;
}

/*
 * The set `against` keeps packed under the name of the kernel's hash set x,
 * when x's elements can be matched in it as they are read: NULL otherwise.
 */
static struct set *packed_for(const struct collect *c, const struct set *x)
{
	struct set *y = c->against ? packed_find(c->against, x->name) : NULL;

	if (!y || !y->n || y->key_type != x->key_type || ((x->flags | y->flags) & NFT_SET_INTERVAL))
		return NULL;
	return y;
}

/*
 * Whether the kernel's element of key k and extra ex is one of y's
 * (packed_for()), alike: then it is marked seen there.  A set of 200 000
 * addresses is compared as it is read, without a record of the kernel's for
 * each element.
 */
static bool matched_packed(struct set *y, const void *k, uint32_t len, const struct extra *ex)
{
	uint8_t key[REC_HEAD + KEY_MAX] = {0};

	if (!k || len > y->klen)
		return false;
	size_t rs = rec_size(y), lo = 0, hi = y->n;
	key[0] = (uint8_t)len;
	memcpy(key + REC_HEAD, k, len);
	if (len == y->klen && index_made(y)) {
		if (!key_shares_prefix(y, key + REC_HEAD))
			return false;
		uint32_t v = key_bits16(key + REC_HEAD, len, y->index_at);
		lo = y->index[v];
		hi = y->index[v + 1];
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rec_cmp(y->recs + mid * rs, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	bool has = ex->verdict != -1000 || ex->chain || ex->comment;
	for (; lo < y->n; lo++) {
		const uint8_t *r = y->recs + lo * rs;
		if (r[0] != len || memcmp(r + REC_HEAD, k, len))
			return false;
		if (r[1] || (y->seen && y->seen[lo]) ||
				!extra_same(rec_extra(y, r), has ? ex : NULL))
			continue;
		if (!y->seen)
			y->seen = xcalloc(y->n, 1);
		y->seen[lo] = 1;
		return true;
	}
	return false;
}

/*
 * Whether the bare element of key k (len bytes) of the kernel's hash set x
 * is kept in x->bare, to be matched with the packed set y's records when
 * the dump is read (bare_merge()): when y's keys are all as long as k.
 */
static bool bare_keep(struct set *x, struct set *y, const void *k, uint32_t len)
{
	if (len != y->klen || !len || !uniform(y))
		return false;
	if (x->nbare == x->barecap) {
		/* as many as the policy has, first: a set alike needs no more */
		x->barecap = x->barecap ? x->barecap + x->barecap / 2 : (y->n > 16 ? y->n : 16);
		x->bare = xreallocarray(x->bare, x->barecap, len);
	}
	x->bare_len = len;
	memcpy(x->bare + x->nbare++ * len, k, len);
	return true;
}

static void rec_swap(uint8_t *a, uint8_t *b, size_t size)
{
	uint8_t t[REC_HEAD + KEY_MAX];

	memcpy(t, a, size);
	memcpy(a, b, size);
	memcpy(b, t, size);
}

/*
 * n records of `size` bytes at v, their keys of len bytes at `off`, all
 * alike before key byte `at`, sorted in place by their keys' bytes (a
 * most-significant-byte radix sort: a bucket per byte value, each record
 * swapped straight into its bucket; no copy of the array).
 */
static void keys_sort(uint8_t *v, size_t n, size_t size, uint32_t off, uint32_t len, uint32_t at)
{
	size_t count[256] = {0}, next[256], end[256], s = 0;

	if (n < 2 || at >= len)
		return;
	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 &&
					   memcmp(v + (j - 1) * size + off + at,
							   v + j * size + off + at, len - at) > 0;
					j--)
				rec_swap(v + (j - 1) * size, v + j * size, size);
		return;
	}
	for (size_t i = 0; i < n; i++)
		count[v[i * size + off + at]]++;
	for (unsigned b = 0; b < 256; b++) {
		next[b] = s;
		s += count[b];
		end[b] = s;
	}
	for (unsigned b = 0; b < 256; b++)
		while (next[b] < end[b]) {
			uint8_t *p = v + next[b] * size;
			if (p[off + at] == b)
				next[b]++;
			else
				rec_swap(p, v + next[p[off + at]]++ * size, size);
		}
	for (unsigned b = 0; b < 256; b++)
		if (count[b] > 1)
			keys_sort(v + (end[b] - count[b]) * size, count[b], size, off, len, at + 1);
}

/*
 * The bare keys of the kernel's set x merged with the records of the packed
 * set y, both in order: a key a record without extra holds alike marks it
 * seen, as matched_packed() would have; the others become x's records.
 */
static void bare_merge(struct set *x, struct set *y)
{
	uint32_t len = x->bare_len;
	size_t rs = rec_size(y), j = 0;

	keys_sort(x->bare, x->nbare, len, 0, len, 0);
	for (size_t i = 0; i < x->nbare; i++) {
		const uint8_t *k = x->bare + i * len;
		bool found = false;
		while (j < y->n && memcmp(y->recs + j * rs + REC_HEAD, k, len) < 0)
			j++;
		for (size_t m = j; m < y->n && !found; m++) {
			const uint8_t *r = y->recs + m * rs;
			if (memcmp(r + REC_HEAD, k, len) != 0)
				break;
			if (r[1] || (y->seen && y->seen[m]) || rec_extra(y, r))
				continue;
			if (!y->seen)
				y->seen = xcalloc(y->n, 1);
			y->seen[m] = 1;
			found = true;
		}
		if (!found)
			rec_add(x, k, len, false, (struct extra){.verdict = -1000});
	}
	free(x->bare);
	x->bare = NULL;
	x->nbare = x->barecap = 0;
}

/* Whether e of x and f of y are the same element, written alike. */
static bool elem_same(const struct set *x, const struct elem *e, const struct set *y,
		const struct elem *f)
{
	const struct extra *a = e->ex, *b = f->ex;

	if (e->len != f->len || memcmp(e->key, f->key, e->len) != 0)
		return false;
	if ((x->flags & NFT_SET_INTERVAL) && memcmp(e->hi, f->hi, e->len) != 0)
		return false;
	return extra_same(a, b);
}

static int elem_cmp(const struct elem *e, const struct elem *f)
{
	int d = memcmp(e->key, f->key, e->len < f->len ? e->len : f->len);

	if (d)
		return d;
	return e->len < f->len ? -1 : e->len > f->len;
}

/*
 * The elements of x (to s) and of y (to ys) but those they have alike, which
 * neither is given; x and y print their elements alike.
 */
static void elems_merge(
		struct set *x, struct sink *s, struct set *y, struct sink *ys, struct pc_buf *b)
{
	struct elem e, f;
	size_t i = 0, j = 0;
	bool he, hf;

	elems_sort(x);
	elems_sort(y);
	he = elem_next(x, &i, &e);
	hf = elem_next(y, &j, &f);
	while (he || hf) {
		int d = !he ? 1 : !hf ? -1 : elem_cmp(&e, &f);
		if (d == 0 && elem_same(x, &e, y, &f)) {
			he = elem_next(x, &i, &e);
			hf = elem_next(y, &j, &f);
		} else if (d <= 0) {
			elem_text(b, x, &e);
			elem_each(s, b, e.ex ? e.ex->comment : NULL);
			he = elem_next(x, &i, &e);
		} else {
			elem_text(b, y, &f);
			elem_each(ys, b, f.ex ? f.ex->comment : NULL);
			hf = elem_next(y, &j, &f);
		}
	}
}

/* The set x's elements kept packed in t, x left without them. */
static void keep_packed(struct pc_rb_table *t, struct set *x)
{
	struct pc_rb_elems *k = t->elems;
	struct set *y;

	if (!k)
		k = t->elems = xcalloc(1, sizeof(*k));
	k->sets = pc_grow(k->sets, k->n, sizeof(*k->sets));
	y = &k->sets[k->n++];
	elems_sort(x);
	*y = *x;
	y->name = xstrdup(x->name);
	y->comment = NULL;
	x->recs = NULL;
	x->extras = NULL;
	x->n = x->cap = x->nextras = x->extcap = 0;
}

/* The elements t keeps packed released, not made objects. */
static void packed_release(struct pc_rb_table *t)
{
	struct pc_rb_elems *k = t->elems;

	for (size_t i = 0; k && i < k->n; i++) {
		elems_release(&k->sets[i]);
		free(k->sets[i].name);
	}
	if (k)
		free(k->sets);
	free(k);
	t->elems = NULL;
}

void pc_rb_unpack(struct pc_rb_table *t)
{
	struct pc_buf b;

	if (!t->elems)
		return;
	pc_buf_init(&b);
	for (size_t i = 0; i < t->elems->n; i++) {
		struct set *x = &t->elems->sets[i];
		struct table_sink ts = {.t = t, .set = set_obj(t, x->name)};
		struct sink s = {.each = table_add, .arg = &ts, .set = x->name};
		if (ts.set < t->n)
			elems_text(x, elem_each, &s, &b);
	}
	pc_buf_finish(&b);
	packed_release(t);
}

/*
 * The objects of c, in the order of readback.h: given to `each` one at a
 * time, or, when each is NULL, added to t.  With `keep`, the elements of
 * named sets are kept packed in t->elems instead; with `against` (a table
 * that keeps them), the elements both have alike are left out of both, and
 * the others of `against` added to it.
 */
static void emit(struct collect *c, struct pc_rb_table *t, pc_rb_each_fn *each, void *arg,
		bool keep, struct pc_rb_table *against)
{
	struct table_sink ts = {.t = t};
	struct sink s = {.each = each ? each : table_add, .arg = each ? arg : &ts};
	struct pc_buf b;

	memset(t, 0, sizeof(*t));
	t->exists = c->exists;
	if (!c->exists)
		return;
	pc_buf_init(&b);
	bprintf(&b, "table inet %s", c->table);
	if (c->flags == NFT_TABLE_F_DORMANT)
		bprintf(&b, " { flags dormant; }");
	else if (c->flags)
		bprintf(&b, " { flags 0x%x; }", c->flags);
	if (!each && !keep && !against) {
		/* room for every object at once: a large set's are most of them */
		t->cap = 1 + c->nsets + c->nchains + c->nrules;
		for (size_t i = 0; i < c->nsets; i++)
			for (size_t j = 0; j < c->sets[i].n; j++)
				t->cap += !c->sets[i].recs[j * rec_size(&c->sets[i]) + 1];
		t->objs = xreallocarray(NULL, t->cap, sizeof(*t->objs));
	}
	out_obj(&s, PC_RB_TABLE, c->table, &b, c->comment, NULL, NULL);
	if (c->nsets)
		qsort(c->sets, c->nsets, sizeof(*c->sets), set_order);
	for (size_t i = 0; i < c->nsets; i++) {
		struct set *x = &c->sets[i];
		if (x->flags & NFT_SET_ANONYMOUS)
			continue;
		set_text(&b, x);
		out_obj(&s, PC_RB_SET, x->name, &b, x->comment, NULL, NULL);
		s.set = x->name;
		if (keep) {
			keep_packed(t, x);
			continue;
		}
		struct set *y = against ? packed_find(against, x->name) : NULL;
		if (y && y->key_type == x->key_type &&
				(y->flags & NFT_SET_INTERVAL) == (x->flags & NFT_SET_INTERVAL)) {
			struct table_sink ys = {.t = against, .set = set_obj(against, y->name)};
			struct sink yk = {.each = table_add, .arg = &ys, .set = y->name};
			elems_merge(x, &s, y, &yk, &b);
			elems_release(y);
		} else {
			elems_text(x, elem_each, &s, &b);
		}
		elems_release(x); /* no rule writes a named set's elements out */
	}
	/* (qsort is given no null array, even of nothing) */
	if (c->nchains)
		qsort(c->chains, c->nchains, sizeof(*c->chains), chain_order);
	if (c->nrules)
		qsort(c->rules, c->nrules, sizeof(*c->rules), rule_order);
	for (size_t i = 0; i < c->nchains; i++) {
		const char *name = nftnl_chain_get_str(c->chains[i].c, NFTNL_CHAIN_NAME);
		chain_text(&b, c->chains[i].c);
		out_obj(&s, PC_RB_CHAIN, name, &b, NULL, NULL, NULL);
		for (size_t j = rules_of(c, name); j < c->nrules; j++) {
			struct nftnl_rule *r = c->rules[j].r;
			struct rule_text rt = {.c = c, .b = &b};
			uint32_t len = 0;
			const void *u;
			char *comment;
			if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), name) != 0)
				break;
			struct pc_buf nft;
			pc_buf_init(&nft);
			bool said = rule_nft(c, r, &nft);
			pc_buf_add(&nft, "", 1);
			pc_buf_init(&rt.sets);
			nftnl_expr_foreach(r, expr_text, &rt);
			if (b.len)
				b.len--; /* the last space */
			u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
			comment = udata_comment(u, len, NFTNL_UDATA_RULE_COMMENT);
			pc_buf_add(&rt.sets, "", 1);
			out_obj(&s, PC_RB_RULE, name, &b, comment, rt.sets.data,
					said ? nft.data : NULL);
			pc_buf_finish(&nft);
			pc_buf_finish(&rt.sets);
			free(comment);
		}
	}
	pc_buf_finish(&b);
}

void pc_rb_finish(struct pc_rb_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->objs[i].kind != PC_RB_ELEM)
			free(t->objs[i].owner);
		free(t->objs[i].text);
		free(t->objs[i].comment);
		free(t->objs[i].sets);
		free(t->objs[i].nft);
	}
	free(t->objs);
	packed_release(t);
	memset(t, 0, sizeof(*t));
}

/* ---- a transaction ---- */

/*
 * The elements of a NEWSETELEM message.  libnftnl numbers the element nests
 * it writes 1, 2, 3, ... (the kernel does not look) but reads back only
 * nests of type NFTA_LIST_ELEM, so a copy with those types is parsed.
 */
static int elems_parse(const struct nlmsghdr *nlh, struct nftnl_set *x)
{
	struct nlmsghdr *copy = xmalloc(nlh->nlmsg_len);
	struct nlattr *a, *e;
	int ret;

	memcpy(copy, nlh, nlh->nlmsg_len);
	mnl_attr_for_each(a, copy, sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) ==
								NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(e, a) e->nla_type =
			(uint16_t)((e->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
	ret = nftnl_set_elems_nlmsg_parse(copy, x);
	free(copy);
	return ret;
}

static void from_batch(const struct pc_nft_table *m, const struct pc_nl_batch *b,
		struct pc_rb_table *t, bool keep);

/* Whether a NEWSETELEM message adds to a named set (not one of a rule's anonymous sets). */
static bool named_elems(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			return !strchr(mnl_attr_get_str(a), '%');
	}
	return false;
}

void pc_rb_from_batch(const struct pc_nl_batch *b, struct pc_rb_table *t)
{
	from_batch(NULL, b, t, false);
}

void pc_rb_from_model_packed(
		const struct pc_nft_table *m, const struct pc_nl_batch *b, struct pc_rb_table *t)
{
	from_batch(m, b, t, true);
}

/*
 * With m, the elements of named sets come from the model's walk, and any
 * the batch holds of them are passed over: b may be built with sets_empty.
 */
static void from_batch(const struct pc_nft_table *m, const struct pc_nl_batch *b,
		struct pc_rb_table *t, bool keep)
{
	struct collect c = {0};
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;
	int left = (int)b->len;

	while (mnl_nlmsg_ok(nlh, left)) {
		uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
		bool nft = (nlh->nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES;
		if (nft && type == NFT_MSG_NEWTABLE) {
			struct nftnl_table *x = nftnl_table_alloc();
			if (!x)
				pc_oom_size(0);
			if (nftnl_table_nlmsg_parse(nlh, x) == 0) {
				if (!c.table)
					c.table = xstrdup(nftnl_table_get_str(x, NFTNL_TABLE_NAME));
				table_take(&c, x);
			}
			nftnl_table_free(x);
		} else if (nft && type == NFT_MSG_NEWSET) {
			struct nftnl_set *x = nftnl_set_alloc();
			if (!x)
				pc_oom_size(0);
			if (nftnl_set_nlmsg_parse(nlh, x) == 0)
				set_take(&c, x);
			nftnl_set_free(x);
		} else if (nft && type == NFT_MSG_NEWSETELEM && !(m && named_elems(nlh))) {
			struct nftnl_set *x = nftnl_set_alloc();
			if (!x)
				pc_oom_size(0);
			if (elems_parse(nlh, x) == 0)
				elems_take(&c, x);
			nftnl_set_free(x);
		} else if (nft && type == NFT_MSG_NEWCHAIN) {
			struct nftnl_chain *x = nftnl_chain_alloc();
			if (!x)
				pc_oom_size(0);
			if (nftnl_chain_nlmsg_parse(nlh, x) == 0)
				chain_take(&c, x);
			else
				nftnl_chain_free(x);
		} else if (nft && type == NFT_MSG_NEWRULE) {
			struct nftnl_rule *x = nftnl_rule_alloc();
			if (!x)
				pc_oom_size(0);
			if (nftnl_rule_nlmsg_parse(nlh, x) == 0)
				rule_take(&c, x);
			else
				nftnl_rule_free(x);
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	for (size_t i = 0; m && i < c.nsets; i++)
		if (!(c.sets[i].flags & NFT_SET_ANONYMOUS))
			pc_nl_set_elems(m, c.sets[i].name, model_elem, &c.sets[i]);
	emit(&c, t, NULL, NULL, keep, NULL);
	collect_finish(&c);
}

/* ---- the kernel ---- */

static void rd_begin(void *arg)
{
	struct collect *c = arg;
	char *table = c->table;
	struct pc_rb_table *against = c->against;

	c->table = NULL;
	collect_finish(c);
	c->table = table;
	/* a dump taken again: what the last one matched is not */
	c->against = against;
	for (size_t i = 0; against && against->elems && i < against->elems->n; i++) {
		free(against->elems->sets[i].seen);
		against->elems->sets[i].seen = NULL;
	}
}

static bool rd_table(void *arg, struct nftnl_table *x)
{
	table_take(arg, x);
	return false;
}

static bool rd_set(void *arg, struct nftnl_set *x)
{
	struct collect *c = arg;

	set_take(c, x);
	c->sets[c->nsets - 1].has_id = false;
	return false;
}

static void rd_elem_set(void *arg, const char *name)
{
	struct collect *c = arg;

	c->cur = set_find(c, name, false, 0);
	if (c->cur)
		c->cur->sorted = false;
	/* Looked up once a message, not once an element. */
	c->cur_y = c->cur ? packed_for(c, c->cur) : NULL;
}

static void rd_elem(void *arg, const struct pc_dump_elem *e)
{
	struct collect *c = arg;

	if (c->cur)
		elem_take(c->cur, c->cur_y, e);
}

static bool rd_chain(void *arg, struct nftnl_chain *x)
{
	chain_take(arg, x);
	return true;
}

static bool rd_rule(void *arg, struct nftnl_rule *x)
{
	rule_take(arg, x);
	return true;
}

int pc_rb_read(const char *name, const struct pc_rb_options *o, struct pc_rb_table *t, int *err,
		const char **what)
{
	static const struct pc_dump_ops ops = {.begin = rd_begin,
			.table = rd_table,
			.set = rd_set,
			.elem_set = rd_elem_set,
			.elem = rd_elem,
			.chain = rd_chain,
			.rule = rd_rule};
	struct collect c = {.table = xstrdup(name), .against = o->each ? NULL : o->against};
	struct pc_dump_result r;
	int ret = pc_dump_table(name, o->retries, &ops, &c, &r, err, what);

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; ret == 0 && i < c.nsets; i++) {
		struct set *y = c.sets[i].nbare ? packed_for(&c, &c.sets[i]) : NULL;
		if (y)
			bare_merge(&c.sets[i], y);
	}
	if (ret == 0) {
		c.exists = r.exists;
		emit(&c, t, o->each, o->arg, false, o->each ? NULL : o->against);
		t->genid = r.genid;
	}
	if (o->against)
		pc_rb_unpack(o->against);
	t->attempts = r.attempts;
	collect_finish(&c);
	return ret;
}
