/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Talking to nf_tables: read the generation and the table portcullis is
 * about to replace, send the transaction in one sendmsg(), and collect
 * every error the kernel reports for it.  The kernel processes a batch
 * inside sendmsg(), so its errors are queued before the answer to a
 * generation request sent right after; that answer ends the collection and
 * says whether a commit happened.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "portcullis/netlink.h"
#include "util.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* How long the kernel may take to answer, in milliseconds. */
#define ANSWER_TIMEOUT_MS 30000

struct talk {
	struct mnl_socket *nl;
	const struct pc_nl_batch *b; /* whose errors to collect; NULL: none sent */
	struct pc_nl_result *r;
	size_t errcap;
	/* the request being answered */
	uint32_t seq;
	int err; /* its error */
	uint32_t genid; /* from a generation answer */
	struct nftnl_table *table; /* from a table answer */
	/*
	 * One read: last, and left as it is (not zeroed), so that only the
	 * pages an answer is written into are touched.
	 */
	char buf[1 << 16];
};

static int fail(struct pc_nl_result *r, int err, const char *what)
{
	r->sys_err = err;
	r->sys_what = what;
	return -1;
}

/* Room for one error per message was made before sending (see pc_nl_apply). */
static void batch_error(struct talk *tk, uint32_t seq, int err)
{
	struct pc_nl_result *r = tk->r;

	if (r->nerrors == tk->errcap) {
		r->lost++;
		return;
	}
	r->errors[r->nerrors++] = (struct pc_nl_error){err, seq - tk->b->seq0};
}

static int gen_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*(uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

int pc_nl_genid_parse(const struct nlmsghdr *nlh, uint32_t *genid)
{
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, genid);
	return MNL_CB_OK;
}

/* Takes in one read of messages: errors of the batch, and the answer to tk->seq. */
static bool take(struct talk *tk, const char *buf, size_t len)
{
	bool done = false;
	int remaining = (int)len;

	for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
			mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
		uint16_t type = nlh->nlmsg_type;
		if (type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_seq == tk->seq) {
				tk->err = -e->error;
				done = true;
			} else if (tk->b && e->error && nlh->nlmsg_seq >= tk->b->seq0 &&
					nlh->nlmsg_seq - tk->b->seq0 < tk->b->n) {
				batch_error(tk, nlh->nlmsg_seq, -e->error);
			}
			continue;
		}
		if (nlh->nlmsg_seq != tk->seq)
			continue;
		if (type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN)) {
			mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, &tk->genid);
		} else if (type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE) && !tk->table) {
			if (!(tk->table = nftnl_table_alloc()))
				pc_oom_size(0);
			nftnl_table_nlmsg_parse(nlh, tk->table);
		}
	}
	return done;
}

/*
 * Reads what the kernel has already queued, without waiting: after a batch,
 * all of its errors (nf_tables answers inside sendmsg()).  A receive buffer
 * that overflowed dropped some: counted, and the reading goes on.  0, or -errno.
 */
static int drain(struct talk *tk)
{
	int fd = mnl_socket_get_fd(tk->nl);

	for (;;) {
		ssize_t len = recv(fd, tk->buf, sizeof(tk->buf), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				tk->r->lost++;
				continue;
			}
			return -errno;
		}
		take(tk, tk->buf, (size_t)len);
	}
}

/* Reads until the request tk->seq is answered (its ack or error); 0, or -errno. */
static int wait_answer(struct talk *tk)
{
	int fd = mnl_socket_get_fd(tk->nl);

	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int n = poll(&pfd, 1, ANSWER_TIMEOUT_MS);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ssize_t len = recv(fd, tk->buf, sizeof(tk->buf), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Errors were dropped; the answer may have been too. */
				tk->r->lost++;
				return -ENOBUFS;
			}
			return -errno;
		}
		if (take(tk, tk->buf, (size_t)len))
			return tk->err ? -tk->err : 0;
	}
}

