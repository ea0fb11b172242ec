/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An SSH session as sshd describes it to the shell it starts, in
 * $SSH_CONNECTION: "CLIENT CPORT SERVER SPORT".  apply reads it to check that
 * a policy keeps the session it is applied through.
 */
#ifndef PORTCULLIS_SESSION_H
#define PORTCULLIS_SESSION_H

#include <stddef.h>
#include <stdint.h>

struct pc_session {
	uint8_t family; /* 4 or 6: as the kernel sees the session's packets */
	uint8_t client[16], server[16]; /* 4 bytes for IPv4 */
	uint16_t cport, sport;
	char zone[16]; /* the client's "%zone" (a link-local scope), "" if none */
};

/*
 * Parses $SSH_CONNECTION strictly: four words separated by single spaces,
 * two addresses (as inet_pton reads them) and two decimal ports from 1 to
 * 65535, nothing else.  An IPv6 address may carry a "%zone" (sshd writes
 * one for a link-local peer): it is taken off, and the client's is kept as
 * the interface the session uses.  An IPv4-mapped IPv6 address
 * (::ffff:192.0.2.9, from a dual-stack listener) is read as the IPv4
 * address it maps, since the packets on the wire are IPv4.  Returns 0, or
 * -1 with a message in `err` (at most `errlen` bytes).
 */
int pc_session_parse(const char *s, struct pc_session *out, char *err, size_t errlen);

#endif
