/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis lookup: every layer's view of service names and ports, side by
 * side, with the places where the layers disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "util.h"

#define MAX_SUGGESTIONS 3

enum query_kind {
	Q_NAME,
	Q_PORT
};

struct query {
	const char *text;
	enum query_kind kind;
	uint16_t lo, hi;
	enum pc_proto proto;
	struct pc_resolution res; /* names */
	struct pc_records rows; /* ports: every row; names: rows sharing its ports */
	struct pc_diags findings; /* ports */
	const char *suggestions[MAX_SUGGESTIONS];
	size_t nsuggestions;
	bool bad; /* malformed port query */
};

static void port_text(char *buf, size_t n, uint16_t lo, uint16_t hi, enum pc_proto proto)
{
	const char *p = proto == PC_PROTO_ANY ? "any" : pc_proto_name(proto);

	if (lo == hi)
		snprintf(buf, n, "%u/%s", lo, p);
	else
		snprintf(buf, n, "%u-%u/%s", lo, hi, p);
}

static void record_port(char *buf, size_t n, const struct pc_record *r)
{
	if (r->state == PC_STATE_CONTESTED)
		snprintf(buf, n, "contested");
	else if (!(r->flags & PC_ENTRY_F_PORT))
		snprintf(buf, n, "no port");
	else
		port_text(buf, n, r->port_lo, r->port_hi, r->proto);
}

/* A labelled multi-line text, each line escaped and indented. */
static void print_text(FILE *out, const char *label, const char *text)
{
	if (!*text)
		return;
	fprintf(out, "              %s: ", label);
	for (const char *p = text;;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);
		pc_fputs_escaped(line, out);
		free(line);
		fputc('\n', out);
		if (!p[n])
			break;
		p += n + 1;
		fprintf(out, "              %*s  ", (int)strlen(label), "");
	}
}

static void print_row(FILE *out, const struct pc_record *r)
{
	char port[32], src[512];

	record_port(port, sizeof(port), r);
	/* A daemon's default has no line: "MIT default". */
	if (r->line)
		snprintf(src, sizeof(src), "%s:%u", r->file, r->line);
	else
		snprintf(src, sizeof(src), "%s", r->file);
	const char *name = *r->name ? r->name : "-";
	size_t width = strlen(name);

	fprintf(out, "  %-9s %-14s ", pc_layer_name(r->layer), port);
	pc_fputs_escaped(name, out);
	fprintf(out, "%*s %-10s ", width < 18 ? (int)(18 - width) : 0, "",
			r->state == PC_STATE_CONTESTED ? "-" : pc_state_name(r->state));
	pc_fputs_escaped(src, out);
	fputc('\n', out);
	if (r->naliases) {
		struct pc_buf b;
		pc_buf_init(&b);
		for (unsigned i = 0; i < r->naliases; i++)
			pc_buf_printf(&b, "%s%s", i ? ", " : "", r->aliases[i]);
		print_text(out, "aliases", b.data);
		pc_buf_finish(&b);
	}
	if (r->flags & PC_ENTRY_F_HISTORIC)
		fprintf(out, "              historic alias of: %s\n", r->alias_of);
	print_text(out, pc_layer_def(r->layer)->description, r->description);
	print_text(out, "unauthorized use", r->unauthorized);
	print_text(out, pc_layer_def(r->layer)->notes, r->notes);
	if (r->flags & PC_ENTRY_F_ONLY)
		print_text(out, "protocols",
				"only those this layer lists for the name here; the layers below "
				"add none");
	if (r->flags & PC_ENTRY_F_CLAIM)
		print_text(out, "names",
				"mean this port, whatever IANA says of them elsewhere (a "
				"registry-conflict, not a name-conflict)");
	if (r->state == PC_STATE_CONTESTED)
		print_text(out, "use instead", r->instead);
	if (*r->reference)
		print_text(out, "reference", r->reference);
}

static void print_header(FILE *out)
{
	fprintf(out, "  %-9s %-14s %-18s %-10s %s\n", "LAYER", "PORT", "NAME", "STATE", "SOURCE");
}

static bool layer_listed(const struct pc_records *rows, enum pc_layer_kind k)
{
	for (size_t i = 0; i < rows->n; i++)
		if (rows->v[i].layer == k)
			return true;
	return false;
}

/* A layer that is loaded but has no row for the query. */
static void print_absent(FILE *out, const struct pc_registry *reg, const struct pc_records *rows,
		enum pc_layer_kind k)
{
	if (pc_registry_has_layer(reg, k) && !layer_listed(rows, k))
		fprintf(out, "  %-9s %-14s %-18s %-10s %s\n", pc_layer_name(k), "-", "-", "-",
				"no entry");
}

