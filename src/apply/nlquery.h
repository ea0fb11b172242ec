/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One request and its answers over a netlink socket (libmnl), for the small
 * questions apply asks besides its transaction (a route, a conntrack entry,
 * the established sockets) and for the nf_tables dumps of dump.c.
 */
#ifndef PC_NLQUERY_H
#define PC_NLQUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <libmnl/libmnl.h>

/* How long the kernel may take to answer one of these, in milliseconds. */
#define PC_NLQUERY_TIMEOUT_MS 5000

/* A netlink socket on `bus`, bound; NULL with errno set. */
struct mnl_socket *pc_nlquery_open(int bus);

/*
 * Closes nl (NULL-safe) and returns ret; when ret < 0, errno is err (EIO
 * when err is 0), whatever closing did to it.
 */
int pc_nlquery_close(struct mnl_socket *nl, int ret, int err);

/*
 * Sends nlh (its nlmsg_seq set) on nl, then reads the answers into buf
 * (size bytes; it may be the buffer nlh was built in) and runs cb over each
 * message, until the request ends (its acknowledgement, NLMSG_DONE or a
 * callback's MNL_CB_STOP) or, when `done` is given, until *done is true.
 * Returns 0, or -1 with errno set (ETIMEDOUT when the kernel did not answer;
 * an error the kernel answered with, such as ENOENT).
 */
int pc_nlquery(struct mnl_socket *nl, struct nlmsghdr *nlh, char *buf, size_t size, mnl_cb_t cb,
		void *data, const bool *done);

#endif
