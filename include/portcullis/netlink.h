/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nft model as one netlink transaction (libnftnl + libmnl): the same
 * declare, delete and create of the table that `render --target nft`
 * prints, as nf_tables messages between a batch begin and a batch end, so
 * the kernel applies all of it or none of it.  Built from the model the
 * text printers read, so what is reviewed is what is applied.
 *
 * Ownership: a struct pc_nl_batch owns its buffer and its message list;
 * pc_nl_batch_finish() releases them.  Message descriptions point into the
 * model, which must outlive the batch.
 */
#ifndef PORTCULLIS_NETLINK_H
#define PORTCULLIS_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/model.h"

/*
 * nft's numbers for the data types of set keys and values: the kernel keeps
 * them opaque, in the set, for listing; the batch writes them and the
 * read-back names what it finds by them.
 */
enum pc_nft_type {
	PC_NFT_TYPE_IPADDR = 7,
	PC_NFT_TYPE_IP6ADDR = 8,
	PC_NFT_TYPE_INET_PROTOCOL = 12,
	PC_NFT_TYPE_INET_SERVICE = 13,
	PC_NFT_TYPE_ICMP_TYPE = 14,
	PC_NFT_TYPE_ICMP6_TYPE = 29,
	PC_NFT_TYPE_IFNAME = 41,
};

/* What one message of a batch does, so a kernel error can name it. */
struct pc_nl_msg {
	const char *what; /* "table", "set", "elements of set", "chain", "rule" */
	const char *name; /* set or chain name; the table's for the table */
	const struct pc_nft_rule *rule; /* a policy rule's message, else NULL */
};

struct pc_nl_batch {
	char *buf;
	size_t len, cap;
	uint32_t seq0; /* the sequence number of message 0 (batch begin) */
	struct pc_nl_msg *msgs; /* by sequence number - seq0 */
	size_t n, msgcap;
	size_t nsets, nelems, nchains, nrules; /* what it creates */
	size_t genid_off; /* where in buf the begin's generation is */
	/*
	 * The bytes of the messages that declare and delete the table, which
	 * pc_nl_apply() leaves out when the table does not exist (0: none): a
	 * deleted table is freed by the kernel after the commit, and closing
	 * the socket waits for that (about 10 ms).
	 */
	size_t clear_off, clear_len;
	size_t nclear; /* how many messages they are */
	size_t zeroed; /* buf is zero from len up to here */
};

/*
 * What apply records in its table's user data, after the comment, under
 * types nft does not read (`nft list` shows the table as before): the
 * SHA-256 of the policy file, when it was applied, and the file's path.
 * The kernel keeps at most PC_NL_UDATA_MAX bytes of it: a path that does
 * not fit is left out.  `render` prints none of it (no time in its output).
 */
#define PC_NL_UDATA_MAX 256
#define PC_NL_UDATA_SHA256 0xf0 /* 32 bytes */
#define PC_NL_UDATA_TIME 0xf1 /* 8 bytes: seconds since 1970 (UTC), big-endian */
#define PC_NL_UDATA_PATH 0xf2 /* the absolute path, NUL-terminated */

struct pc_nl_stamp {
	uint8_t sha256[32];
	uint64_t time;
	const char *path; /* NULL: none (standard input) */
};

struct pc_nl_options {
	uint32_t seq; /* the first sequence number */
	uint32_t genid; /* the generation the batch was computed against */
	bool commit; /* false: leave out the batch end (the kernel checks, then aborts) */
	unsigned lo_ifindex; /* the interface index "lo" has */
	const struct pc_nl_stamp *stamp; /* recorded in the table; NULL: none */
	/*
	 * The named sets and maps declared without their elements (counted in
	 * nelems all the same): for what reads the transaction's other objects
	 * and takes the elements from pc_nl_set_elems(), never sent.
	 */
	bool sets_empty;
	/*
	 * The last reading of the address sets' prefixes: each array a set
	 * alone points at (no other set of the table shares its bytes) has
	 * its pages given back to the system as its elements are written,
	 * so the prefixes and the batch are not both held whole.  Those
	 * prefixes read as zeros after: for a model, and a policy, that
	 * nothing reads again but to free (apply; the record of what was
	 * installed is then read off the batch, pc_dl_from_batch()).
	 */
	bool release_prefixes;
};