/* Port queries: rows in layer order as found, then the silent layers. */
static void print_absent_layers(
		FILE *out, const struct pc_registry *reg, const struct pc_records *rows)
{
	for (int k = 0; k < PC_LAYER_COUNT; k++)
		print_absent(out, reg, rows, (enum pc_layer_kind)k);
}

/* Name queries: every layer in turn, its rows or "no entry". */
static void print_rows_by_layer(
		FILE *out, const struct pc_registry *reg, const struct pc_records *rows)
{
	print_header(out);
	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		for (size_t i = 0; i < rows->n; i++)
			if ((int)rows->v[i].layer == k)
				print_row(out, &rows->v[i]);
		print_absent(out, reg, rows, (enum pc_layer_kind)k);
	}
}

static bool row_in_first(const struct pc_records *rows, size_t n, const struct pc_record *r)
{
	for (size_t i = 0; i < n; i++)
		if (rows->v[i].layer == r->layer && rows->v[i].line == r->line &&
				!strcmp(rows->v[i].file, r->file))
			return true;
	return false;
}

static bool row_in(const struct pc_records *rows, const struct pc_record *r)
{
	return row_in_first(rows, rows->n, r);
}

/* Rows of other services on the ports a name resolved to. */
static void collect_neighbours(const struct pc_registry *reg, struct query *q)
{
	struct pc_records tmp;

	pc_records_init(&tmp);
	for (size_t i = 0; i < q->res.nports; i++) {
		const struct pc_port *p = &q->res.ports[i];
		tmp.n = 0;
		pc_registry_find_port(reg, p->lo, p->proto, &tmp);
		for (size_t k = 0; k < tmp.n; k++)
			if (!row_in(&q->res.rows, &tmp.v[k]) && !row_in(&q->rows, &tmp.v[k]))
				*pc_records_push(&q->rows) = tmp.v[k];
	}
	pc_records_finish(&tmp);
}

static const char *status_name(enum pc_resolve_status s)
{
	switch (s) {
	case PC_RESOLVE_OK:
		return "ok";
	case PC_RESOLVE_UNKNOWN:
		return "unknown";
	case PC_RESOLVE_NO_PORT:
		return "no-port";
	case PC_RESOLVE_CONTESTED:
		return "contested";
	case PC_RESOLVE_AMBIGUOUS:
		return "ambiguous";
	}
	return "?";
}

static void resolved_summary(FILE *out, const struct query *q)
{
	fprintf(out, "%s: ", q->text);
	switch (q->res.status) {
	case PC_RESOLVE_CONTESTED:
		fprintf(out, "contested; it does not resolve\n");
		return;
	case PC_RESOLVE_NO_PORT:
		fprintf(out, "registered without a port (DNS SRV only); it does not resolve\n");
		return;
	case PC_RESOLVE_AMBIGUOUS:
		fprintf(out, "registered on several ports; it does not resolve until one is "
			     "pinned\n");
		return;
	default:
		break;
	}
	for (size_t i = 0; i < q->res.nports; i++) {
		const struct pc_port *p = &q->res.ports[i];
		char port[32];
		bool seen[PC_LAYER_COUNT] = {false};
		bool first = true;

		port_text(port, sizeof(port), p->lo, p->hi, p->proto);
		fprintf(out, "%s%s (", i ? ", " : "", port);
		for (size_t k = 0; k < q->res.rows.n; k++) {
			const struct pc_record *r = &q->res.rows.v[k];
			if (!(r->flags & PC_ENTRY_F_PORT) || r->port_lo != p->lo ||
					r->port_hi != p->hi || r->proto != p->proto ||
					seen[r->layer])
				continue;
			seen[r->layer] = true;
		}
		for (int k = 0; k < PC_LAYER_COUNT; k++)
			if (seen[k]) {
				fprintf(out, "%s%s", first ? "" : ", ",
						pc_layer_name((enum pc_layer_kind)k));
				first = false;
			}
		fputc(')', out);
	}
	if (!pc_streq_fold(q->res.canonical, q->text))
		fprintf(out, "; canonical name %s", q->res.canonical);
	fputc('\n', out);
}

