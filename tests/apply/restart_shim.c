/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test tool, loaded with LD_PRELOAD, playing what can happen around an
 * nf_tables transaction (a sendmsg() starting with a batch begin), as
 * PC_SHIM says:
 *   unset, "restart"  just before each transaction, another program's
 *                     commit: table inet shim created, then deleted, in turn.
 *                     The kernel refuses every transaction sent with the
 *                     generation read before (ERESTART), however often.
 *   "foreign"         just before the first transaction only, another
 *                     program creates table inet portcullis with no comment
 *                     (as `nft add table inet portcullis` does): the first
 *                     attempt is refused (ERESTART), and its retry meets a
 *                     same-named table portcullis does not manage.
 *   "recv-error"      the transaction is sent; the first read after it fails
 *                     (EIO), so what the kernel did is never read.
 *   "enobufs"         the transaction is sent; the first read after it says
 *                     the receive buffer overflowed (ENOBUFS), once, as the
 *                     kernel does after dropping a message.
 *   "recv-eperm"      as "recv-error", with EPERM.
 *   "send-error"      sending the transaction fails (ENOBUFS): it never
 *                     reaches the kernel.
 *   "retry-error"     another program's commit before the first transaction
 *                     only (ERESTART); then the request that starts the
 *                     retry (the generation's) cannot be sent (EIO).
 *   "command"         just before the first transaction only, the shell
 *                     command PC_SHIM_COMMAND runs (a change by hand made
 *                     between apply's reading and its sending).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One message: header, nfgenmsg, and the table name when given. */
static size_t put(char *p, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family,
		const char *name)
{
	struct nlmsghdr *h = (struct nlmsghdr *)p;
	struct nfgenmsg *g = (struct nfgenmsg *)(p + NLMSG_HDRLEN);
	size_t len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*g));

	memset(p, 0, 64);
	*g = (struct nfgenmsg){family, NFNETLINK_V0, htons(NFNL_SUBSYS_NFTABLES)};
	if (name) {
		struct nlattr *a = (struct nlattr *)(p + len);
		a->nla_type = NFTA_TABLE_NAME;
		a->nla_len = (uint16_t)(NLA_HDRLEN + strlen(name) + 1);
		memcpy((char *)a + NLA_HDRLEN, name, strlen(name) + 1);
		len += NLA_ALIGN(a->nla_len);
	}
	*h = (struct nlmsghdr){(uint32_t)len, type, (uint16_t)(NLM_F_REQUEST | flags), seq, 0};
	return len;
}

static void commit_another(unsigned n, const char *name)
{
	char buf[256];
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	size_t len = 0;

	if (fd < 0)
		return;
	len += put(buf + len, NFNL_MSG_BATCH_BEGIN, 0, 1, AF_UNSPEC, NULL);
	uint16_t type = n % 2 ? NFT_MSG_DELTABLE : NFT_MSG_NEWTABLE;
	len += put(buf + len, NFNL_SUBSYS_NFTABLES << 8 | type, n % 2 ? 0 : NLM_F_CREATE, 2,
			NFPROTO_INET, name);
	len += put(buf + len, NFNL_MSG_BATCH_END, 0, 3, AF_UNSPEC, NULL);
	/* The kernel commits inside sendto(); not sendmsg(), which is wrapped here. */
	sendto(fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	close(fd);
}

/* The socket whose next read is to fail; the one whose second request is to. */
static int sent_fd = -1, watch_fd = -1;
static unsigned requests;

static bool is(const char *mode, const char *name)
{
	return mode && !strcmp(mode, name);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static unsigned commits;
	ssize_t (*real)(int, const struct msghdr *, int);
	const char *mode = getenv("PC_SHIM");
	bool batch = msg->msg_iovlen && msg->msg_iov[0].iov_len >= NLMSG_HDRLEN &&
		     ((const struct nlmsghdr *)msg->msg_iov[0].iov_base)->nlmsg_type ==
				     NFNL_MSG_BATCH_BEGIN;

	*(void **)&real = dlsym(RTLD_NEXT, "sendmsg"); /* POSIX's way past -Wpedantic */
	if (batch && (!mode || !strcmp(mode, "restart")))
		commit_another(commits++, "shim");
	else if (batch && is(mode, "foreign") && !commits++)
		commit_another(0, "portcullis");
	else if (batch && is(mode, "retry-error") && !commits++) {
		commit_another(0, "shim");
		watch_fd = fd;
		requests = 0;
	}
	if (batch && is(mode, "command") && !commits++ && getenv("PC_SHIM_COMMAND")) {
		/* The command's own programs (nft) are not to meet the shim. */
		unsetenv("LD_PRELOAD");
		unsetenv("PC_SHIM");
		int st = system(getenv("PC_SHIM_COMMAND"));
		setenv("PC_SHIM", "command", 1);
		if (st != 0)
			return -1;
	}
	if (batch && is(mode, "send-error")) {
		errno = ENOBUFS;
		return -1;
	}
	ssize_t n = real(fd, msg, flags);
	if (batch && n >= 0 &&
			(is(mode, "recv-error") || is(mode, "enobufs") || is(mode, "recv-eperm")))
		sent_fd = fd;
	return n;
}

/*
 * Requests (libmnl sends each with sendto()): after the batch, the
 * generation's, then the retry's.  The address type is glibc's, as its
 * <sys/socket.h> declares sendto().
 */
ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG to,
		socklen_t tolen)
{
	ssize_t (*real)(int, const void *, size_t, int, __CONST_SOCKADDR_ARG, socklen_t);

	*(void **)&real = dlsym(RTLD_NEXT, "sendto");
	if (fd == watch_fd && ++requests == 2) {
		watch_fd = -1;
		errno = EIO;
		return -1;
	}
	return real(fd, buf, len, flags, to, tolen);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t (*real)(int, void *, size_t, int);
	const char *mode = getenv("PC_SHIM");

	*(void **)&real = dlsym(RTLD_NEXT, "recv");
	if (fd == sent_fd && mode) {
		sent_fd = -1;
		errno = is(mode, "enobufs") ? ENOBUFS : is(mode, "recv-eperm") ? EPERM : EIO;
		return -1;
	}
	return real(fd, buf, len, flags);
}
