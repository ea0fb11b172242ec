/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address list files (`networks: {NAME: {file: PATH}}`, docs/policy.md): one
 * IPv4 or IPv6 address or prefix a line, `#` comments, blank lines.  The
 * reader is fed the file in blocks of any size and keeps one line at most;
 * each address goes to the caller's function as it is parsed, with the list
 * file's line and column, and each problem to `diags` at the same place.
 *
 * Ownership: the caller owns `file` (it must outlive the prefixes, whose
 * locations point at it) and the diagnostics.  A struct pc_listfile holds
 * one line's buffer and the lines it kept for diagnostics, released by
 * pc_listfile_finish().
 */
#ifndef PORTCULLIS_LISTFILE_H
#define PORTCULLIS_LISTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/diag.h"
#include "portcullis/policy.h"
#include "sha256.h"

#define PC_LIST_MAX_BYTES (256u << 20) /* a list file's size */
#define PC_LIST_MAX_LINES 4000000u /* its lines */
#define PC_LIST_MAX_LINE 1024u /* bytes on one line, its comment and line end included */
#define PC_LIST_MAX_ERRORS 50u /* then reading stops */
#define PC_LIST_MAX_WARNINGS 50u /* said of one file; the rest counted in one note */
#define PC_LIST_KEPT 128u /* source lines kept for the diagnostics */

/* What pc_prefix_parse() found. */
enum pc_addr_status {
	PC_ADDR_OK,
	PC_ADDR_HOST_BITS, /* a prefix with host bits set: parsed, the bits cleared */
	PC_ADDR_SYNTAX, /* not an address */
	PC_ADDR_ZONE, /* an IPv6 zone index (fe80::1%eth0) */
	PC_ADDR_MAPPED, /* an IPv4-mapped IPv6 address: out->bytes hold it */
	PC_ADDR_PREFIX, /* a prefix length out of range or badly written; out->family is set */
};

/*
 * Parses `n` bytes of `s` (no NUL needed) as an address or prefix, strictly:
 * IPv4 as four decimal numbers without leading zeros (010.0.0.1, 10.1 and
 * 0x0a.0.0.1 are refused: inet_aton reads them otherwise), IPv6 as RFC 4291
 * writes it, each with an optional /LEN without leading zeros.  Sets the
 * whole of `out`, `where` and `col` to 0.
 */
enum pc_addr_status pc_prefix_parse(const char *s, size_t n, struct pc_prefix *out);

/*
 * The fast read of the common address, from *pp (before e): four decimal
 * numbers of at most 255, none with a leading zero, into out[0..3], *pp moved
 * past them; false for anything else (what follows is the caller's to look
 * at: pc_prefix_parse() reads every form).
 */
bool pc_ipv4_quad(const unsigned char **pp, const unsigned char *e, uint8_t out[4]);

/*
 * A parsed address, handed to the caller, valid during the call: its line is
 * in `where` (never more than PC_WHERE_LINE_MASK) and its column in `col`.
 */
typedef void pc_listfile_add(void *arg, const struct pc_prefix *x);

struct pc_listfile_line {
	unsigned line;
	char *text; /* without its line end */
	size_t len;
};

struct pc_listfile {
	const char *file; /* as the diagnostics and locations name it */
	struct pc_diags *diags;
	pc_listfile_add *add;
	void *arg;
	char *buf; /* the line being read: PC_LIST_MAX_LINE bytes */
	size_t len;
	bool skipping; /* the line is past PC_LIST_MAX_LINE: said, the rest skipped */
	bool stopped; /* a limit was met: said, nothing more is read */
	unsigned line; /* lines read */
	uint64_t bytes;
	size_t addresses; /* handed to `add` */
	unsigned errors, warnings, unsaid; /* unsaid: warnings past the limit */
	struct pc_sha256 sha;
	struct pc_listfile_line kept[PC_LIST_KEPT]; /* lines with a diagnostic */
	size_t nkept;
};

void pc_listfile_init(struct pc_listfile *lf, const char *file, struct pc_diags *diags,
		pc_listfile_add *add, void *arg);
/* Releases the line buffer and the kept lines; accepts a finished one. */
void pc_listfile_finish(struct pc_listfile *lf);

/* Reads `n` more bytes of the file.  Returns 0, or -1 once a limit stopped it (said). */
int pc_listfile_feed(struct pc_listfile *lf, const char *data, size_t n);

/*
 * The end of the file: its last line when no newline ends it, then the
 * note counting the warnings not said.  `hex` gets the SHA-256 of every
 * byte fed.  Returns 0, or -1 when a limit stopped the reading.
 */
int pc_listfile_end(struct pc_listfile *lf, char hex[65]);

/*
 * Feeds what `fd` holds from offset 0 (pread, in blocks), at most
 * PC_LIST_MAX_BYTES, then ends it.  Returns 0; -1 when a limit stopped it
 * (said); -2 with errno set when the descriptor could not be read.
 */
int pc_listfile_read_fd(struct pc_listfile *lf, int fd, char hex[65]);

/* A line a diagnostic was given on, or NULL. */
const char *pc_listfile_kept_line(const struct pc_listfile *lf, unsigned line, size_t *len);

#endif
