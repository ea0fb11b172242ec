/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command-line interface: the only part of portcullis that prints or
 * exits.  One file per subcommand; main.c holds the tables.
 */
#ifndef PC_CLI_H
#define PC_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "portcullis/registry.h"

struct pc_buf;

/* Exit statuses, documented in docs/cli.md and portcullis(8). */
enum pc_exit {
	PC_EXIT_OK = 0,
	PC_EXIT_INVALID = 1, /* bad input: policy, registry data, unknown service name */
	PC_EXIT_USAGE = 2, /* bad command line */
	PC_EXIT_ENV = 3, /* a file cannot be read, a resource is missing, memory ran out */
	PC_EXIT_KERNEL = 4, /* not applied, nothing changed: refused by the kernel, a foreign table,
			       retries spent */
	PC_EXIT_UNKNOWN = 5, /* the outcome of apply (or check --kernel) is unknown */
	PC_EXIT_ROLLED_BACK = 6, /* confirm too late: the apply was rolled back */
};

/* Diagnostics shown at most for one policy (the rest are counted). */
#define CLI_MAX_PRINTED 200

/* The nft table (iptables chains, pf anchor) portcullis owns unless --table names another. */
#define CLI_DEFAULT_TABLE "portcullis"

/* A repeatable option's arguments, in the order given. */
struct cli_list {
	const char **v;
	size_t n;
};

/* Options every command that reads the registry accepts, already parsed. */
struct cli_ctx {
	FILE *out, *err;
	const char *prog;
	bool json;
	const char *layer_file[PC_LAYER_COUNT]; /* read into that registry layer */
	unsigned layer_optional; /* bit 1 << kind: a missing file is a warning (--system) */
	struct pc_kdc_source kdc; /* --kdc-conf, --heimdal-conf, --realm (path NULL: none) */
	struct cli_list defines; /* --define */
	bool strict; /* warnings are errors */
	struct cli_list wno; /* --Wno-CODE: warning codes to leave out */
	struct cli_list packets; /* explain --packet */
	struct cli_list packet_files; /* explain --packets: files of them, "-" for stdin */
	const char *target; /* render --target */
	const char *table; /* --table, CLI_DEFAULT_TABLE when not given */
	bool table_given; /* --table was given */
	const char *output; /* render --output */
	const char *family; /* render --family */
	const char *out_dir; /* render --out-dir */
	bool no_jump; /* render --no-jump */
	bool force; /* apply --force */
	bool allow_lockout; /* apply --allow-lockout */
	bool kernel; /* check --kernel */
	bool dry_run; /* apply --dry-run */
	bool full; /* apply --full: no delta */
	const char *confirm; /* apply --confirm SECONDS */
	bool no_services; /* registry audit --no-services */
	bool all; /* registry audit --all */
	const char *only; /* compare --only accept|drop */
	const char *git; /* compare --git REV */
	/* When set, cli_load_policy() reads the policy and its includes through it. */
	int (*reader)(void *arg, const char *path, char *real, struct pc_buf *out);
	void *reader_arg;
	struct pc_registry *reg;
	bool out_reported; /* a failed write to out was reported; the status stands */
	bool sarif; /* check --sarif */
	const char *check_dir; /* render --check-up-to-date DIR */
	/*
	 * Not NULL: the diagnostics of the registry and the policy loaded
	 * (acknowledged ones too) are moved here instead of printed as text,
	 * for a report in JSON or SARIF.
	 */
	struct pc_diags *collect;
	/* The policy's long address lists given back as they are read (pc_policy.release_texts) */
	bool release_texts;
	bool listening; /* check --listening */
};

int cmd_lookup(struct cli_ctx *ctx, int argc, char **argv);
int cmd_check(struct cli_ctx *ctx, int argc, char **argv);
int cmd_explain(struct cli_ctx *ctx, int argc, char **argv);
int cmd_render(struct cli_ctx *ctx, int argc, char **argv);
int cmd_apply(struct cli_ctx *ctx, int argc, char **argv);
int cmd_remove(struct cli_ctx *ctx, int argc, char **argv);
int cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cmd_show(struct cli_ctx *ctx, int argc, char **argv);
int cmd_diff(struct cli_ctx *ctx, int argc, char **argv);
int cmd_confirm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rollback(struct cli_ctx *ctx, int argc, char **argv);
int cmd_registry_audit(struct cli_ctx *ctx, int argc, char **argv);
int cmd_registry_update(struct cli_ctx *ctx, int argc, char **argv);
int cmd_compare(struct cli_ctx *ctx, int argc, char **argv);

/*
 * What the commands share (common.c, transaction.c).  The files of the
 * subcommands call these, never one another.
 */

/*
 * Builds ctx->reg from the registry options; prints problems to ctx->err.
 * Returns PC_EXIT_OK or the exit status to end with.
 */
int cli_open_registry(struct cli_ctx *ctx);

struct pc_json;
/*
 * Writes a registry row as a JSON object: layer, file, line, name, aliases,
 * port, port_end, protocol, state, historic_alias_of, description, and a
 * snapshot's other columns or practice's source (docs/cli.md, lookup).
 */
