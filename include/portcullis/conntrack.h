/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether connection tracking follows a TCP connection of this host, asked
 * over ctnetlink (libmnl).  A connection that was open before the first
 * ruleset with connection tracking is not tracked: its next packet is "new"
 * (or, with nf_conntrack_tcp_loose 0, "invalid").
 */
#ifndef PORTCULLIS_CONNTRACK_H
#define PORTCULLIS_CONNTRACK_H

#include <stdint.h>

/*
 * Asks for the conntrack entry of the TCP connection between `a`:`aport`
 * and `b`:`bport` (family 4: 4-byte addresses, 6: 16 bytes; ports in host
 * order), either way round, with IPCTNL_MSG_CT_GET.  Returns 1 when it is
 * tracked, 0 when it is not, or -1 with errno set (EAFNOSUPPORT: another
 * family; ETIMEDOUT: no answer within 5 seconds; that of the socket call or
 * the kernel's answer otherwise).  Asking may load nf_conntrack_netlink:
 * call pc_conntrack_tcp_loose() first to know whether conntrack is there.
 */
int pc_conntrack_tracked(
		int family, const uint8_t *a, uint16_t aport, const uint8_t *b, uint16_t bport);

/*
 * net.netfilter.nf_conntrack_tcp_loose in this network namespace: 1 when a
 * connection is picked up from its middle, 0 when such packets are invalid.
 * Returns it, or -1 with errno set: ENOENT when conntrack is not loaded (so
 * nothing is tracked), or that of reading the file.
 */
int pc_conntrack_tcp_loose(void);

#endif