static int request(struct talk *tk, struct nlmsghdr *nlh)
{
	tk->seq = nlh->nlmsg_seq;
	tk->err = 0;
	if (mnl_socket_sendto(tk->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return wait_answer(tk);
}

static int read_genid(struct talk *tk, uint32_t seq, uint32_t *genid)
{
	char buf[8192] = {0}; /* attribute padding is sent too */
	struct nlmsghdr *nlh =
			nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, seq);
	int ret;

	tk->genid = 0;
	ret = request(tk, nlh);
	*genid = tk->genid;
	return ret;
}

static int udata_comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT)
		*(const struct nftnl_udata **)data = attr;
	return 0;
}

/* Whether table inet NAME exists and whether its comment carries the marker. */
static int read_table(struct talk *tk, const char *name, uint32_t seq, struct pc_nl_result *r)
{
	char buf[8192] = {0}; /* attribute padding is sent too */
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		pc_oom_size(0);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	struct nlmsghdr *nlh =
			nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	int ret = request(tk, nlh);
	r->table_exists = r->table_ours = false;
	if (ret == -ENOENT)
		ret = 0;
	if (tk->table) {
		uint32_t len = 0;
		const struct nftnl_udata *c = NULL;
		const void *u = nftnl_table_get_data(tk->table, NFTNL_TABLE_USERDATA, &len);
		r->table_exists = true;
		if (u)
			nftnl_udata_parse(u, len, udata_comment_cb, &c);
		r->table_ours = c && nftnl_udata_len(c) > strlen(PC_NL_MARKER) &&
				!strncmp(nftnl_udata_get(c), PC_NL_MARKER, strlen(PC_NL_MARKER));
		nftnl_table_free(tk->table);
		tk->table = NULL;
	}
	return ret;
}

/*
 * What one refused message costs the receive buffer: its error (at most 44
 * bytes with NETLINK_CAP_ACK, the offset of the bad attribute included) is
 * charged as a whole socket buffer, measured at 832 bytes on Linux 6.18 (of
 * a buffer the kernel counts twice what is asked).  Twice that, for errors
 * that carry a message.
 */
#define ERROR_COST 1024
#define RCVBUF_MAX (256 << 20)

/*
 * The send buffer must hold the whole batch: it is never split.  With
 * `clear` false, the table's declare and delete are left out (the table does
 * not exist at the generation the batch is checked against).
 */
static int send_batch(struct mnl_socket *nl, const struct pc_nl_batch *b, int rcvbuf, bool clear,
		struct pc_nl_result *r)
{
	int fd = mnl_socket_get_fd(nl), size = 0;
	socklen_t len = sizeof(size);
	struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
	bool skip = !clear && b->clear_len;
	struct iovec iov[2] = {{b->buf, skip ? b->clear_off : b->len},
			{b->buf + b->clear_off + b->clear_len,
					b->len - b->clear_off - b->clear_len}};
	struct msghdr msg = {.msg_name = &snl,
			.msg_namelen = sizeof(snl),
			.msg_iov = iov,
			.msg_iovlen = skip ? 2 : 1};