void cli_json_record(struct pc_json *j, const struct pc_record *r);

struct pc_policy;
/*
 * Opens the registry afresh, then loads, resolves and reports one policy:
 * its diagnostics filtered by --Wno-CODE and --strict and printed.  `p` is
 * initialised whatever happens (the caller finishes it); `warnings` (may be
 * NULL) gets the number of warnings left.  Returns the exit status.
 */
int cli_load_policy(struct cli_ctx *ctx, const char *path, struct pc_policy *p, size_t *warnings);

/*
 * The SHA-256 apply records of a policy, in hex: of the policy file when it
 * includes nothing (the one `render` prints); else of the SHA-256 of every
 * file it read, itself first then its includes in the order read, then the
 * list files its networks read (pc_policy_list()), each in hex and followed
 * by a newline.  Editing an include or a list file changes it.
 */
void cli_policy_sha256(const struct pc_policy *p, char hex[65]);
/*
 * The same of the policy at `path` as it reads now (loaded, not resolved);
 * false when it cannot be read.
 */
bool cli_policy_path_sha256(const char *path, char hex[65]);

struct pc_target;
/* Prints the --target values of the targets `keep` keeps (NULL: all), each once, joined by ", ". */
void cli_target_options(FILE *f, bool (*keep)(const struct pc_target *tg));

/* Whether --table names a table; if not, says why (as command `cmd`). */
bool cli_table_name_ok(struct cli_ctx *ctx, const char *cmd, const char *table);

struct pc_nft_table;
/*
 * Checks --table, then loads, resolves and reports the policy at `path` and
 * lowers it into the model of that table, its diagnostics printed.  On
 * PC_EXIT_OK the caller finishes t, then p; on any other status (returned)
 * nothing is left to finish.
 */
int cli_lower_policy(struct cli_ctx *ctx, const char *cmd, const char *path, struct pc_policy *p,
		struct pc_nft_table *t);

/*
 * Sends the policy's table to the kernel in one transaction: applied
 * (`commit`), or checked and thrown away.  `before` (may be NULL) is asked
 * first, once the policy is loaded and lowered: a status other than
 * PC_EXIT_OK ends there, nothing sent.  `cmd` names the command in
 * messages.  Returns the exit status.
 */
int cli_send_table(struct cli_ctx *ctx, const char *cmd, const char *path, bool commit,
		int (*before)(struct cli_ctx *ctx, const struct pc_policy *p));

/*
 * Deletes table inet ctx->table in one transaction, refusing a table of
 * that name portcullis does not manage unless ctx->force; no table is not
 * an error.  `cmd` names the command in messages.  Returns the exit status.
 */
int cli_remove_table(struct cli_ctx *ctx, const char *cmd);

struct pc_inventory;
/*
 * Escapes the names, policies, paths and chain types of an inventory in place
 * (control bytes, invalid UTF-8), for printing as text: another program may
 * have named its tables and chains with anything.
 */
void cli_inventory_escape(struct pc_inventory *inv);

/* Why a chain can drop (PC_INV_DROP_* bits), as "its policy is drop, a rule rejects". */
void cli_drop_reasons(FILE *f, unsigned drops);

/*
 * Warns (on ctx->err, as command `cmd`) about the other tables that filter
 * what policy p, applied as table inet `table`, accepts: other tables
 * portcullis manages, and base chains of other tables on the same hooks
 * that can drop.  Returns 0, or -1 with errno set when the ruleset cannot
 * be read (nothing printed).
 */
int cli_warn_coexist(
		struct cli_ctx *ctx, const char *cmd, const struct pc_policy *p, const char *table);

struct pc_rb_table;
struct pc_rb_obj;
/*
 * Reads table inet `table` back from the kernel (drift.c); says why not on
 * ctx->err.  With `each`, the objects are given to each(arg, ...) one at a
 * time instead of kept in live (pc_rb_options.each).  Returns PC_EXIT_OK
 * (live->exists false when there is none) or PC_EXIT_ENV.
 */
int cli_read_live(struct cli_ctx *ctx, const char *cmd, const char *table, struct pc_rb_table *live,
		void (*each)(void *arg, const struct pc_rb_obj *o), void *arg);

/* Prints one object read back on the FILE f, a line, indented by what holds it. */
void cli_print_live(void *f, const struct pc_rb_obj *o);

/*
 * Compares the live table --table with what the policy at `path` installs,
 * object by object, and prints the changes (text, or --json).  Nothing is
 * sent.  Returns PC_EXIT_OK when they are the same, PC_EXIT_INVALID when
 * they differ (or the table is not loaded), or the status of an error.
 */
int cli_diff(struct cli_ctx *ctx, const char *cmd, const char *path);