/* Builds the transaction that replaces table t; aborts only on allocation failure. */
void pc_nl_build(
		const struct pc_nft_table *t, const struct pc_nl_options *o, struct pc_nl_batch *b);
/*
 * Builds the transaction that deletes table inet `table` and nothing else
 * (`table` is copied into the batch; its description points to it, so it
 * must outlive the batch); aborts only on allocation failure.
 */
void pc_nl_build_remove(const char *table, const struct pc_nl_options *o, struct pc_nl_batch *b);
void pc_nl_batch_finish(struct pc_nl_batch *b);
/*
 * For builders outside batch.c: the batch begin (with o->genid) and, with
 * o->commit, the end; one nf_tables message of `type`, its header written
 * (payload follows, then pc_nl_batch_msg_end()).  `what` and `name`
 * describe it in errors and must outlive the batch.
 */
void pc_nl_batch_begin(struct pc_nl_batch *b, const struct pc_nl_options *o);
void pc_nl_batch_end(struct pc_nl_batch *b, const struct pc_nl_options *o);
struct nlmsghdr *pc_nl_batch_msg(struct pc_nl_batch *b, uint16_t type, uint16_t flags,
		const char *what, const char *name);
void pc_nl_batch_msg_end(struct pc_nl_batch *b, struct nlmsghdr *nlh);
/* Writes the generation the batch is checked against into its begin (0: none). */
void pc_nl_batch_set_genid(struct pc_nl_batch *b, uint32_t genid);

struct nftnl_set;
struct nftnl_set_elem;

/*
 * The elements of a set go in NEWSETELEM messages of at most
 * PC_NL_ELEMS_PER_MSG elements and PC_NL_ELEMS_BYTES bytes of element list:
 * the kernel reads the list through an attribute whose length has 16 bits
 * (nft starts a new message before 65 535 bytes too).
 */
#define PC_NL_ELEMS_PER_MSG 256
#define PC_NL_ELEMS_BYTES (60u << 10)

/*
 * The elements of one set being added to a batch, a message at a time,
 * written into the batch's buffer as they come (the message being filled
 * is the batch's last, open until flushed: nothing else may be added to
 * the batch meanwhile).  Set b, table, name (it describes the messages: it
 * must outlive the batch), id (the set's in this transaction; 0: none) and
 * flags (each message's NLM_F_*), the rest zero; add each element, then
 * flush.
 */
struct pc_nl_elems {
	struct pc_nl_batch *b;
	const char *table, *name;
	uint32_t id;
	uint16_t flags;
	size_t list; /* where the open message's element list starts in it; 0: none open */
	size_t n, bytes; /* its elements, and the bytes counted against PC_NL_ELEMS_BYTES */
};

/*
 * Adds e (taken: freed here) to the set's elements, written as libnftnl
 * writes it; aborts only on allocation failure.
 */
void pc_nl_elems_add(struct pc_nl_elems *w, struct nftnl_set_elem *e);
/* Closes the message being filled, if any. */
void pc_nl_elems_flush(struct pc_nl_elems *w);

/*
 * One element of a named set or map, as the batch makes it of the model:
 * a key; for an interval set, whether it ends an interval, or starts one
 * that runs to the largest key (open); for a map, a verdict or a jump; a
 * comment.  Pointers valid during the call only.
 */
struct pc_nl_elem {
	const uint8_t *key;
	uint32_t key_len;
	bool end, open;
	int verdict; /* NF_ACCEPT, NF_DROP; -1: none; with chain, a jump to it */
	const char *chain, *comment; /* NULL: none */
};