	r->sent_msgs = b->n - (skip ? b->nclear : 0);
	r->sent_bytes = b->len - (skip ? b->clear_len : 0);
	if (b->len > (size_t)INT32_MAX / 2)
		return -EMSGSIZE;
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len);
	if ((size_t)size < b->len) {
		int want = (int)b->len;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	}
	/* Room for an error per message, so none is dropped (see ERROR_COST). */
	int rcv = rcvbuf ? rcvbuf
			 : (int)(b->n < RCVBUF_MAX / ERROR_COST ? b->n * ERROR_COST : RCVBUF_MAX);
	len = sizeof(size);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len);
	if ((rcvbuf || size / 2 < rcv) &&
			setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	for (;;) {
		ssize_t n = sendmsg(fd, &msg, 0);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * After the batch: its errors, all queued by now, then the generation.  When
 * the receive buffer overflowed anyway, an answer may have been dropped with
 * the errors: what is queued is read and the generation asked again.
 */
static int collect(struct talk *tk, uint32_t *seq)
{
	int ret = drain(tk);

	for (int ask = 0; ret == 0 && ask < 8; ask++) {
		ret = read_genid(tk, (*seq)++, &tk->r->genid_after);
		if (ret != -ENOBUFS)
			return ret;
		ret = drain(tk);
	}
	return ret < 0 ? ret : -ENOBUFS;
}

static int cmp_errors(const void *a, const void *b)
{
	const struct pc_nl_error *x = a, *y = b;

	return x->msg < y->msg ? -1 : x->msg > y->msg;
}

/* A seed for the retry pauses, different in every process. */
static unsigned jitter_seed(void)
{
	unsigned seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned)getpid() ^ (unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec;
}

/* Whether an interrupt waits (the CLI blocks them while applying): no more retries then. */
static bool interrupted(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return false;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigismember(&pending, sigs[i]) == 1)
			return true;
	return false;
}

static unsigned ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (unsigned)((now.tv_sec - start->tv_sec) * 1000 +
			  (now.tv_nsec - start->tv_nsec) / 1000000);
}

int pc_nl_apply(const struct pc_nft_table *t, const struct pc_nl_apply_options *o,
		struct pc_nl_batch *b, struct pc_nl_result *r)
{
	struct talk tk;
	int one = 1, ret;

