/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one reader of nf_tables dumps (libnftnl + libmnl), for what reads
 * tables back: `status`'s inventory (every table and chain, a table's
 * rules, sets and elements), `show` and `diff` (readback.c), and the table
 * `apply --confirm` saves (snapshot.c).  Each answer is parsed into its
 * libnftnl object and handed to the reader's callback, which keeps only
 * what it needs.
 *
 * Ownership: a callback that returns true keeps the object (it frees it);
 * false, and the dumper frees it.  The dumper owns its socket and buffer.
 */
#ifndef PC_DUMP_H
#define PC_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nftnl_table;
struct nftnl_set;
struct nftnl_chain;
struct nftnl_rule;

/*
 * One element of a NEWSETELEM answer, read straight off the message (libmnl,
 * no libnftnl object): the pointers are into the message, valid during the
 * callback only.  What is absent is NULL, 0 or false.
 */
struct pc_dump_elem {
	const void *key, *key_end, *data; /* NFTA_DATA_VALUE of each */
	uint32_t key_len, key_end_len, data_len;
	const void *udata; /* NFTA_SET_ELEM_USERDATA */
	uint32_t udata_len;
	uint32_t flags; /* NFTA_SET_ELEM_FLAGS, host order */
	bool has_flags, has_verdict, has_timeout, has_expiration;
	int verdict; /* NFTA_VERDICT_CODE, host order, with has_verdict */
	const char *chain; /* NFTA_VERDICT_CHAIN */
	uint64_t timeout, expiration; /* milliseconds, host order */
};

struct nftnl_set_elem;
/* The same element read from a libnftnl object (a transaction's, or libnftnl's reading); e borrows
 * x's. */
void pc_dump_elem_from_nftnl(const struct nftnl_set_elem *x, struct pc_dump_elem *e);

/* What a reader takes from a dump; a NULL callback: that kind is not asked for. */
struct pc_dump_ops {
	/* Called before each attempt of pc_dump_table(): what an earlier one read is let go. */
	void (*begin)(void *arg);
	bool (*table)(void *arg, struct nftnl_table *t);
	bool (*set)(void *arg, struct nftnl_set *s);
	/* The elements of one answer (a set object holding them, named). */
	bool (*elems)(void *arg, struct nftnl_set *s);
	/*
	 * Instead of elems: the elements of one answer parsed without libnftnl,
	 * elem_set told the name of their set, then elem given each.  An answer
	 * libnftnl would refuse gives none.
	 */
	void (*elem_set)(void *arg, const char *set);
	void (*elem)(void *arg, const struct pc_dump_elem *e);
	bool (*chain)(void *arg, struct nftnl_chain *c);
	/* Rules; with count_rules, called with NULL for each rule, none parsed. */
	bool (*rule)(void *arg, struct nftnl_rule *r);
	bool count_rules;
};

struct pc_dumper {
	struct mnl_socket *nl;
	char *buf;
	uint32_t seq;
};

/* A netlink socket and its buffer; -1 with errno set. */
int pc_dump_open(struct pc_dumper *d);
/* Closes d; returns ret, with errno as pc_nlquery_close() sets it. */
int pc_dump_close(struct pc_dumper *d, int ret, int err);

/* The ruleset's generation; -1 with errno set. */
int pc_dump_genid(struct pc_dumper *d, uint32_t *genid);

/*
 * One dump of the objects of a kind, given to its callback in ops:
 * NFT_MSG_GETTABLE (every table, table NULL), NFT_MSG_GETCHAIN (every
 * chain, or those of `table`), NFT_MSG_GETSET and NFT_MSG_GETRULE (those of
 * `table`), NFT_MSG_GETSETELEM (those of set `set` of `table`), in
 * `family` (NFPROTO_UNSPEC: all).  Only the objects of `table` are given,
 * when it is named.  Returns 0, or -1 with errno set.
 */
int pc_dump_list(struct pc_dumper *d, uint16_t type, uint32_t family, const char *table,
		const char *set, const struct pc_dump_ops *ops, void *arg);

struct pc_dump_result {
	bool exists; /* false: there is no such table */
	uint32_t genid; /* the generation the dump was consistent with */
	unsigned attempts; /* dumps taken (more than one after a concurrent change) */
};

/*
 * Reads table inet `name` whole, consistently: the table, its sets, each
 * set's elements, its chains, its rules in order, between two readings of
 * the generation.  A dump that a concurrent change interrupts
 * (NLM_F_DUMP_INTR, a generation that moved, a set gone between the list
 * and its elements) is taken again, at most `retries` times, ops->begin
 * called before each.  Returns 0, or -1 with *err the errno (EINTR: it
 * kept changing) and *what what was being done.
 */
int pc_dump_table(const char *name, unsigned retries, const struct pc_dump_ops *ops, void *arg,
		struct pc_dump_result *r, int *err, const char **what);

#endif
