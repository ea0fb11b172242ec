/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis status: the tables portcullis manages on this host, each with
 * the policy it was applied from (name, SHA-256, time, path), what it holds,
 * and whether the policy file still matches; then the other tables' base
 * chains on the same hooks, and which of them can drop what portcullis
 * accepts.  Everything read through netlink (inventory.c).
 */
#include <errno.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"
#include "portcullis/inventory.h"
#include "sha256.h"
#include "util.h"

/* A policy file larger than this is not hashed (the loader's limit is 16 MiB). */
#define MAX_POLICY (16u << 20)

enum file_state {
	FILE_UNKNOWN,
	FILE_MATCHES,
	FILE_CHANGED,
	FILE_UNREADABLE
};

static const char *const file_names[] = {"unknown", "matches", "changed", "unreadable"};

struct managed {
	const struct pc_inv_table *t;
	enum file_state file;
	int file_err;
	char now[65]; /* the file's SHA-256 now, when read */
	char was[65];
	char when[32]; /* "2026-11-29 09:50:42 UTC" */
	char iso[32]; /* "2026-11-29T09:50:42Z" */
};

/* Hashes the file at path into hex; 0, or an errno. */
static int hash_file(const char *path, char hex[65])
{
	struct pc_sha256 s;
	char buf[1 << 14];
	size_t total = 0, n;
	FILE *f = fopen(path, "re");

	if (!f)
		return errno;
	pc_sha256_init(&s);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && (total += n) <= MAX_POLICY)
		pc_sha256_update(&s, buf, n);
	int err = ferror(f) ? EIO : total > MAX_POLICY ? EFBIG : 0;
	fclose(f);
	if (!err)
		pc_sha256_hex(&s, hex);
	return err;
}