	memset(&tk, 0, offsetof(struct talk, buf));
	tk.r = r;
	memset(r, 0, sizeof(*r));
	memset(b, 0, sizeof(*b));
	tk.nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!tk.nl) {
		r->outcome = PC_NL_NOT_STARTED;
		return fail(r, errno, "open a netlink socket");
	}
	if (mnl_socket_bind(tk.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = errno;
		mnl_socket_close(tk.nl);
		r->outcome = PC_NL_NOT_STARTED;
		return fail(r, ret, "bind a netlink socket");
	}
	setsockopt(mnl_socket_get_fd(tk.nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(tk.nl), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));

	/*
	 * Built once: a retry writes the new generation into the batch and sends
	 * it again.  The batch never depends on what the kernel holds (it
	 * declares, deletes and creates the whole table), so only the generation
	 * and the check for a foreign table are done again.  When the table does
	 * not exist, its declare and delete are left out of the sending: a table
	 * made meanwhile moves the generation, and the kernel refuses the batch
	 * (ERESTART), so the next attempt reads it.  Requests are
	 * numbered after the batch, so an answer is never taken for an error.
	 */
	unsigned lo = if_nametoindex("lo");
	struct pc_nl_options bo = {.seq = (uint32_t)time(NULL) << 8,
			.commit = o->commit || !t,
			.lo_ifindex = lo ? lo : 1,
			.stamp = o->stamp,
			.release_prefixes = o->release_prefixes};
	if (t)
		pc_nl_build(t, &bo, b);
	else if (o->build)
		o->build(o->build_arg, &bo, b);
	else
		pc_nl_build_remove(o->table, &bo, b);
	/*
	 * Nothing is allocated from the first sending on, so running out of
	 * memory (which ends the process) always leaves the ruleset unchanged.
	 */
	r->errors = xreallocarray(NULL, b->n, sizeof(*r->errors));
	tk.errcap = b->n;
	uint32_t seq = b->seq0 + (uint32_t)b->n;
	unsigned jitter = jitter_seed();
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned attempt = 0;; attempt++) {
		/* What failing now means: no transaction sent yet, or every one refused. */
		enum pc_nl_outcome unsent = attempt ? PC_NL_NOT_SENT : PC_NL_NOT_STARTED;
		ret = read_genid(&tk, seq++, &r->genid_before);
		if (ret < 0) {
			fail(r, -ret, "read the ruleset generation");
			r->outcome = unsent;
			break;
		}
		if (o->genid_fixed && r->genid_before != o->genid_expected) {
			r->outcome = PC_NL_STALE;
			break;
		}
		ret = read_table(&tk, o->table, seq++, r);
		if (ret < 0) {
			fail(r, -ret, "read the current table");
			r->outcome = unsent;
			break;
		}
		if (r->table_exists && !r->table_ours && !o->force) {
			r->outcome = PC_NL_FOREIGN_TABLE;
			break;
		}
		if (!t && !o->build && !r->table_exists) {
			r->outcome = PC_NL_ABSENT;
			break;
		}
		pc_nl_batch_set_genid(b, r->genid_before);
		if (o->before_send)
			o->before_send(o->arg);
		r->send_tried = true;
		ret = send_batch(tk.nl, b, o->rcvbuf, r->table_exists, r);
		if (ret < 0) {
			/* The kernel takes a batch whole inside sendmsg(), or not at all. */
			fail(r, -ret, "send the transaction");
			r->outcome = PC_NL_NOT_SENT;
			break;
		}
		r->sent = true;
		r->attempts++;
		tk.b = b;
		ret = collect(&tk, &seq);
		tk.b = NULL;
		if (r->nerrors > 1)
			qsort(r->errors, r->nerrors, sizeof(*r->errors), cmp_errors);
		if (ret < 0) {
			fail(r, -ret, "read the ruleset generation after the transaction");
			/* An error seen means the kernel aborted the whole transaction. */
			r->outcome = r->nerrors ? PC_NL_REFUSED : PC_NL_UNKNOWN;
			break;
		}
		bool restart = false;
		for (size_t i = 0; i < r->nerrors; i++)
			restart |= r->errors[i].err == ERESTART;
		if (restart && o->genid_fixed) {
			r->outcome = PC_NL_STALE;
			break;
		}
		if (restart) {
			bool in_time = !o->retry_ms || ms_since(&start) < o->retry_ms;
			if (interrupted()) {
				r->outcome = PC_NL_INTERRUPTED;
				break;
			}
			if (attempt >= o->retries || !in_time) {
				r->outcome = PC_NL_RETRIES_SPENT;
				break;
			}
			/*
			 * Another program committed in between: after a pause that
			 * doubles each time, drawn at random below it so that
			 * programs retrying together drift apart.  What this attempt
			 * collected is forgotten; the outcome is the next one's.
			 */
			unsigned cap = attempt < 5 ? 2u << attempt : 64;
			struct timespec ts = {0, (long)(1 + rand_r(&jitter) % cap) * 1000000L};
			nanosleep(&ts, NULL);
			r->nerrors = 0;
			r->lost = 0;
			continue;
		}
		if (r->nerrors) {
			r->outcome = PC_NL_REFUSED;
		} else if (r->lost) {
			/*
			 * Errors were dropped (the receive buffer overflowed), none
			 * seen: refused, unless the generation moved, which this
			 * commit or another program's may have done.
			 */
			r->outcome = bo.commit && r->genid_after != r->genid_before ? PC_NL_UNKNOWN
										    : PC_NL_REFUSED;
		} else if (!bo.commit) {
			r->outcome = PC_NL_CHECKED;
		} else if (r->genid_after == r->genid_before) {
			fail(r, EPROTO, "see the transaction committed (the generation did not move)");
			r->outcome = PC_NL_UNKNOWN;
		} else {
			r->committed = true;
			r->outcome = PC_NL_COMMITTED;
		}
		break;
	}
	mnl_socket_close(tk.nl);
	if (!r->nerrors) {
		free(r->errors);
		r->errors = NULL;
	}
	switch (r->outcome) {
	case PC_NL_COMMITTED:
	case PC_NL_CHECKED:
	case PC_NL_ABSENT:
		return 0;
	default:
		return -1;
	}
}
