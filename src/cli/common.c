/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the commands share: the registry opened from the options, a policy
 * loaded, resolved and reported, a table name checked.  The subcommand files
 * call this file and never one another.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "portcullis/nft.h"
#include "portcullis/policy.h"
#include "portcullis/targets.h"
#include "sha256.h"
#include "util.h"

/* Diagnostics of a policy shown at most; the rest are counted. */
#define MAX_PRINTED CLI_MAX_PRINTED

/* A registry file with errors is invalid input; one that cannot be read, the environment. */
static int load_status(int st)
{
	return st == PC_LOAD_OK		  ? PC_EXIT_OK
	       : st == PC_LOAD_UNREADABLE ? PC_EXIT_ENV
					  : PC_EXIT_INVALID;
}

int cli_open_registry(struct cli_ctx *ctx)
{
	struct pc_diags diags;
	int ret = PC_EXIT_OK;

	pc_diags_init(&diags);
	diags.max = 100;
	ctx->reg = pc_registry_create();
	/* The layers' files, lowest first; the first that fails ends the loading. */
	for (int k = 0; ret == PC_EXIT_OK && k < PC_LAYER_COUNT; k++) {
		const char *path = ctx->layer_file[k];
		int st;
		if (!path || (st = pc_registry_load(ctx->reg, (enum pc_layer_kind)k, path,
					      &diags)) == PC_LOAD_OK)
			continue;
		/* The host's own file may be absent (a container): say so and go on. */
		if ((ctx->layer_optional & (1u << k)) && st == PC_LOAD_UNREADABLE &&
				errno == ENOENT && diags.n) {
			pc_diags_set_severity(&diags, diags.n - 1, PC_SEV_WARNING);
			pc_diag_hint(&diags.v[diags.n - 1], "going on without a %s layer",
					pc_layer_name((enum pc_layer_kind)k));
		} else {
			ret = load_status(st);
		}
	}
	if (ret == PC_EXIT_OK && ctx->kdc.realm && !ctx->kdc.path) {
		fprintf(ctx->err, "%s: --realm names a realm of --kdc-conf FILE: give the file\n",
				ctx->prog);
		ret = PC_EXIT_USAGE;
	} else if (ret == PC_EXIT_OK && ctx->kdc.path) {
		ret = load_status(pc_registry_load_kdc(ctx->reg, &ctx->kdc, &diags));
	}
	for (size_t i = 0; ret == PC_EXIT_OK && i < ctx->defines.n; i++)
		if (pc_registry_add_override(ctx->reg, ctx->defines.v[i], "--define",
				    (unsigned)i + 1, &diags) < 0)
			ret = PC_EXIT_USAGE;
	if (ctx->collect)
		pc_diags_take(ctx->collect, &diags);
	else
		pc_diags_print(&diags, ctx->err);
	pc_diags_finish(&diags);
	return ret;
}

int cli_load_policy(struct cli_ctx *ctx, const char *path, struct pc_policy *p, size_t *warnings)
{
	struct pc_diags d;
	int ret;

	pc_diags_init(&d);
	d.hints_max = MAX_PRINTED; /* no suggestion is searched for an error never shown */
	d.keep_acknowledged = ctx->collect != NULL;
	pc_policy_init(p);
	p->release_texts = ctx->release_texts;
	/* Each policy gets the registry afresh: a policy may take layers out of it. */
	pc_registry_destroy(ctx->reg);
	ctx->reg = NULL;
	ret = cli_open_registry(ctx);
	if (ret != PC_EXIT_OK)
		goto out;
	if (!strcmp(path, "-") && isatty(STDIN_FILENO))
		fprintf(ctx->err, "%s: reading the policy from the terminal; end it with Ctrl-D\n",
				ctx->prog);
	int st = ctx->reader ? pc_policy_load_with(p, path, ctx->reader, ctx->reader_arg, &d)
			     : pc_policy_load(p, path, &d);
	if (st == PC_LOAD_OK) {
		/* `registry.layers: [..., system]` asks for the host's services file. */
		for (int k = 0; k < PC_LAYER_COUNT; k++) {
			const struct pc_layer_def *def = pc_layer_def((enum pc_layer_kind)k);
			if (def->default_path && (p->layers & (1u << k)) &&
					!pc_registry_has_layer(ctx->reg, def->kind))
				pc_registry_load(ctx->reg, def->kind, def->default_path, &d);
		}
		int kst = p->kdc.path ? pc_registry_load_kdc(ctx->reg, &p->kdc, &d) : PC_LOAD_OK;
		if (kst == PC_LOAD_OK) {
			pc_policy_resolve(p, ctx->reg, &d);
		} else {
			struct pc_diag *e = pc_diag_add(&d, PC_SEV_ERROR, "kdc-conf-read",
					p->kdc_loc.file, p->kdc_loc.line, p->kdc_loc.col,
					"the KDC configuration '%s' %s", p->kdc.label,
					kst == PC_LOAD_UNREADABLE ? "cannot be read"
								  : "has errors");
			pc_diag_hint(e,
					"the policy is not resolved without it: fix it, or take "
					"registry.%s out",
					p->kdc.flavor == PC_KDC_HEIMDAL ? "heimdal-conf"
									: "kdc-conf");
		}
	}
	/* --Wno-CODE silences warnings, --strict makes the rest errors; MAX_PRINTED are shown. */
	pc_diags_filter(&d, ctx->wno.v, ctx->wno.n, ctx->strict, MAX_PRINTED);
	if (warnings)
		*warnings = d.nwarnings;
	if (st == PC_LOAD_UNREADABLE)
		ret = PC_EXIT_ENV;
	else if (d.nerrors)
		ret = PC_EXIT_INVALID;
	if (ctx->collect)
		pc_diags_take(ctx->collect, &d);
	else
		pc_policy_print_diags(p, &d, ctx->err);
out:
	pc_diags_finish(&d);
	return ret;
}