static void judge(struct managed *m)
{
	const struct pc_inv_table *t = m->t;

	if (!t->stamped)
		return;
	for (int i = 0; i < 32; i++)
		snprintf(m->was + 2 * i, 3, "%02x", t->sha256[i]);
	time_t when = (time_t)t->time;
	struct tm tm;
	if (gmtime_r(&when, &tm)) {
		strftime(m->when, sizeof(m->when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		strftime(m->iso, sizeof(m->iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (!t->path)
		return;
	m->file_err = hash_file(t->path, m->now);
	/* What apply records: its includes too, when it has some. */
	if (!m->file_err)
		cli_policy_path_sha256(t->path, m->now);
	m->file = m->file_err		    ? FILE_UNREADABLE
		  : !strcmp(m->now, m->was) ? FILE_MATCHES
					    : FILE_CHANGED;
}

static void print_text(struct cli_ctx *ctx, const struct pc_inventory *inv, const struct managed *m,
		size_t nm)
{
	FILE *f = ctx->out;

	for (size_t i = 0; i < nm; i++) {
		const struct pc_inv_table *t = m[i].t;
		fprintf(f, "table %s %s: policy %s", pc_inventory_family(t->family), t->name,
				t->policy ? t->policy : "(not named)");
		if (!t->stamped) {
			fprintf(f, "; it records no hash, time or path (applied by an older "
				   "portcullis, or loaded from a rendering)\n");
		} else {
			fprintf(f, ", applied %s\n  sha256 %s\n", m[i].when, m[i].was);
			if (!t->path)
				fprintf(f, "  from standard input, or a path too long to record\n");
			else if (m[i].file == FILE_MATCHES)
				fprintf(f, "  from %s, which still matches\n", t->path);
			else if (m[i].file == FILE_CHANGED)
				fprintf(f, "  from %s, which has changed since (sha256 now %s)\n",
						t->path, m[i].now);
			else
				fprintf(f, "  from %s, which cannot be read now (%s)\n", t->path,
						strerror(m[i].file_err));
		}
		fprintf(f, "  %zu chains, %zu rules, %zu sets and maps, %zu elements\n", t->nchains,
				t->nrules, t->nsets, t->nelems);
		if (t->dormant)
			fprintf(f,
					"  dormant: its base chains are unhooked and it filters nothing "
					"(flags dormant, which portcullis never sets); '%s apply' "
					"replaces the table\n",
					ctx->prog);
		long long deadline;
		long pid;
		if (t->family == NFPROTO_INET && cli_confirm_status(t->name, &deadline, &pid)) {
			char until[32];
			time_t dl = (time_t)deadline;
			struct tm tm;
			strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&dl, &tm));
			fprintf(f,
					"  waits for confirmation until %s (process %ld): rolled back "
					"then unless '%s confirm --table %s' runs before\n",
					until, pid, ctx->prog, t->name);
		}
	}
	if (!nm)
		fprintf(f, "no table managed by portcullis%s%s\n",
				ctx->table_given ? " named " : "",
				ctx->table_given ? ctx->table : "");
	size_t all = 0;
	for (size_t i = 0; i < inv->ntables; i++)
		all += inv->tables[i].managed;
	if (all > 1)
		fprintf(f,
				"%zu tables managed by portcullis filter the same hooks: a packet must "
				"pass each of them, and a drop in any wins\n",
				all);
	bool any = false;
	for (size_t i = 0; i < inv->nchains; i++) {
		const struct pc_inv_chain *c = &inv->chains[i];
		const struct pc_inv_table *t = &inv->tables[c->table];
		if (t->managed || !pc_inventory_on_hook(inv, c, -1))
			continue;
		if (!any)
			fprintf(f, "other tables with base chains on the same hooks:\n");
		any = true;
		fprintf(f, "  table %s %s, chain %s: %s hook %s, priority %d, policy %s",
				pc_inventory_family(t->family), t->name, c->name,
				c->type ? c->type : "filter", pc_inventory_hook(inv, c), c->prio,
				c->policy_drop ? "drop" : "accept");
		if (c->drops) {
			fprintf(f, ": can drop what portcullis accepts (");
			cli_drop_reasons(f, c->drops);
			fputc(')', f);
		}
		fputc('\n', f);
	}
	if (!any)
		fprintf(f, "no other table has base chains on the same hooks\n");
}

static void print_json(struct cli_ctx *ctx, const struct pc_inventory *inv, const struct managed *m,
		size_t nm)
{
	struct pc_json j;

	pc_json_init(&j, ctx->out);
	pc_json_begin_object(&j);
	pc_json_key(&j, "managed");
	pc_json_begin_array(&j);
	for (size_t i = 0; i < nm; i++) {
		const struct pc_inv_table *t = m[i].t;
		pc_json_begin_object(&j);
		pc_json_key(&j, "family");
		pc_json_string(&j, pc_inventory_family(t->family));
		pc_json_key(&j, "table");
		pc_json_string(&j, t->name);
		pc_json_key(&j, "policy");
		pc_json_string_or_null(&j, t->policy);
		pc_json_key(&j, "sha256");
		pc_json_string_or_null(&j, t->stamped ? m[i].was : NULL);
		pc_json_key(&j, "applied");
		if (t->stamped)
			pc_json_uint(&j, t->time);
		else
			pc_json_null(&j);
		pc_json_key(&j, "applied_utc");
		pc_json_string_or_null(&j, t->stamped ? m[i].iso : NULL);
		pc_json_key(&j, "path");
		pc_json_string_or_null(&j, t->path);
		pc_json_key(&j, "file");
		pc_json_string(&j, file_names[m[i].file]);
		pc_json_key(&j, "file_sha256");
		pc_json_string_or_null(&j, m[i].file == FILE_MATCHES || m[i].file == FILE_CHANGED
							   ? m[i].now
							   : NULL);
		static const char *const keys[] = {"chains", "rules", "sets", "elements"};
		size_t v[] = {t->nchains, t->nrules, t->nsets, t->nelems};
		for (size_t k = 0; k < 4; k++) {
			pc_json_key(&j, keys[k]);
			pc_json_uint(&j, v[k]);
		}
		pc_json_key(&j, "dormant");
		pc_json_bool(&j, t->dormant);
		long long deadline;
		long pid;
		pc_json_key(&j, "confirm_deadline");
		if (t->family == NFPROTO_INET && cli_confirm_status(t->name, &deadline, &pid))
			pc_json_int(&j, deadline);
		else
			pc_json_null(&j);
		pc_json_end_object(&j);
	}
	pc_json_end_array(&j);
	pc_json_key(&j, "others");
	pc_json_begin_array(&j);
	for (size_t i = 0; i < inv->nchains; i++) {
		const struct pc_inv_chain *c = &inv->chains[i];
		const struct pc_inv_table *t = &inv->tables[c->table];
		if (t->managed || !pc_inventory_on_hook(inv, c, -1))
			continue;
		pc_json_begin_object(&j);
		pc_json_key(&j, "family");
		pc_json_string(&j, pc_inventory_family(t->family));
		pc_json_key(&j, "table");
		pc_json_string(&j, t->name);
		pc_json_key(&j, "chain");
		pc_json_string(&j, c->name);
		pc_json_key(&j, "type");
		pc_json_string_or_null(&j, c->type);
		pc_json_key(&j, "hook");
		pc_json_string(&j, pc_inventory_hook(inv, c));
		pc_json_key(&j, "priority");
		pc_json_int(&j, c->prio);
		pc_json_key(&j, "policy");
		pc_json_string(&j, c->policy_drop ? "drop" : "accept");
		pc_json_key(&j, "can_drop");
		pc_json_bool(&j, c->drops != 0);
		pc_json_key(&j, "why");
		pc_json_begin_array(&j);
		static const struct {
			unsigned bit;
			const char *name;
		} why[] = {{PC_INV_DROP_POLICY, "policy"}, {PC_INV_DROP_RULE, "drop"},
				{PC_INV_DROP_REJECT, "reject"}, {PC_INV_DROP_VMAP, "verdict-map"}};
		for (size_t k = 0; k < 4; k++)
			if (c->drops & why[k].bit)
				pc_json_string(&j, why[k].name);
		pc_json_end_array(&j);
		pc_json_end_object(&j);
	}
	pc_json_end_array(&j);
	pc_json_end_object(&j);
	pc_json_finish(&j);
}

int cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pc_inventory inv;
	const char *what;

	(void)argv;
	if (argc) {
		fprintf(ctx->err, "%s status: takes no arguments, e.g. '%s status --table kdcfw'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (ctx->table_given && !cli_table_name_ok(ctx, "status", ctx->table))
		return PC_EXIT_USAGE;
	if (pc_inventory_read(&inv, PC_INV_F_COUNTS, &what) < 0) {
		int err = errno;
		if (err == EINTR)
			fprintf(ctx->err,
					"%s status: cannot read the ruleset whole: another program "
					"changed it during each of %d reads; try again\n",
					ctx->prog, PC_INVENTORY_READS);
		else
			fprintf(ctx->err, "%s status: cannot %s: %s\n", ctx->prog, what,
					strerror(err));
		if (err == EPERM || err == EACCES)
			fprintf(ctx->err,
					"%s status: status needs CAP_NET_ADMIN (run it as root)\n",
					ctx->prog);
		pc_inventory_finish(&inv);
		return PC_EXIT_ENV;
	}
	struct managed *m = xcalloc(inv.ntables ? inv.ntables : 1, sizeof(*m));
	size_t nm = 0;
	for (size_t i = 0; i < inv.ntables; i++) {
		const struct pc_inv_table *t = &inv.tables[i];
		if (!t->managed ||
				(ctx->table_given && (t->family != NFPROTO_INET ||
								     strcmp(t->name, ctx->table))))
			continue;
		/* After deltas, the policy installed is the record's, not the table's stamp. */
		if (t->stamped && t->family == NFPROTO_INET)
			cli_installed_policy(t->name, t->sha256, &inv.tables[i].time,
					inv.tables[i].sha256, &inv.tables[i].path);
		m[nm].t = t;
		judge(&m[nm++]);
	}
	if (ctx->json) {
		print_json(ctx, &inv, m, nm);
	} else {
		/* After judge(), which opens the paths as recorded. */
		cli_inventory_escape(&inv);
		print_text(ctx, &inv, m, nm);
	}
	int ret = PC_EXIT_OK;
	if (ctx->table_given && !nm) {
		fprintf(ctx->err,
				"%s status: no table inet %s managed by portcullis; `%s status` lists "
				"every one\n",
				ctx->prog, ctx->table, ctx->prog);
		ret = PC_EXIT_INVALID;
	}
	free(m);
	pc_inventory_finish(&inv);
	return ret;
}