typedef void pc_nl_elem_fn(void *arg, const struct pc_nl_elem *e);

/*
 * Gives fn each element of the named set or map `name` of t, in the order
 * pc_nl_build() sends them: the one walk of the model both the batch and
 * what reads it without building it (readback, delta) take elements from.
 * Returns false when t has no such named set or map.
 */
bool pc_nl_set_elems(const struct pc_nft_table *t, const char *name, pc_nl_elem_fn *fn, void *arg);

/*
 * When `name` is a named set of addresses whose elements are keys alone (a
 * hash set, no intervals): its prefixes, each element the first key_len
 * bytes of one, in the order pc_nl_set_elems() gives them; for a reader
 * that copies keys by the hundred thousand.  Else false.
 */
bool pc_nl_set_keys(const struct pc_nft_table *t, const char *name, const struct pc_prefix **v,
		size_t *n, uint32_t *key_len);

/*
 * The attributes inside NFTA_LIST_ELEM that pc_nl_build() writes for e
 * (of a set of table `table`), into out (at most cap bytes); their length.
 * `scratch` (zeroed before the first call) holds the message they are
 * written in; the caller finishes it (pc_nl_batch_finish()).
 */
size_t pc_nl_elem_attrs(struct pc_nl_batch *scratch, const char *table, const struct pc_nl_elem *e,
		uint8_t *out, size_t cap);

/* One element given as it is sent: the attributes inside its NFTA_LIST_ELEM. */
struct pc_nl_raw_elem {
	const void *data;
	uint32_t len;
};

/*
 * Writes elements given raw to set `set` of table `table` in messages of
 * `type` (NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM) and `flags`, cut as
 * pc_nl_elems cuts them; `table` and `set` must outlive the batch.
 */
void pc_nl_elems_raw(struct pc_nl_batch *b, uint16_t type, uint16_t flags, const char *table,
		const char *set, const struct pc_nl_raw_elem *e, size_t n);

/*
 * Appends a copy of message `src` of another batch (of this table) with the
 * next sequence number and `flags` added; `what` and `name` describe it
 * and must outlive the batch.
 */
void pc_nl_batch_copy(struct pc_nl_batch *b, const struct nlmsghdr *src, uint16_t flags,
		const char *what, const char *name);

/* One error the kernel reported, in the order of the batch. */
struct pc_nl_error {
	int err; /* errno */
	size_t msg; /* index into the batch's msgs */
};

/*
 * What became of the transaction: pc_nl_apply() sets exactly one, and it
 * alone says whether the ruleset changed.  The other fields of the result
 * only explain it.
 */
enum pc_nl_outcome {
	PC_NL_UNKNOWN = 0, /* sent, and whether the kernel committed it cannot be known
			    * (r->sys_err after the sending, or errors lost while the
			    * generation moved); checking only: whether it was accepted */
	PC_NL_COMMITTED, /* applied: no error, and the generation moved on */
	PC_NL_CHECKED, /* checking only: every message accepted, nothing changed */
	PC_NL_REFUSED, /* the kernel refused it (r->errors, r->lost): nothing changed */
	PC_NL_RETRIES_SPENT, /* another program committed before every attempt (ERESTART)
			      * until the retries or the time ran out: nothing changed */
	PC_NL_INTERRUPTED, /* refused by ERESTART, and an interrupt waiting stopped the
			    * retries: nothing changed */
	PC_NL_FOREIGN_TABLE, /* a same-named table portcullis does not manage (seen before
			      * the first attempt or a retry): nothing changed */
	PC_NL_NOT_STARTED, /* r->sys_err before any transaction was sent (the socket, the
			    * first reads): nothing changed */
	PC_NL_NOT_SENT, /* r->sys_err sending a transaction, or preparing a retry after
			 * refused attempts: nothing changed */
	PC_NL_ABSENT, /* removing: there is no table of that name, nothing was sent */
	PC_NL_STALE, /* o->genid_expected set, and the generation was another before the
		      * sending, or moved before the commit (ERESTART): nothing changed */
};

