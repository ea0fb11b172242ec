/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis registry audit: where the services file, IANA and the practice
 * layer disagree, grouped by kind and counted, each side with its file and
 * line.
 */
#include <string.h>

#include "cli.h"
#include "json.h"
#include "portcullis/audit.h"
#include "util.h"

/* The one kind listed only with --all: services files leave out most udp twins. */
static bool listed(const struct cli_ctx *ctx, enum pc_audit_kind kind)
{
	return ctx->all || kind != PC_AUDIT_PROTOCOL_ABSENT;
}

static void port_text(char *buf, size_t n, uint16_t lo, uint16_t hi, enum pc_proto proto)
{
	int w = lo == hi ? snprintf(buf, n, "%u", lo) : snprintf(buf, n, "%u-%u", lo, hi);

	if (proto != PC_PROTO_ANY && w > 0 && (size_t)w < n)
		snprintf(buf + w, n - (size_t)w, "/%s", pc_proto_name(proto));
}

/* "practice krb5_prop (data/practice.services:22)"; an unnamed row by its state. */
static void print_side(FILE *out, const struct pc_record *r)
{
	fprintf(out, "%s ", pc_layer_name(r->layer));
	pc_fputs_escaped(*r->name ? r->name : pc_state_name(r->state), out);
	if (r->flags & PC_ENTRY_F_HISTORIC) {
		fputs(", a historic alias of ", out);
		pc_fputs_escaped(r->alias_of, out);
	}
	fputs(" (", out);
	pc_fputs_escaped(r->file, out);
	fprintf(out, ":%u)", r->line);
}

/* The layers compared, with their files. */
static void print_layers(FILE *out, const struct pc_registry *reg)
{
	bool first = true;

	fputs("registry audit:", out);
	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		if (!pc_registry_has_layer(reg, (enum pc_layer_kind)k) ||
				(pc_layer_def((enum pc_layer_kind)k)->flags & PC_LAYER_F_DEFINED))
			continue;
		fprintf(out, "%s %s ", first ? "" : ",", pc_layer_name((enum pc_layer_kind)k));
		pc_fputs_escaped(pc_registry_layer_file(reg, (enum pc_layer_kind)k), out);
		const char *date = pc_registry_layer_date(reg, (enum pc_layer_kind)k);
		if (*date)
			fprintf(out, " (snapshot %s)", date);
		first = false;
	}
	fputc('\n', out);
}

static void text_report(struct cli_ctx *ctx, const struct pc_audit *a)
{
	FILE *out = ctx->out;
	size_t total = 0;

	for (int k = 0; k < PC_AUDIT_KIND_COUNT; k++)
		total += a->count[k];
	print_layers(out, ctx->reg);
	fprintf(out, "%zu disagreement%s\n", total, total == 1 ? "" : "s");
	for (int k = 0; k < PC_AUDIT_KIND_COUNT; k++)
		fprintf(out, "  %-16s %5zu  %s%s\n", pc_audit_code((enum pc_audit_kind)k),
				a->count[k], pc_audit_what((enum pc_audit_kind)k),
				listed(ctx, (enum pc_audit_kind)k) ? "" : " (listed with --all)");
	for (int k = 0; k < PC_AUDIT_KIND_COUNT; k++) {
		if (!a->count[k] || !listed(ctx, (enum pc_audit_kind)k))
			continue;
		fprintf(out, "\n%s (%zu): %s\n", pc_audit_code((enum pc_audit_kind)k), a->count[k],
				pc_audit_what((enum pc_audit_kind)k));
		for (size_t i = 0; i < a->n; i++) {
			const struct pc_audit_entry *e = &a->v[i];
			char port[32];
			if ((int)e->kind != k)
				continue;
			port_text(port, sizeof(port), e->port_lo, e->port_hi, e->proto);
			fprintf(out, "  %-11s ", port);
			print_side(out, &e->row);
			fputs("; ", out);
			if (e->has_other)
				print_side(out, &e->other);
			else
				fputs(e->kind == PC_AUDIT_UNREGISTERED
								? "iana: no such name"
								: "iana: nothing on this port",
						out);
			fputc('\n', out);
		}
	}
}