static void text_report(struct cli_ctx *ctx, struct query *q)
{
	FILE *out = ctx->out;

	if (q->kind == Q_PORT) {
		char port[32];
		port_text(port, sizeof(port), q->lo, q->hi, q->proto);
		fprintf(out, "%s: %zu registry %s\n\n", port, q->rows.n,
				q->rows.n == 1 ? "entry" : "entries");
		print_header(out);
		for (size_t i = 0; i < q->rows.n; i++)
			print_row(out, &q->rows.v[i]);
		print_absent_layers(out, ctx->reg, &q->rows);
		if (q->findings.n)
			fputc('\n', out);
		pc_diags_print(&q->findings, out);
		return;
	}
	resolved_summary(out, q);
	fputc('\n', out);
	print_rows_by_layer(out, ctx->reg, &q->res.rows);
	if (q->rows.n) {
		fprintf(out, "\n  on the same ports:\n");
		for (size_t i = 0; i < q->rows.n; i++)
			print_row(out, &q->rows.v[i]);
	}
	if (q->res.findings.n)
		fputc('\n', out);
	pc_diags_print(&q->res.findings, out);
}

static void json_records(struct pc_json *j, const char *key, const struct pc_records *rows)
{
	pc_json_key(j, key);
	pc_json_begin_array(j);
	for (size_t i = 0; i < rows->n; i++)
		cli_json_record(j, &rows->v[i]);
	pc_json_end_array(j);
}

static void json_findings(struct pc_json *j, const struct pc_diags *d)
{
	pc_json_key(j, "findings");
	pc_json_begin_array(j);
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *r = &d->v[i];
		pc_json_begin_object(j);
		pc_json_key(j, "severity");
		pc_json_string(j, pc_severity_name(r->sev));
		pc_json_key(j, "code");
		pc_json_string(j, r->code);
		pc_json_key(j, "file");
		pc_json_string_or_null(j, r->file);
		pc_json_key(j, "line");
		pc_json_uint(j, r->line);
		pc_json_key(j, "message");
		pc_json_string(j, r->msg);
		pc_json_key(j, "hint");
		pc_json_string_or_null(j, r->hint);
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
}

