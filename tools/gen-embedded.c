/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build-time generator: parses the IANA CSV snapshot and the practice file
 * with the same parsers the program uses at run time, and writes their
 * layers as const C tables (string offsets only, so the tables need no
 * relocation and cost nothing at start-up).
 *
 * usage: gen-embedded IANA.csv PRACTICE.services OUT.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/layer.h"
#include "sha256.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* `len` bytes of text (NULs among them) as a char array of len + 1. */
static void emit_chars(
		FILE *out, const char *prefix, const char *what, const char *text, uint32_t len)
{
	fprintf(out, "static const char %s_%s[%u] =\n\t\"", prefix, what, len + 1);
	for (uint32_t i = 0, col = 0; i < len; i++, col++) {
		unsigned char c = (unsigned char)text[i];

		if (col >= 96 && c != 0) {
			fputs("\"\n\t\"", out);
			col = 0;
		}
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '?')
			fputs("\\?", out); /* no trigraphs */
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, out);
		else
			fprintf(out, "\\%03o", c);
	}
	fputs("\";\n\n", out);
}

/* An array of `n` unsigned integers of `size` bytes each, as C of `type`. */
static void emit_uints(FILE *out, const char *prefix, const char *what, const char *type,
		const void *v, size_t size, uint32_t n)
{
	fprintf(out, "static const %s %s_%s[%u] = {", type, prefix, what, n ? n : 1);
	for (uint32_t i = 0; i < n; i++) {
		unsigned long long x = size == 1   ? ((const uint8_t *)v)[i]
				       : size == 2 ? ((const uint16_t *)v)[i]
				       : size == 4 ? ((const uint32_t *)v)[i]
						   : ((const uint64_t *)v)[i];
		fprintf(out, "%s%s%llu%s", i ? "," : "", i % 16 ? "" : "\n\t", x,
				size == 8 ? "ull" : "");
	}
	fputs(n ? "\n};\n\n" : "0};\n\n", out);
}

static void emit_layer(FILE *out, const char *prefix, const char *kind, const struct pc_layer *l,
		const char *sha256)
{
	emit_chars(out, prefix, "strtab", l->strtab, l->strtab_len);

	fprintf(out, "static const struct pc_entry %s_entries[%u] = {\n", prefix,
			l->nentries ? l->nentries : 1);
	for (uint32_t i = 0; i < l->nentries; i++) {
		const struct pc_entry *e = &l->entries[i];
		fprintf(out, "\t{%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,0},\n", e->row, e->extra,
				e->aliases, e->line, e->port_lo, e->port_hi, e->proto, e->state,
				e->naliases, e->flags, e->unauth_port);
	}
	fputs("};\n\n", out);

	fprintf(out, "static const struct pc_nameref %s_names[%u] = {\n", prefix,
			l->nnames ? l->nnames : 1);
	for (uint32_t i = 0; i < l->nnames; i++)
		fprintf(out, "\t{%u,%u,%u,%u},\n", l->names[i].name, l->names[i].entry,
				l->names[i].next, l->names[i].hash);
	fputs(l->nnames ? "};\n\n" : "\t{0,0,0,0}\n};\n\n", out);
	emit_uints(out, prefix, "slots", "uint32_t", l->slots, 4, l->nslots);

	emit_uints(out, prefix, "ports", "uint32_t", l->ports, 4, l->nports);
	emit_uints(out, prefix, "ranges", "uint32_t", l->ranges, 4, l->nranges);
	emit_uints(out, prefix, "port_keys", "uint16_t", l->port_keys, 2, l->nports);
	emit_uints(out, prefix, "range_keys", "uint16_t", l->range_keys, 2, l->nranges);
	emit_uints(out, prefix, "reach", "uint16_t", l->reach, 2, l->nranges);
	emit_uints(out, prefix, "name_sets", "uint64_t", l->name_sets, 8, l->nnames);
	emit_uints(out, prefix, "name_lens", "uint8_t", l->name_lens, 1, l->nnames);
	emit_chars(out, prefix, "name_text", l->name_text, l->name_text_len);
	emit_uints(out, prefix, "name_offs", "uint32_t", l->name_offs, 4, l->nnames);

	fprintf(out,
			"const struct pc_layer pc_embedded_%s = {\n"
			"\t.kind = %s,\n"
			"\t.owned = false,\n"
			"\t.file = \"%s\",\n"
			"\t.date = %s_strtab + %u,\n"
			"\t.sha256 = \"%s\",\n"
			"\t.strtab = %s_strtab,\n"
			"\t.strtab_len = %u,\n"
			"\t.nentries = %u,\n"
			"\t.nnames = %u,\n"
			"\t.nports = %u,\n"
			"\t.nranges = %u,\n"
			"\t.nslots = %u,\n"
			"\t.entries = %s_entries,\n"
			"\t.names = %s_names,\n"
			"\t.ports = %s_ports,\n"
			"\t.ranges = %s_ranges,\n"
			"\t.slots = %s_slots,\n"
			"\t.port_keys = %s_port_keys,\n"
			"\t.range_keys = %s_range_keys,\n"
			"\t.reach = %s_reach,\n"
			"\t.name_sets = %s_name_sets,\n"
			"\t.name_lens = %s_name_lens,\n"
			"\t.name_text = %s_name_text,\n"
			"\t.name_offs = %s_name_offs,\n"
			"\t.name_text_len = %u,\n"
			"};\n\n",
			prefix, kind, l->file, prefix, (unsigned)(l->date - l->strtab), sha256,
			prefix, l->strtab_len, l->nentries, l->nnames, l->nports, l->nranges,
			l->nslots, prefix, prefix, prefix, prefix, prefix, prefix, prefix, prefix,
			prefix, prefix, prefix, prefix, l->name_text_len);
}