/* What apply would send for a table (transaction.c), for `diff` and `apply --dry-run`. */
struct cli_apply_preview {
	bool delta; /* a delta of the last apply; else the whole table replaced */
	size_t objects; /* a delta: the objects it changes; a replace: those it makes */
	size_t elems_added, elems_deleted, sets_created, sets_deleted, chains_created,
			chains_deleted, chains_rebuilt, policies_changed;
	char why[512]; /* a replace: why no delta ("" when there is no table or record) */
	/*
	 * diff: the delta contradicts what diff read (nothing to send to a
	 * table that differs, or changes to one that does not): the record of
	 * the last apply does not hold what the table holds.
	 */
	bool record_wrong;
};
/*
 * The SHA-256, time and path (*path freed and replaced: the caller's to
 * free) of the policy installed in table inet `table` whose stamp is
 * (stamp, *time): those the last apply recorded, when its record names that
 * stamp (deltas since leave the stamp as the last replace made it); else
 * left as they are.  Whether the record was used.
 */
bool cli_installed_policy(const char *table, const uint8_t stamp[32], uint64_t *time,
		uint8_t sha256[32], char **path);
/* Works out, sending nothing, whether apply would send a delta for t and how large. */
void cli_apply_preview(
		struct cli_ctx *ctx, const struct pc_nft_table *t, struct cli_apply_preview *pv);

/*
 * apply --confirm (confirm.c).  cli_confirm_pending(): PC_EXIT_OK, or
 * PC_EXIT_KERNEL after saying that a confirmation of ctx->table is pending.
 * cli_confirm_before(): takes the pending slot and saves the live table
 * (PC_EXIT_OK) or says why not.  cli_confirm_after(): given the apply's
 * status, starts the process that rolls back after `seconds` (or lets go of
 * what before took); returns the status to end with.
 */
int cli_confirm_pending(struct cli_ctx *ctx, const char *cmd);
int cli_confirm_before(struct cli_ctx *ctx);
int cli_confirm_after(struct cli_ctx *ctx, int ret, unsigned seconds);
/*
 * The state directory ($PORTCULLIS_STATE_DIR, else /run/portcullis), shared
 * by confirm and delta apply: cli_state_path() names TABLE's file SUFFIX in
 * it (one per network namespace); cli_state_dir_make() makes it (0700) and
 * checks it is a directory of this user no one else may use (0, or -1 with
 * errno); cli_state_forget() deletes the record of what the last apply
 * installed, so the next apply replaces the table whole.
 */
void cli_state_path(char *buf, size_t size, const char *table, const char *suffix);
int cli_state_dir_make(void);
/*
 * Interrupts (SIGINT, SIGTERM, SIGHUP, SIGQUIT) held back while something
 * must not be cut short (a transaction until its outcome is said, files
 * being put in place), and honoured when cli_interrupts_restore() gives the
 * mask of before back.
 */
void cli_interrupts_hold(sigset_t *was);
void cli_interrupts_restore(const sigset_t *was);
/*
 * Why cli_state_dir_make() failed with `err`, for a message: what is wrong
 * with the directory and how to mend it when it refused it, else strerror().
 */
void cli_state_dir_why(char *buf, size_t size, int err);
void cli_state_forget(const char *table);
/* Whether a confirmation of `table` is pending: 1 with its deadline and watcher, else 0. */
int cli_confirm_status(const char *table, long long *deadline, long *pid);

struct pc_json;
struct pc_diag;
/*
 * Writes one diagnostic as a JSON object (report.c): severity, code, file,
 * line, column, message, hint, acknowledged and its reason; what is unknown is
 * null.
 */
void cli_json_diag(struct pc_json *j, const struct pc_diag *r);

/* Writes `key`: an array of every record of `d`, in order (report.c). */
void cli_json_diags(struct pc_json *j, const char *key, const struct pc_diags *d);

/*
 * check --json and --sarif (report.c): each policy's status and the records
 * collected while it was loaded are added, in the order given, then printed
 * at once as one JSON object or one SARIF log.
 */
struct cli_report;
struct cli_report *cli_report_create(void);
void cli_report_add(struct cli_report *rep, const char *file, const struct pc_policy *p, int status,
		struct pc_diags *d);
void cli_report_print(const struct cli_report *rep, bool sarif, int status, FILE *out);
void cli_report_destroy(struct cli_report *rep);
/*
 * check --listening --json: the sockets seen, printed as the report's
 * `listening` array (not owned: the caller keeps them until printed).
 */
struct pc_listeners;
void cli_report_listening(struct cli_report *rep, const struct pc_listeners *l);
/* A policy read from a git revision (gitrev.c). */
struct cli_git {
	char *commit; /* the revision resolved */
	char *label; /* "REV:", which the names of its files start with */
	char *path; /* the policy's name: "REV:PATH", PATH from the repository's root */
	FILE *err; /* where a symbolic link that cannot be followed is said */
};

/*
 * Resolves --git REV and finds the policy `path` (relative to the current
 * directory) in it; on PC_EXIT_OK sets ctx->reader so that the next
 * cli_load_policy() of g->path reads from the revision, and the caller
 * closes g.  Otherwise says why (not a repository, an unknown revision,
 * no such file there) and returns the exit status.
 */
int cli_git_open(struct cli_ctx *ctx, const char *rev, const char *path, struct cli_git *g);
void cli_git_close(struct cli_git *g);

#endif
