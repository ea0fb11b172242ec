/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's listening sockets (check --listening): every TCP socket in
 * LISTEN state and every unconnected UDP socket with a local port, IPv4 and
 * IPv6, of the current network namespace, read over NETLINK_SOCK_DIAG
 * (src/apply/listening.c), with the process that holds each where /proc
 * shows it; and their comparison with a resolved policy
 * (src/policy/listening.c), which needs no kernel.
 *
 * Ownership: a struct pc_listeners owns its array; pc_listeners_finish()
 * releases it.
 */
#ifndef PORTCULLIS_LISTENING_H
#define PORTCULLIS_LISTENING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/diag.h"
#include "portcullis/registry.h"

/* One socket: where it listens, and who holds it. */
struct pc_listener {
	enum pc_proto proto; /* PC_PROTO_TCP or PC_PROTO_UDP */
	uint8_t family; /* 4 or 6 (an IPv4-mapped IPv6 address is given as 4) */
	bool v6only; /* IPv6 only (IPV6_V6ONLY); an IPv6 wildcard without it takes IPv4 too */
	uint8_t addr[16]; /* 4 or 16 bytes; all zero: every address */
	uint16_t port; /* host order */
	unsigned ifindex; /* the interface it is bound to (SO_BINDTODEVICE), 0 for none */
	char ifname[16]; /* its name, "" for none or when it is gone */
	uint32_t uid;
	uint64_t inode;
	/*
	 * UDP on a port of the kernel's ephemeral range
	 * (net.ipv4.ip_local_port_range): most likely a client's, whose
	 * replies `established` passes, not a server's; not reported as dropped.
	 */
	bool ephemeral;
	long pid; /* the first process found holding it (lowest pid); 0: not found */
	char comm[16]; /* that process's name, as /proc/PID/comm gives it */
};

/* Sockets read at most; the rest are counted in `truncated`. */
#define PC_LISTENERS_MAX 65536

struct pc_listeners {
	struct pc_listener *v; /* sorted: protocol, family, address, port, inode */
	size_t n;
	size_t truncated; /* sockets past PC_LISTENERS_MAX, not kept */
	size_t proc_denied; /* processes whose descriptors could not be read (another user's) */
	bool proc_missing; /* /proc could not be read at all */
};

void pc_listeners_init(struct pc_listeners *l);
void pc_listeners_finish(struct pc_listeners *l);

/*
 * Reads the sockets of the current network namespace into `l` (emptied
 * first), one dump per family and protocol (a dump the kernel overran,
 * ENOBUFS, is read again, three times at most), then finds their
 * processes through /proc/PID/fd (pc_listeners_owners()).  Returns 0, or
 * -1 with errno set (ETIMEDOUT: no answer within 5 seconds).
 */
int pc_listeners_read(struct pc_listeners *l);

/*
 * Looks for the process holding each socket of `l`: the links of
 * /proc/PID/fd that read `socket:[INODE]`, a bounded walk.  What cannot be
 * read is counted in proc_denied, or sets proc_missing.
 */
void pc_listeners_owners(struct pc_listeners *l, const char *proc);

/* Sorts `l` in its order (protocol, family, address, port, inode). */
void pc_listeners_sort(struct pc_listeners *l);

/* Whether the socket listens on a loopback address only (127.0.0.0/8, ::1). */
bool pc_listener_loopback(const struct pc_listener *s);

/* Whether it listens on every address of its family (0.0.0.0, ::). */
bool pc_listener_wildcard(const struct pc_listener *s);

/* Its address as text: "0.0.0.0", "2001:db8::1" (46 bytes: PC_ADDR_TEXT_MAX). */
void pc_listener_addr(char buf[46], const struct pc_listener *s);

struct pc_policy;

/*
 * Compares the sockets with what the resolved policy does with input:
 * - allowed-not-listening (warning): a port and protocol an input rule
 *   allows, on which no socket listens, at the rule's mention of it;
 * - listening-dropped (warning): a socket on an address other than
 *   loopback that input drops from a source outside every network the
 *   policy names and from every source its rules name, at the rule that
 *   drops it or the policy's `defaults`;
 * - listening-restricted (note): one accepted only from the sources some
 *   rules name.
 * Each packet is given to pc_policy_evaluate().  Sockets on loopback only
 * are left out, and so are `ephemeral` ones from the last two.
 */
void pc_policy_check_listening(const struct pc_policy *p, const struct pc_listener *v, size_t n,
		struct pc_diags *diags);

#endif