/* Provenance names the file as it sits in the source tree. */
static struct pc_layer *load(const char *path, bool iana, struct pc_diags *diags, char sha256[65])
{
	struct pc_buf b;
	struct pc_layer *l = NULL;
	char label[256];

	snprintf(label, sizeof(label), "data/%s", base_name(path));
	if (pc_read_file(path, PC_IANA_MAX_BYTES, &b) < 0) {
		fprintf(stderr, "gen-embedded: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	pc_sha256_of(b.data, b.len, sha256);
	if (iana)
		pc_iana_parse(label, b.data, b.len, &l, diags);
	else
		pc_services_parse(label, b.data, b.len, PC_SERVICES_PRACTICE, &l, diags);
	pc_buf_finish(&b);
	return l;
}

int main(int argc, char **argv)
{
	struct pc_diags diags;
	struct pc_layer *iana, *practice;
	FILE *out;
	int ret = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: gen-embedded IANA.csv PRACTICE.services OUT.c\n");
		return 2;
	}
	pc_diags_init(&diags);
	char iana_sha[65], practice_sha[65];
	iana = load(argv[1], true, &diags, iana_sha);
	practice = load(argv[2], false, &diags, practice_sha);
	pc_diags_print(&diags, stderr);
	if (!iana || !practice || diags.nerrors)
		goto out;

	out = fopen(argv[3], "w");
	if (!out) {
		fprintf(stderr, "gen-embedded: %s: %s\n", argv[3], strerror(errno));
		goto out;
	}
	fputs("/* SPDX-License-Identifier: GPL-2.0-or-later */\n"
	      "/* Generated by tools/gen-embedded.c from data/; do not edit. */\n"
	      "#include \"registry/layer.h\"\n\n"
	      "#if defined(__GNUC__)\n"
	      "#pragma GCC diagnostic ignored \"-Woverlength-strings\"\n"
	      "#endif\n\n",
			out);
	emit_layer(out, "iana", "PC_LAYER_IANA", iana, iana_sha);
	emit_layer(out, "practice", "PC_LAYER_PRACTICE", practice, practice_sha);
	if (fclose(out) != 0) {
		fprintf(stderr, "gen-embedded: %s: %s\n", argv[3], strerror(errno));
		goto out;
	}
	ret = 0;
out:
	pc_layer_destroy(iana);
	pc_layer_destroy(practice);
	pc_diags_finish(&diags);
	return ret;
}
