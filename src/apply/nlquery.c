/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One request and its answers over a netlink socket: see nlquery.h. */
#include <errno.h>
#include <poll.h>

#include "apply/nlquery.h"

struct mnl_socket *pc_nlquery_open(int bus)
{
	struct mnl_socket *nl = mnl_socket_open(bus);

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;
		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	return nl;
}

int pc_nlquery_close(struct mnl_socket *nl, int ret, int err)
{
	if (nl)
		mnl_socket_close(nl);
	if (ret < 0)
		errno = err ? err : EIO;
	return ret;
}

int pc_nlquery(struct mnl_socket *nl, struct nlmsghdr *nlh, char *buf, size_t size, mnl_cb_t cb,
		void *data, const bool *done)
{
	uint32_t seq = nlh->nlmsg_seq;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	unsigned portid = mnl_socket_get_portid(nl);
	for (;;) {
		struct pollfd pfd = {mnl_socket_get_fd(nl), POLLIN, 0};
		int n = poll(&pfd, 1, PC_NLQUERY_TIMEOUT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		ssize_t len = mnl_socket_recvfrom(nl, buf, size);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		int r = mnl_cb_run(buf, (size_t)len, seq, portid, cb, data);
		if (r < 0)
			return -1;
		if (r == MNL_CB_STOP || (done && *done))
			return 0;
	}
}
