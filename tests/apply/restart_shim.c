/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test tool, loaded with LD_PRELOAD: just before a program sends an
 * nf_tables transaction (sendmsg() of a batch begin), another program's
 * commit: table inet shim created, then deleted, in turn.  The kernel then
 * refuses every transaction sent with the generation read before
 * (ERESTART), however often it is retried.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
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

static void commit_another(unsigned n)
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
			NFPROTO_INET, "shim");
	len += put(buf + len, NFNL_MSG_BATCH_END, 0, 3, AF_UNSPEC, NULL);
	/* The kernel commits inside sendto(); not sendmsg(), which is wrapped here. */
	sendto(fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	close(fd);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static unsigned commits;
	ssize_t (*real)(int, const struct msghdr *, int);

	*(void **)&real = dlsym(RTLD_NEXT, "sendmsg"); /* POSIX's way past -Wpedantic */

	if (msg->msg_iovlen && msg->msg_iov[0].iov_len >= NLMSG_HDRLEN &&
			((const struct nlmsghdr *)msg->msg_iov[0].iov_base)->nlmsg_type ==
					NFNL_MSG_BATCH_BEGIN)
		commit_another(commits++);
	return real(fd, msg, flags);
}
