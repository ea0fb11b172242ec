/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interface the kernel routes a packet to an address by, asked over
 * rtnetlink (libmnl).  For the client of a session this host serves, it is
 * the interface the session's packets use both ways (with symmetric
 * routing); for an address of this host it is "lo".
 */
#ifndef PORTCULLIS_ROUTE_H
#define PORTCULLIS_ROUTE_H

#include <stdint.h>

/*
 * Looks up the route to `addr` (family 4: 4 bytes, 6: 16 bytes) with one
 * RTM_GETROUTE request and writes its output interface's name to `name`.
 * `src`, when not NULL, is the packet's source address (of the same family,
 * an address of this host): rules that choose a table by source (`ip rule
 * add from ...`) then apply as they do to the packets a socket bound to it
 * sends.  `mark` and `oif`, when not 0, are the firewall mark and the
 * interface (a VRF, or one the socket is bound to) of the socket that sends:
 * rules by mark (`ip rule add fwmark ...`) and VRF tables apply as they do
 * to its packets.
 * Returns 0, or -1 with errno set: the kernel's answer (ENETUNREACH,
 * EHOSTUNREACH: no route), ETIMEDOUT when it does not answer within 5
 * seconds, ENOENT when the route names no interface, or that of the socket
 * call that failed.
 */
int pc_route_lookup(int family, const uint8_t *addr, const uint8_t *src, uint32_t mark,
		unsigned oif, char name[16]);

#endif