static void json_report(struct cli_ctx *ctx, const struct pc_audit *a)
{
	struct pc_json j;
	size_t total = 0;

	pc_json_init(&j, ctx->out);
	pc_json_begin_object(&j);
	pc_json_key(&j, "layers");
	pc_json_begin_array(&j);
	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		if (!pc_registry_has_layer(ctx->reg, (enum pc_layer_kind)k) ||
				(pc_layer_def((enum pc_layer_kind)k)->flags & PC_LAYER_F_DEFINED))
			continue;
		pc_json_begin_object(&j);
		pc_json_key(&j, "layer");
		pc_json_string(&j, pc_layer_name((enum pc_layer_kind)k));
		pc_json_key(&j, "file");
		pc_json_string(&j, pc_registry_layer_file(ctx->reg, (enum pc_layer_kind)k));
		pc_json_key(&j, "date");
		pc_json_string_or_null(&j, pc_registry_layer_date(ctx->reg, (enum pc_layer_kind)k));
		pc_json_end_object(&j);
	}
	pc_json_end_array(&j);
	for (int k = 0; k < PC_AUDIT_KIND_COUNT; k++)
		total += a->count[k];
	pc_json_key(&j, "total");
	pc_json_uint(&j, total);
	pc_json_key(&j, "counts");
	pc_json_begin_object(&j);
	for (int k = 0; k < PC_AUDIT_KIND_COUNT; k++) {
		pc_json_key(&j, pc_audit_code((enum pc_audit_kind)k));
		pc_json_uint(&j, a->count[k]);
	}
	pc_json_end_object(&j);
	pc_json_key(&j, "all");
	pc_json_bool(&j, ctx->all);
	pc_json_key(&j, "entries");
	pc_json_begin_array(&j);
	for (size_t i = 0; i < a->n; i++) {
		const struct pc_audit_entry *e = &a->v[i];
		if (!listed(ctx, e->kind))
			continue;
		pc_json_begin_object(&j);
		pc_json_key(&j, "kind");
		pc_json_string(&j, pc_audit_code(e->kind));
		pc_json_key(&j, "port");
		pc_json_uint(&j, e->port_lo);
		pc_json_key(&j, "port_end");
		pc_json_uint(&j, e->port_hi);
		pc_json_key(&j, "protocol");
		pc_json_string_or_null(
				&j, e->proto == PC_PROTO_ANY ? NULL : pc_proto_name(e->proto));
		pc_json_key(&j, "row");
		cli_json_record(&j, &e->row);
		pc_json_key(&j, "other");
		if (e->has_other)
			cli_json_record(&j, &e->other);
		else
			pc_json_null(&j);
		pc_json_end_object(&j);
	}
	pc_json_end_array(&j);
	pc_json_end_object(&j);
	pc_json_finish(&j);
}

int cmd_registry_audit(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pc_audit a;
	int ret;

	(void)argv;
	if (argc != 0) {
		fprintf(ctx->err,
				"%s registry audit: it takes no arguments (the files are options: "
				"--services FILE, --registry FILE)\n",
				ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (ctx->no_services && ctx->layer_file[PC_LAYER_SYSTEM]) {
		fprintf(ctx->err,
				"%s registry audit: --services and --no-services ask for "
				"opposite things; give one\n",
				ctx->prog);
		return PC_EXIT_USAGE;
	}
	/* The host's services file unless told otherwise; a host without one goes on. */
	if (!ctx->no_services && !ctx->layer_file[PC_LAYER_SYSTEM]) {
		ctx->layer_file[PC_LAYER_SYSTEM] = pc_layer_def(PC_LAYER_SYSTEM)->default_path;
		ctx->layer_optional |= 1u << PC_LAYER_SYSTEM;
	}
	ret = cli_open_registry(ctx);
	if (ret != PC_EXIT_OK)
		return ret;
	pc_audit_init(&a);
	pc_registry_audit(ctx->reg, &a);
	if (ctx->json)
		json_report(ctx, &a);
	else
		text_report(ctx, &a);
	pc_audit_finish(&a);
	return PC_EXIT_OK;
}