struct pc_nl_result {
	enum pc_nl_outcome outcome;
	uint32_t genid_before, genid_after;
	struct pc_nl_error *errors; /* owned; free() */
	size_t nerrors;
	size_t lost; /* receive buffer overflows (ENOBUFS): errors dropped */
	int sys_err; /* a failure outside the batch (socket, send); 0 if none */
	const char *sys_what; /* what was being done then */
	bool table_exists, table_ours; /* before the batch */
	bool send_tried; /* the transaction was built and its sending tried */
	bool sent; /* the transaction reached the kernel */
	unsigned attempts; /* transactions sent (more than one after ERESTART) */
	size_t sent_msgs, sent_bytes; /* of the last transaction sent (the batch's, or fewer) */
	bool committed; /* the generation moved on with no error */
};

struct pc_nl_apply_options {
	const char *table;
	bool commit; /* false: check only */
	bool force; /* replace a same-named table portcullis does not manage */
	unsigned retries; /* after a concurrent change (ERESTART), at most */
	unsigned retry_ms; /* none once this long (ms) has passed; 0: no bound */
	int rcvbuf; /* receive buffer (bytes); 0: an error per message */
	const struct pc_nl_stamp *stamp; /* recorded in the table; NULL: none */
	/* Called after each attempt's transaction is built, before it is sent; may be NULL. */
	void (*before_send)(void *arg);
	void *arg;
	/*
	 * With t NULL: builds the transaction instead of the removal (a saved
	 * table put back, snapshot.h), sent even when there is no table now;
	 * build_arg is passed to it.  NULL: the removal.
	 */
	void (*build)(void *build_arg, const struct pc_nl_options *o, struct pc_nl_batch *b);
	void *build_arg;
	/*
	 * A transaction planned from what the kernel held at one generation (a
	 * delta): sent only at that generation, never retried at another
	 * (PC_NL_STALE instead).
	 */
	bool genid_fixed;
	uint32_t genid_expected;
	/* The model's prefixes read for the last time (pc_nl_options.release_prefixes). */
	bool release_prefixes;
};

/*
 * Sends the transaction for t and collects what the kernel said.  Reads the
 * generation and the current table first; a table of that name portcullis
 * does not manage is left alone unless o->force (r->table_ours false, no
 * batch sent).  The batch is built once and carries the generation read
 * just before each sending; when another program commits in between, the
 * kernel refuses it and it is sent again with the new generation, after a
 * random pause that doubles each time (up to 64 ms), at most o->retries
 * times, not after o->retry_ms, and not while SIGINT, SIGTERM, SIGHUP or
 * SIGQUIT is pending (blocked by the caller).  r->outcome says what
 * happened.  Returns 0 when it is PC_NL_COMMITTED (with commit) or
 * PC_NL_CHECKED (without), -1 otherwise.  r->errors is owned by the caller.
 *
 * With t NULL, the transaction deletes table inet o->table instead (always
 * committed, o->commit ignored), checked and retried the same way; a table
 * of that name portcullis does not manage is refused the same way; when
 * there is none, nothing is sent and the outcome is PC_NL_ABSENT (returns 0).
 */
int pc_nl_apply(const struct pc_nft_table *t, const struct pc_nl_apply_options *o,
		struct pc_nl_batch *b, struct pc_nl_result *r);

/* The marker every table portcullis manages has at the start of its comment. */
#define PC_NL_MARKER "managed by portcullis"

struct nlmsghdr;
/*
 * Reads the ruleset generation from an NFT_MSG_NEWGEN answer into *genid
 * (left as it is when the message holds none); returns MNL_CB_OK (1).
 */
int pc_nl_genid_parse(const struct nlmsghdr *nlh, uint32_t *genid);

#endif
