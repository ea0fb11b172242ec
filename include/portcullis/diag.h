/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostics: records queued while a module works and printed once, by the
 * caller, at the end.  The core never prints.
 *
 * Ownership: a struct pc_diags owns every string of every record in it;
 * pc_diags_finish() releases them.  Records keep their insertion order.
 */
#ifndef PORTCULLIS_DIAG_H
#define PORTCULLIS_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum pc_severity {
	PC_SEV_NOTE,
	PC_SEV_WARNING,
	PC_SEV_ERROR,
};

struct pc_diag {
	enum pc_severity sev;
	const char *code; /* stable identifier, e.g. "registry-conflict" (static storage) */
	char *file; /* NULL when the record is not about a file */
	unsigned line; /* 1-based; 0 when unknown */
	unsigned col; /* 1-based byte column; 0 when unknown */
	char *msg;
	char *hint; /* NULL, or a suggestion printed on its own line */
	bool acknowledged; /* the policy acknowledges it: not counted, not shown */
	char *reason; /* acknowledged: the reason the policy gives, or NULL */
};

struct pc_diags {
	struct pc_diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
	size_t nacknowledged; /* records acknowledged (pc_diags_acknowledge), not counted above */
	size_t max; /* records kept at most (0: no limit); the rest are counted */
	size_t dropped;
	/*
	 * Errors after this many (0: no limit) get no costly hint, such as a
	 * suggestion searched over a registry: set it to what will be shown.
	 */
	size_t hints_max;
	/*
	 * pc_diags_filter() keeps the acknowledged records (still not counted,
	 * and never printed as text), for reports that list them as such.
	 */
	bool keep_acknowledged;
};

/*
 * What every loader of an input file returns (the registry's layers, a
 * policy), so a caller can tell bad data from a file it cannot read: the
 * command line exits 1 for one and 3 for the other.  The loaders from memory
 * never return PC_LOAD_UNREADABLE.
 */
enum pc_load_status {
	PC_LOAD_OK = 0,
	PC_LOAD_INVALID = -1, /* read, but its content has errors (in diags) */
	PC_LOAD_UNREADABLE = -2, /* cannot be read: missing, a directory, a FIFO or
				  * device, too large, an I/O error; a diagnostic
				  * with code "io" says which */
};

/* Whether the next error deserves a costly hint (see hints_max). */
static inline int pc_diags_want_hint(const struct pc_diags *d)
{
	return !d->hints_max || d->nerrors < d->hints_max;
}

void pc_diags_init(struct pc_diags *d);
void pc_diags_finish(struct pc_diags *d);

/*
 * Queues a record.  `file` and the formatted message are copied.  Returns the
 * record, or NULL when the limit was reached (the record is then counted in
 * `dropped`, and in nerrors/nwarnings).
 */
struct pc_diag *pc_diag_add(struct pc_diags *d, enum pc_severity sev, const char *code,
		const char *file, unsigned line, unsigned col, const char *fmt, ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 7, 8)))
#endif
		;

/* The same with a va_list. */
struct pc_diag *pc_diag_addv(struct pc_diags *d, enum pc_severity sev, const char *code,
		const char *file, unsigned line, unsigned col, const char *fmt, va_list ap)
		__attribute__((format(printf, 7, 0)));

/*
 * Gives record `i` severity `sev`, and counts it there instead.  The only
 * way to change a record's severity: the counters stay true.
 */
void pc_diags_set_severity(struct pc_diags *d, size_t i, enum pc_severity sev);

/*
 * Marks record `i` (a warning or a note) acknowledged: it leaves the counters
 * for nacknowledged, --strict leaves it alone and pc_diags_filter() releases
 * it.  Errors cannot be acknowledged: returns false for them (and for `i`
 * out of range), true otherwise.
 */
bool pc_diags_acknowledge(struct pc_diags *d, size_t i);

/*
 * The same, keeping `reason` (copied; may be NULL) with the record when it
 * has none yet, for reports that say why a finding is acknowledged.
 */
bool pc_diags_acknowledge_because(struct pc_diags *d, size_t i, const char *reason);

/*
 * Applies the command line's choices to the records, in order: acknowledged
 * records are released (still counted in nacknowledged) unless
 * keep_acknowledged, which keeps them past the `keep` limit too; warnings
 * whose code is one of `codes` are released and no longer counted; with
 * `strict`, the other warnings become errors (those dropped before, see
 * `max`, are counted as errors too); then records past the first `keep`
 * (0: no limit) are released and counted in `dropped`, which counts only
 * those afterwards.
 */
void pc_diags_filter(struct pc_diags *d, const char *const *codes, size_t ncodes, bool strict,
		size_t keep);

/* Every code a diagnostic can carry, sorted by name. */
extern const char *const pc_diag_codes[];
extern const size_t pc_diag_ncodes;

/* A code and what it is about, in one line (SARIF's shortDescription). */
struct pc_diag_code_text {
	const char *code;
	const char *text;
};

/* One for every code of pc_diag_codes, in its order. */
extern const struct pc_diag_code_text pc_diag_code_texts[];

/* What `code` is about, in one line; NULL for a code not in pc_diag_codes. */
const char *pc_diag_code_text(const char *code);

/*
 * Moves every record of `from` to the end of `to`, with its counters
 * (errors, warnings, acknowledged, dropped); `from` is left empty, ready to
 * be finished or used again.
 */
void pc_diags_take(struct pc_diags *to, struct pc_diags *from);

/*
 * Whether `code` is in pc_diag_codes.  If not, `*nearest` (when not NULL)
 * gets the code within two edits of it, the first of the nearest ones, or NULL.
 */
bool pc_diag_code_known(const char *code, const char **nearest);

/* Sets (replacing) the hint of a record; NULL-safe on `diag`. */
void pc_diag_hint(struct pc_diag *diag, const char *fmt, ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 2, 3)))
#endif
		;

/*
 * Prints every record but the acknowledged ones as `file:line:col: severity:
 * message [code]`, then the hint.  Control characters, escape sequences and invalid UTF-8 that came
 * from input are shown as \n, \x1b, ... so no input can alter the terminal.
 */
void pc_diags_print(const struct pc_diags *d, FILE *out);

/*
 * The same, calling `context` (when not NULL) after each record's first line
 * and before its hint, to show what the record is about (a source line).
 */
void pc_diags_print_with(const struct pc_diags *d, FILE *out,
		void (*context)(const struct pc_diag *r, FILE *out, void *arg), void *arg);

/* Writes `s` with control bytes and invalid UTF-8 escaped as above. */
void pc_fputs_escaped(const char *s, FILE *out);

const char *pc_severity_name(enum pc_severity sev);

#endif