static void json_query(struct pc_json *j, const struct query *q)
{
	pc_json_begin_object(j);
	pc_json_key(j, "query");
	pc_json_string(j, q->text);
	pc_json_key(j, "kind");
	pc_json_string(j, q->kind == Q_PORT ? "port" : "name");
	if (q->kind == Q_PORT) {
		pc_json_key(j, "status");
		pc_json_string(j, q->bad ? "invalid" : q->rows.n ? "ok" : "unknown");
		if (!q->bad) {
			pc_json_key(j, "port");
			pc_json_uint(j, q->lo);
			pc_json_key(j, "port_end");
			pc_json_uint(j, q->hi);
			pc_json_key(j, "protocol");
			pc_json_string_or_null(j, pc_proto_name(q->proto));
		}
		json_records(j, "rows", &q->rows);
		json_findings(j, &q->findings);
		pc_json_end_object(j);
		return;
	}
	pc_json_key(j, "status");
	pc_json_string(j, status_name(q->res.status));
	pc_json_key(j, "canonical");
	pc_json_string_or_null(j, q->res.canonical);
	pc_json_key(j, "layer");
	if (q->res.status == PC_RESOLVE_UNKNOWN)
		pc_json_null(j);
	else
		pc_json_string(j, pc_layer_name(q->res.layer));
	pc_json_key(j, "ports");
	pc_json_begin_array(j);
	for (size_t i = 0; q->res.status == PC_RESOLVE_OK && i < q->res.nports; i++) {
		const struct pc_port *p = &q->res.ports[i];
		pc_json_begin_object(j);
		pc_json_key(j, "port");
		pc_json_uint(j, p->lo);
		pc_json_key(j, "port_end");
		pc_json_uint(j, p->hi);
		pc_json_key(j, "protocol");
		pc_json_string_or_null(j, pc_proto_name(p->proto));
		pc_json_key(j, "layer");
		pc_json_string(j, pc_layer_name(p->src.layer));
		pc_json_key(j, "file");
		pc_json_string(j, p->src.file);
		pc_json_key(j, "line");
		pc_json_uint(j, p->src.line);
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
	json_records(j, "rows", &q->res.rows);
	json_records(j, "same_ports", &q->rows);
	json_findings(j, &q->res.findings);
	pc_json_key(j, "suggestions");
	pc_json_begin_array(j);
	for (size_t i = 0; i < q->nsuggestions; i++)
		pc_json_string(j, q->suggestions[i]);
	pc_json_end_array(j);
	pc_json_end_object(j);
}

static void report_unknown(struct cli_ctx *ctx, const struct query *q)
{
	fprintf(ctx->err, "%s: error: unknown service name '", ctx->prog);
	pc_fputs_escaped(q->text, ctx->err);
	fprintf(ctx->err, "' (no registry layer knows it) [unknown-service]\n");
	if (q->nsuggestions) {
		fprintf(ctx->err, "  hint: did you mean ");
		for (size_t i = 0; i < q->nsuggestions; i++)
			fprintf(ctx->err, "%s'%s'",
					i == 0			   ? ""
					: i + 1 == q->nsuggestions ? " or "
								   : ", ",
					q->suggestions[i]);
		fprintf(ctx->err, "?\n");
	}
}

int cmd_lookup(struct cli_ctx *ctx, int argc, char **argv)
{
	struct query *qs;
	struct pc_json j;
	int ret;

	if (argc < 1) {
		fprintf(ctx->err,
				"%s lookup: name a service or a port, e.g. '%s lookup kerberos' "
				"or '%s lookup 754/tcp'\n",
				ctx->prog, ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	ret = cli_open_registry(ctx);
	if (ret != PC_EXIT_OK)
		return ret;

	qs = xcalloc((size_t)argc, sizeof(*qs));
	for (int i = 0; i < argc; i++) {
		struct query *q = &qs[i];
		int r;

		q->text = argv[i];
		pc_resolution_init(&q->res);
		pc_records_init(&q->rows);
		pc_diags_init(&q->findings);
		r = pc_port_query_parse(q->text, &q->lo, &q->hi, &q->proto);
		if (r == 0 || r == -2) {
			q->kind = Q_PORT;
			q->bad = r == -2;
			if (q->bad) {
				fprintf(ctx->err, "%s: error: bad port '", ctx->prog);
				pc_fputs_escaped(q->text, ctx->err);
				fprintf(ctx->err,
						"': expected PORT, PORT/PROTO or LOW-HIGH/PROTO with "
						"ports 0-65535 and PROTO tcp, udp, sctp or dccp\n");
				ret = PC_EXIT_INVALID;
				continue;
			}
			for (uint32_t p = q->lo; p <= q->hi; p++) {
				size_t before = q->rows.n;
				pc_registry_find_port(ctx->reg, (uint16_t)p, q->proto, &q->rows);
				/* A range query lists each registry row once. */
				for (size_t k = before; k < q->rows.n;)
					if (row_in_first(&q->rows, before, &q->rows.v[k]))
						q->rows.v[k] = q->rows.v[--q->rows.n];
					else
						k++;
				if (q->lo == q->hi)
					pc_registry_port_findings(ctx->reg, (uint16_t)p, q->proto,
							&q->findings);
			}
			if (q->rows.n == 0) {
				fprintf(ctx->err, "%s: note: no registry layer lists '", ctx->prog);
				pc_fputs_escaped(q->text, ctx->err);
				fprintf(ctx->err, "'\n");
			}
			continue;
		}
		q->kind = Q_NAME;
		if (pc_registry_resolve(ctx->reg, q->text, &q->res) == PC_RESOLVE_UNKNOWN) {
			q->nsuggestions = pc_registry_suggest(
					ctx->reg, q->text, q->suggestions, MAX_SUGGESTIONS);
			report_unknown(ctx, q);
			ret = PC_EXIT_INVALID;
			continue;
		}
		collect_neighbours(ctx->reg, q);
	}

	if (ctx->json) {
		pc_json_init(&j, ctx->out);
		pc_json_begin_object(&j);
		pc_json_key(&j, "registry");
		pc_json_begin_object(&j);
		pc_json_key(&j, "layers");
		pc_json_begin_array(&j);
		for (int k = 0; k < PC_LAYER_COUNT; k++)
			if (pc_registry_has_layer(ctx->reg, (enum pc_layer_kind)k))
				pc_json_string(&j, pc_layer_name((enum pc_layer_kind)k));
		pc_json_end_array(&j);
		pc_json_key(&j, "iana_file");
		pc_json_string(&j, pc_registry_iana_file(ctx->reg));
		pc_json_key(&j, "iana_date");
		pc_json_string_or_null(&j, pc_registry_iana_date(ctx->reg));
		pc_json_end_object(&j);
		pc_json_key(&j, "queries");
		pc_json_begin_array(&j);
		for (int i = 0; i < argc; i++)
			json_query(&j, &qs[i]);
		pc_json_end_array(&j);
		pc_json_end_object(&j);
		pc_json_finish(&j);
	} else {
		bool first = true;
		for (int i = 0; i < argc; i++) {
			struct query *q = &qs[i];
			if (q->bad || (q->kind == Q_NAME && q->res.status == PC_RESOLVE_UNKNOWN))
				continue;
			if (!first)
				fputc('\n', ctx->out);
			first = false;
			text_report(ctx, q);
		}
	}
	for (int i = 0; i < argc; i++) {
		pc_resolution_finish(&qs[i].res);
		pc_records_finish(&qs[i].rows);
		pc_diags_finish(&qs[i].findings);
	}
	free(qs);
	return ret;
}
