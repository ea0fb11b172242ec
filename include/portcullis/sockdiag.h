/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether this host (its network namespace) has a TCP connection, asked over
 * NETLINK_SOCK_DIAG (inet_diag, libmnl): an SSH_CONNECTION that names none
 * is stale, e.g. a tmux or screen pane's from when it was made.
 */
#ifndef PORTCULLIS_SOCKDIAG_H
#define PORTCULLIS_SOCKDIAG_H

#include <stdint.h>

/* What the socket carries that routes its packets. */
struct pc_sock_route {
	uint32_t mark; /* SO_MARK, 0 for none */
	unsigned ifindex; /* the interface it is bound to (SO_BINDTODEVICE, a VRF), 0 for none */
};

/*
 * Looks for a TCP socket in ESTABLISHED state whose local end is
 * `local`:`lport` and whose peer is `remote`:`rport` (family 4: 4-byte
 * addresses, also found on an IPv6 socket as IPv4-mapped addresses; 6: 16
 * bytes; ports in host order).  Returns 1 when there is one, 0 when there
 * is none, or -1 with errno set (EAFNOSUPPORT: another family; ETIMEDOUT:
 * no answer within 5 seconds; that of the socket call or the kernel's
 * answer otherwise).  When there is one and `route` is not NULL, its mark
 * (read only with CAP_NET_ADMIN, else 0) and bound interface are written
 * there.
 */
int pc_sockdiag_established(int family, const uint8_t *local, uint16_t lport, const uint8_t *remote,
		uint16_t rport, struct pc_sock_route *route);

#endif