void cli_policy_sha256(const struct pc_policy *p, char hex[65])
{
	size_t n = pc_policy_file_count(p);
	struct pc_sha256 all;

	if (n <= 1 && !pc_policy_list_count(p)) {
		pc_policy_file_sha256(p, 0, hex);
		return;
	}
	pc_sha256_init(&all);
	for (size_t i = 0; i < n; i++) {
		char one[65];
		pc_policy_file_sha256(p, i, one);
		one[64] = '\n';
		pc_sha256_update(&all, one, sizeof(one));
	}
	/* The list files after them (their digests are what their lines in the header say). */
	for (size_t i = 0; i < pc_policy_list_count(p); i++) {
		char one[65];
		pc_policy_list(p, i, one);
		one[64] = '\n';
		pc_sha256_update(&all, one, sizeof(one));
	}
	pc_sha256_hex(&all, hex);
}

bool cli_policy_path_sha256(const char *path, char hex[65])
{
	struct pc_policy p;
	struct pc_diags d;
	bool ok;

	pc_policy_init(&p);
	pc_diags_init(&d);
	ok = pc_policy_load(&p, path, &d) != PC_LOAD_UNREADABLE && pc_policy_file_count(&p) > 0;
	if (ok)
		cli_policy_sha256(&p, hex);
	pc_diags_finish(&d);
	pc_policy_finish(&p);
	return ok;
}

bool cli_table_name_ok(struct cli_ctx *ctx, const char *cmd, const char *table)
{
	if (pc_nft_name_ok(table))
		return true;
	fprintf(ctx->err, "%s %s: '", ctx->prog, cmd);
	pc_fputs_escaped(table, ctx->err);
	fprintf(ctx->err, "' cannot name a table: a letter, then at most 31 letters, digits, "
			  "'_' or '-'\n");
	return false;
}

/* The --target values of the rows `keep` keeps (all: NULL), each once, joined by ", ". */
void cli_target_options(FILE *f, bool (*keep)(const struct pc_target *tg))
{
	bool first = true;

	for (size_t i = 0; i < pc_ntargets; i++) {
		bool seen = false;
		if (keep && !keep(&pc_targets[i]))
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = (!keep || keep(&pc_targets[k])) &&
			       !strcmp(pc_targets[k].option, pc_targets[i].option);
		if (seen)
			continue;
		fprintf(f, "%s%s", first ? "" : ", ", pc_targets[i].option);
		first = false;
	}
}

void cli_json_record(struct pc_json *j, const struct pc_record *r)
{
	pc_json_begin_object(j);
	pc_json_key(j, "layer");
	pc_json_string(j, pc_layer_name(r->layer));
	pc_json_key(j, "file");
	pc_json_string(j, r->file);
	pc_json_key(j, "line");
	pc_json_uint(j, r->line);
	pc_json_key(j, "name");
	pc_json_string_or_null(j, r->name);
	pc_json_key(j, "aliases");
	pc_json_begin_array(j);
	for (unsigned i = 0; i < r->naliases; i++)
		pc_json_string(j, r->aliases[i]);
	pc_json_end_array(j);
	pc_json_key(j, "port");
	if (r->flags & PC_ENTRY_F_PORT)
		pc_json_uint(j, r->port_lo);
	else
		pc_json_null(j);
	pc_json_key(j, "port_end");
	if (r->flags & PC_ENTRY_F_PORT)
		pc_json_uint(j, r->port_hi);
	else
		pc_json_null(j);
	pc_json_key(j, "protocol");
	pc_json_string_or_null(j, pc_proto_name(r->proto));
	pc_json_key(j, "state");
	pc_json_string(j, pc_state_name(r->state));
	pc_json_key(j, "historic_alias_of");
	pc_json_string_or_null(j, r->alias_of);
	pc_json_key(j, "description");
	pc_json_string_or_null(j, r->description);
	if (pc_layer_def(r->layer)->flags & PC_LAYER_F_SNAPSHOT) {
		pc_json_key(j, "assignee");
		pc_json_string_or_null(j, r->assignee);
		pc_json_key(j, "contact");
		pc_json_string_or_null(j, r->contact);
		pc_json_key(j, "registration_date");
		pc_json_string_or_null(j, r->registered);
		pc_json_key(j, "modification_date");
		pc_json_string_or_null(j, r->modified);
		pc_json_key(j, "reference");
		pc_json_string_or_null(j, r->reference);
		pc_json_key(j, "service_code");
		pc_json_string_or_null(j, r->service_code);
		pc_json_key(j, "unauthorized_use");
		pc_json_string_or_null(j, r->unauthorized);
	}
	pc_json_key(j, pc_layer_def(r->layer)->notes);
	pc_json_string_or_null(j, r->notes);
	if (r->state == PC_STATE_CONTESTED) {
		pc_json_key(j, "use_instead");
		pc_json_begin_array(j);
		for (const char *p = r->instead; *p;) {
			size_t n = strcspn(p, ",");
			char *s = xstrndup(p, n);
			pc_json_string(j, s);
			free(s);
			p += n + (p[n] == ',');
		}
		pc_json_end_array(j);
	}
	pc_json_end_object(j);
}

void cli_interrupts_hold(sigset_t *was)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, was);
}

void cli_interrupts_restore(const sigset_t *was)
{
	sigprocmask(SIG_SETMASK, was, NULL);
}
